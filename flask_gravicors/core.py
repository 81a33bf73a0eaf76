"""The decision core: a validated config compiled into immutable per-API rules.

No Flask import here. :func:`compile_runtime` turns the output of
:mod:`flask_gravicors.schema` into a :class:`Runtime`: a router from paths and
blueprints to :class:`CompiledApi`, each holding its :class:`CorsRules` with the
response headers joined once, its plans, flows and response templates compiled,
plus the platform flows every API runs. Per request only lookups and list
building remain.
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable, Mapping, NamedTuple, Sequence

from .dynamic import DEFAULT_TTL, Ask, DynamicOrigins
from .errors import ConfigError, plugin_failure
from .flows import EMPTY_FLOWS, FlowSet
from .origins import OriginMatcher, sendable
from .security import CompiledPlan, sort_plans
from .templates import Templates

ACAO = "Access-Control-Allow-Origin"
ACAC = "Access-Control-Allow-Credentials"
ACAM = "Access-Control-Allow-Methods"
ACAH = "Access-Control-Allow-Headers"
ACEH = "Access-Control-Expose-Headers"
ACMA = "Access-Control-Max-Age"
ACAPN = "Access-Control-Allow-Private-Network"

#: Entrypoints through which a browser can make a CORS request (Gravitee's docs:
#: "CORS will not be applied if an API does not contain at least one of HTTP GET,
#: HTTP POST, HTTP Proxy or SSE").
CORS_ENTRYPOINTS = frozenset({"http-get", "http-post", "http-proxy", "sse"})
ENTRYPOINTS = CORS_ENTRYPOINTS | {"websocket"}

#: Bounds on ``Access-Control-Request-Headers``: longer or longer-listed values are
#: refused before any per-item work (rs/cors #170 spent 127 ms on one such request).
MAX_REQUEST_HEADERS_LENGTH = 4096
MAX_REQUEST_HEADERS_ITEMS = 100

# RFC 9110 token: method and field names.
TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: A run of slashes (CompiledApi.relative_path reads it as one).
_SLASHES = re.compile("/{2,}")

PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
#: The preflight Vary of an API that answers Private Network Access requests.
PREFLIGHT_VARY_PRIVATE_NETWORK = PREFLIGHT_VARY + ", Access-Control-Request-Private-Network"

#: Bounds of the per-snapshot caches of request-time decisions (origins, and
#: (path key, origin) pairs): entries kept before a cache is emptied, and the
#: longest origin kept, so a flood of distinct or huge values costs bounded memory.
#: (A path key is never longer than the longest context path plus one.)
ORIGIN_CACHE_SIZE = 4096
ORIGIN_CACHE_KEY_LENGTH = 512
SEEN_CACHE_SIZE = 4096

Headers = list[tuple[str, str]]


def parse_request_headers(value: str) -> frozenset[str] | None:
    """The lower-cased names of an ``Access-Control-Request-Headers`` value.

    Items are trimmed and empty ones ignored (Fetch sends ``a,b``; proxies may add
    spaces). ``None`` when the value is over the bounds or an item is not a token.
    """
    if len(value) > MAX_REQUEST_HEADERS_LENGTH or value.count(",") >= MAX_REQUEST_HEADERS_ITEMS:
        return None
    names = set()
    for item in value.lower().split(","):
        item = item.strip(" \t")
        if item:
            if TOKEN_RE.fullmatch(item) is None:
                return None
            names.add(item)
    return frozenset(names)


class Refusal(NamedTuple):
    """Why :meth:`CorsRules.preflight` refused a preflight: the failed ``check``
    (``origin``, ``method`` or ``headers``), the ``value`` the client sent that it
    refused (the origin, the method, the first header name not allowed, or the
    whole ``Access-Control-Request-Headers`` value when it is not a list of names
    within the bounds), and the cors ``field`` that lacks it."""

    check: str
    value: str
    field: str

    @property
    def malformed(self) -> bool:
        """The value is no header-name list within the bounds (whatever is allowed)."""
        return self.check == "headers" and parse_request_headers(self.value) is None


class CorsRules:
    """One API's compiled CORS settings and the two decisions made with them."""

    __slots__ = (
        "config",
        "active",
        "origins",
        "credentials",
        "literal_star",
        "any_method",
        "methods",
        "any_header",
        "headers",
        "run_policies",
        "private_network",
        "preflight_vary",
        "vary_origin",
        "vary_list",
        "dynamic",
        "_added",
        "_credentials",
        "_tail_actual",
        "_star_added",
        "_star_all",
        "_max_age",
        "_acam",
        "_acah",
    )

    def __init__(self, cors: Mapping[str, Any], entrypoints: Sequence[str], dynamic: DynamicOrigins | None = None):
        #: The cors block these rules were compiled from (as loaded), for explain.
        self.config = cors
        origins: list[str] = list(cors.get("allow_origin", ()))
        methods: list[str] = list(cors.get("allow_methods", ()))
        headers: list[str] = list(cors.get("allow_headers", ()))
        expose: list[str] = list(cors.get("expose_headers", ()))
        max_age: int = cors.get("max_age", -1)
        self.active = bool(cors.get("enabled", False)) and not CORS_ENTRYPOINTS.isdisjoint(entrypoints)
        self.origins = OriginMatcher(origins)
        self.credentials = bool(cors.get("allow_credentials", False))
        # Fetch: "*" is a wildcard only for requests without credentials. With
        # credentials the request origin is echoed instead. Without them, "*"
        # answers every actual response alike, whatever Origin holds or whether it
        # is there: a shared cache may then serve one answer to everyone, and the
        # other entries of the list add nothing.
        self.literal_star = "*" in origins and not self.credentials
        self.any_method = "*" in methods
        self.methods = frozenset(methods)
        self.any_header = "*" in headers
        self.headers = frozenset(h.lower() for h in headers)
        self.run_policies = bool(cors.get("run_policies", False))
        self.private_network = bool(cors.get("allow_private_network", False))
        #: Vary on preflight answers (both outcomes): the request headers they read.
        self.preflight_vary = PREFLIGHT_VARY_PRIVATE_NETWORK if self.private_network else PREFLIGHT_VARY
        #: Run-time decisions on origins the static list does not allow (None: off).
        #: Under literal_star every origin is allowed already: nothing to ask.
        self.dynamic = None if self.literal_star else dynamic
        # A response that is the same for every origin needs no Vary: Origin; an API
        # whose origins are decided at run time always sends it (issue 13), even when
        # a "*" leaves nothing to decide.
        self.vary_origin = not self.literal_star or dynamic is not None
        #: ``Vary: Origin`` as added to actual responses, built once.
        self.vary_list: Headers = [("Vary", "Origin")] if self.vary_origin else []
        self._added: dict[str | None, Headers] = {}

        self._credentials: Headers = [(ACAC, "true")] if self.credentials else []
        self._tail_actual: Headers = self._credentials + ([(ACEH, ", ".join(_unique(expose)))] if expose else [])
        #: Under literal_star, what every actual response gets (shared: never mutate).
        self._star_added: Headers = [(ACAO, "*"), *self._tail_actual]
        self._star_all: Headers = self.vary_list + self._star_added
        self._acam = None if self.any_method else ", ".join(_unique(methods))
        self._acah = None if self.any_header or not headers else ", ".join(_unique(headers))
        # Gravitee: Max-Age only when maxAge > -1; without it browsers cache 5 s.
        self._max_age: Headers = [(ACMA, str(max_age))] if max_age >= 0 else []

    def allows(self, origin: str) -> bool:
        """Whether ``origin`` is allowed: the static list, else (``dynamic_origins``)
        the run-time decision, cached."""
        if self.origins.allows(origin):
            return True
        dynamic = self.dynamic
        return dynamic is not None and origin != "null" and sendable(origin) and dynamic.decide(origin)[0]

    def expiry(self, origin: str | None) -> float | None:
        """When the decision on ``origin`` expires: ``None`` unless it was made at
        run time (by the hook), whose decisions last ``ttl`` seconds."""
        dynamic = self.dynamic
        if dynamic is None or origin is None or origin == "null" or not sendable(origin) or self.origins.allows(origin):
            return None
        return dynamic.decide(origin)[1]

    def allow_origin_value(self, origin: str) -> str:
        return "*" if self.literal_star else origin

    def origin_headers(self, origin: str) -> Headers:
        """Allow-Origin and Allow-Credentials for an allowed origin."""
        return [(ACAO, self.allow_origin_value(origin)), *self._credentials]

    def actual_headers(self, origin: str | None) -> Headers:
        """Headers added to an actual response: under :attr:`literal_star` the same
        for every request, Origin or not; else empty when the origin is not allowed."""
        if self.literal_star:
            return list(self._star_added)
        if origin is None or not self.allows(origin):
            return []
        return [(ACAO, self.allow_origin_value(origin)), *self._tail_actual]

    def actual_added(self, origin: str | None) -> Headers:
        """``vary_list`` + :meth:`actual_headers`: everything an actual response of
        this API gets, memoised per origin value (bounded), unless decided at run
        time (those expire: :meth:`expiry`). Shared: never mutate."""
        if self.literal_star:
            return self._star_all
        added = self._added.get(origin)
        if added is None:
            added = self.vary_list + self.actual_headers(origin)
            if self.dynamic is not None and origin is not None and not self.origins.allows(origin):
                return added
            if origin is None or len(origin) <= ORIGIN_CACHE_KEY_LENGTH:
                if len(self._added) >= ORIGIN_CACHE_SIZE:
                    self._added.clear()
                self._added[origin] = added
        return added

    def preflight(
        self, origin: str, method: str, request_headers: str | None, private_network: str | None
    ) -> tuple[Refusal | None, Headers]:
        """Check a preflight in Gravitee's order: origin, method, headers.

        Returns ``(None, headers)`` on success, ``(refusal, [])`` naming the failed
        check and the refused value otherwise (the request path, debug mode, the
        metrics and ``flask gravicors explain`` all read this one decision).
        ``Vary`` (:attr:`preflight_vary`) is left to the caller (sent on both
        outcomes).
        """
        if not self.allows(origin):
            return Refusal("origin", origin, "allow_origin"), []
        # Methods compare case-sensitively (Fetch: browsers upper-case only the six
        # standard methods, so "patch" stays "patch" and must not match "PATCH").
        if self.any_method:
            if TOKEN_RE.fullmatch(method) is None:
                return Refusal("method", method, "allow_methods"), []
            # Browsers read "*" literally on credentialed requests: name the method.
            allow_methods = method
        elif method in self.methods:
            allow_methods = self._acam  # type: ignore[assignment]
        else:
            return Refusal("method", method, "allow_methods"), []
        allow_headers = self._acah
        if request_headers is not None:
            names = parse_request_headers(request_headers)
            if names is None:
                return Refusal("headers", request_headers, "allow_headers"), []
            if self.any_header:
                # Echo the names: "*" is no wildcard with credentials and never
                # covers Authorization (Fetch), so naming them always works.
                allow_headers = ", ".join(sorted(names)) if names else None
            elif not names <= self.headers:
                return Refusal("headers", min(names - self.headers), "allow_headers"), []
        out = self.origin_headers(origin)
        out.append((ACAM, allow_methods))
        if allow_headers:
            out.append((ACAH, allow_headers))
        out.extend(self._max_age)
        if self.private_network and private_network == "true":
            out.append((ACAPN, "true"))
        return None, out

    def denies_private_network(self, private_network: str | None) -> bool:
        """A valid preflight asking for Private Network Access that this API does not
        grant: answered without ``Access-Control-Allow-Private-Network``, so the
        browser fails it (Gravitee's behaviour; counted and explained as refused)."""
        return private_network == "true" and not self.private_network


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


