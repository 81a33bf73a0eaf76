"""The page origin of the demo: one HTML page whose buttons call the API origin."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response

HERE = Path(__file__).parent


def create_page_app(api_origin: str) -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index() -> Response:
        html = (HERE / "index.html").read_text(encoding="utf-8").replace("{{API_ORIGIN}}", api_origin)
        return Response(html, mimetype="text/html")

    return app
