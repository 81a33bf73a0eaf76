"""Why did the browser block it? One cross-origin request, explained.

No Flask import. :func:`explain` takes the compiled :class:`~flask_gravicors.core.Runtime`
an app runs (``GraviCORS.runtime_for(app)``) and the facts of one request a page's
script makes (URL, origin, method, headers, credentials), and returns a
:class:`Report`: the API that owns the path and whether its CORS applies, whether
the browser sends a preflight and why, each check in the order the request path
makes it with the configured value it was checked against, what the script sees
(the response, with the headers it can read, or a network error) and, for a blocked
request, the smallest config change that would allow it, with the refusal rules
that change would trip.

Nothing here decides anything twice:

* the server's side is the request path's own code: :meth:`Runtime.resolve
  <flask_gravicors.core.Runtime.resolve>`, :meth:`CorsRules.preflight
  <flask_gravicors.core.CorsRules.preflight>` (its :class:`~flask_gravicors.core.Refusal`
  names the failed check and the refused value), :meth:`CorsRules.actual_headers
  <flask_gravicors.core.CorsRules.actual_headers>` and
  :func:`~flask_gravicors.wsgi.preflight_refusal` (response templates); a
  dynamic origin is asked of the ``gravicors_origin_allowed`` hook as a request would;
* the browser's side is :mod:`flask_gravicors.browser` (Fetch's rules) applied to
  the headers that code produces;
* every failing field is found by changing the config and asking the same code
  again, and the refusal rules a change trips by validating the changed config
  with ``validate`` (the app's ``GraviCORS.load``: exactly what ``init_app`` runs).

The console's *Try it* and other tools call it through
:meth:`GraviCORS.explain <flask_gravicors.GraviCORS.explain>` (which passes the
running or an unsaved config); :meth:`Report.to_dict` is the ``--json`` output,
:meth:`Report.text` what ``flask gravicors explain`` prints. Every field of the
report is a plain value, list or dataclass, so a template can render it.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from . import browser
from .core import CORS_ENTRYPOINTS, TOKEN_RE, CompiledApi, CorsRules, Refusal, Runtime
from .errors import ConfigError, Problem, printable
from .origins import sendable
from .wsgi import configured, preflight_refusal, refusal_detail

#: The checks, in the order the request path makes them (``cors`` first: whether
#: CORS applies at all; ``credentials`` is the browser's check of the answer).
CHECKS = ("cors", "origin", "method", "headers", "private_network", "credentials")
#: The cors field each check reads (``cors`` reads ``enabled`` and ``entrypoints``).
FIELDS = {
    "cors": "cors.enabled",
    "origin": "cors.allow_origin",
    "method": "cors.allow_methods",
    "headers": "cors.allow_headers",
    "private_network": "cors.allow_private_network",
    "credentials": "cors.allow_credentials",
}
#: Configured lists in a report are cut to this many entries.
SHOWN_ENTRIES = 20
#: What a blocked script gets from ``fetch()``.
NETWORK_ERROR = "a network error (fetch() rejects with TypeError: Failed to fetch)"


@dataclass(frozen=True)
class Check:
    """One check: ``status`` is ``pass``, ``fail`` or ``skipped`` (not made for this
    request: no preflight, no credentials, CORS not applied)."""

    name: str
    status: str
    #: What the request carries (the origin, the method, the header names, a flag).
    requested: Any
    #: The configured value it was checked against (lists cut to SHOWN_ENTRIES).
    configured: Any
    #: The config field, relative to the API (``cors.allow_methods``).
    field: str
    detail: str
    #: Made on the config with the failures of earlier checks fixed (the request
    #: path stops at the first failure; this tells what comes next).
    after_fixes: bool = False


@dataclass(frozen=True)
class Change:
    """One field of the smallest config change: ``path op value``, and the refusal
    rules it trips (found by validating the changed config)."""

    path: str
    op: str
    value: Any
    trips: tuple[Problem, ...] = ()

    def __str__(self) -> str:
        return f"{self.path} {self.op} {json.dumps(self.value)}"


@dataclass(frozen=True)
class Preflight:
    """Whether the browser sends a preflight, why, what it sends and what it gets."""

    needed: bool
    reasons: tuple[str, ...] = ()
    #: The request headers of the preflight (Origin and the Access-Control-Request headers).
    sends: tuple[tuple[str, str], ...] = ()
    #: The answer's status under the running config (None: no preflight, or the
    #: path is outside every API: the app's own answer).
    status: int | None = None
    #: Steps that run on this preflight when it is valid (platform flows; the API's
    #: flows with run_policies): one that answers outside 200-299 fails it.
    runs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    """What the browser does with one request, and why."""

    url: str
    #: The path the API is resolved from (decoded, as Flask's ``request.path``).
    path: str
    origin: str
    #: The method as the browser sends it (``delete`` is sent as ``DELETE``).
    method: str
    credentials: bool
    private_network: bool
    #: The request headers the script sets (lower-case names).
    headers: tuple[str, ...]
    #: Names the script may not set (Fetch's forbidden request headers): the browser drops them.
    ignored_headers: tuple[str, ...]
    #: The API that owns the path, and how it is bound (None: no API).
    api: str | None
    binding: str | None
    cors_active: bool
    preflight: Preflight
    checks: tuple[Check, ...]
    #: The script reads the response (the browser's verdict).
    allowed: bool
    #: Why not, in the browser's terms (None when allowed).
    reason: str | None
    #: Lower-case names of the response headers the script can read when allowed
    #: (the CORS-safelisted ones present plus those exposed); ``reads_all``: ``*``
    #: exposes every header but Set-Cookie.
    readable: tuple[str, ...]
    reads_all: bool
    #: Plans and steps that run on the actual request (their answers, a 401 or a
    #: 429, carry the CORS headers: readable when allowed).
    runs: tuple[str, ...]
    #: The smallest config change that allows it (empty when allowed, or when no
    #: change of the API's cors block can).
    changes: tuple[Change, ...]
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (``flask gravicors explain --json``)."""
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def text(self) -> str:
        """The report as ``flask gravicors explain`` prints it."""
        return "\n".join(_text(self))


