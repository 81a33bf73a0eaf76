"""The app the metrics tests serve with gunicorn (``tests.metricsapp:create_app()``).

One API, ``/orders``, allowing ``https://shop.example.com`` (GET, PUT; header
``x-trace``); a flow answers 429 under ``/orders/full``. ``/orders/<x>`` and
``/outside/<x>`` answer with the worker's process id, after a short sleep so that
concurrent requests spread over the workers. Metrics on, no config file or server
hook: the directory comes from ``PROMETHEUS_MULTIPROC_DIR``.
"""

from __future__ import annotations

import os
import time
from typing import Any

from flask import Flask, Response

from flask_gravicors import GraviCORS, Policy, hookimpl

ORIGIN = "https://shop.example.com"
#: How long a view takes: a sync worker holds each request that long.
VIEW_SECONDS = 0.01


class Full(Policy):
    """Always answers 429, as a used-up rate limit does."""

    name = "test-full"

    def on_request(self, request: Any) -> Any:
        return Response("full", status=429)


class Plugin:
    @hookimpl
    def gravicors_register_policies(self) -> list[type[Policy]]:
        return [Full]


CONFIG = {
    "apis": [
        {
            "name": "orders",
            "context_path": "/orders",
            "cors": {"enabled": True, "allow_origin": [ORIGIN], "allow_methods": ["GET", "PUT"], "allow_headers": ["x-trace"]},
            "flows": [
                {
                    "name": "full",
                    "selectors": [{"type": "http", "path": "/full", "pathOperator": "STARTS_WITH"}],
                    "request": [{"policy": "test-full"}],
                }
            ],
        }
    ]
}


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["GRAVICORS"] = CONFIG
    app.config["GRAVICORS_METRICS"] = True

    def pid(path: str = "") -> str:
        time.sleep(VIEW_SECONDS)
        return str(os.getpid())

    for prefix in ("/orders", "/outside"):
        app.add_url_rule(f"{prefix}/<path:path>", prefix[1:], pid, methods=["GET", "PUT"])
    app.add_url_rule("/ready", "ready", lambda: "ok")
    GraviCORS(app, plugins=[Plugin()], entry_points=False)
    return app
