"""The benchmarked apps: one Flask app, built bare, with flask-cors, or with flask_gravicors.

Every variant has the same view and the same routes; only the CORS layer differs.
Also importable by gunicorn (``apps:server_app("gravicors", 1)``), which is how
the wrk mode serves them.
"""

from __future__ import annotations

import tempfile
from typing import Any

from flask import Flask

from flask_gravicors import GraviCORS, Policy, hookimpl

ALLOWED_ORIGIN = "https://app.example.com"
DISALLOWED_ORIGIN = "https://evil.example.net"
REGEX_ORIGIN = "https://shop.tenant500.example.com"
#: An origin no list holds, allowed at run time by the gravicors_origin_allowed hook.
DYNAMIC_ORIGIN = "https://tenant42.example.org"
API_KEY = "bench-key-1"

METHODS = ["GET", "POST", "PUT", "DELETE"]
ALLOW_HEADERS = ["content-type", "authorization", "x-request-id"]
EXPOSE_HEADERS = ["x-request-id"]


#: What flask_gravicors adds to an allowed GET of these apps.
STATIC_CORS_HEADERS = [
    ("Vary", "Origin"),
    ("Access-Control-Allow-Origin", ALLOWED_ORIGIN),
    ("Access-Control-Allow-Credentials", "true"),
    ("Access-Control-Expose-Headers", ", ".join(EXPOSE_HEADERS)),
]


def _with_headers(wsgi_app: Any, extra: list[tuple[str, str]]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        def adding(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, *extra], exc_info)

        return wsgi_app(environ, adding)

    return app