@dataclass(frozen=True)
class BrowserRequest:
    """One cross-origin request a page's script makes: what :func:`explain` explains.

    ``url``: a full URL or a path (the path and query matter; the host only routes
    a blueprint-bound API as Flask would). ``origin``: the page's origin, as the
    browser sends it. ``method``: as the script writes it. ``headers``: the request
    headers the script sets, as names, ``"Name: value"`` strings or a mapping (a
    name without a value is not CORS-safelisted unless it is ``Accept``);
    ``content_type``: the ``Content-Type`` value, if any. ``credentials``:
    ``credentials: "include"``. ``private_network``: the request goes to a more
    private network (Chromium's Private Network Access).
    """

    url: str
    origin: str
    method: str = "GET"
    headers: Iterable[str] | Mapping[str, str] = ()
    credentials: bool = False
    private_network: bool = False
    content_type: str | None = None


def explain(
    runtime: Runtime,
    request: BrowserRequest,
    *,
    config: Mapping[str, Any] | None = None,
    validate: Callable[[Any], Any] | None = None,
) -> Report:
    """What a browser does with ``request``, decided by ``runtime`` (the compiled
    config an app runs: ``GraviCORS.runtime_for(app)``), and why.

    ``config``: the raw config ``runtime`` was compiled from (``GraviCORS.running_config``),
    to write each change at the path as written (camelCase names included);
    ``validate``: the app's ``GraviCORS.load``, to find the refusal rules each
    change trips. Without them the changes use the loaded names and name no rule.
    Raises ``ValueError`` for a header name that is not an HTTP token.
    """
    url, origin, credentials, private_network = request.url, request.origin, request.credentials, request.private_network
    sent_headers = _headers(request.headers, request.content_type)
    ignored = tuple(sorted(name for name in sent_headers if browser.is_forbidden_request_header(name)))
    script_headers = {name: value for name, value in sent_headers.items() if name not in ignored}
    sent_method = browser.normalize_method(request.method)
    reasons = tuple(browser.preflight_reasons(sent_method, script_headers, private_network))
    names = browser.unsafe_request_headers(script_headers)
    path, environ, typed = _environ(url, origin)
    notes: list[str] = []
    if typed != environ["PATH_INFO"].encode("latin-1"):
        notes.append(f"the browser sends {path}: it resolves the URL's dot segments and backslashes before any request")
    if ignored:
        notes.append(f"the browser refuses to let a script set {', '.join(ignored)} (Fetch's forbidden request headers)")
    if browser.is_forbidden_method(sent_method):
        notes.append(f"a script cannot send {sent_method} (a forbidden method): fetch() throws before any request")
    if origin != "null" and not sendable(origin):
        notes.append("no browser sends this Origin value (not ASCII, a control, a space or a comma, or over 512 characters)")

    sends: tuple[tuple[str, str], ...] = ()
    if reasons:
        sends = (("Origin", origin), ("Access-Control-Request-Method", sent_method))
        if names:
            sends += (("Access-Control-Request-Headers", ",".join(names)),)
        if private_network:
            sends += (("Access-Control-Request-Private-Network", "true"),)
    api = runtime.resolve({**environ, "REQUEST_METHOD": "OPTIONS" if reasons else sent_method})
    common = dict(
        url=url,
        path=path,
        origin=origin,
        method=sent_method,
        credentials=credentials,
        private_network=private_network,
        headers=tuple(sorted(name.lower() for name in script_headers)),
        ignored_headers=ignored,
    )
    if api is None:
        return Report(
            **common,  # type: ignore[arg-type]
            api=None,
            binding=None,
            cors_active=False,
            preflight=Preflight(bool(reasons), reasons, sends),
            checks=tuple(Check(name, "skipped", None, None, FIELDS[name], "no API owns this path") for name in CHECKS),
            allowed=False,
            reason=f"no API owns {path}: flask_gravicors adds no CORS header there, so the browser blocks any "
            "cross-origin read (unless the view sets the headers itself)",
            readable=(),
            reads_all=False,
            runs=(),
            changes=(),
            notes=(*notes, "bind an API to this path (a context path that covers it, or its blueprint) to apply CORS"),
        )
    facts = _Request(origin, sent_method, names, credentials, private_network, reasons)
    verdict = _Evaluation(api, facts).run()
    rel = api.relative_path(path)
    runs = _actual_runs(api, rel, sent_method)
    preflight = Preflight(
        bool(reasons), reasons, sends, _preflight_status(api, facts) if reasons else None, _preflight_runs(api, rel)
    )
    if preflight.runs and verdict.allowed:
        notes.append(
            "on a valid preflight these steps run before the 200 answer: one that answers with a status outside "
            "200-299 (a rate limit's 429) fails the preflight, and the browser blocks the request"
        )
    if reasons and api.plans:
        notes.append(
            "plans never run on the preflight (a browser sends no credentials there: Gravitee's security skip); "
            "they run on the actual request"
        )
    if reasons and api.failed_preflight_chain and not verdict.first_allowed:
        notes.append("the platform flows run on the refused preflight too, before its answer")
    # Changes only when together they let the request through: fixes of the first
    # failures alone, when a later one has none, would be a change that allows nothing.
    changes = _changes(verdict.changes, api, runtime.apis.index(api), config, validate) if verdict.allowed else ()
    if not verdict.allowed:
        notes.append("no change of this API's cors block allows it")
    return Report(
        **common,  # type: ignore[arg-type]
        api=api.name,
        binding=f"context path {api.context_path}" if api.blueprint is None else f"blueprint {api.blueprint}",
        cors_active=api.cors.active,
        preflight=preflight,
        checks=verdict.checks(),
        allowed=verdict.first_allowed,
        reason=verdict.reason,
        readable=verdict.readable if verdict.first_allowed else (),
        reads_all=verdict.reads_all and verdict.first_allowed,
        runs=runs,
        changes=changes if not verdict.first_allowed else (),
        notes=tuple(notes),
    )


