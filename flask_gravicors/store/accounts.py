"""The console's users and server-side sessions, in the store's database.

No Flask here: the console (:mod:`flask_gravicors.console`) and the
``flask gravicors create-user`` / ``delete-user`` commands call :class:`Accounts`.

* Passwords are kept as werkzeug's scrypt hashes; a check of an unknown name
  costs one scrypt too, so the answer's time does not tell whether the name exists.
* A session is a row whose key is the SHA-256 of a random token; the cookie
  carries the token. Deleting the row (logout, user deleted, expiry) ends the
  session on every worker at once, whatever the browser kept.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from . import MAX_AUTHOR, ROLES, StoreError
from .tables import sessions, users

if TYPE_CHECKING:
    from .sql import SqlStore

#: Shortest password accepted (no upper bound but the request's size).
MIN_PASSWORD = 8
MAX_PASSWORD = 1024

#: werkzeug's scrypt (N=2**15, r=8, p=1), named so a change of werkzeug's default
#: does not change what is stored.
HASH_METHOD = "scrypt:32768:8:1"
#: Checked against when the name is unknown: the same work as for a real user.
_DUMMY_HASH = generate_password_hash("no user has this password", method=HASH_METHOD)


class AccountError(StoreError):
    """A user could not be created, changed or removed as asked."""


class UserExists(AccountError):
    def __init__(self, name: str):
        self.name = name
        super().__init__(f"user {name!r} already exists")


class UserNotFound(AccountError, LookupError):
    def __init__(self, name: str):
        self.name = name
        super().__init__(f"no user {name!r}")


class LastAdmin(AccountError):
    def __init__(self, name: str):
        self.name = name
        super().__init__(f"{name!r} is the last admin")


@dataclass(frozen=True)
class User:
    name: str
    role: str
    created_at: float

    def can(self, role: str) -> bool:
        """Whether this user has ``role``'s rights (an admin can what an editor can...)."""
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class Session:
    """A live session: its key (the token's hash), its user and its data."""

    key: str
    user_name: str
    data: dict[str, Any]
    expires_at: float