def exact_origins(count: int) -> list[str]:
    """``count`` exact origins with :data:`ALLOWED_ORIGIN` in the middle of the list
    (flask-cors scans the list, so the middle is its average case)."""
    origins = [f"https://app{i}.example.com" for i in range(count - 1)]
    origins.insert(len(origins) // 2, ALLOWED_ORIGIN)
    return origins


def regex_origins(count: int) -> list[str]:
    """Regex entries; :data:`REGEX_ORIGIN` matches entry 500."""
    return [rf"https://[a-z0-9-]+\.tenant{i}\.example\.com" for i in range(count)]


def glob_origins(count: int) -> list[str]:
    """Subdomain wildcards with the same meaning as :func:`regex_origins`."""
    return [f"https://*.tenant{i}.example.com" for i in range(count)]


def origin_list(kind: str, count: int) -> list[str]:
    return {"exact": exact_origins, "regex": regex_origins, "glob": glob_origins}[kind](count)


def make_base_app() -> Flask:
    app = Flask("bench")

    @app.route("/api/items", methods=METHODS)
    def items() -> Any:
        return {"items": [1, 2, 3]}

    @app.route("/api/items/<int:item_id>", methods=METHODS)
    def item(item_id: int) -> Any:
        return {"item": item_id}

    return app


class PassPolicy(Policy):
    """A policy that lets every request through (the chain's own cost)."""

    name = "bench-pass"

    def on_request(self, request: Any) -> None:
        return None


@hookimpl
def gravicors_register_policies() -> list[type[Policy]]:
    return [PassPolicy]


@hookimpl
def gravicors_origin_allowed(api_name: str, origin: str) -> bool | None:
    """Tenants decided at run time: only :data:`DYNAMIC_ORIGIN`."""
    return origin == DYNAMIC_ORIGIN


class _PassPlugin:
    gravicors_register_policies = staticmethod(gravicors_register_policies)
    gravicors_origin_allowed = staticmethod(gravicors_origin_allowed)


#: An api-key plan and a keyless one (a request without a key takes the keyless plan).
PLANS = [{"name": "Gold", "security": "api-key", "configuration": {"keys": [API_KEY]}}, {"name": "Free", "security": "keyless"}]
#: One API flow over everything with one step that lets the request through.
FLOWS = [{"name": "noop", "request": [{"policy": "bench-pass"}]}]


def gravicors_api(
    origins: list[str],
    policies: list[dict[str, Any]] | None = None,
    plans: list[dict[str, Any]] | None = None,
    flows: list[dict[str, Any]] | None = None,
    **cors: Any,
) -> dict[str, Any]:
    return {
        "name": "api",
        "context_path": "/api",
        "cors": {
            "enabled": True,
            "allow_origin": origins,
            "allow_methods": METHODS,
            "allow_headers": ALLOW_HEADERS,
            "allow_credentials": True,
            "max_age": 600,
            "expose_headers": EXPOSE_HEADERS,
            "run_policies": False,
            **cors,
        },
        "policies": policies or [],
        "plans": plans or [],
        "flows": flows or [],
    }


TWO_POLICIES = [{"name": "api-key", "config": {"keys": [API_KEY]}}, {"name": "bench-pass"}]
TWO_NOOP_POLICIES = [{"name": "bench-pass"}, {"name": "bench-pass"}]


_STORE_DIRS: list[tempfile.TemporaryDirectory[str]] = []


def store_url() -> str:
    """A new SQLite config store in a folder removed when the process ends."""
    folder = tempfile.TemporaryDirectory(prefix="gravicors-bench-")
    _STORE_DIRS.append(folder)
    return f"sqlite:///{folder.name}/store.db"


def make_app(
    variant: str,
    origins: list[str] | None = None,
    *,
    policies: list[dict[str, Any]] | None = None,
    neighbour_policies: list[dict[str, Any]] | None = None,
    plans: list[dict[str, Any]] | None = None,
    flows: list[dict[str, Any]] | None = None,
    cors: dict[str, Any] | None = None,
) -> Flask:
    """``variant``: ``bare``, ``bare-hook``, ``bare-headers``, ``flask-cors``, ``gravicors``, ``gravicors-nochain``
    (flask_gravicors with its policy hooks removed from Flask: "no chain at all"), ``gravicors-store``
    (flask_gravicors whose config comes from a SQLite config store, its watcher thread polling it) or
    ``gravicors-metrics`` (flask_gravicors counting every request: ``GRAVICORS_METRICS``).
    ``neighbour_policies`` adds a second API, ``/other``, with those policies;
    ``plans``, ``flows`` and ``cors`` (fields over the defaults) shape the API."""
    app = make_base_app()
    if variant == "bare":
        return app
    if variant == "bare-hook":
        # A yardstick: bare Flask plus one empty after_request hook.
        app.after_request(lambda response: response)
        return app
    if variant == "bare-headers":
        # A yardstick for servers: bare Flask whose responses carry the four headers
        # an allowed origin gets here, added by the thinnest WSGI wrapper: the part of
        # a CORS layer's cost that is the server's handling of those headers.
        app.wsgi_app = _with_headers(app.wsgi_app, STATIC_CORS_HEADERS)  # type: ignore[method-assign]
        return app
    assert origins is not None
    if variant == "flask-cors":
        from flask_cors import CORS  # type: ignore[import-untyped]

        CORS(
            app,
            resources={
                r"/api/*": {
                    "origins": origins,
                    "methods": METHODS,
                    "allow_headers": ALLOW_HEADERS,
                    "expose_headers": EXPOSE_HEADERS,
                    "supports_credentials": True,
                    "max_age": 600,
                }
            },
        )
        return app
    api_list = [gravicors_api(origins, policies, plans, flows, **(cors or {}))]
    if neighbour_policies:
        api_list.append({**gravicors_api(origins, neighbour_policies), "name": "other", "context_path": "/other"})
    if variant == "gravicors-store":
        app.config["GRAVICORS_STORE"] = store_url()
    if variant == "gravicors-metrics":
        app.config["GRAVICORS_METRICS"] = True
    GraviCORS(app, apis=api_list, plugins=[_PassPlugin])
    if variant == "gravicors-nochain":
        from flask_gravicors import extension

        for funcs, hook in ((app.before_request_funcs, "_before_request"), (app.after_request_funcs, "_after_request")):
            hooks: list[Any] = funcs.get(None, [])
            hooks[:] = [f for f in hooks if f is not getattr(extension, hook, None)]
            if not hooks:
                funcs.pop(None, None)
    elif variant not in ("gravicors", "gravicors-store", "gravicors-metrics"):
        raise ValueError(variant)
    return app


def server_app(variant: str, count: int = 1) -> Flask:
    """The app gunicorn serves in the wrk mode: ``count`` exact origins."""
    return make_app(variant, None if variant == "bare" else exact_origins(count))