# --- the request --------------------------------------------------------------------


def _headers(headers: Iterable[str] | Mapping[str, str], content_type: str | None) -> dict[str, str]:
    """Names (and values) of the request headers the script sets, lower-case."""
    out: dict[str, str] = {}
    if isinstance(headers, Mapping):
        items = [(str(k), str(v)) for k, v in headers.items()]
    else:
        items = []
        for item in headers:
            name, _, value = item.partition(":")
            items.append((name, value.strip()))
    for name, value in items:
        name = name.strip()
        if TOKEN_RE.fullmatch(name):
            out[name.lower()] = value
        else:
            raise ValueError(f"{name!r} is not a header name")
    if content_type is not None:
        out["content-type"] = content_type
    return out


#: Schemes the URL Standard calls special: a backslash is a slash in them.
_SPECIAL_SCHEMES = ("http://", "https://", "ws://", "wss://", "ftp://")
_DOT = (".", "%2e")
_DOUBLE_DOT = ("..", ".%2e", "%2e.", "%2e%2e")


def _sent_path(raw_path: str) -> str:
    """The path a browser sends for ``raw_path`` (undecoded, from ``/``): the URL
    Standard's path parser drops ``.`` segments and resolves ``..`` ones, also
    written ``%2e`` (any case), before any request leaves; other escapes stay."""
    segments = raw_path.split("/")[1:]
    kept: list[str] = []
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        lower = segment.lower()
        if lower in _DOUBLE_DOT:
            if kept:
                kept.pop()
            if last:
                kept.append("")
        elif lower in _DOT:
            if last:
                kept.append("")
        else:
            kept.append(segment)
    return "/" + "/".join(kept)


