"""Shared fixtures: small Flask apps configured through flask_gravicors."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from flask import Flask

from flask_gravicors import GraviCORS

ORIGIN = "https://shop.example.com"


def make_app(apis: list[dict[str, Any]], *, plugins: tuple[Any, ...] = (), debug: bool = False) -> Flask:
    """An app with catch-all views under /orders, /public, /ws, /outside and /, and GraviCORS."""
    app = Flask(__name__)
    app.debug = debug
    app.config["GRAVICORS"] = {"apis": apis}
    app.view_calls = []  # type: ignore[attr-defined]

    def view(path: str = "") -> Any:
        app.view_calls.append(path)  # type: ignore[attr-defined]
        return {"path": path}

    for prefix in ("/orders", "/public", "/ws", "/outside", "/ordersx", "/api"):
        app.add_url_rule(prefix, f"{prefix[1:]}_root", view, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        app.add_url_rule(f"{prefix}/<path:path>", f"{prefix[1:]}_any", view, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    GraviCORS(app, plugins=plugins)
    return app


@pytest.fixture
def app_factory() -> Callable[..., Flask]:
    return make_app
