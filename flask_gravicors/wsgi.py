"""The WSGI layer: where CORS is applied, in front of Flask.

Installed by ``init_app`` around ``app.wsgi_app``. A preflight that runs no
flow is answered here before Flask builds a request (a failed one through the
API's ``CORS_PREFLIGHT_FAILED`` template when it has one); actual requests get
their CORS headers in a wrapped ``start_response``, so the same code covers views,
``abort()``, error handlers, unhandled exceptions, plan refusals and policy
answers. Plans and flows themselves run in Flask's request hooks
(:mod:`.extension`), which find the API this layer resolved, and what kind of
request it is, in ``environ[REQUEST_KEY]``.
"""

from __future__ import annotations

import http
import logging
import re
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .core import (
    ACAC,
    ACAO,
    ACEH,
    MAX_REQUEST_HEADERS_ITEMS,
    MAX_REQUEST_HEADERS_LENGTH,
    ORIGIN_CACHE_SIZE,
    PREFLIGHT_VARY,
    PREFLIGHT_VARY_PRIVATE_NETWORK,
    CompiledApi,
    CorsRules,
    Headers,
    Refusal,
    Runtime,
)
from .templates import Failure, render

if TYPE_CHECKING:
    from .metrics import Metrics

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


def refusal_text(refusal: Refusal, debug: bool = False) -> str:
    """The text of a refused preflight's answer: the failed check, and in debug
    mode (``GRAVICORS_DEBUG``) the refused value, escaped and cut to 200
    characters: never the configured lists."""
    text = f"CORS preflight refused: {refusal.check} not allowed"
    return f"{text}: {for_log(refusal.value)}" if debug else text


_REFUSED = re.compile(rb"CORS preflight refused: (origin|method|headers) not allowed(?:\n|: )")


def refused_check(body: bytes) -> str | None:
    """The check a body of :func:`refusal_text` names (the test kit reads it)."""
    found = _REFUSED.match(body)
    return found.group(1).decode() if found else None


def _bad_request(text: str, vary: str) -> tuple[bytes, Headers]:
    """A 400 answer's body (``text`` and a newline) and headers."""
    body = f"{text}\n".encode()
    return body, [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Vary", vary),
    ]


#: The answers out of debug mode, built once: by (failed check, the API's preflight Vary).
_REFUSALS = {
    (check, vary): _bad_request(refusal_text(Refusal(check, "", "")), vary)
    for check in ("origin", "method", "headers")
    for vary in (PREFLIGHT_VARY, PREFLIGHT_VARY_PRIVATE_NETWORK)
}

#: Gravitee's failure key of a failed preflight (its CorsPreflightRequestProcessor).
CORS_PREFLIGHT_FAILED = "CORS_PREFLIGHT_FAILED"


def status_line(status: int) -> str:
    """``"412 Precondition Failed"``; codes with no standard phrase get ``Unknown``."""
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def preflight_refusal(api: CompiledApi, refusal: Refusal, accept: str | None, debug: bool = False) -> tuple[int, Headers, bytes]:
    """The answer to a preflight that ``refusal`` refused: the API's
    ``CORS_PREFLIGHT_FAILED`` template chosen by ``Accept``, else 400 with a short
    text naming the check (:func:`refusal_text`; Gravitee's is empty). Never an
    ``Access-Control-Allow-*`` header (templates cannot hold one: gravicors.E072);
    always the preflight Vary."""
    if api.templates:
        failure = Failure(400, CORS_PREFLIGHT_FAILED, refusal_text(refusal, debug))
        if api.templates.pick(CORS_PREFLIGHT_FAILED, accept) is not None:
            status, headers, body = render(failure, api.templates, accept)
            return status, [*headers, ("Vary", api.cors.preflight_vary)], body
    if debug:
        body, headers = _bad_request(refusal_text(refusal, debug), api.cors.preflight_vary)
    else:
        body, headers = _REFUSALS[refusal.check, api.cors.preflight_vary]
    # A copy: a server or middleware may change the list it is given.
    return 400, list(headers), body


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


#: RequestState.kind values.
ACTUAL = "actual"
PREFLIGHT = "preflight"
FAILED_PREFLIGHT = "failed-preflight"