def _environ(url: str, origin: str) -> tuple[str, dict[str, Any], bytes]:
    """The decoded path (as Flask's ``request.path``) and a WSGI environ for what a
    browser sends for ``url`` (a full URL, or a path with its query, resolved
    against the page as a browser resolves it), and the path's bytes as typed."""
    if url.startswith("/"):
        typed, _, query = url.split("#", 1)[0].partition("?")
        scheme, host, netloc, port = "http", "localhost", "localhost", None
    else:
        parts = urlsplit(url if "://" in url else "http://localhost/" + url)
        typed, query, scheme = parts.path or "/", parts.query, parts.scheme
        host, netloc, port = parts.hostname or "localhost", parts.netloc, parts.port
    raw_path = typed
    if url.startswith("/") or "://" not in url or url.lower().startswith(_SPECIAL_SCHEMES):
        # In a special URL (and a relative one, resolved against an http(s)
        # page) a backslash is a slash (URL Standard).
        raw_path = raw_path.replace("\\", "/")
    raw_path = _sent_path(raw_path)
    environ = {
        # A WSGI string: the path's bytes decoded as latin-1 (PEP 3333).
        "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
        "SCRIPT_NAME": "",
        "QUERY_STRING": query,
        "SERVER_NAME": host,
        "SERVER_PORT": str(port or (443 if scheme == "https" else 80)),
        "HTTP_HOST": netloc,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": scheme,
        "HTTP_ORIGIN": origin,
    }
    return unquote(raw_path), environ, unquote_to_bytes(typed)


@dataclass(frozen=True)
class _Request:
    origin: str
    method: str
    #: Names listed in Access-Control-Request-Headers.
    names: list[str]
    credentials: bool
    private_network: bool
    #: Why a preflight is sent (empty: none).
    preflight: tuple[str, ...]

    @property
    def request_headers(self) -> str | None:
        return ",".join(self.names) if self.names else None

    @property
    def pna(self) -> str | None:
        return "true" if self.private_network else None


