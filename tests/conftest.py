"""Shared fixtures: small Flask apps configured through flask_gravicors."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from flask import Flask

from flask_gravicors import GraviCORS

ORIGIN = "https://shop.example.com"

#: CORS headers the catch-all views set themselves on a path ending in ``own-headers``
#: (plus ``Vary: Accept-Encoding``), as a view or another layer might.
OWN_HEADERS = {
    "Access-Control-Allow-Origin": "https://other.test",
    "Access-Control-Allow-Credentials": "true",
    "Access-Control-Expose-Headers": "secret",
}


def make_app(
    apis: list[dict[str, Any]],
    *,
    plugins: tuple[Any, ...] = (),
    debug: bool = False,
    flows: list[dict[str, Any]] | None = None,
    config: dict[str, Any] | None = None,
) -> Flask:
    """An app with catch-all views under /orders, /public, /ws, /outside and /, and
    GraviCORS; ``flows`` are platform flows, ``config`` extra app config keys."""
    app = Flask(__name__)
    app.debug = debug
    app.config.update(config or {})
    app.config["GRAVICORS"] = {"apis": apis, **({"flows": flows} if flows is not None else {})}
    app.view_calls = []  # type: ignore[attr-defined]

    def view(path: str = "") -> Any:
        app.view_calls.append(path)  # type: ignore[attr-defined]
        if path.endswith("own-headers"):
            return {"path": path}, 200, {**OWN_HEADERS, "Vary": "Accept-Encoding"}
        return {"path": path}

    for prefix in ("/orders", "/public", "/ws", "/outside", "/ordersx", "/api"):
        app.add_url_rule(prefix, f"{prefix[1:]}_root", view, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        app.add_url_rule(f"{prefix}/<path:path>", f"{prefix[1:]}_any", view, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    GraviCORS(app, plugins=plugins or (PolicyPlugin(),))
    return app


@pytest.fixture
def app_factory() -> Callable[..., Flask]:
    return make_app


# --- A plugin of test policies, passed with GraviCORS(app, plugins=[PolicyPlugin()]) ---

from flask import Request, Response  # noqa: E402
from marshmallow import Schema, fields  # noqa: E402

from flask_gravicors import Policy, hookimpl  # noqa: E402

#: Every policy call made in a test: (policy name, phase, api name, detail).
CALLS: list[tuple[str, str, str, str]] = []


class _LabelSchema(Schema):
    label = fields.String(load_default="")


class RecordPolicy(Policy):
    """Lets everything through, recording each call and tagging responses."""

    name = "record"
    config_schema = _LabelSchema

    def on_request(self, request: Request) -> None:
        CALLS.append((self.config["label"] or self.name, "request", self.api_name, request.method))
        return None

    def on_response(self, request: Request, response: Response) -> None:
        CALLS.append((self.config["label"] or self.name, "response", self.api_name, str(response.status_code)))
        response.headers["X-Policy-" + (self.config["label"] or self.name)] = "seen"
        return None


class _AnswerSchema(Schema):
    status = fields.Integer(load_default=401)


class AnswerPolicy(Policy):
    """Answers every request with a JSON error (as an auth or quota policy would)."""

    name = "answer"
    config_schema = _AnswerSchema

    def on_request(self, request: Request) -> object:
        CALLS.append(("answer", "request", self.api_name, request.method))
        return {"message": "answered by policy"}, self.config["status"]


class PolicyPlugin:
    @hookimpl
    def gravicors_register_policies(self) -> list[type[Policy]]:
        return [RecordPolicy, AnswerPolicy]


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    CALLS.clear()