def check_name(name: str) -> str:
    """A user name as stored: 1 to 200 printable characters, no space at either end
    (it becomes the author of the versions this user saves)."""
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_AUTHOR:
        raise ValueError(f"a user name has 1 to {MAX_AUTHOR} characters")
    if not name.isprintable() or name != name.strip():
        raise ValueError("a user name holds printable characters only, without spaces at either end")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValueError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def session_key(token: str) -> str:
    """The row key of the session whose cookie carries ``token``."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Accounts:
    """Users and sessions of one store (its engine, its transactions)."""

    def __init__(self, sql: SqlStore):
        self.sql = sql

    # -- users ----------------------------------------------------------------------

    def create_user(self, name: str, role: str, password: str) -> User:
        """Add a user; :class:`UserExists` when the name is taken, ``ValueError``
        for a bad name, role or password."""
        check_name(name)
        check_role(role)
        hashed = generate_password_hash(check_password(password), method=HASH_METHOD)
        now = time.time()
        try:
            with self.sql._write() as conn:
                conn.execute(insert(users).values(name=name, role=role, password_hash=hashed, created_at=now, updated_at=now))
        except IntegrityError:
            raise UserExists(name) from None
        return User(name, role, now)

    def delete_user(self, name: str, *, keep_an_admin: bool = False) -> None:
        """Remove a user and end every session of theirs; :class:`UserNotFound`.
        ``keep_an_admin``: :class:`LastAdmin` when ``name`` is the only admin."""
        with self.sql._write() as conn:
            if keep_an_admin:
                _keep_an_admin(conn, name)
            if conn.execute(delete(users).where(users.c.name == name)).rowcount == 0:
                raise UserNotFound(name)
            conn.execute(delete(sessions).where(sessions.c.user_name == name))

    def set_role(self, name: str, role: str, *, keep_an_admin: bool = False) -> None:
        """``keep_an_admin``: :class:`LastAdmin` when this demotes the only admin."""
        check_role(role)
        with self.sql._write() as conn:
            if keep_an_admin and role != "admin":
                _keep_an_admin(conn, name)
            changed = conn.execute(update(users).where(users.c.name == name).values(role=role, updated_at=time.time()))
            if changed.rowcount == 0:
                raise UserNotFound(name)

    def set_password(self, name: str, password: str) -> None:
        """A new password; every session of the user ends."""
        hashed = generate_password_hash(check_password(password), method=HASH_METHOD)
        with self.sql._write() as conn:
            changed = conn.execute(update(users).where(users.c.name == name).values(password_hash=hashed, updated_at=time.time()))
            if changed.rowcount == 0:
                raise UserNotFound(name)
            conn.execute(delete(sessions).where(sessions.c.user_name == name))

    def get_user(self, name: str) -> User | None:
        with self.sql._read() as conn:
            row = conn.execute(select(users.c.name, users.c.role, users.c.created_at).where(users.c.name == name)).first()
        return None if row is None else User(row.name, row.role, row.created_at)

    def users(self) -> list[User]:
        """Every user, by name."""
        with self.sql._read() as conn:
            rows = conn.execute(select(users.c.name, users.c.role, users.c.created_at).order_by(users.c.name)).all()
        return [User(r.name, r.role, r.created_at) for r in rows]

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when ``password`` is theirs, else ``None`` (an unknown name
        costs the same scrypt as a wrong password)."""
        row = None
        if isinstance(name, str) and 0 < len(name) <= MAX_AUTHOR:
            with self.sql._read() as conn:
                row = conn.execute(select(users).where(users.c.name == name)).first()
        hashed = row.password_hash if row is not None else _DUMMY_HASH
        if not isinstance(password, str) or len(password) > MAX_PASSWORD:
            password = ""
        matches = check_password_hash(hashed, password)
        if row is None or not matches:
            return None
        return User(row.name, row.role, row.created_at)

    # -- sessions -------------------------------------------------------------------

    def open_session(self, user_name: str, data: Mapping[str, Any], lifetime: float) -> str:
        """A new session of ``user_name`` lasting ``lifetime`` seconds; returns the
        token for its cookie (its hash is the row's key). Expired rows go meanwhile."""
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self.sql._write() as conn:
            conn.execute(delete(sessions).where(sessions.c.expires_at < now))
            conn.execute(
                insert(sessions).values(
                    id=session_key(token),
                    user_name=user_name,
                    data=json.dumps(dict(data)),
                    created_at=now,
                    expires_at=now + lifetime,
                )
            )
        return token

    def load_session(self, token: str) -> Session | None:
        """The live session whose cookie carries ``token`` (``None``: ended, expired or never was)."""
        key = session_key(token)
        with self.sql._read() as conn:
            row = conn.execute(select(sessions).where(sessions.c.id == key)).first()
        if row is None or row.expires_at < time.time():
            return None
        try:
            data = json.loads(row.data)
        except ValueError:
            return None
        return Session(key, row.user_name, data if isinstance(data, dict) else {}, row.expires_at)

    def save_session(self, key: str, data: Mapping[str, Any]) -> None:
        with self.sql._write() as conn:
            conn.execute(update(sessions).where(sessions.c.id == key).values(data=json.dumps(dict(data))))

    def end_session(self, key: str) -> None:
        with self.sql._write() as conn:
            conn.execute(delete(sessions).where(sessions.c.id == key))

    def session_count(self, user_name: str | None = None) -> int:
        """Live sessions (of one user)."""
        query = select(sessions.c.id).where(sessions.c.expires_at >= time.time())
        if user_name is not None:
            query = query.where(sessions.c.user_name == user_name)
        with self.sql._read() as conn:
            return len(conn.execute(query).all())


def _keep_an_admin(conn: Any, name: str) -> None:
    """Inside the write that would remove or demote ``name``: :class:`LastAdmin`
    when ``name`` is the only admin. Checked in the same transaction as the change
    (the admins' rows locked on PostgreSQL; SQLite's writes are serial), so two
    admins demoting each other at once cannot leave none."""
    admins = conn.scalars(select(users.c.name).where(users.c.role == "admin").with_for_update()).all()
    if list(admins) == [name]:
        raise LastAdmin(name)


__all__ = [
    "ROLES",
    "LastAdmin",
    "Accounts",
    "AccountError",
    "User",
    "Session",
    "UserExists",
    "UserNotFound",
    "check_name",
    "check_password",
    "check_role",
    "session_key",
]