class RequestState:
    """Per-request facts shared between this layer and the Flask hooks."""

    __slots__ = ("api", "kind", "preflight", "refusal", "entered", "platform", "answered")

    def __init__(self, api: CompiledApi, kind: str = ACTUAL):
        self.api = api
        #: ACTUAL, PREFLIGHT (valid) or FAILED_PREFLIGHT.
        self.kind = kind
        #: Success headers of a valid preflight whose flows run in Flask.
        self.preflight: Headers | None = None
        #: The answer to a failed preflight whose platform flows run in Flask.
        self.refusal: tuple[int, Headers, bytes] | None = None
        #: (flow, how many of its request steps ran) for every plan and API flow
        #: entered, in order: the response phase runs over them.
        self.entered: list[list[Any]] = []
        #: The same for the platform flows selected (their response steps always run).
        self.platform: list[list[Any]] = []
        #: True when a step, a plan refusal or a failed preflight answered.
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


#: Seconds between two debug-mode log lines about the actual requests of one
#: (API, origin) whose origin is refused.
DEBUG_LOG_INTERVAL = 60.0


def request_kind(environ: dict[str, Any], origin: str | None) -> str:
    """``websocket`` (a handshake), ``preflight`` (OPTIONS with Origin and
    Access-Control-Request-Method) or ``actual``: the metrics' ``kind`` label."""
    if "HTTP_UPGRADE" in environ and is_websocket(environ):
        return "websocket"
    if origin is not None and environ.get("REQUEST_METHOD") == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
        return "preflight"
    return "actual"


def configured(rules: CorsRules, field: str) -> str:
    """A configured list as a log line shows it: ``['GET', 'PUT']``, cut to 200 characters."""
    text = repr(list(rules.config.get(field, ())))
    return text[:200] + "...]" if len(text) > 200 else text


def refusal_detail(rules: CorsRules, refusal: Refusal) -> str:
    """What refused a preflight, for the debug log and ``flask gravicors explain``:
    the value, escaped, and the configured list that lacks it (cut to 200 characters)."""
    if refusal.malformed:
        return (
            f"Access-Control-Request-Headers {for_log(refusal.value)} is not a list of at most "
            f"{MAX_REQUEST_HEADERS_ITEMS} header names within {MAX_REQUEST_HEADERS_LENGTH} characters"
        )
    what = {"origin": "origin", "method": "method", "headers": "header"}[refusal.check]
    text = f"{what} {for_log(refusal.value)} is not in {refusal.field} {configured(rules, refusal.field)}"
    if refusal.check == "origin" and rules.dynamic is not None:
        text += " and the gravicors_origin_allowed hook did not allow it"
    return text


