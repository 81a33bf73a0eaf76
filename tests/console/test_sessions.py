"""flask_gravicors.console.sessions: only a session in the store logs anyone in."""

from __future__ import annotations

import hashlib
import time

from flask import Flask
from flask.json.tag import TaggedJSONSerializer
from itsdangerous import URLSafeTimedSerializer

from flask_gravicors.console.sessions import COOKIE, ConsoleSessionInterface

from .conftest import Console, store_of


def signed(app: Flask, data: dict[str, object]) -> str:
    """A cookie signed with the app's own key, as the console signs its session-less cookie."""
    return URLSafeTimedSerializer(
        app.config["SECRET_KEY"],
        salt=ConsoleSessionInterface.salt,
        serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
    ).dumps(data)


def test_a_signed_cookie_never_logs_anyone_in(app: Flask) -> None:
    """Even someone who knows SECRET_KEY cannot forge a login: the user must come
    from a session row in the store."""
    client = app.test_client()
    client.set_cookie(COOKIE, signed(app, {"_user_id": "admin", "_fresh": True}), path="/gravicors")
    response = client.get("/gravicors/users")
    assert response.status_code == 302 and response.headers["Location"].startswith("/gravicors/login")


def test_a_made_up_token_opens_nothing_and_is_removed(app: Flask) -> None:
    client = app.test_client()
    client.set_cookie(COOKIE, "s.not-a-session", path="/gravicors")
    response = client.get("/gravicors/login")
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "s.not-a-session" not in cookie


def test_a_session_ends_after_its_lifetime(make_console: object) -> None:
    app = make_console(GRAVICORS_CONSOLE_SESSION_LIFETIME=60)  # type: ignore[operator]
    store_of(app).accounts.create_user("ann", "viewer", "password-of-ann")
    client = Console(app)
    assert client.login("ann", "password-of-ann").status_code == 302
    assert client.get("/apis").status_code == 200
    accounts = store_of(app).accounts
    real = time.time
    try:
        time.time = lambda: real() + 61  # type: ignore[assignment]
        assert client.get("/apis").status_code == 302
        assert accounts.session_count("ann") == 0
    finally:
        time.time = real  # type: ignore[assignment]


def test_the_store_unreachable_means_503_not_a_login(app: Flask, monkeypatch: object) -> None:
    from flask_gravicors.store import StoreError
    from flask_gravicors.store.accounts import Accounts

    editor = Console(app)
    editor.login("editor")

    def down(self: Accounts, token: str) -> None:
        raise StoreError("store sqlite:///x: unable to open database file")

    monkeypatch.setattr(Accounts, "load_session", down)  # type: ignore[attr-defined]
    response = editor.client.get("/gravicors/apis")
    assert response.status_code == 503 and "The config store cannot be reached" in response.text
    assert "Set-Cookie" not in response.headers  # the session is neither ended nor replaced
