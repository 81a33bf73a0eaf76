"""The three real HTTP servers the browser talks to, each on 127.0.0.1.

* two page servers (two ports, so two origins) serve ``page.html``, whose script
  helpers make the cross-origin requests; any ``*.localhost`` name reaches them too
  (Chromium resolves those names to loopback itself), which gives the subdomain and
  regex scenarios their origins;
* the API server runs a Flask app configured through ``flask_gravicors``, wrapped in
  a :class:`RequestLog` that sees every request before the extension does, so a test
  can tell whether the browser sent a preflight.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from flask import Blueprint, Flask, Response, abort, redirect, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from flask_gravicors import GraviCORS, Policy, hookimpl

PAGE_HTML = (Path(__file__).parent / "page.html").read_bytes()

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _QuietHandler(WSGIRequestHandler):
    """No access-log line per request (the request log below keeps what tests need)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class ServerThread:
    """A werkzeug WSGI server on 127.0.0.1 (a free port) in a daemon thread."""

    def __init__(self, app: WSGIApp):
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        self.port: int = self.server.server_port
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)


def page_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Serves the probe page at every path (favicon excepted)."""
    if environ.get("PATH_INFO") == "/favicon.ico":
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    start_response(
        "200 OK",
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(PAGE_HTML))), ("Cache-Control", "no-store")],
    )
    return [PAGE_HTML]


class RequestLog:
    """Outermost WSGI layer of the API server: records every request and the status
    and headers of its answer (preflights answered by the extension included)."""

    def __init__(self, app: WSGIApp):
        self.app = app
        self._lock = threading.Lock()
        self.entries: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        entry: dict[str, Any] = {
            "method": environ["REQUEST_METHOD"],
            "path": environ.get("PATH_INFO", ""),
            "preflight": environ["REQUEST_METHOD"] == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ,
            "status": None,
            "headers": {},
        }
        with self._lock:
            self.entries.append(entry)

        def recording_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            entry["status"] = int(status[:3])
            entry["headers"] = {name.lower(): value for name, value in headers}
            return start_response(status, headers, exc_info)

        return self.app(environ, recording_start_response)

    def under(self, prefix: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.entries if e["path"] == prefix or e["path"].startswith(prefix + "/")]

    def methods(self, prefix: str) -> Counter[str]:
        """How many requests per method (exactly as sent) reached ``prefix``."""
        return Counter(e["method"] for e in self.under(prefix))


# --- the API app -------------------------------------------------------------------


class QuotaExhaustedPolicy(Policy):
    """Test-only policy standing in for a rate limit that is used up: always 429."""

    name = "test-quota-exhausted"

    def on_request(self, request: Any) -> Any:
        return Response(
            '{"message": "Too many requests"}',
            status=429,
            content_type="application/json",
            headers={"X-Rate-Limit-Limit": "10", "X-Rate-Limit-Remaining": "0", "Retry-After": "60"},
        )


class MarkPolicy(Policy):
    """Test-only policy marking the answer (``X-Flow-Ran: yes``): shows a flow ran."""

    name = "test-mark"

    def on_response(self, request: Any, response: Response) -> None:
        response.headers["X-Flow-Ran"] = "yes"


class BrowserSuitePlugin:
    """Registers the test-only policies (the api-key and jwt plugins come by entry
    point) and decides dynamic origins from a table the tests change:
    ``answers[(api name, origin)]``."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], bool] = {}

    @hookimpl
    def gravicors_register_policies(self) -> Sequence[type[Policy]]:
        return [QuotaExhaustedPolicy, MarkPolicy]

    @hookimpl
    def gravicors_origin_allowed(self, api_name: str, origin: str) -> bool | None:
        return self.answers.get((api_name, origin))


METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def make_api_app(
    apis: Sequence[Mapping[str, Any]], blueprints: Sequence[str] = (), dynamic_ttl: float = 60
) -> tuple[Flask, GraviCORS, BrowserSuitePlugin]:
    """The API origin's app. Every area (``/s/<id>`` for a scenario's API,
    ``/outside/<id>`` for paths outside every API) has the same views:

    ``echo`` (JSON of what arrived), ``status/<code>`` (``abort(code)``), ``boom``
    (unhandled exception: 500), ``stream`` (server-sent events), ``own-acao`` (a view
    that sets ``Access-Control-Allow-Origin: *`` and ``-Credentials: true`` itself),
    ``cacheable`` (``max-age=600``), ``redirect`` (302 to this area's ``echo``) and
    ``redirect-out`` (302 to ``/outside/<id>/echo``).

    Each name in ``blueprints`` gets a blueprint at ``/b/<name>`` with an ``echo``
    view that allows GET and PUT only (for blueprint-bound APIs). Dynamic-origin
    decisions last ``dynamic_ttl`` seconds.
    """
    app = Flask("gravicors_browser_api")
    app.config["GRAVICORS_DYNAMIC_ORIGINS_TTL"] = dynamic_ttl

    for name in blueprints:
        blueprint = Blueprint(name, __name__, url_prefix=f"/b/{name}")

        @blueprint.route("/echo", methods=["GET", "PUT"])
        def blueprint_echo() -> Any:
            return {"method": request.method, "blueprint": request.blueprint, "path": request.path}

        app.register_blueprint(blueprint)

    @app.after_request
    def tag(response: Response) -> Response:
        response.headers["X-Request-Id"] = "rid-" + request.path.split("/")[2] if request.path.count("/") >= 2 else "rid"
        response.headers["X-Internal"] = "internal-value"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.route("/<any(s, outside):area>/<sid>/echo", methods=METHODS)
    def echo(area: str, sid: str) -> Any:
        return {
            "method": request.method,
            "raw_method": request.environ["REQUEST_METHOD"],
            "path": request.path,
            "cookie": request.cookies.get("session"),
            "x_trace": request.headers.get("X-Trace"),
            "authorization": request.headers.get("Authorization"),
            "api_key": request.headers.get("X-Gravitee-Api-Key") or request.args.get("api-key"),
        }

    @app.route("/<any(s, outside):area>/<sid>/status/<int:code>", methods=METHODS)
    def status(area: str, sid: str, code: int) -> Any:
        abort(code)

    @app.route("/<any(s, outside):area>/<sid>/boom", methods=METHODS)
    def boom(area: str, sid: str) -> Any:
        raise RuntimeError("the view failed (deliberately)")

    @app.route("/<any(s, outside):area>/<sid>/stream")
    def stream(area: str, sid: str) -> Response:
        def events() -> Iterator[str]:
            # A long retry: the script closes the stream after two messages, and an
            # ended stream must not come back as extra requests.
            yield "retry: 600000\n\n"
            for word in ("one", "two"):
                yield f"data: {word}\n\n"

        return Response(events(), mimetype="text/event-stream", headers={"Cache-Control": "no-store"})

    @app.route("/<any(s, outside):area>/<sid>/own-acao", methods=METHODS)
    def own_acao(area: str, sid: str) -> Any:
        return {"own": True}, 200, {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"}

    @app.route("/<any(s, outside):area>/<sid>/cacheable")
    def cacheable(area: str, sid: str) -> Any:
        # Cacheable by the browser: only Vary keeps one origin's answer from another.
        return {"cached": True}, 200, {"Cache-Control": "public, max-age=600"}

    @app.route("/<any(s, outside):area>/<sid>/redirect")
    def redirect_within(area: str, sid: str) -> Any:
        return redirect(f"/{area}/{sid}/echo", 302)

    @app.route("/<any(s, outside):area>/<sid>/redirect-out")
    def redirect_out(area: str, sid: str) -> Any:
        return redirect(f"/outside/{sid}/echo", 302)

    plugin = BrowserSuitePlugin()
    gravicors = GraviCORS(app, apis=list(apis), plugins=[plugin])
    return app, gravicors, plugin
