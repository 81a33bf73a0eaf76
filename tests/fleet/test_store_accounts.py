"""The console's users and sessions in the store (flask_gravicors.store.accounts),
on SQLite and on a real PostgreSQL, and the schema step that adds them."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import inspect, select

from flask_gravicors.schema import load_config
from flask_gravicors.store import tables as schema
from flask_gravicors.store.accounts import Accounts, LastAdmin, UserExists, UserNotFound, session_key
from flask_gravicors.store.sql import SqlStore

from .conftest import CONFIG

PASSWORD = "a long enough password"


@pytest.fixture
def accounts(store_url: str) -> Any:
    store = SqlStore(store_url, lambda raw: load_config(raw, {}))
    store.migrate()
    yield Accounts(store)
    store.dispose()


def test_users(accounts: Accounts) -> None:
    accounts.create_user("bob", "viewer", PASSWORD)
    accounts.create_user("alice", "admin", PASSWORD)
    assert [(u.name, u.role) for u in accounts.users()] == [("alice", "admin"), ("bob", "viewer")]
    with pytest.raises(UserExists):
        accounts.create_user("bob", "editor", PASSWORD)
    accounts.set_role("bob", "editor")
    assert accounts.get_user("bob").role == "editor"  # type: ignore[union-attr]
    assert accounts.get_user("bob").can("viewer") and not accounts.get_user("bob").can("admin")  # type: ignore[union-attr]
    accounts.delete_user("bob")
    assert accounts.get_user("bob") is None
    for call in (
        lambda: accounts.delete_user("bob"),
        lambda: accounts.set_role("bob", "viewer"),
        lambda: accounts.set_password("bob", PASSWORD),
    ):
        with pytest.raises(UserNotFound):
            call()


# (id, what each of two admins does to the other, at the same moment)
LAST_ADMIN_RACES = [
    ("both demote", lambda accounts, other: accounts.set_role(other, "viewer", keep_an_admin=True)),
    ("both remove", lambda accounts, other: accounts.delete_user(other, keep_an_admin=True)),
]  # fmt: skip


@pytest.mark.parametrize("change", [pytest.param(r[1], id=r[0]) for r in LAST_ADMIN_RACES])
def test_two_admins_changing_each_other_at_once_leave_one(store_url: str, change: Any) -> None:
    """keep_an_admin is checked inside the write: of two concurrent changes that
    would each leave the other admin alone, one is refused (LastAdmin)."""
    stores = [SqlStore(store_url, lambda raw: load_config(raw, {})) for _ in range(2)]
    stores[0].migrate()
    pair = [Accounts(store) for store in stores]
    try:
        for _ in range(10):
            for name in ("alice", "bob"):
                if pair[0].get_user(name) is None:
                    pair[0].create_user(name, "admin", PASSWORD)
                pair[0].set_role(name, "admin")
            start = threading.Barrier(2)

            def act(i: int, start: threading.Barrier = start) -> str:
                start.wait()
                try:
                    change(pair[i], ("bob", "alice")[i])
                except LastAdmin:
                    return "refused"
                return "done"

            with ThreadPoolExecutor(2) as pool:
                outcomes = sorted(pool.map(act, range(2)))
            assert outcomes == ["done", "refused"]
            assert [u.name for u in pair[0].users() if u.role == "admin"] in (["alice"], ["bob"])
    finally:
        for store in stores:
            store.dispose()


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        ("", "viewer", PASSWORD, "1 to 200 characters"),
        ("x" * 201, "viewer", PASSWORD, "1 to 200 characters"),
        ("bob\n", "viewer", PASSWORD, "printable"),
        (" bob", "viewer", PASSWORD, "without spaces"),
        ("bob", "root", PASSWORD, "role must be one of viewer, editor, admin"),
        ("bob", "viewer", "short", "8 to 1024 characters"),
    ],
)
def test_bad_users_are_refused(accounts: Accounts, name: str, role: str, password: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        accounts.create_user(name, role, password)
    assert accounts.users() == []


def test_passwords_are_stored_as_scrypt_hashes(accounts: Accounts) -> None:
    accounts.create_user("alice", "editor", PASSWORD)
    with accounts.sql.engine.connect() as conn:
        stored = conn.scalar(select(schema.users.c.password_hash))
    assert stored is not None and stored.startswith("scrypt:32768:8:1$") and PASSWORD not in stored
    assert accounts.authenticate("alice", PASSWORD).name == "alice"  # type: ignore[union-attr]
    for name, password in [
        ("alice", PASSWORD + "x"),
        ("Alice", PASSWORD),
        ("nobody", PASSWORD),
        ("alice", ""),
        ("", PASSWORD),
        ("alice", "x" * 5000),
    ]:
        assert accounts.authenticate(name, password) is None, (name, password)


def test_an_unknown_name_costs_a_hash_too(accounts: Accounts) -> None:
    """The answer's time does not tell whether a name exists: both check one scrypt."""
    accounts.create_user("alice", "editor", PASSWORD)

    def took(name: str) -> float:
        start = time.perf_counter()
        accounts.authenticate(name, "wrong password")
        return time.perf_counter() - start

    known = min(took("alice") for _ in range(3))
    unknown = min(took("nobody") for _ in range(3))
    assert unknown > known / 3  # same order: a scrypt each (a missing name without one would take ~1000x less)


