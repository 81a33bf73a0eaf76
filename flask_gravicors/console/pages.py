"""What every console page shares: its security headers, its error pages, the URL
converter of API names and the helpers its templates use."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError  # type: ignore[import-untyped]
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter, ValidationError

from ..core import CORS_ENTRYPOINTS
from ..errors import Problem
from ..store import StoreError, time_text
from .auth import unroutable, wants_html

#: No inline script or style, nothing from elsewhere, no framing, forms post here only.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

#: Gravitee's names of the entrypoint types.
ENTRYPOINT_LABELS = {
    "http-proxy": "HTTP Proxy",
    "http-get": "HTTP GET",
    "http-post": "HTTP POST",
    "sse": "SSE",
    "websocket": "WebSocket",
}

#: The seed's warning, word for word.
NO_CORS_ENTRYPOINT = (
    "WebSocket entrypoints do not support CORS. CORS will not be applied if an API does not contain at least one "
    "of the following entrypoints: HTTP GET, HTTP POST, HTTP Proxy, or SSE."
)

_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class SegmentConverter(BaseConverter):
    """A name (an API's, a user's) in a URL: as it is when it is plain (``orders``), else ``~``
    and its UTF-8 in unpadded base64url, so any name (``/``, spaces, ``<script>``)
    makes one path segment."""

    regex = r"[^/]+"

    def to_python(self, value: str) -> str:
        if not value.startswith("~"):
            return value
        try:
            return base64.urlsafe_b64decode(value[1:] + "=" * (-len(value[1:]) % 4)).decode("utf-8")
        except (binascii.Error, ValueError):
            raise ValidationError() from None

    def to_url(self, value: str) -> str:
        if _PLAIN_NAME.fullmatch(value):
            return value
        return "~" + base64.urlsafe_b64encode(value.encode("utf-8", "surrogatepass")).decode("ascii").rstrip("=")


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def _error(status: int, message: str) -> Any:
    if not wants_html():
        return jsonify(error=message), status
    if unroutable():
        # The pages link with url_for, which has nothing to build with here.
        return Response(message, status, mimetype="text/plain")
    return render_template("gravicors_console/error.html", status=status, message=message), status


def _http_error(err: HTTPException) -> Any:
    status = err.code or 500
    if isinstance(err, CSRFError):
        return _error(
            400, "The form was refused: its security token is missing or no longer valid. Reload the page and try again."
        )
    return _error(status, err.description or err.name)


def _store_error(err: StoreError) -> Any:
    return _error(503, f"The config store cannot be reached; nothing was changed. ({err})")


def as_json(value: Any) -> str:
    """A config value as compact JSON (shown escaped by the template)."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def problem_text(problem: Problem) -> str:
    """A problem's message without its leading rule id (shown apart)."""
    prefix = problem.id + ": "
    return problem.message[len(prefix) :] if problem.message.startswith(prefix) else problem.message


def install_pages(console: Flask) -> None:
    console.url_map.converters["segment"] = SegmentConverter
    console.after_request(_security_headers)
    console.register_error_handler(HTTPException, _http_error)
    console.register_error_handler(StoreError, _store_error)
    console.jinja_env.globals.update(time_text=time_text, no_cors_entrypoint=NO_CORS_ENTRYPOINT)
    console.jinja_env.filters.update(
        entrypoint_label=lambda e: ENTRYPOINT_LABELS.get(e, e),
        as_json=as_json,
        pretty_json=lambda value: json.dumps(value, ensure_ascii=False, indent=2),
        problem_text=problem_text,
    )


def supports_cors(entrypoints: Any) -> bool:
    return isinstance(entrypoints, list) and not CORS_ENTRYPOINTS.isdisjoint(e for e in entrypoints if isinstance(e, str))


__all__ = ["install_pages", "SegmentConverter", "CSP", "NO_CORS_ENTRYPOINT", "supports_cors", "as_json"]
