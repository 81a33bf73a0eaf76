"""The API origin of the demo: four APIs showing what flask_gravicors does.

* ``orders``: one explicit origin (the page at 127.0.0.1; the console adds the
  page's second origin, localhost), credentials, an api-key plan (key ``demo-key``)
  and a flow that rate-limits every request. *Run policies for preflight requests*
  is on: the flow runs on valid preflights (they carry ``X-Rate-Limit-*``), the plan
  never does (a browser sends no key on a preflight), so a keyless PUT's preflight
  passes and the PUT itself gets a 401 the page can read.
* ``public``: ``*`` origin, the rate-limit policy (configured from the environment,
  so the same app runs under gunicorn with shared Redis counters).
* ``events``: a Server-Sent Events stream on an ``sse`` entrypoint.
* ``chat``: a websocket-only API; its cors block is enabled but never applied
  (flask_gravicors logs a warning at start, as Gravitee's console does).

The config lives in a SQLite config store in the instance folder
(``instance/gravicors.db``; ``GRAVICORS_SAMPLE_STORE`` names another store): the
first start saves the config below as version 1, and from then on the store's
newest version runs (``flask --app sample_app.api gravicors history``). The console
is mounted at ``/gravicors/`` (``python -m sample_app`` creates its demo user).
"""

from __future__ import annotations

import os
import secrets
import time
from typing import Any, Iterator

from flask import Flask, Response, abort, request, stream_with_context

from flask_gravicors import GraviCORS

PAGE_ORIGINS = [
    f"http://127.0.0.1:{os.environ.get('GRAVICORS_SAMPLE_PAGE_PORT', '5000')}",
    f"http://localhost:{os.environ.get('GRAVICORS_SAMPLE_PAGE_PORT', '5000')}",
]

RATE_HEADERS = ["X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"]


def sample_config() -> dict[str, Any]:
    return {
        "apis": [
            {
                "name": "orders",
                "context_path": "/orders",
                "entrypoints": ["http-proxy"],
                "cors": {
                    "enabled": True,
                    "allow_origin": PAGE_ORIGINS[:1],
                    "allow_methods": ["GET", "POST", "PUT", "DELETE"],
                    "allow_headers": ["content-type", "x-gravitee-api-key"],
                    "allow_credentials": True,
                    "max_age": 600,
                    "expose_headers": ["x-request-id", *RATE_HEADERS],
                    "run_policies": True,
                },
                "plans": [{"name": "Gold", "security": "api-key", "configuration": {"keys": ["demo-key"]}}],
                "flows": [
                    {
                        "name": "rate limit",
                        "request": [
                            {
                                "name": "limit",
                                "policy": "rate-limit",
                                "configuration": {"limit": 120, "period": "1m", "key": "ip"},
                            }
                        ],
                    }
                ],
            },
            {
                "name": "public",
                "context_path": "/public",
                "cors": {
                    "enabled": True,
                    "allow_origin": ["*"],
                    "allow_methods": ["GET", "POST"],
                    "allow_headers": ["content-type"],
                    "expose_headers": RATE_HEADERS,
                },
                "flows": [
                    {
                        "name": "rate limit",
                        "request": [
                            {
                                "policy": "rate-limit",
                                "configuration": {
                                    "limit": int(os.environ.get("GRAVICORS_SAMPLE_RATE_LIMIT", "100")),
                                    "period": os.environ.get("GRAVICORS_SAMPLE_RATE_PERIOD", "1m"),
                                    "key": "ip",
                                    "storage": os.environ.get("GRAVICORS_SAMPLE_RATE_STORAGE", "memory://"),
                                },
                            }
                        ],
                    }
                ],
            },
            {
                "name": "events",
                "context_path": "/events",
                "entrypoints": ["sse"],
                "cors": {"enabled": True, "allow_origin": PAGE_ORIGINS, "allow_methods": ["GET"], "allow_credentials": True},
            },
            {
                "name": "chat",
                "context_path": "/chat",
                "entrypoints": ["websocket"],
                "cors": {"enabled": True, "allow_origin": PAGE_ORIGINS, "allow_methods": ["GET"]},
            },
        ]
    }


def store_url(app: Flask) -> str:
    """``GRAVICORS_SAMPLE_STORE``, else a SQLite file in the app's instance folder."""
    given = os.environ.get("GRAVICORS_SAMPLE_STORE")
    if given:
        return given
    os.makedirs(app.instance_path, exist_ok=True)
    return "sqlite:///" + os.path.join(app.instance_path, "gravicors.db")


def secret_key(app: Flask) -> str:
    """``GRAVICORS_SAMPLE_SECRET_KEY``, else a random key kept in the instance folder
    (made once, readable by its owner only), so every worker signs alike."""
    given = os.environ.get("GRAVICORS_SAMPLE_SECRET_KEY")
    if given:
        return given
    os.makedirs(app.instance_path, exist_ok=True)
    path = os.path.join(app.instance_path, "secret_key")
    if not os.path.exists(path):
        # Written aside, then linked into place: of workers starting together, one
        # key wins and every worker reads that one.
        temporary = f"{path}.{os.getpid()}"
        fd = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    with open(path, encoding="ascii") as handle:
        return handle.read().strip()


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["GRAVICORS"] = sample_config()
    app.config["GRAVICORS_STORE"] = store_url(app)
    # The console at /gravicors/ (users: `flask --app sample_app.api gravicors create-user`).
    app.config["GRAVICORS_CONSOLE"] = True
    app.config["SECRET_KEY"] = secret_key(app)

    @app.get("/orders")
    def list_orders() -> Any:
        return {"orders": [{"id": 1, "item": "book"}]}, 200, {"X-Request-Id": "req-1"}

    @app.route("/orders", methods=["POST"])
    def create_order() -> Any:
        return {"created": request.get_json(silent=True)}, 201, {"X-Request-Id": "req-2"}

    @app.route("/orders/<int:order_id>", methods=["PUT", "DELETE"])
    def change_order(order_id: int) -> Any:
        if order_id != 1:
            abort(404)
        return {"id": order_id, "method": request.method}

    @app.get("/public/hello")
    def hello() -> Any:
        return {"hello": "world"}

    @app.get("/events/clock")
    def clock() -> Response:
        count = min(int(request.args.get("count", "3")), 100)

        def stream() -> Iterator[str]:
            for i in range(count):
                yield f"data: tick {i}\n\n"
                time.sleep(0.05)

        return Response(stream_with_context(stream()), mimetype="text/event-stream")

    @app.get("/chat")
    def chat() -> Any:
        # A websocket server would upgrade here; the demo only shows that a
        # websocket-only API gets no CORS headers.
        return {"message": "websocket endpoint"}, 426

    GraviCORS(app)
    return app
