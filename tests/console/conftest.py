"""Fixtures of the console's tests: an app with a SQLite store and the console
mounted, its users (one per role), and a browser-like client that logs in and
carries the CSRF token of the page it read last."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from flask_gravicors import GraviCORS
from flask_gravicors.store.app import AppStore

PASSWORD = "correct horse battery"
PAGE = "https://shop.example"
OTHER = "https://other.example"


def config(**cors: Any) -> dict[str, Any]:
    """Two APIs: ``orders`` (CORS on, one origin) and ``ws`` (websocket only)."""
    return {
        "apis": [
            {
                "name": "orders",
                "context_path": "/orders",
                "description": "the shop's orders",
                "cors": {
                    "enabled": True,
                    "allow_origin": [PAGE],
                    "allow_methods": ["GET", "PUT"],
                    "allow_credentials": True,
                    **cors,
                },
                "policies": [],
            },
            {"name": "ws", "context_path": "/ws", "entrypoints": ["websocket"], "cors": {"enabled": False}},
        ]
    }


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1) or found.group(2)


class Console:
    """A test client of the console: ``get`` remembers the page's CSRF token,
    ``post`` sends it (unless told otherwise)."""

    def __init__(self, app: Flask, prefix: str = "/gravicors", base_url: str = "http://localhost"):
        self.app = app
        self.prefix = prefix
        self.base_url = base_url
        self.client: FlaskClient = app.test_client()
        self.token: str | None = None

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(self.prefix + path, base_url=self.base_url, **kwargs)
        if response.mimetype == "text/html" and "csrf_token" in response.text:
            self.token = csrf_of(response.text)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any) -> TestResponse:
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token)
        # As a browser does (Flask-WTF checks it over https: WTF_CSRF_SSL_STRICT).
        kwargs.setdefault("headers", {"Referer": f"{self.base_url}{self.prefix}/"})
        response = self.client.post(self.prefix + path, data=data, base_url=self.base_url, **kwargs)
        if response.mimetype == "text/html" and "csrf_token" in response.text:
            self.token = csrf_of(response.text)
        return response

    def login(self, name: str, password: str = PASSWORD) -> TestResponse:
        """Log in as a browser does; after a success, the CSRF token is the new session's."""
        self.get("/login")
        response = self.post("/login", {"username": name, "password": password})
        if response.status_code == 302:
            self.get("/apis").close()
        return response

    def cookie(self) -> str | None:
        cookie = self.client.get_cookie("gravicors_console", path=self.prefix)
        return None if cookie is None else cookie.value

    def text(self, response: TestResponse) -> str:
        """The page's visible text, on one line."""
        import html

        body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.text, flags=re.S)
        return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


@pytest.fixture
def make_console(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Builds apps with a store and the console (``/orders/x`` and ``/x`` views);
    closes their stores after the test."""
    made: list[Flask] = []

    def make(cfg: Any = None, **settings: Any) -> Flask:
        app = Flask(__name__)
        app.config.update(
            SECRET_KEY="test-secret-key-0123456789abcdef",
            GRAVICORS=config() if cfg is None else cfg,
            GRAVICORS_STORE=f"sqlite:///{tmp_path}/store-{len(made)}.db",
            GRAVICORS_CONSOLE=True,
            **settings,
        )

        @app.route("/orders/x", methods=["GET", "PUT"])
        def orders_x() -> str:
            return "order"

        @app.get("/x")
        def x() -> str:
            return "x"

        GraviCORS(app, entry_points=False)
        made.append(app)
        return app

    yield make
    for app in made:
        store = app.extensions["gravicors"].store_for(app)
        if store is not None:
            store.close()


def store_of(app: Flask) -> AppStore:
    return app.extensions["gravicors"].store_for(app)  # type: ignore[no-any-return]


def add_users(app: Flask) -> None:
    accounts = store_of(app).accounts
    for role in ("viewer", "editor", "admin"):
        accounts.create_user(role, role, PASSWORD)


@pytest.fixture
def app(make_console: Callable[..., Flask]) -> Flask:
    """The console app with users viewer, editor and admin (password PASSWORD)."""
    made = make_console()
    add_users(made)
    return made


@pytest.fixture
def console(app: Flask) -> Console:
    return Console(app)


@pytest.fixture
def editor(app: Flask) -> Console:
    client = Console(app)
    assert client.login("editor").status_code == 302
    return client