def _preflight_status(api: CompiledApi, request: _Request) -> int | None:
    """The status of the preflight's answer under the running config (a refusal
    through the API's CORS_PREFLIGHT_FAILED template when it has one); None when
    CORS does not apply (the app answers the OPTIONS request itself)."""
    if not api.cors.active:
        return None
    refusal, _ = api.cors.preflight(request.origin, request.method, request.request_headers, request.pna)
    return 200 if refusal is None else preflight_refusal(api, refusal, None)[0]


def _step_names(flows: Iterable[Any]) -> list[str]:
    return [getattr(policy, "name", type(policy).__name__) for flow in flows for policy in (*flow.request, *flow.response)]


def _preflight_runs(api: CompiledApi, rel: str) -> tuple[str, ...]:
    if not api.preflight_chain:
        return ()
    steps = _step_names(api.platform.select(rel, "OPTIONS"))
    if api.cors.run_policies:
        steps += _step_names(api.flows.select(rel, "OPTIONS"))
    return tuple(steps)


def _actual_runs(api: CompiledApi, rel: str, method: str) -> tuple[str, ...]:
    named = [f"{plan.name} ({getattr(plan.security, 'name', type(plan.security).__name__)})" for plan in api.plans]
    # One plan runs: the first, in Gravitee's order, whose security the request meets.
    plans = [f"plan {named[0]}"] if len(named) == 1 else [f"one plan of {', '.join(named)}"] if named else []
    steps = _step_names(api.platform.select(rel, method)) + _step_names(api.flows.select(rel, method))
    return (*plans, *steps)


# --- the evaluation ---------------------------------------------------------------