class CorsMiddleware:
    """Wraps a WSGI app; ``runtime`` is swapped whole by ``reconfigure``.

    ``debug`` (``GRAVICORS_DEBUG``): refusals are logged at WARNING with the
    refused value and the list that lacks it, and a refused preflight's 400 body
    names the value. ``metrics`` (``GRAVICORS_METRICS``): every request is counted,
    and :attr:`Metrics.path <flask_gravicors.metrics.Metrics.path>` is answered here.
    """

    __slots__ = ("app", "runtime", "debug", "metrics", "_logged", "_unnamed", "_unnamed_since", "__weakref__")

    def __init__(self, app: WSGIApp, runtime: Runtime, *, debug: bool = False, metrics: Metrics | None = None):
        self.app = app
        self.runtime = runtime
        self.debug = debug
        self.metrics = metrics
        #: (API name, origin) -> when its refused actual requests were last logged (debug).
        self._logged: dict[tuple[str, str], float] = {}
        #: Refused origins not named one by one while the table above is full of
        #: origins logged within the minute (a flood), and since when they are counted.
        self._unnamed = 0
        self._unnamed_since = float("-inf")

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
            chain, added, count, expires = seen
            # An entry made from a run-time origin decision (dynamic_origins), or due to
            # be logged again (debug mode), carries its expiry: once it passes, the
            # request decides again in _handle, which overwrites the entry.
            if expires is None or runtime.clock() < expires:
                if count is not None:
                    # Metrics on: one float added in shared memory (Count.inc, inlined:
                    # a call costs about a third of it).
                    count.view[count.index] += 1.0
                if chain is not None:
                    # The Flask hooks run this API's plans and flows (extension._before_request).
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
        metrics = self.metrics
        if metrics is not None and environ.get("PATH_INFO") == metrics.path:
            # Never under an API (init_app refuses such a path), never remembered
            # (Runtime.reserved), never with CORS headers.
            return metrics.answer(environ, start_response)
        api = runtime.resolve(environ)
        if api is None:
            # Outside every API: never touched, whatever the method or headers.
            self._untouched(runtime, environ, key, origin, None)
            return self.app(environ, start_response)
        if api.chain:
            # The Flask hooks run this API's plans and flows (extension._before_request);
            # _preflight replaces the state for a preflight.
            environ[REQUEST_KEY] = RequestState(api)
        rules = api.cors
        if not rules.active:
            self._untouched(runtime, environ, key, origin, api)
            return self.app(environ, start_response)
        if "HTTP_UPGRADE" in environ and is_websocket(environ):
            # Not remembered: the next request on this path may be no handshake.
            if metrics is not None:
                metrics.requests(api.name, "websocket", "untouched").inc()
            return self.app(environ, start_response)

        if origin is not None and environ.get("REQUEST_METHOD") == "OPTIONS":
            method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
            if method is not None:
                return self._preflight(api, environ, start_response, origin, method)

        # The expiry first, then the headers: should the run-time decision expire in
        # between, the headers come from a newer decision than the expiry, so the memo
        # never keeps a decision past its own expiry.
        expires = rules.expiry(origin) if rules.dynamic is not None else None
        # Vary: Origin (when due) then ours, in the order rewrite_headers gives.
        added = rules.actual_added(origin)
        # No Allow-Origin among them: the origin is refused (a request without
        # Origin is no cross-origin read: allowed).
        refused = origin is not None and len(added) == len(rules.vary_list)
        count = None
        if metrics is not None:
            count = metrics.requests(api.name, "actual", "refused" if refused else "allowed", "origin" if refused else "")
            count.inc()
        if refused and self.debug:
            until = self._log_refused_actual(runtime, api, origin)  # type: ignore[arg-type]
            expires = until if expires is None else min(expires, until)
        runtime.remember(key, origin, api, added, expires, count)
        return self.app(environ, _adding(start_response, added))

    def _untouched(
        self, runtime: Runtime, environ: dict[str, Any], key: str, origin: str | None, api: CompiledApi | None
    ) -> None:
        """Count (metrics on) and remember a request CORS leaves alone: no API owns
        its path (``api`` None), or the API's CORS is not active."""
        count = None
        metrics = self.metrics
        if metrics is not None:
            name = "" if api is None else api.name
            kind = request_kind(environ, origin)
            # What a later actual request remembered here counts under.
            count = metrics.requests(name, "actual", "untouched")
            (count if kind == "actual" else metrics.requests(name, kind, "untouched")).inc()
        runtime.remember(key, origin, api, None, count=count)

    def _log_refused_actual(self, runtime: Runtime, api: CompiledApi, origin: str) -> float:
        """Debug mode: log an actual request whose origin is refused, once per (API,
        origin) per :data:`DEBUG_LOG_INTERVAL`; returns when that interval ends (the
        memo forgets the request then, so a later one is seen here again: nothing
        is paid on the fast path)."""
        now = runtime.clock()
        logged = self._logged
        last = logged.get((api.name, origin))
        if last is None or now - last >= DEBUG_LOG_INTERVAL:
            if len(logged) >= ORIGIN_CACHE_SIZE:
                # Forget only what may be logged again; clearing everything would
                # log every origin of a flood again at once, each request a line.
                for key, seen in list(logged.items()):
                    if now - seen >= DEBUG_LOG_INTERVAL:
                        logged.pop(key, None)
            if len(logged) >= ORIGIN_CACHE_SIZE:
                # Still full: a flood of origins, counted and said once a minute.
                self._unnamed += 1
                if now - self._unnamed_since >= DEBUG_LOG_INTERVAL:
                    log.warning(
                        "CORS: %d actual requests from refused origins not logged one by one (more than %d "
                        "origins within a minute)",
                        self._unnamed,
                        ORIGIN_CACHE_SIZE,
                    )
                    self._unnamed, self._unnamed_since = 0, now
                return now + DEBUG_LOG_INTERVAL
            logged[api.name, origin] = last = now
            log.warning(
                "CORS: actual request on API %s from an origin it refuses: %s; served without "
                "Access-Control-Allow-Origin, so the browser hides the response from the script "
                "(logged once a minute per API and origin)",
                for_log(api.name),
                refusal_detail(api.cors, Refusal("origin", origin, "allow_origin")),
            )
        return last + DEBUG_LOG_INTERVAL

    def _preflight(
        self,
        api: CompiledApi,
        environ: dict[str, Any],
        start_response: StartResponse,
        origin: str,
        method: str,
    ) -> Iterable[bytes]:
        rules = api.cors
        private_network = environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK")
        refusal, headers = rules.preflight(origin, method, environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"), private_network)
        environ.pop(REQUEST_KEY, None)
        metrics = self.metrics
        if refusal is not None:
            if metrics is not None:
                metrics.requests(api.name, "preflight", "refused", refusal.check).inc()
            # Invalid preflights run no API flow (Gravitee), and get no Allow-*.
            if self.debug:
                log.warning("CORS preflight refused on API %s: %s", for_log(api.name), refusal_detail(rules, refusal))
            elif log.isEnabledFor(logging.INFO):
                # Escaping the client's values only when the line is written.
                log.info(
                    "CORS preflight refused on API %s: %s not allowed (origin=%s method=%s headers=%s)",
                    for_log(api.name),
                    refusal.check,
                    for_log(origin),
                    for_log(method),
                    for_log(environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")),
                )
            answer = preflight_refusal(api, refusal, environ.get("HTTP_ACCEPT"), self.debug)
            if not api.failed_preflight_chain:
                status, refusal_headers, body = answer
                start_response(status_line(status), refusal_headers)
                return [body]
            # Platform flows run on every request, before the CORS check (Gravitee).
            state = environ[REQUEST_KEY] = RequestState(api, FAILED_PREFLIGHT)
            state.refusal = answer
            return self.app(environ, self._preflight_start_response(start_response, state, [], [], rules.preflight_vary))
        if rules.denies_private_network(private_network):
            # Answered like any valid preflight (Gravitee), without the grant: the
            # browser fails it.
            if metrics is not None:
                metrics.requests(api.name, "preflight", "refused", "private_network").inc()
            if self.debug:
                log.warning(
                    "CORS preflight on API %s from origin %s asks for Private Network Access, which "
                    "allow_private_network does not grant: the browser fails it",
                    for_log(api.name),
                    for_log(origin),
                )
        elif metrics is not None:
            metrics.requests(api.name, "preflight", "allowed").inc()
        if not api.preflight_chain:
            # Gravitee, runPolicies off (or nothing to run): answered at once.
            headers.append(("Vary", rules.preflight_vary))
            headers.append(("Content-Length", "0"))
            start_response("200 OK", headers)
            return [b""]

        # Platform flows, and with runPolicies on the API's flows, run in Flask; plan
        # security, plan flows and the view never do (the Flask hook answers 200
        # when no step answered first).
        state = environ[REQUEST_KEY] = RequestState(api, PREFLIGHT)
        state.preflight = headers
        return self.app(
            environ,
            self._preflight_start_response(start_response, state, headers, rules.origin_headers(origin), rules.preflight_vary),
        )

    @staticmethod
    def _preflight_start_response(
        start_response: StartResponse, state: RequestState, success: Headers, origin_part: Headers, vary: str
    ) -> StartResponse:
        """``start_response`` for a preflight answered in Flask: the success headers on
        the 200 answer; only the origin part on a step's answer to a valid preflight
        (so scripts can read it); nothing of ours on a failed preflight."""

        def preflight_start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            ours = success if not state.answered and status[:1] == "2" else origin_part
            return start_response(status, rewrite_headers(response_headers, _OWNED_PREFLIGHT, vary, ours), exc_info)

        return preflight_start_response
