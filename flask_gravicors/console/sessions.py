"""The console's session: signed cookie before login, a row in the store after.

Flask's default session is a signed cookie: it stays valid after logout, and a
copy of it keeps working for as long as its signature does. The console's session
is kept server-side once someone logs in: the cookie then carries a random token,
the store keeps the session under the token's hash (:mod:`flask_gravicors.store.accounts`),
a login always starts a new one and logout deletes it, so a cookie saved before
the logout no longer opens anything, on any worker.

Before login (the login page's CSRF token, a flashed message) the session is a
signed cookie that can never authenticate: its user is dropped on reading, and
the user loader accepts only a server-side session (:mod:`.auth`).

Every cookie set here: ``HttpOnly``, ``SameSite=Lax``, ``Secure`` when the request
came over https, ``Path`` the console's prefix, no expiry (it ends with the
browser; the server ends the session after ``GRAVICORS_CONSOLE_SESSION_LIFETIME``).
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from flask import Flask, Request, Response, current_app, request
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.datastructures import CallbackDict

from ..store import StoreError
from ..store.accounts import session_key

if TYPE_CHECKING:
    from ..store.accounts import Accounts

log = logging.getLogger("flask_gravicors.console")

COOKIE = "gravicors_console"
#: The cookie value of a server-side session: this prefix, then the token.
SERVER_MARK = "s."
#: The key Flask-Login keeps the user's id under.
USER_KEY = "_user_id"


class ConsoleSession(CallbackDict[str, Any], SessionMixin):
    """The session of one request. ``key``: the row of a server-side session
    (``None`` before login); ``user_name``: whose it is."""

    def __init__(self, initial: Any = None, key: str | None = None, user_name: str | None = None):
        def on_update(session: Any) -> None:
            session.modified = True
            session.accessed = True

        super().__init__(initial, on_update)
        self.key = key
        self.user_name = user_name
        self.modified = False
        self.accessed = False
        #: The token of a server-side session opened by this request (its cookie is due).
        self.new_token: str | None = None
        #: The cookie named a session that is no more (ended, expired, forged): remove it.
        self.stale = False
        #: The store could not be read: nothing is known about this session.
        self.unavailable = False


def _accounts() -> Accounts:
    from . import STATE_KEY

    return current_app.extensions[STATE_KEY].store.accounts  # type: ignore[no-any-return]


def _lifetime() -> float:
    from . import STATE_KEY

    return current_app.extensions[STATE_KEY].settings.session_lifetime  # type: ignore[no-any-return]


class ConsoleSessionInterface(SessionInterface):
    """Flask's session interface for the console app (see the module's docstring)."""

    salt = "gravicors-console-session"

    def _signer(self, app: Flask) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            app.secret_key,  # type: ignore[arg-type]
            salt=self.salt,
            serializer=TaggedJSONSerializer(),
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
        )

    def open_session(self, app: Flask, request: Request) -> ConsoleSession:
        value = request.cookies.get(COOKIE)
        if not value:
            return ConsoleSession()
        if value.startswith(SERVER_MARK):
            try:
                found = _accounts().load_session(value[len(SERVER_MARK) :])
            except StoreError as err:
                log.error("console session not read, the store is unreachable: %s", err)
                session = ConsoleSession()
                session.unavailable = True
                return session
            if found is None:
                session = ConsoleSession()
                session.stale = True
                return session
            return ConsoleSession(found.data, key=found.key, user_name=found.user_name)
        try:
            data = self._signer(app).loads(value, max_age=int(_lifetime()))
        except BadSignature:
            session = ConsoleSession()
            session.stale = True
            return session
        if not isinstance(data, dict):
            data = {}
        # A signed cookie never logs anyone in (only a server-side session does).
        data.pop(USER_KEY, None)
        return ConsoleSession(data)

    def start(self, session: ConsoleSession, user_name: str) -> None:
        """Turn ``session`` (its user just logged in) into a new server-side session."""
        if session.key is not None:
            _accounts().end_session(session.key)
        token = _accounts().open_session(user_name, dict(session), _lifetime())
        session.key, session.user_name, session.new_token = session_key(token), user_name, token
        session.modified = False

    def end(self, session: ConsoleSession) -> None:
        """End ``session`` in the store (logout): its cookie opens nothing from now on."""
        if session.key is not None:
            _accounts().end_session(session.key)
        session.clear()
        session.key = session.user_name = session.new_token = None

    def _set_cookie(self, response: Response, value: str) -> None:
        response.set_cookie(
            COOKIE,
            value,
            path=request.script_root or "/",
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ConsoleSession)
        response.vary.add("Cookie")
        if session.unavailable:
            return
        if session.key is not None:
            if session.new_token is not None:
                self._set_cookie(response, SERVER_MARK + session.new_token)
            elif session.modified:
                try:
                    _accounts().save_session(session.key, dict(session))
                except StoreError as err:  # a flashed message or a CSRF token lost, nothing more
                    log.error("console session not saved, the store is unreachable: %s", err)
            return
        if USER_KEY in session:
            del session[USER_KEY]
        if not session:
            if session.stale or session.modified or COOKIE in request.cookies:
                response.delete_cookie(
                    COOKIE, path=request.script_root or "/", httponly=True, samesite="Lax", secure=request.is_secure
                )
            return
        if session.modified or session.stale:
            self._set_cookie(response, self._signer(app).dumps(dict(session)))


__all__ = ["ConsoleSession", "ConsoleSessionInterface", "COOKIE", "SERVER_MARK"]
