"""The app the fleet tests serve with gunicorn (``tests.fleet.fleetapp:create_app()``).

One API, ``/api``, allowing one origin; ``/api/pid`` answers with the worker's
process id and the number of its answers so far, so a client can tell which
worker answered what, and in which order. Its store is
``$FLEET_STORE`` (polled every ``$FLEET_POLL_INTERVAL`` seconds when set); its own
config (the seed) allows ``$FLEET_ORIGIN``.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from typing import Any

from flask import Flask

from flask_gravicors import GraviCORS

#: How long /api/pid takes: a sync worker holds each request that long, so
#: concurrent requests spread over the workers.
PID_VIEW_SECONDS = 0.02


def config_for(origin: str) -> dict[str, Any]:
    return {
        "apis": [
            {
                "name": "api",
                "context_path": "/api",
                "cors": {"enabled": True, "allow_origin": [origin], "allow_methods": ["GET"]},
            }
        ]
    }


def create_app() -> Flask:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(process)d] %(created).3f %(name)s %(levelname)s %(message)s"))
    logger = logging.getLogger("flask_gravicors")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    app = Flask(__name__)
    app.config["GRAVICORS"] = config_for(os.environ.get("FLEET_ORIGIN", "https://v0.example"))
    app.config["GRAVICORS_STORE"] = os.environ["FLEET_STORE"]
    if "FLEET_POLL_INTERVAL" in os.environ:
        app.config["GRAVICORS_STORE_POLL_INTERVAL"] = float(os.environ["FLEET_POLL_INTERVAL"])

    answered = itertools.count(1)

    @app.get("/api/pid")
    def pid() -> str:
        # The pid, and how many requests this worker answered: the order of its answers.
        time.sleep(PID_VIEW_SECONDS)
        return f"{os.getpid()} {next(answered)}"

    @app.get("/ready")
    def ready() -> str:
        return "ok"

    GraviCORS(app, entry_points=False)
    return app