def test_sessions(accounts: Accounts) -> None:
    accounts.create_user("alice", "editor", PASSWORD)
    token = accounts.open_session("alice", {"_user_id": "alice", "n": 1}, lifetime=60)
    found = accounts.load_session(token)
    assert found is not None and (found.user_name, found.data) == ("alice", {"_user_id": "alice", "n": 1})
    assert found.key == session_key(token) and token not in found.key  # only the hash is stored
    with accounts.sql.engine.connect() as conn:
        assert conn.scalars(select(schema.sessions.c.id)).all() == [session_key(token)]
    accounts.save_session(found.key, {"_user_id": "alice", "n": 2})
    assert accounts.load_session(token).data["n"] == 2  # type: ignore[union-attr]
    assert accounts.load_session(token + "x") is None and accounts.load_session("") is None
    accounts.end_session(found.key)
    assert accounts.load_session(token) is None


def test_sessions_end_with_their_user_and_their_password(accounts: Accounts) -> None:
    accounts.create_user("alice", "editor", PASSWORD)
    accounts.create_user("bob", "editor", PASSWORD)
    tokens = [accounts.open_session(name, {}, 60) for name in ("alice", "alice", "bob")]
    assert accounts.session_count() == 3
    accounts.set_password("alice", "another long password")
    assert [accounts.load_session(t) is not None for t in tokens] == [False, False, True]
    accounts.delete_user("bob")
    assert accounts.session_count() == 0


def test_expired_sessions_open_nothing_and_go(accounts: Accounts) -> None:
    accounts.create_user("alice", "editor", PASSWORD)
    old = accounts.open_session("alice", {}, lifetime=0.05)
    time.sleep(0.1)
    assert accounts.load_session(old) is None
    accounts.open_session("alice", {}, lifetime=60)  # a new login sweeps expired rows
    with accounts.sql.engine.connect() as conn:
        assert session_key(old) not in conn.scalars(select(schema.sessions.c.id)).all()


def test_upgrade_from_step_1(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store made before the console (schema step 1) gains its users and sessions
    tables at the next start and keeps its versions."""
    old = SqlStore(store_url, lambda raw: load_config(raw, {}))
    try:
        monkeypatch.setattr("flask_gravicors.store.sql.STEPS", schema.STEPS[:1])
        old.migrate()
        old.seed(CONFIG)
        assert old.schema_steps() == [1]
        assert "gravicors_users" not in inspect(old.engine).get_table_names()
        monkeypatch.setattr("flask_gravicors.store.sql.STEPS", schema.STEPS)
        old.migrate()
        assert old.schema_steps() == [1, 2]
        assert {"gravicors_users", "gravicors_sessions"} <= set(inspect(old.engine).get_table_names())
        assert [(v.number, v.config) for v in old.history()] == [(1, CONFIG)]
        Accounts(old).create_user("alice", "admin", PASSWORD)
        assert Accounts(old).authenticate("alice", PASSWORD) is not None
    finally:
        old.dispose()