class _Evaluation:
    """The checks of the request path and the browser, made on the API's rules; each
    failure is fixed in a copy of its cors block and the checks made again, until
    the request passes or a failure has no fix."""

    def __init__(self, api: CompiledApi, request: _Request):
        self.api = api
        self.request = request
        self.cors: dict[str, Any] = dict(api.cors.config)
        self.entrypoints = list(api.entrypoints)
        self.rules = api.cors
        self.results: dict[str, tuple[str, str, bool]] = {}
        #: (field, op, value), in the order found.
        self.changes: list[tuple[str, str, Any]] = []
        self.allowed = False
        self.first_allowed = False
        self.reason: str | None = None
        self.readable: tuple[str, ...] = ()
        self.reads_all = False

    def record(self, name: str, status: str, detail: str) -> None:
        self.results.setdefault(name, (status, detail, bool(self.changes)))

    def run(self) -> _Evaluation:
        seen: set[tuple[str, str]] = set()
        for attempt in range(len(CHECKS) + MAX_HEADER_FIXES):
            failed = self.once()
            if attempt == 0:
                self.first_allowed = failed is None
            if failed is None:
                self.allowed = True
                return self
            # The same failure again: the change made for it did not help.
            if (failed[0], repr(failed[1])) in seen or not self.fix(*failed):
                return self
            seen.add((failed[0], repr(failed[1])))
        return self

    def once(self) -> tuple[str, Any] | None:
        """One pass of the checks on :attr:`rules`: ``None`` when the script reads the
        response, else ``(check, what failed)``."""
        rules, request = self.rules, self.request
        origin = request.origin
        if not rules.active:
            why = []
            if not self.cors.get("enabled"):
                why.append("cors.enabled is false")
            if CORS_ENTRYPOINTS.isdisjoint(self.entrypoints):
                listed = ", ".join(self.entrypoints)
                why.append(f"no entrypoint among http-get, http-post, http-proxy, sse (entrypoints: {listed})")
            self.record("cors", "fail", "; ".join(why))
            self.fail("CORS does not apply to this API: no CORS header on any answer")
            return "cors", None
        self.record("cors", "pass", f"enabled, entrypoints {', '.join(self.entrypoints)}")
        if request.preflight:
            refusal, answer = rules.preflight(origin, request.method, request.request_headers, request.pna)
            checks = ("origin", "method", "headers")
            for name in checks[: checks.index(refusal.check) if refusal is not None else len(checks)]:
                self.record(name, "pass", self.passed(name))
            if refusal is not None:
                self.record(refusal.check, "fail", refusal_detail(rules, refusal))
                self.fail(f"the preflight is refused ({refusal.check}): its answer is not ok and has no Access-Control-Allow-*")
                return refusal.check, refusal
            if request.private_network:
                if rules.denies_private_network(request.pna):
                    detail = "the preflight asks for Private Network Access; allow_private_network is off"
                    self.record("private_network", "fail", detail)
                    self.fail("the preflight's answer has no Access-Control-Allow-Private-Network: true")
                    return "private_network", None
                self.record("private_network", "pass", "allow_private_network is on")
            blocked = browser.preflight_check(
                200, answer, origin, request.method, request.names, request.credentials, request.private_network
            )
            if blocked is not None:
                return self.browser_refused(blocked, "the preflight's answer")
        answer = rules.actual_headers(origin)
        blocked = browser.cors_check(answer, origin, request.credentials)
        if blocked is not None:
            return self.browser_refused(blocked, "the response")
        if not request.preflight:
            self.record("origin", "pass", self.passed("origin"))
        if request.credentials:
            self.record("credentials", "pass", "allow_credentials is on: Access-Control-Allow-Credentials: true")
        names = browser.exposed(answer, request.credentials)
        self.reads_all = names is None
        self.readable = tuple(sorted(browser.SAFELISTED_RESPONSE_HEADERS | (names or frozenset())))
        return None

    def passed(self, name: str) -> str:
        rules, request = self.rules, self.request
        if name == "origin":
            if rules.literal_star:
                return "allow_origin holds '*': every origin (answered with Access-Control-Allow-Origin: *)"
            if rules.origins.allows(request.origin):
                return f"{request.origin!r} is allowed by allow_origin {configured(rules, 'allow_origin')}"
            return f"{request.origin!r} is allowed by the gravicors_origin_allowed hook (dynamic_origins)"
        if name == "method":
            if rules.any_method:
                return "allow_methods holds '*' (answered with the method's name)"
            return f"{request.method!r} is in allow_methods {configured(rules, 'allow_methods')}"
        if not request.names:
            return "no Access-Control-Request-Headers (only CORS-safelisted headers)"
        if rules.any_header:
            return "allow_headers holds '*' (answered with the names requested)"
        listed = ", ".join(repr(name) for name in request.names)
        verb = "is" if len(request.names) == 1 else "are"
        return f"{listed} {verb} in allow_headers {configured(rules, 'allow_headers')}"

    def browser_refused(self, blocked: browser.Blocked, where: str) -> tuple[str, Any]:
        name = {"allow-origin": "origin", "private-network": "private_network"}.get(blocked.check, blocked.check)
        if name == "origin":
            refusal = Refusal("origin", self.request.origin, "allow_origin")
            self.record("origin", "fail", refusal_detail(self.rules, refusal))
        else:
            self.record(name, "fail", blocked.reason)
        self.fail(f"{where}: {blocked.reason}")
        return name, blocked

    def fail(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason

    def fix(self, check: str, failed: Any) -> bool:
        """Change the copy of the cors block so that ``check`` passes; False when no
        change of it can."""
        request = self.request
        if check == "cors":
            if not self.cors.get("enabled"):
                self.change("cors.enabled", "=", True)
            if CORS_ENTRYPOINTS.isdisjoint(self.entrypoints):
                self.change("entrypoints", "+=", ["http-proxy"])
        elif check == "origin":
            if request.origin != "null" and not sendable(request.origin):
                return False  # no browser sends it: no list should hold it
            self.change("cors.allow_origin", "+=", [request.origin])
        elif check == "method":
            self.change("cors.allow_methods", "+=", [request.method])
        elif check == "headers":
            if failed.malformed:
                return False
            self.change("cors.allow_headers", "+=", [failed.value])
        elif check == "private_network":
            self.change("cors.allow_private_network", "=", True)
        elif check == "credentials" and not self.cors.get("allow_credentials"):
            self.change("cors.allow_credentials", "=", True)
        else:
            return False
        try:
            self.rules = CorsRules(self.cors, self.entrypoints, self.api.cors.dynamic)
        except Exception:  # noqa: BLE001 - a value the config checks refuse (named in the change's trips)
            return False
        return True

    def change(self, path: str, op: str, value: Any) -> None:
        self.changes.append((path, op, value))
        if path == "entrypoints":
            self.entrypoints = [*self.entrypoints, *value]
            return
        key = path.split(".", 1)[1]
        self.cors[key] = [*self.cors.get(key, ()), *value] if op == "+=" else value

    def checks(self) -> tuple[Check, ...]:
        out = []
        for name in CHECKS:
            configured: Any
            if name == "cors":
                configured = {"enabled": bool(self.api.cors.config.get("enabled")), "entrypoints": list(self.api.entrypoints)}
            else:
                configured = _shown(self.api.cors.config.get(FIELDS[name].split(".", 1)[1]))
            status, detail, after = self.results.get(name, ("skipped", self.skipped(name), False))
            out.append(Check(name, status, self.requested(name), configured, FIELDS[name], detail, after))
        return tuple(out)

    def requested(self, name: str) -> Any:
        request = self.request
        return {
            "cors": None,
            "origin": request.origin,
            "method": request.method,
            "headers": list(request.names),
            "private_network": request.private_network,
            "credentials": request.credentials,
        }[name]

    def skipped(self, name: str) -> str:
        request = self.request
        if name in ("method", "headers") and not request.preflight:
            return "no preflight: the browser does not ask"
        if name == "private_network" and not request.private_network:
            return "the request does not go to a more private network"
        if name == "credentials" and not request.credentials:
            return "no credentials (credentials: 'same-origin' or 'omit')"
        return "not reached: an earlier check failed and no change of the cors block passes it"


#: A request lists at most this many header names in a report's changes.
MAX_HEADER_FIXES = 100


def _shown(value: Any) -> Any:
    if isinstance(value, (list, tuple)) and len(value) > SHOWN_ENTRIES:
        return [*value[:SHOWN_ENTRIES], f"... ({len(value)} entries)"]
    return list(value) if isinstance(value, (list, tuple)) else value


# --- the changes ------------------------------------------------------------------


def _changes(
    found: list[tuple[str, str, Any]],
    api: CompiledApi,
    position: int,
    config: Mapping[str, Any] | None,
    validate: Callable[[Any], Any] | None,
) -> tuple[Change, ...]:
    """The changes found, one per field (``+=`` values joined), each at its path as
    written in ``config``, with the refusal rules it trips: the problems a
    validation of the config with it (and the changes before it) has and the config
    before it has not."""
    merged: dict[str, tuple[str, Any]] = {}
    for path, op, value in found:
        if path in merged and op == "+=":
            merged[path] = (op, [*merged[path][1], *value])
        else:
            merged[path] = (op, value)
    raw = copy.deepcopy(dict(config)) if isinstance(config, Mapping) else None
    index, written = _api_in(raw, api, position)
    before = _problems(raw, validate)
    out = []
    for path, (op, value) in merged.items():
        shown = f"apis[{index}].{_as_written(written, path)}"
        trips: tuple[Problem, ...] = ()
        if written is not None:
            _apply(written, path, op, value)
            after = _problems(raw, validate)
            trips = tuple(p for p in after if p not in before)
            before = after
        out.append(Change(shown, op, value, trips))
    return tuple(out)


def _api_in(raw: dict[str, Any] | None, api: CompiledApi, position: int) -> tuple[int, dict[str, Any] | None]:
    """The index of ``api`` in the raw config's ``apis`` and its entry (a copy to
    change); without a raw config, its ``position`` in the runtime (the same order)."""
    apis = raw.get("apis") if raw is not None else None
    if isinstance(apis, list):
        for i, entry in enumerate(apis):
            if isinstance(entry, dict) and entry.get("name") == api.name:
                return i, entry
    return position, None


def _as_written(written: Mapping[str, Any] | None, path: str) -> str:
    """``cors.allow_methods`` as the API's author wrote it (``cors.allowMethods``)."""
    if path == "entrypoints" or written is None:
        return path
    from .checks import GRAVITEE_NAMES

    cors = written.get("cors")
    key = path.split(".", 1)[1]
    if isinstance(cors, Mapping) and key not in cors:
        theirs = next((t for t, ours in GRAVITEE_NAMES.items() if ours == key), None)
        # Gravitee's name when the block has it, or is written in Gravitee's names.
        if theirs is not None and (theirs in cors or not GRAVITEE_NAMES.keys().isdisjoint(cors)):
            return f"cors.{theirs}"
    return path


def _apply(written: dict[str, Any], path: str, op: str, value: Any) -> None:
    if path == "entrypoints":
        target, key = written, "entrypoints"
        current = written.get("entrypoints", ["http-proxy"])
    else:
        cors = written.get("cors")
        if not isinstance(cors, dict):
            cors = written["cors"] = {}
        target, key = cors, _as_written(written, path).split(".", 1)[1]
        current = cors.get(key, [])
    target[key] = [*current, *value] if op == "+=" and isinstance(current, list) else value


def _problems(raw: Any, validate: Callable[[Any], Any] | None) -> list[Problem]:
    if raw is None or validate is None:
        return []
    try:
        validate(raw)
    except ConfigError as err:
        return list(err.problems)
    return []


# --- text -------------------------------------------------------------------------


def _text(report: Report) -> list[str]:
    who = f"{report.method} {report.path} from {report.origin}"
    if report.credentials:
        who += ", with credentials"
    lines = [who]
    if report.api is None:
        lines.append(f"API: none owns {report.path}: CORS does not apply")
    else:
        state = "CORS applies" if report.cors_active else "CORS does not apply"
        lines.append(f"API: {report.api} ({report.binding}); {state}")
    pre = report.preflight
    if pre.needed:
        lines.append("Preflight: sent, because")
        lines.extend(f"  - {reason}" for reason in pre.reasons)
        lines.append(f"  OPTIONS {report.path} with " + ", ".join(f"{k}: {v}" for k, v in pre.sends))
        if pre.status is not None:
            refused = next((c.name for c in report.checks if c.status == "fail" and not c.after_fixes), None)
            lines.append(f"  answered {pre.status}" + (f" (refused: {refused})" if pre.status != 200 and refused else ""))
        if pre.runs:
            lines.append("  runs on it: " + ", ".join(pre.runs))
    else:
        lines.append("Preflight: none (a CORS-safelisted method with CORS-safelisted headers only)")
    if report.api is not None:
        lines.append("Checks, in the order the request path makes them:")
        width = max(len(c.name) for c in report.checks)
        for check in report.checks:
            mark = {"pass": "pass", "fail": "FAIL", "skipped": "-   "}[check.status] + ("*" if check.after_fixes else " ")
            lines.append(f"  {mark} {check.name.ljust(width)}  {check.detail}")
        if any(c.after_fixes for c in report.checks):
            lines.append("  * checked with the failures above fixed (the request path stops at the first one)")
    if report.allowed:
        readable = "every response header but Set-Cookie" if report.reads_all else ", ".join(report.readable)
        lines.append(f"Browser: ALLOWED: the script reads the response; headers it can read: {readable}")
    else:
        lines.append(f"Browser: BLOCKED: {report.reason}; the script gets {NETWORK_ERROR}")
    if report.runs:
        lines.append("Runs on the request: " + ", ".join(report.runs))
    if report.changes:
        lines.append("Smallest config change:")
        for change in report.changes:
            lines.append(f"  {change}")
            for problem in change.trips:
                lines.append(f"    trips {problem.id} at {problem.path}: {problem.message}")
    for note in report.notes:
        lines.append(f"Note: {note}")
    # Each line escaped as a whole: a line break inside a value (an API name, the
    # decoded path) stays inside its line instead of forging one.
    return [printable(line) for line in lines]


__all__ = ["explain", "BrowserRequest", "Report", "Check", "Change", "Preflight", "CHECKS"]