class Builder:
    """What compiling a config needs from outside the core: the installed policy
    and security type classes (by name), the origin hook and its cache's lifetime.
    The Flask glue makes one from its plugins; tests make their own."""

    def __init__(
        self,
        policies: Mapping[str, Any] | None = None,
        security_types: Mapping[str, Any] | None = None,
        ask_origin: Ask | None = None,
        dynamic_ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.policies = policies or {}
        self.security_types = security_types or {}
        self.ask_origin = ask_origin
        self.dynamic_ttl = dynamic_ttl
        self.clock = clock
        #: id() of a step or plan mapping whose policy or security type raised -> its problem.
        self.failures: dict[int, str] = {}

    def flows(self, flows: Sequence[Mapping[str, Any]], api_name: str, where: str = "flows") -> FlowSet:
        """Flows with each enabled step's policy object made from its configuration,
        its :attr:`~flask_gravicors.Policy.step` saying where it sits (``where`` names
        the flows: an API's, a plan's, the platform's)."""
        located = {
            id(step): f"{where}[{i}].{phase}[{j}]"
            for i, flow in enumerate(flows)
            for phase in ("request", "response")
            for j, step in enumerate(flow.get(phase, ()))
        }

        def make_step(step: Mapping[str, Any]) -> Any:
            cls = self.policies[step["policy"]]
            policy = self._made(step, "policy", step["policy"], cls, step["configuration"], api_name)
            if policy is not None:
                policy.step = located.get(id(step), where)
            return policy

        return FlowSet(flows, make_step) if flows else EMPTY_FLOWS

    def plans(self, plans: Sequence[Mapping[str, Any]], api_name: str) -> tuple[CompiledPlan, ...]:
        compiled = []
        for plan in plans:
            cls = self.security_types[plan["security"]]
            security = self._made(plan, "security type", plan["security"], cls, plan["configuration"], api_name, plan["name"])
            if security is not None:
                flows = self.flows(plan.get("flows", ()), api_name, f"plans[{plan['name']}].flows")
                compiled.append(CompiledPlan(plan["name"], security, flows))
        return sort_plans(compiled)

    def _made(self, where: Mapping[str, Any], kind: str, name: str, cls: Any, *args: Any) -> Any:
        """``cls(*args)``, or ``None`` when the plugin's class raised: the failure is
        kept in :attr:`failures` under the step or plan it was made for (a plugin's bug,
        or a config its schema let through, is a config problem: gravicors.E015)."""
        try:
            return cls(*args)
        except Exception as err:  # noqa: BLE001 - reported by compile_runtime as a ConfigError
            self.failures[id(where)] = plugin_failure(kind, name, err)
            return None

    def dynamic(self, api_name: str, cors: Mapping[str, Any]) -> DynamicOrigins | None:
        if not cors.get("dynamic_origins") or self.ask_origin is None:
            return None
        return DynamicOrigins(api_name, self.ask_origin, self.dynamic_ttl, self.clock)


class CompiledApi:
    """One API: where it is bound, its CORS rules, plans, flows and templates.

    ``chain``: actual requests go through the Flask hooks (some plan, flow or
    platform flow applies); ``preflight_chain``: so do valid preflights (platform
    flows, or API flows with ``run_policies`` on); ``failed_preflight_chain``: so
    do failed ones (platform flows). Otherwise the WSGI layer answers preflights
    itself.
    """

    __slots__ = (
        "name",
        "context_path",
        "blueprint",
        "entrypoints",
        "cors",
        "plans",
        "flows",
        "platform",
        "templates",
        "policies",
        "chain",
        "preflight_chain",
        "failed_preflight_chain",
        "acts_on_response",
        "selects_by_path",
        "metrics",
    )

    def __init__(self, api: Mapping[str, Any], builder: Builder | None = None, platform: FlowSet = EMPTY_FLOWS):
        builder = builder or Builder()
        self.name: str = api["name"]
        self.context_path: str | None = api.get("context_path")
        self.blueprint: str | None = api.get("blueprint")
        self.entrypoints: tuple[str, ...] = tuple(api.get("entrypoints", ("http-proxy",)))
        cors = api.get("cors", {})
        self.cors = CorsRules(cors, self.entrypoints, builder.dynamic(self.name, cors))
        self.plans = builder.plans(api.get("plans", ()), self.name)
        self.flows = builder.flows(api.get("flows", ()), self.name)
        self.platform = platform
        self.templates = Templates(api.get("response_templates", {}))
        #: Every step's policy object of the API's own flows (for observers).
        self.policies: tuple[Any, ...] = self.flows.policies()
        self.chain = bool(self.plans or self.flows or platform)
        self.preflight_chain = bool(platform or (self.cors.run_policies and self.flows))
        self.failed_preflight_chain = bool(platform)
        flow_sets = (platform, self.flows, *(p.flows for p in self.plans))
        self.acts_on_response = any(f.acts_on_response for f in flow_sets)
        #: Whether some selector reads the path (the Flask hook computes it only then).
        self.selects_by_path = any(f.selects_by_path for f in flow_sets)
        #: Where the answers of its plans and flows are counted (the Flask glue sets
        #: it when ``GRAVICORS_METRICS`` is on; an object of :mod:`.metrics`).
        self.metrics: Any = None

    def relative_path(self, path: str) -> str:
        """``path`` (Flask's ``request.path``: decoded) relative to the context path,
        as flow selectors read it (blueprint-bound APIs have none: the whole path),
        with each run of ``/`` read as one."""
        context_path = self.context_path
        if context_path is not None and context_path != "/":
            path = path[len(context_path) :] or "/"
        if "//" in path:
            # Selectors compare segments; werkzeug routes some spellings with empty
            # ones to a view without redirecting (a strict_slashes=False rule takes
            # "/a//", a path converter "a//b"), so those must meet the same flows.
            path = _SLASHES.sub("/", path)
        return path


class Runtime:
    """The router plus every compiled API: one immutable snapshot of a config.

    ``reconfigure`` builds a new one and swaps a single reference, so a request
    that read the snapshot once sees one config from start to end.
    """

    __slots__ = (
        "apis",
        "by_path",
        "by_blueprint",
        "root",
        "max_path",
        "blueprint_of",
        "key_length",
        "seen",
        "clock",
        "reserved",
    )

    def __init__(
        self,
        apis: Sequence[CompiledApi],
        blueprint_of: Callable[[dict[str, Any]], str | None] | None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.apis = tuple(apis)
        by_path: dict[str, CompiledApi] = {}
        by_blueprint: dict[str, CompiledApi] = {}
        for api in self.apis:
            if api.blueprint is not None:
                by_blueprint[api.blueprint] = api
            elif api.context_path is not None:
                # PATH_INFO is a "WSGI string": UTF-8 bytes decoded as latin-1 (PEP 3333).
                by_path[api.context_path.encode("utf-8").decode("latin-1")] = api
        self.root = by_path.pop("/", None)
        self.by_path = by_path
        self.by_blueprint = by_blueprint
        self.max_path = max((len(p) for p in by_path), default=0)
        self.blueprint_of = blueprint_of if by_blueprint else None
        #: resolve_path reads a path only up to the longest context path and the
        #: character after it (where a "/" boundary is checked), so the paths that
        #: share their first ``key_length`` characters belong to one API; unless
        #: they start with "//", whose leading slashes are dropped first.
        self.key_length = self.max_path + 1
        #: By (PATH_INFO[:key_length], Origin) of an actual request seen before: (the
        #: API when it has policies, else None; the headers the response gets, or
        #: None when the response is not touched: no API owns the path, or its CORS
        #: is off; what it counts under, None when metrics are off; when the entry
        #: expires on ``clock``, None: never). The WSGI layer's fast path: one lookup
        #: instead of resolve + CorsRules.actual_added, for every path under an API,
        #: not only for the paths seen before. Filled by :meth:`remember`, bounded.
        #:
        #: The expiry lives in the entry itself: one dict assignment writes an entry
        #: whole, so no interleaving of threads can part a decision from its expiry,
        #: and no lock is needed. (A separate index of expiring entries, cleaned up
        #: apart, could: a request re-remembering an entry during another thread's
        #: clean-up left it allowed for good after the hook said no.)
        self.seen: dict[tuple[str, str | None], tuple[CompiledApi | None, Headers | None, Any, float | None]] = {}
        self.clock = clock
        #: A path key never remembered (:meth:`reserve`): requests with it always
        #: reach the WSGI layer's slow path, where the metrics path is answered.
        self.reserved: str | None = None

    def reserve(self, path: str) -> None:
        """Never answer ``path`` from the memo (the WSGI layer serves the metrics there)."""
        self.reserved = path.encode("utf-8").decode("latin-1")[: self.key_length]

    def remember(
        self,
        key: str,
        origin: str | None,
        api: CompiledApi | None,
        added: Headers | None,
        expires: float | None = None,
        count: Any = None,
    ) -> None:
        """Record in :attr:`seen` that an actual request whose path starts with
        ``key`` (its first :attr:`key_length` characters) from ``origin`` reaches
        ``api`` (None: no API) and gets ``added`` (None: left untouched), unless APIs
        are bound by blueprint (the path alone does not tell the API: Flask's method
        and host matching do), the path starts with "//" (its key does not decide the
        API: resolve_path drops the leading slashes first) or the origin is too long
        to keep. (A key shows a leading "//" whenever it matters: with any context
        path key_length is 3 or more, and with none every path resolves alike.)
        ``expires``: the entry holds a run-time origin decision that lasts until
        then (:meth:`CorsRules.expiry`), or is to be logged again then (debug
        mode): from then on the fast path passes it by, and the next such request
        decides again and overwrites it. ``count``: what such a request counts under
        (metrics on: a :class:`flask_gravicors.metrics.Count`, else None)."""
        if self.blueprint_of is not None or key[:2] == "//" or key == self.reserved:
            return
        if origin is not None and len(origin) > ORIGIN_CACHE_KEY_LENGTH:
            return
        seen = self.seen
        if len(seen) >= SEEN_CACHE_SIZE:
            seen.clear()
        seen[key, origin] = (api if api is not None and api.chain else None, added, count, expires)

    def resolve(self, environ: dict[str, Any]) -> CompiledApi | None:
        """The API a request belongs to: by blueprint, else by context path."""
        if self.blueprint_of is not None:
            blueprint = self.blueprint_of(environ)
            while blueprint:
                api = self.by_blueprint.get(blueprint)
                if api is not None:
                    return api
                blueprint = blueprint.rpartition(".")[0]
        return self.resolve_path(environ.get("PATH_INFO") or "/")

    def resolve_path(self, path: str) -> CompiledApi | None:
        """Longest context path that is ``path`` or a prefix of it ending at a ``/``.

        Exactly the string Flask routes on: no decoding, no case folding, ``+`` is
        not a space (flask-cors CVE-2024-6844, CVE-2024-6866).
        """
        if path[:2] == "//" or path[:1] != "/":
            # werkzeug routes on "/" + PATH_INFO.lstrip("/") (MapAdapter.match), so
            # "//orders/1" reaches /orders' views: it must meet /orders' policies.
            path = "/" + path.lstrip("/")
        by_path = self.by_path
        if by_path:
            if len(path) <= self.max_path:
                api = by_path.get(path)
                if api is not None:
                    return api
                end = len(path)
            else:
                # Only prefixes no longer than the longest context path can match.
                end = self.max_path + 1
            cut = path.rfind("/", 0, end)
            while cut > 0:
                api = by_path.get(path[:cut])
                if api is not None:
                    return api
                cut = path.rfind("/", 0, cut)
        return self.root


def compile_runtime(
    config: Mapping[str, Any], builder: Builder, blueprint_of: Callable[[dict[str, Any]], str | None] | None
) -> Runtime:
    """A loaded config (:func:`flask_gravicors.schema.load_config`) as a :class:`Runtime`."""
    # Platform steps get the API name "platform": a platform rate limit counts
    # every API's requests together, as an organization flow's does.
    platform = builder.flows(config.get("flows", ()), "platform")
    apis = [CompiledApi(api, builder, platform) for api in config.get("apis", ())]
    if builder.failures:
        raise ConfigError(_failures_where_written(config, builder.failures))
    return Runtime(apis, blueprint_of, builder.clock)


def _failures_where_written(config: Mapping[str, Any], failures: Mapping[int, str]) -> dict[Any, Any]:
    """The :attr:`Builder.failures` as ConfigError messages, each at the path its
    step or plan was written at (a legacy ``policies`` entry at its own index)."""
    found: dict[Any, Any] = {}

    def add(path: tuple[Any, ...], message: str) -> None:
        node = found
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node.setdefault(path[-1], []).append(message)

    def visit(item: Mapping[str, Any], path: tuple[Any, ...], api_path: tuple[Any, ...]) -> None:
        message = failures.get(id(item))
        if message is not None:
            add((*api_path, "policies", item["legacy_index"]) if "legacy_index" in item else path, message)

    def visit_flows(flows: Sequence[Mapping[str, Any]], path: tuple[Any, ...], api_path: tuple[Any, ...]) -> None:
        for j, flow in enumerate(flows):
            for phase in ("request", "response"):
                for k, step in enumerate(flow.get(phase, ())):
                    visit(step, (*path, j, phase, k), api_path)

    visit_flows(config.get("flows", ()), ("flows",), ())
    for i, api in enumerate(config.get("apis", ())):
        visit_flows(api.get("flows", ()), ("apis", i, "flows"), ("apis", i))
        for p, plan in enumerate(api.get("plans", ())):
            visit(plan, ("apis", i, "plans", p), ("apis", i))
            visit_flows(plan.get("flows", ()), ("apis", i, "plans", p, "flows"), ("apis", i))
    return found
