"""The WSGI layer: where CORS is applied, in front of Flask.

Installed by ``init_app`` around ``app.wsgi_app``. A valid preflight that runs no
policy is answered here before Flask builds a request; actual requests get their
CORS headers in a wrapped ``start_response``, so the same code covers views,
``abort()``, error handlers, unhandled exceptions and policy answers. Policies
themselves run in Flask's request hooks (:mod:`.extension`), which find the API
this layer resolved in ``environ[REQUEST_KEY]``.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable

from .core import ACAC, ACAO, ACEH, PREFLIGHT_VARY, PREFLIGHT_VARY_PRIVATE_NETWORK, CompiledApi, Headers, Runtime

log = logging.getLogger("flask_gravicors")

REQUEST_KEY = "flask_gravicors.request"

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# Headers this layer owns on a CORS-enabled API: whatever a view set is replaced.
_OWNED_ACTUAL = frozenset(h.lower() for h in (ACAO, ACAC, ACEH))
_OWNED_PREFLIGHT = frozenset(
    h.lower()
    for h in (
        ACAO,
        ACAC,
        ACEH,
        "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers",
        "Access-Control-Max-Age",
        "Access-Control-Allow-Private-Network",
    )
)

# Headers that send an actual response through rewrite_headers (anything else is
# kept as is and ours are appended), and frequent names that are none of them.
_WATCHED = _OWNED_ACTUAL | {"vary"}
_PLAIN = frozenset(
    (
        "Content-Type",
        "Content-Length",
        "Content-Encoding",
        "Content-Disposition",
        "Cache-Control",
        "Location",
        "Set-Cookie",
        "ETag",
        "Last-Modified",
        "Date",
        "Server",
        "Expires",
    )
)


def _refusal(check: str, vary: str) -> tuple[bytes, Headers]:
    """The 400 answer to a preflight that failed ``check``: a short body naming the
    check without revealing the configured lists, and its headers (built once)."""
    body = f"CORS preflight refused: {check} not allowed\n".encode()
    return body, [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Vary", vary),
    ]


#: By (failed check, the API's preflight Vary).
_REFUSALS = {
    (check, vary): _refusal(check, vary)
    for check in ("origin", "method", "headers")
    for vary in (PREFLIGHT_VARY, PREFLIGHT_VARY_PRIVATE_NETWORK)
}


def for_log(value: str | None, limit: int = 200) -> str:
    """A client-sent value made safe for a log line: quoted, CR/LF and other
    controls escaped, cut to ``limit`` characters (flask-cors CVE-2024-1681)."""
    if value is None:
        return "-"
    cut = value[:limit]
    return repr(cut) + ("..." if len(value) > limit else "")


def merge_vary(existing: list[str], add: str) -> str:
    """One ``Vary`` value holding every token of ``existing`` plus ``add``, once each."""
    tokens: list[str] = []
    seen: set[str] = set()
    for value in [*existing, add]:
        for token in value.split(","):
            token = token.strip()
            if token and token.lower() not in seen:
                seen.add(token.lower())
                tokens.append(token)
    return "*" if "*" in seen else ", ".join(tokens)


def rewrite_headers(headers: list[tuple[str, str]], owned: frozenset[str], vary: str | None, extra: Headers) -> Headers:
    """Drop headers we own, merge ``vary`` into Vary, append ours."""
    out = []
    varies: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower in owned:
            continue
        if vary is not None and lower == "vary":
            varies.append(value)
            continue
        out.append((name, value))
    if vary is not None:
        out.append(("Vary", merge_vary(varies, vary) if varies else vary))
    out.extend(extra)
    return out


_VARY_ORIGIN = [("Vary", "Origin")]


def _start_checked(
    start_response: StartResponse, status: str, headers: list[tuple[str, str]], exc_info: Any, added: Headers
) -> Any:
    """start_response for an actual response whose headers are not all common names:
    any header we own or a Vary goes through rewrite_headers. ``added`` is
    CorsRules.actual_added: ``Vary: Origin`` (when due) followed by ours."""
    for name, _ in headers:
        if name.lower() in _WATCHED:
            vary, extra = ("Origin", added[1:]) if added[:1] == _VARY_ORIGIN else (None, added)
            return start_response(status, rewrite_headers(headers, _OWNED_ACTUAL, vary, extra), exc_info)
    return start_response(status, [*headers, *added], exc_info)


class RequestState:
    """Per-request facts shared between this layer and the Flask hooks."""

    __slots__ = ("api", "preflight", "ran", "answered")

    def __init__(self, api: CompiledApi):
        self.api = api
        #: Success headers of a valid preflight whose policies run in Flask.
        self.preflight: Headers | None = None
        #: How many policies' on_request ran.
        self.ran = 0
        #: True when a policy answered the request.
        self.answered = False


def is_websocket(environ: dict[str, Any]) -> bool:
    """An HTTP/1.1 WebSocket handshake: GET, Connection lists upgrade, Upgrade: websocket."""
    return (
        environ.get("HTTP_UPGRADE", "").lower() == "websocket"
        and environ.get("REQUEST_METHOD") == "GET"
        and "upgrade" in (t.strip() for t in environ.get("HTTP_CONNECTION", "").lower().split(","))
    )


def _adding(start_response: StartResponse, added: Headers) -> StartResponse:
    """``start_response`` for an actual response: ``added`` (Vary: Origin when due,
    then the CORS headers of the origin) appended, the view's own CORS headers
    dropped and its Vary merged."""

    def cors_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        # A plain loop rather than _PLAIN.issuperset(map(...)): inside a whole request
        # it measured about 0.5% of a GET cheaper (8 alternating processes each).
        for name, _ in headers:
            if name not in _PLAIN:
                return _start_checked(start_response, status, headers, exc_info, added)
        # Only common names: nothing of ours to drop or merge.
        return start_response(status, [*headers, *added], exc_info)

    return cors_start_response


class CorsMiddleware:
    """Wraps a WSGI app; ``runtime`` is swapped whole by ``reconfigure``."""

    __slots__ = ("app", "runtime", "__weakref__")

    def __init__(self, app: WSGIApp, runtime: Runtime):
        self.app = app
        self.runtime = runtime

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        # Read the snapshot once: this request sees one config throughout.
        runtime = self.runtime
        # Fast path: an actual request (no OPTIONS, no Upgrade) whose Origin was seen
        # before with a path that has the same key (its first Runtime.key_length
        # characters: the one place that key is made). Anything else, or a first
        # sight, takes _handle: the same decisions, step by step.
        # environ.get each time, not a local alias: binding the method allocates an
        # object per request (about 500 of the fast path's 8 700 instructions).
        key = environ.get("PATH_INFO", "")[: runtime.key_length]
        origin = environ.get("HTTP_ORIGIN")
        seen = runtime.seen.get((key, origin))
        if seen is not None and "HTTP_UPGRADE" not in environ and environ.get("REQUEST_METHOD") != "OPTIONS":
            chain, added = seen
            if chain is not None:
                # The Flask hooks run this API's chain (extension._before_request).
                environ[REQUEST_KEY] = RequestState(chain)
            if added is None:
                return self.app(environ, start_response)
            return self.app(environ, _adding(start_response, added))
        return self._handle(runtime, environ, start_response, key, origin)

    def _handle(
        self, runtime: Runtime, environ: dict[str, Any], start_response: StartResponse, key: str, origin: str | None
    ) -> Iterable[bytes]:
        """Every request, resolved in the snapshot ``__call__`` read; ``key`` and
        ``origin`` as ``__call__`` read them."""
        api = runtime.resolve(environ)
        if api is None:
            # Outside every API: never touched, whatever the method or headers.
            runtime.remember(key, origin, None, None)
            return self.app(environ, start_response)
        state = None
        if api.policies:
            # The Flask hooks run this API's chain (extension._before_request).
            state = environ[REQUEST_KEY] = RequestState(api)
        rules = api.cors
        if not rules.active:
            runtime.remember(key, origin, api, None)
            return self.app(environ, start_response)
        if "HTTP_UPGRADE" in environ and is_websocket(environ):
            # Not remembered: the next request on this path may be no handshake.
            return self.app(environ, start_response)

        if origin is not None and environ.get("REQUEST_METHOD") == "OPTIONS":
            method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
            if method is not None:
                return self._preflight(api, state, environ, start_response, origin, method)

        # Vary: Origin (when due) then ours, in the order rewrite_headers gives.
        added = rules.actual_added(origin)
        runtime.remember(key, origin, api, added)
        return self.app(environ, _adding(start_response, added))

    def _preflight(
        self,
        api: CompiledApi,
        state: RequestState | None,
        environ: dict[str, Any],
        start_response: StartResponse,
        origin: str,
        method: str,
    ) -> Iterable[bytes]:
        rules = api.cors
        failed, headers = rules.preflight(
            origin,
            method,
            environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
            environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK"),
        )
        if failed is not None:
            # Invalid preflights never run policies (Gravitee), and get no Allow-*.
            if log.isEnabledFor(logging.INFO):
                # Escaping the client's values only when the line is written.
                log.info(
                    "CORS preflight refused on API %s: %s not allowed (origin=%s method=%s headers=%s)",
                    for_log(api.name),
                    failed,
                    for_log(origin),
                    for_log(method),
                    for_log(environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")),
                )
            body, refusal_headers = _REFUSALS[failed, rules.preflight_vary]
            # A copy: a server or middleware may change the list it is given.
            start_response("400 Bad Request", list(refusal_headers))
            return [body]
        if state is None or not rules.run_policies:
            # Gravitee, runPolicies off: a valid preflight is answered at once.
            headers.append(("Vary", rules.preflight_vary))
            headers.append(("Content-Length", "0"))
            start_response("200 OK", headers)
            return [b""]

        # runPolicies on: the chain runs in Flask; the view never does (the Flask
        # hook answers 200 when no policy answered first).
        state.preflight = headers
        origin_part = rules.origin_headers(origin)

        def preflight_start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            # A policy's own answer keeps the origin part so scripts can read it.
            ours = headers if not state.answered and status[:1] == "2" else origin_part
            replaced = rewrite_headers(response_headers, _OWNED_PREFLIGHT, rules.preflight_vary, ours)
            return start_response(status, replaced, exc_info)

        return self.app(environ, preflight_start_response)
