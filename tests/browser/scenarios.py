"""The browser conformance table: one row per scenario.

A row is a config (the ``cors`` block, policies and entrypoints of the API the row
gets to itself at ``/s/<id>``; ``cors=None`` means no API: the request goes to
``/outside/<id>``), a request written as the JavaScript the page runs (``URL`` is
the row's URL), the page origin that runs it, and the verdict the browser must
reach: what script saw (resolved or rejected, status, body, readable headers, SSE
messages) and, where it matters, which requests reached the API server.

Origins in configs and ``page`` are templates: ``{page}`` is the main page origin
(``http://127.0.0.1:<port>``), ``{other}`` a second page server on another port,
``{port}`` the main page port (``*.localhost`` names reach the same page server, as
Chromium resolves them to loopback). ``{id}`` in expected values is the row's id.

Verdicts follow the Fetch standard's CORS protocol as Chromium implements it; the
rules of the extension are those of issue 2 (see ``/work/shared/REFERENCE.md``).

:class:`Origins` fills the templates and :func:`api_config` makes a row's API: the
browser suite's fixtures and ``tests/test_explain.py`` (which checks explain against
every row) both build the rows' APIs with them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import jwt

RESOLVED = "resolved"
REJECTED = "rejected"


@dataclass(frozen=True)
class Verdict:
    """What the browser let script see, and what reached the API server."""

    outcome: str
    status: int | None = None
    #: A dict: JSON body that holds these items; a str: text the body contains.
    body: Mapping[str, Any] | str | None = None
    #: Response headers script can read, with their values.
    readable: Mapping[str, str] = field(default_factory=dict)
    #: Response headers script must not be able to read.
    unreadable: tuple[str, ...] = ()
    #: Server-sent event data received (EventSource rows).
    messages: tuple[str, ...] | None = None
    #: Requests per method (as sent) that reached the API server for this row so
    #: far, e.g. {"OPTIONS": 0, "PUT": 1}: tells whether a preflight was sent.
    server: Mapping[str, int] | None = None
    #: Status of the last preflight the server answered.
    preflight_status: int | None = None
    #: Headers of the last preflight answer (None: the header must be absent).
    preflight_sent: Mapping[str, str | None] = field(default_factory=dict)
    #: Headers of the last non-preflight answer (None: the header must be absent).
    response_sent: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """A second request in the same page, optionally after ``reconfigure()``."""

    request: str
    expect: Verdict
    #: New ``cors`` block for this row's API, applied with gravicors.reconfigure().
    reconfigure: Mapping[str, Any] | None = None
    #: The new config is invalid: reconfigure() must raise ConfigError.
    reconfigure_fails: bool = False
    #: Run it from a new page at this origin, in the same browser context (same
    #: HTTP cache and preflight cache); None: the same page.
    page: str | None = None
    #: New policies for this row's API, applied with the reconfigure (None: keep).
    policies: tuple[Mapping[str, Any], ...] | None = None
    #: New answers of the API server's gravicors_origin_allowed hook, by origin
    #: (a template), set before the request (None: keep).
    hook: Mapping[str, bool] | None = None
    #: Seconds to wait before the request (e.g. for a cached decision to expire).
    wait: float = 0.0


@dataclass(frozen=True)
class Scenario:
    id: str
    family: str
    cors: Mapping[str, Any] | None
    request: str
    expect: Verdict
    page: str = "{page}"
    path: str = "/echo"
    policies: tuple[Mapping[str, Any], ...] = ()
    entrypoints: tuple[str, ...] = ("http-proxy",)
    then: Step | None = None
    #: Bind the API to a blueprint (named after the row, at /b/<id>; its only view,
    #: echo, allows GET and PUT) instead of a context path.
    blueprint: bool = False
    #: Which API server (app) holds this row's API: see APPS.
    app: str = "shared"
    #: The API's plans, flows and response templates.
    plans: tuple[Mapping[str, Any], ...] = ()
    flows: tuple[Mapping[str, Any], ...] = ()
    templates: Mapping[str, Any] | None = None
    #: Answers of the API server's gravicors_origin_allowed hook, by origin (a
    #: template), for this row's API (set when the server starts).
    hook: Mapping[str, bool] | None = None


def cors(**fields: Any) -> dict[str, Any]:
    """An enabled cors block allowing the main page origin, plus ``fields``."""
    return {"enabled": True, "allow_origin": ["{page}"], **fields}


def ok(status: int | None = 200, **kw: Any) -> Verdict:
    """Resolved; ``status`` None for EventSource, which shows script no status."""
    return Verdict(RESOLVED, status, **kw)


def blocked(**kw: Any) -> Verdict:
    return Verdict(REJECTED, **kw)


GET = "fetch(URL)"
PUT = 'fetch(URL, {method: "PUT"})'
INCLUDE = 'fetch(URL, {credentials: "include"})'
KEYED = ({"name": "api-key", "config": {"keys": ["k1"]}},)
QUOTA = ({"name": "test-quota-exhausted"},)
# Plans and flows (issue 13): plans never run on a preflight; flows run there with run_policies.
KEY_PLAN = ({"name": "Gold", "security": "api-key", "configuration": {"keys": ["k1"]}},)
KEYLESS_PLAN = ({"name": "Free", "security": "keyless"},)
JWT_SECRET = "browser-suite-hs256-secret-0123456789"
JWT_PLAN = ({"name": "Partners", "security": "jwt",
             "configuration": {"signature": "HMAC_HS256", "publicKeyResolver": "GIVEN_KEY", "resolverParameter": JWT_SECRET}},)
TOKEN = jwt.encode({"sub": "alice", "exp": int(time.time()) + 6 * 3600}, JWT_SECRET, algorithm="HS256")
#: A flow over everything whose response step marks the answer (servers.MarkPolicy).
MARK_FLOW = ({"name": "mark", "response": [{"policy": "test-mark"}]},)
PREFLIGHT_FAILED_TEMPLATE = {"CORS_PREFLIGHT_FAILED": {"*/*": {"status": 412, "body": "Custom CORS error message",
                                                               "headers": {"X-Refused": "cors"}}}}
#: GRAVICORS_DYNAMIC_ORIGINS_TTL of the API servers (seconds).
DYNAMIC_TTL = 0.5
SUB_GLOB = cors(allow_origin=["http://*.shop.localhost:{port}"])
# Optional port: an implementation that matched only a prefix (re.match) would let
# http://app.localhost.evil.localhost:<port> through.
REGEX = cors(allow_origin=[r"http://(app|admin)\.localhost(:\d+)?"])
KEY_HEADERS = dict(allow_methods=["GET", "PUT"], allow_headers=["x-gravitee-api-key"])
SSE = ("sse",)
X_TRACE = 'fetch(URL, {headers: {"X-Trace": "t-1"}})'

#: The API servers: "shared" holds most rows' APIs; "policy-free" is an app whose
#: config starts with no policy at all (rows that add one with reconfigure()).
APPS = ("shared", "policy-free")

@dataclass(frozen=True)
class Origins:
    page_port: int
    other_port: int

    @property
    def tokens(self) -> dict[str, str]:
        return {
            "{page}": f"http://127.0.0.1:{self.page_port}",
            "{other}": f"http://127.0.0.1:{self.other_port}",
            "{port}": str(self.page_port),
            "{other_port}": str(self.other_port),
        }

    def fill(self, value: Any, **extra: str) -> Any:
        """``value`` with every ``{token}`` in its strings replaced, recursively."""
        tokens = {**self.tokens, **{f"{{{k}}}": v for k, v in extra.items()}}
        if isinstance(value, str):
            for token, text in tokens.items():
                value = value.replace(token, text)
            return value
        if isinstance(value, Mapping):
            return {k: self.fill(v, **extra) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.fill(v, **extra) for v in value)
        return value


def api_config(
    scenario: Scenario,
    origins: Origins,
    cors: Mapping[str, Any] | None = None,
    policies: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The API a scenario gets to itself: at ``/s/<id>``, or bound to the blueprint
    named ``<id>`` (mounted at ``/b/<id>``)."""
    binding = {"blueprint": scenario.id} if scenario.blueprint else {"context_path": f"/s/{scenario.id}"}
    return {
        "name": scenario.id,
        **binding,
        "entrypoints": list(scenario.entrypoints),
        "cors": origins.fill(dict(cors if cors is not None else scenario.cors or {})),
        "policies": [dict(p) for p in (policies if policies is not None else scenario.policies)],
        "plans": [dict(p) for p in scenario.plans],
        "flows": [dict(f) for f in scenario.flows],
        "response_templates": dict(scenario.templates or {}),
    }


# fmt: off
SCENARIOS: list[Scenario] = [
    # ---- origins ------------------------------------------------------------------
    Scenario("exact-origin", "origin", cors(), GET,
             ok(body={"method": "GET", "path": "/s/exact-origin/echo"}, server={"OPTIONS": 0, "GET": 1})),
    Scenario("exact-origin-configured-upper-case", "origin", cors(allow_origin=["HTTP://127.0.0.1:{port}"]), GET,
             ok(body={"method": "GET"})),
    Scenario("exact-origin-one-of-several", "origin", cors(allow_origin=["http://127.0.0.1:1", "{page}", "{other}"]), GET,
             ok(), page="{other}"),
    Scenario("disallowed-page-origin", "origin", cors(), GET,
             blocked(server={"OPTIONS": 0, "GET": 1}, response_sent={"access-control-allow-origin": None}), page="{other}"),
    Scenario("exact-origins-no-concatenation", "origin",
             cors(allow_origin=["http://foo.localhost:{port}", "http://bar.localhost:{port}"]), GET,
             blocked(), page="http://barfoo.localhost:{port}"),
    Scenario("star-any-origin", "origin", cors(allow_origin=["*"]), GET,
             ok(body={"method": "GET"}, response_sent={"access-control-allow-origin": "*"}), page="{other}"),
    Scenario("star-with-credentials-include-refused", "origin", cors(allow_origin=["*"]), INCLUDE,
             blocked(server={"GET": 1})),
    Scenario("star-allow-credentials-echoes-origin", "origin",
             cors(allow_origin=["*"], allow_credentials=True, dangerously_allow_any_origin_with_credentials=True), INCLUDE,
             ok(body={"cookie": "s1"}, response_sent={"access-control-allow-origin": "http://127.0.0.1:{port}"})),
    Scenario("subdomain-glob-one-label", "origin", SUB_GLOB, GET, ok(), page="http://a.shop.localhost:{port}"),
    Scenario("subdomain-glob-two-labels", "origin", SUB_GLOB, GET, ok(), page="http://x.y.shop.localhost:{port}"),
    Scenario("subdomain-glob-preflighted", "origin", {**SUB_GLOB, "allow_methods": ["PUT"]}, PUT,
             ok(body={"method": "PUT"}, server={"OPTIONS": 1, "PUT": 1}), page="http://a.shop.localhost:{port}"),
    Scenario("subdomain-glob-apex-refused", "origin", SUB_GLOB, GET, blocked(), page="http://shop.localhost:{port}"),
    Scenario("subdomain-glob-lookalike-refused", "origin", SUB_GLOB, GET, blocked(), page="http://evilshop.localhost:{port}"),
    Scenario("subdomain-glob-other-port-refused", "origin", SUB_GLOB, GET, blocked(), page="http://a.shop.localhost:{other_port}"),
    Scenario("regex-origin", "origin", REGEX, GET, ok(), page="http://app.localhost:{port}"),
    Scenario("regex-origin-alternative", "origin", REGEX, GET, ok(), page="http://admin.localhost:{port}"),
    Scenario("regex-origin-whole-match-only", "origin", REGEX, GET, blocked(), page="http://app.localhost.evil.localhost:{port}"),
    Scenario("regex-origin-refused", "origin", REGEX, GET, blocked(), page="http://evil.localhost:{port}"),
    # Origins decided at run time (issue 13): the server's hook allows {other}, then
    # refuses it; the cached decision lasts DYNAMIC_TTL seconds.
    Scenario("dynamic-origin-allowed-then-refused-after-ttl", "origin", cors(dynamic_origins=True), GET,
             ok(body={"method": "GET"}, response_sent={"access-control-allow-origin": "{other}", "vary": "Origin"}),
             page="{other}", hook={"{other}": True},
             then=Step(GET, blocked(server={"GET": 2}, response_sent={"access-control-allow-origin": None}),
                       hook={"{other}": False}, wait=DYNAMIC_TTL + 0.3)),
    Scenario("null-origin-refused", "origin", cors(), "sandboxed(URL)", blocked(server={"GET": 1})),
    Scenario("null-origin-listed", "origin", cors(allow_origin=["null"], dangerously_allow_null_origin=True),
             "sandboxed(URL)", ok(body={"method": "GET"})),
    # ---- credentials ----------------------------------------------------------------
    Scenario("credentials-include-allowed", "credentials", cors(allow_credentials=True), INCLUDE,
             ok(body={"cookie": "s1"})),
    Scenario("credentials-include-not-allowed", "credentials", cors(), INCLUDE,
             blocked(server={"OPTIONS": 0, "GET": 1})),
    Scenario("credentials-default-mode-sends-no-cookie", "credentials", cors(allow_credentials=True), GET,
             ok(body={"cookie": None})),
    Scenario("credentials-include-preflighted", "credentials", cors(allow_credentials=True, allow_methods=["PUT"]),
             'fetch(URL, {method: "PUT", credentials: "include"})',
             ok(body={"method": "PUT", "cookie": "s1"}, server={"OPTIONS": 1, "PUT": 1})),
    Scenario("credentials-include-disallowed-origin", "credentials", cors(allow_credentials=True), INCLUDE,
             blocked(), page="{other}"),
    Scenario("credentials-xhr-allowed", "credentials", cors(allow_credentials=True),
             'xhr("GET", URL, {withCredentials: true})', ok(body={"cookie": "s1"})),
    Scenario("credentials-xhr-not-allowed", "credentials", cors(),
             'xhr("GET", URL, {withCredentials: true})', blocked()),
    Scenario("gravitee-field-names", "credentials",
             {"enabled": True, "allowOrigin": ["{page}"], "allowMethods": ["PUT"], "allowHeaders": ["x-trace"],
              "allowCredentials": True, "exposeHeaders": ["x-request-id"], "maxAge": 600},
             'fetch(URL, {method: "PUT", credentials: "include", headers: {"X-Trace": "t-1"}})',
             ok(body={"cookie": "s1", "x_trace": "t-1"}, readable={"x-request-id": "rid-{id}"},
                server={"OPTIONS": 1, "PUT": 1}, preflight_sent={"access-control-max-age": "600"})),
    # ---- methods ----------------------------------------------------------------------
    Scenario("simple-post-no-preflight", "method", cors(),
             'fetch(URL, {method: "POST", body: "a=1", headers: {"Content-Type": "text/plain"}})',
             ok(body={"method": "POST"}, server={"OPTIONS": 0, "POST": 1})),
    Scenario("simple-post-disallowed-origin-still-reaches-server", "method", cors(),
             'fetch(URL, {method: "POST", body: "a=1"})',
             blocked(server={"OPTIONS": 0, "POST": 1}), page="{other}"),
    Scenario("put-allowed", "method", cors(allow_methods=["GET", "PUT"]), PUT,
             ok(body={"method": "PUT"}, server={"OPTIONS": 1, "PUT": 1}, preflight_status=200)),
    Scenario("put-not-allowed", "method", cors(allow_methods=["GET", "POST"]), PUT,
             blocked(server={"OPTIONS": 1, "PUT": 0}, preflight_status=400,
                     preflight_sent={"access-control-allow-origin": None})),
    Scenario("delete-allowed", "method", cors(allow_methods=["DELETE"]), 'fetch(URL, {method: "DELETE"})',
             ok(body={"method": "DELETE"}, server={"OPTIONS": 1, "DELETE": 1})),
    Scenario("delete-disallowed-origin", "method", cors(allow_methods=["DELETE"]), 'fetch(URL, {method: "DELETE"})',
             blocked(server={"OPTIONS": 1, "DELETE": 0}, preflight_status=400), page="{other}"),
    Scenario("patch-upper-case", "method", cors(allow_methods=["PATCH"]), 'fetch(URL, {method: "PATCH"})',
             ok(body={"method": "PATCH"}, server={"OPTIONS": 1, "PATCH": 1})),
    Scenario("patch-lower-case-refused-by-PATCH", "method", cors(allow_methods=["PATCH"]), 'fetch(URL, {method: "patch"})',
             blocked(server={"OPTIONS": 1, "patch": 0, "PATCH": 0}, preflight_status=400)),
    Scenario("patch-lower-case-listed", "method", cors(allow_methods=["patch"]), 'fetch(URL, {method: "patch"})',
             ok(body={"raw_method": "patch"}, server={"OPTIONS": 1, "patch": 1})),
    Scenario("methods-star-with-credentials", "method", cors(allow_methods=["*"], allow_credentials=True),
             'fetch(URL, {method: "PATCH", credentials: "include"})',
             ok(body={"method": "PATCH", "cookie": "s1"}, server={"OPTIONS": 1, "PATCH": 1},
                preflight_sent={"access-control-allow-methods": "PATCH"})),
    Scenario("json-post-content-type-allowed", "method", cors(allow_methods=["POST"], allow_headers=["content-type"]),
             'fetch(URL, {method: "POST", body: "{}", headers: {"Content-Type": "application/json"}})',
             ok(body={"method": "POST"}, server={"OPTIONS": 1, "POST": 1})),
    Scenario("json-post-content-type-refused", "method", cors(allow_methods=["POST"]),
             'fetch(URL, {method: "POST", body: "{}", headers: {"Content-Type": "application/json"}})',
             blocked(server={"OPTIONS": 1, "POST": 0})),
    # ---- request headers ----------------------------------------------------------------
    Scenario("custom-header-allowed", "headers", cors(allow_methods=["GET"], allow_headers=["x-trace"]), X_TRACE,
             ok(body={"x_trace": "t-1"}, server={"OPTIONS": 1, "GET": 1})),
    Scenario("custom-header-configured-other-case", "headers", cors(allow_methods=["GET"], allow_headers=["X-TRACE"]), X_TRACE,
             ok(body={"x_trace": "t-1"})),
    Scenario("custom-header-refused", "headers", cors(allow_methods=["GET"], allow_headers=["x-trace"]),
             'fetch(URL, {headers: {"X-Other": "o"}})', blocked(server={"OPTIONS": 1, "GET": 0}, preflight_status=400)),
    Scenario("custom-headers-one-refused", "headers", cors(allow_methods=["GET"], allow_headers=["x-trace"]),
             'fetch(URL, {headers: {"X-Trace": "t-1", "X-Other": "o"}})', blocked(server={"OPTIONS": 1, "GET": 0})),
    Scenario("no-allow-headers-refuses-custom", "headers", cors(allow_methods=["GET"]), X_TRACE,
             blocked(server={"OPTIONS": 1, "GET": 0})),
    # Gravitee's rule (issue 2): the requested method must be listed, even GET.
    Scenario("preflight-needs-get-listed-for-custom-header", "headers", cors(allow_headers=["x-trace"]), X_TRACE,
             blocked(server={"OPTIONS": 1, "GET": 0}, preflight_status=400)),
    Scenario("authorization-with-allow-headers-star", "headers", cors(allow_methods=["GET"], allow_headers=["*"]),
             'fetch(URL, {headers: {"Authorization": "Bearer t"}})',
             ok(body={"authorization": "Bearer t"}, server={"OPTIONS": 1, "GET": 1})),
    Scenario("authorization-star-with-credentials", "headers", cors(allow_methods=["GET"], allow_headers=["*"], allow_credentials=True),
             'fetch(URL, {credentials: "include", headers: {"Authorization": "Bearer t", "X-Trace": "t-1"}})',
             ok(body={"authorization": "Bearer t", "x_trace": "t-1", "cookie": "s1"})),
    # ---- exposed response headers ------------------------------------------------------------
    Scenario("expose-header-readable", "expose", cors(expose_headers=["x-request-id"]), GET,
             ok(readable={"x-request-id": "rid-{id}", "content-type": "application/json"}, unreadable=("x-internal",))),
    Scenario("expose-nothing", "expose", cors(), GET,
             ok(readable={"content-type": "application/json"}, unreadable=("x-request-id", "x-internal"))),
    Scenario("expose-header-xhr", "expose", cors(expose_headers=["X-Request-Id"]), 'xhr("GET", URL)',
             ok(readable={"x-request-id": "rid-{id}"}, unreadable=("x-internal",))),
    Scenario("expose-header-with-credentials", "expose", cors(expose_headers=["x-request-id"], allow_credentials=True),
             INCLUDE, ok(readable={"x-request-id": "rid-{id}"}, unreadable=("x-internal",))),
    Scenario("expose-star", "expose", cors(expose_headers=["*"]), GET,
             ok(readable={"x-request-id": "rid-{id}", "x-internal": "internal-value"})),
    Scenario("expose-header-disallowed-origin", "expose", cors(expose_headers=["x-request-id"]), GET,
             blocked(server={"GET": 1}, response_sent={"access-control-expose-headers": None}), page="{other}"),
    # ---- preflight caching -------------------------------------------------------------------
    Scenario("max-age-600-second-request-no-preflight", "max-age", cors(allow_methods=["PUT"], max_age=600), PUT,
             ok(server={"OPTIONS": 1, "PUT": 1}, preflight_sent={"access-control-max-age": "600"}),
             then=Step(PUT, ok(server={"OPTIONS": 1, "PUT": 2}))),
    Scenario("max-age-0-preflight-every-time", "max-age", cors(allow_methods=["PUT"], max_age=0), PUT,
             ok(server={"OPTIONS": 1, "PUT": 1}, preflight_sent={"access-control-max-age": "0"}),
             then=Step(PUT, ok(server={"OPTIONS": 2, "PUT": 2}))),
    Scenario("max-age-failed-preflight-not-cached", "max-age", cors(allow_methods=["PUT"], max_age=600), PUT,
             blocked(server={"OPTIONS": 1, "PUT": 0}, preflight_status=400,
                     preflight_sent={"access-control-max-age": None}), page="{other}",
             then=Step(PUT, blocked(server={"OPTIONS": 2, "PUT": 0}))),
    Scenario("max-age-unset-sends-no-header", "max-age", cors(allow_methods=["PUT"], max_age=-1), PUT,
             ok(server={"OPTIONS": 1, "PUT": 1}, preflight_sent={"access-control-max-age": None})),
    # ---- policies and run_policies -------------------------------------------------------------
    Scenario("run-policies-off-keyed-with-key", "policies", cors(**KEY_HEADERS),
             'fetch(URL, {method: "PUT", headers: {"X-Gravitee-Api-Key": "k1"}})',
             ok(body={"method": "PUT", "api_key": "k1"}, server={"OPTIONS": 1, "PUT": 1}), policies=KEYED),
    Scenario("run-policies-off-keyless-401-readable", "policies", cors(**KEY_HEADERS), PUT,
             ok(401, body={"message": "Unauthorized"}, server={"OPTIONS": 1, "PUT": 1}, preflight_status=200), policies=KEYED),
    Scenario("run-policies-off-wrong-key-401-readable", "policies", cors(**KEY_HEADERS),
             'fetch(URL, {method: "PUT", headers: {"X-Gravitee-Api-Key": "nope"}})',
             ok(401, body="invalid API key"), policies=KEYED),
    # A legacy api-key policy loads as a plan: its preflight passes with run_policies on
    # (it answered 401 before; Gravitee never runs security on a preflight, #825).
    Scenario("run-policies-on-legacy-api-key-preflight-passes", "policies", cors(run_policies=True, **KEY_HEADERS),
             'fetch(URL, {method: "PUT", headers: {"X-Gravitee-Api-Key": "k1"}})',
             ok(body={"method": "PUT", "api_key": "k1"}, server={"OPTIONS": 1, "PUT": 1}, preflight_status=200),
             policies=KEYED),
    # ---- plans and flows (issue 13) ----------------------------------------------------------------
    Scenario("plan-run-policies-on-keyless-preflight-passes-flow-ran-401-readable", "policies",
             cors(run_policies=True, **KEY_HEADERS), PUT,
             ok(401, body={"message": "Unauthorized"}, server={"OPTIONS": 1, "PUT": 1}, preflight_status=200,
                preflight_sent={"x-flow-ran": "yes", "access-control-allow-methods": "GET, PUT"},
                response_sent={"x-flow-ran": None}),
             plans=KEY_PLAN, flows=MARK_FLOW),
    Scenario("plan-run-policies-on-with-key", "policies", cors(run_policies=True, **KEY_HEADERS),
             'fetch(URL, {method: "PUT", headers: {"X-Gravitee-Api-Key": "k1"}})',
             # Gravitee's propagateApiKey is off by default: the view never sees the key
             ok(body={"method": "PUT", "api_key": None}, server={"OPTIONS": 1, "PUT": 1}, preflight_status=200,
                response_sent={"x-flow-ran": "yes"}),
             plans=KEY_PLAN, flows=MARK_FLOW),
    Scenario("plan-run-policies-on-wrong-key-401-readable", "policies", cors(run_policies=True, **KEY_HEADERS),
             'fetch(URL, {method: "PUT", headers: {"X-Gravitee-Api-Key": "nope"}})',
             ok(401, body={"message": "Unauthorized: invalid API key"}, server={"OPTIONS": 1, "PUT": 1}),
             plans=KEY_PLAN, flows=MARK_FLOW),
    Scenario("jwt-plan-bearer-token", "policies", cors(allow_methods=["GET"], allow_headers=["authorization"]),
             f'fetch(URL, {{headers: {{"Authorization": "Bearer {TOKEN}"}}}})',
             ok(body={"authorization": f"Bearer {TOKEN}"}, server={"OPTIONS": 1, "GET": 1}, preflight_status=200),
             plans=JWT_PLAN),
    Scenario("jwt-plan-wrong-token-401-readable", "policies", cors(allow_methods=["GET"], allow_headers=["authorization"]),
             'fetch(URL, {headers: {"Authorization": "Bearer not.a.token"}})',
             ok(401, body={"message": "Unauthorized: invalid token"}, server={"OPTIONS": 1, "GET": 1}), plans=JWT_PLAN),
    Scenario("jwt-plan-no-token-401-readable", "policies", cors(), GET,
             ok(401, body={"message": "Unauthorized"}, server={"OPTIONS": 0, "GET": 1}), plans=JWT_PLAN),
    Scenario("keyless-and-api-key-plans-no-key", "policies", cors(), GET,
             ok(body={"method": "GET", "api_key": None}, server={"GET": 1}), plans=KEY_PLAN + KEYLESS_PLAN),
    # The key's plan, not keyless; the view never sees the key (Gravitee's cleanupApiKey).
    Scenario("keyless-and-api-key-plans-right-key", "policies", cors(), 'fetch(URL + "?api-key=k1")',
             ok(body={"method": "GET", "api_key": None}, server={"GET": 1}), plans=KEY_PLAN + KEYLESS_PLAN),
    Scenario("keyless-and-api-key-plans-wrong-key-never-keyless", "policies", cors(), 'fetch(URL + "?api-key=nope")',
             ok(401, body={"message": "Unauthorized: invalid API key"}, server={"GET": 1}), plans=KEY_PLAN + KEYLESS_PLAN),
    Scenario("template-on-failed-preflight", "policies", cors(allow_methods=["GET"]), PUT,
             blocked(server={"OPTIONS": 1, "PUT": 0}, preflight_status=412,
                     preflight_sent={"access-control-allow-origin": None, "access-control-allow-methods": None,
                                     "x-refused": "cors"}),
             templates=PREFLIGHT_FAILED_TEMPLATE),
    Scenario("template-on-plan-refusal-readable", "policies", cors(expose_headers=["x-why"]), 'fetch(URL + "?api-key=nope")',
             ok(403, body="unknown key", readable={"x-why": "key"}), plans=KEY_PLAN,
             templates={"API_KEY_INVALID": {"*/*": {"status": 403, "body": "unknown key", "headers": {"X-Why": "key"}}}}),
    Scenario("run-policies-on-key-in-query-preflight-passes", "policies", cors(run_policies=True, **KEY_HEADERS),
             'fetch(URL + "?api-key=k1", {method: "PUT"})',
             ok(body={"method": "PUT", "api_key": "k1"}, server={"OPTIONS": 1, "PUT": 1}, preflight_status=200),
             policies=KEYED),
    Scenario("run-policies-on-without-policies", "policies", cors(run_policies=True, allow_methods=["PUT"]), PUT,
             ok(body={"method": "PUT"}, server={"OPTIONS": 1, "PUT": 1})),
    Scenario("run-policies-on-quota-preflight-fails", "policies", cors(run_policies=True, allow_methods=["PUT"]), PUT,
             blocked(server={"OPTIONS": 1, "PUT": 0}, preflight_status=429), policies=QUOTA),
    # ---- error statuses readable by script ---------------------------------------------------------
    Scenario("status-401-readable", "errors", cors(), GET,
             ok(401, body={"message": "Unauthorized"}, server={"GET": 1}), policies=KEYED),
    Scenario("status-401-disallowed-origin", "errors", cors(), GET, blocked(server={"GET": 1}),
             policies=KEYED, page="{other}"),
    Scenario("status-404-abort-readable", "errors", cors(), GET, ok(404), path="/status/404"),
    Scenario("status-404-no-route-readable", "errors", cors(), GET, ok(404), path="/no-such-view"),
    Scenario("status-404-disallowed-origin", "errors", cors(), GET, blocked(), path="/status/404", page="{other}"),
    Scenario("status-429-readable", "errors", cors(expose_headers=["x-rate-limit-remaining"]), GET,
             ok(429, body={"message": "Too many requests"}, readable={"x-rate-limit-remaining": "0"},
                unreadable=("retry-after",)), policies=QUOTA),
    Scenario("status-429-disallowed-origin", "errors", cors(), GET, blocked(), policies=QUOTA, page="{other}"),
    Scenario("status-500-readable", "errors", cors(allow_credentials=True), INCLUDE, ok(500), path="/boom"),
    Scenario("status-500-disallowed-origin", "errors", cors(), GET, blocked(), path="/boom", page="{other}"),
    # ---- server-sent events ------------------------------------------------------------------------
    Scenario("sse-allowed", "sse", cors(), "sse(URL)",
             ok(None, messages=("one", "two"), server={"OPTIONS": 0, "GET": 1}), path="/stream", entrypoints=SSE),
    Scenario("sse-disallowed-origin", "sse", cors(), "sse(URL)",
             blocked(messages=()), path="/stream", entrypoints=SSE, page="{other}"),
    Scenario("sse-with-credentials-allowed", "sse", cors(allow_credentials=True), "sse(URL, {withCredentials: true})",
             ok(None, messages=("one", "two")), path="/stream", entrypoints=SSE),
    Scenario("sse-with-credentials-not-allowed", "sse", cors(), "sse(URL, {withCredentials: true})",
             blocked(messages=()), path="/stream", entrypoints=SSE),
    Scenario("sse-star-any-origin", "sse", cors(allow_origin=["*"]), "sse(URL)",
             ok(None, messages=("one", "two")), path="/stream", entrypoints=SSE, page="{other}"),
    Scenario("sse-star-with-credentials-refused", "sse", cors(allow_origin=["*"]), "sse(URL, {withCredentials: true})",
             blocked(messages=()), path="/stream", entrypoints=SSE),
    Scenario("sse-api-key-in-query", "sse", cors(), 'sse(URL + "?api-key=k1")',
             ok(None, messages=("one", "two"), server={"OPTIONS": 0, "GET": 1}), path="/stream", entrypoints=SSE,
             policies=KEYED),
    Scenario("sse-keyless-401-closes-stream", "sse", cors(), "sse(URL)",
             blocked(messages=(), server={"GET": 1}, response_sent={"access-control-allow-origin": "{page}"}),
             path="/stream", entrypoints=SSE, policies=KEYED),
    # ---- which requests get CORS at all --------------------------------------------------------------
    Scenario("websocket-only-api-gets-no-cors", "scope", cors(allow_origin=["*"]), GET,
             blocked(server={"GET": 1}, response_sent={"access-control-allow-origin": None}), entrypoints=("websocket",)),
    Scenario("websocket-and-http-api-gets-cors", "scope", cors(), GET, ok(), entrypoints=("websocket", "http-proxy")),
    Scenario("cors-disabled-api", "scope", {"enabled": False, "allow_origin": ["{page}"]}, GET, blocked(server={"GET": 1})),
    Scenario("outside-every-api", "scope", None, GET,
             blocked(server={"GET": 1}, response_sent={"access-control-allow-origin": None})),
    Scenario("outside-every-api-view-headers-untouched", "scope", None, GET,
             ok(body={"own": True}, response_sent={"access-control-allow-origin": "*"}), path="/own-acao"),
    Scenario("api-removes-view-acao-for-disallowed-origin", "scope", cors(), GET,
             blocked(response_sent={"access-control-allow-origin": None}), path="/own-acao", page="{other}"),
    Scenario("api-replaces-view-acao-for-allowed-origin", "scope", cors(allow_credentials=True), INCLUDE,
             ok(body={"own": True}), path="/own-acao"),
    Scenario("api-drops-view-acac-when-credentials-off", "scope", cors(), INCLUDE,
             blocked(response_sent={"access-control-allow-credentials": None}), path="/own-acao"),
    Scenario("options-as-actual-method", "scope", cors(allow_methods=["OPTIONS"]), 'fetch(URL, {method: "OPTIONS"})',
             ok(server={"OPTIONS": 2}, response_sent={"access-control-allow-origin": "{page}"})),
    Scenario("head-request", "scope", cors(), 'fetch(URL, {method: "HEAD"})', ok(body="", server={"HEAD": 1})),
    Scenario("redirect-within-api", "scope", cors(), GET,
             ok(body={"path": "/s/redirect-within-api/echo"}, server={"GET": 2}), path="/redirect"),
    Scenario("redirect-out-of-every-api", "scope", cors(), GET, blocked(server={"GET": 1}), path="/redirect-out"),
    Scenario("blueprint-bound-api", "scope", cors(), GET,
             ok(body={"blueprint": "blueprint-bound-api"}, server={"GET": 1}), blueprint=True),
    Scenario("blueprint-bound-api-preflighted", "scope", cors(allow_methods=["PUT"]), PUT,
             ok(body={"method": "PUT"}, server={"OPTIONS": 1, "PUT": 1}), blueprint=True),
    Scenario("blueprint-bound-api-disallowed-origin", "scope", cors(allow_methods=["PUT"]), PUT,
             blocked(server={"OPTIONS": 1, "PUT": 0}, preflight_status=400), blueprint=True, page="{other}"),
    Scenario("blueprint-bound-api-405-readable", "scope", cors(allow_methods=["DELETE"]), 'fetch(URL, {method: "DELETE"})',
             ok(405, server={"OPTIONS": 1, "DELETE": 1}), blueprint=True),
    # ---- Vary: the browser's HTTP cache is shared by both page origins (same site)
    Scenario("vary-origin-keeps-cached-answer-per-origin", "cache", cors(allow_origin=["{page}", "{other}"]), GET,
             ok(body={"cached": True}, response_sent={"vary": "Origin"}), path="/cacheable",
             then=Step(GET, ok(body={"cached": True}, server={"GET": 2}), page="{other}")),
    Scenario("star-answer-shared-from-cache", "cache", cors(allow_origin=["*"]), GET,
             ok(body={"cached": True}, response_sent={"vary": None}), path="/cacheable",
             then=Step(GET, ok(body={"cached": True}, server={"GET": 1}), page="{other}")),
    Scenario("cached-answer-not-shared-with-disallowed-origin", "cache", cors(), GET,
             ok(body={"cached": True}), path="/cacheable",
             then=Step(GET, blocked(server={"GET": 2}), page="{other}")),
    # ---- reconfigure() while the page is open -------------------------------------------------------
    Scenario("reconfigure-revokes-origin", "reconfigure", cors(), GET, ok(),
             then=Step(GET, blocked(server={"GET": 2}), reconfigure=cors(allow_origin=["{other}"]))),
    Scenario("reconfigure-grants-origin", "reconfigure", cors(allow_origin=["{other}"]), GET, blocked(),
             then=Step(GET, ok(body={"method": "GET"}), reconfigure=cors())),
    Scenario("reconfigure-adds-method", "reconfigure", cors(allow_methods=["GET"]), PUT,
             blocked(server={"OPTIONS": 1, "PUT": 0}),
             then=Step(PUT, ok(body={"method": "PUT"}, server={"OPTIONS": 2, "PUT": 1}),
                       reconfigure=cors(allow_methods=["GET", "PUT"]))),
    Scenario("reconfigure-enables-credentials", "reconfigure", cors(), INCLUDE, blocked(),
             then=Step(INCLUDE, ok(body={"cookie": "s1"}), reconfigure=cors(allow_credentials=True))),
    # The browser's preflight cache outlives a reconfigure: a revoked method still
    # passes until max_age runs out (actual requests are never refused for their
    # method, as in Gravitee), while a revoked origin fails at once on the response.
    Scenario("reconfigure-revoked-method-cached-preflight", "reconfigure", cors(allow_methods=["PUT"], max_age=600), PUT,
             ok(server={"OPTIONS": 1, "PUT": 1}),
             then=Step(PUT, ok(body={"method": "PUT"}, server={"OPTIONS": 1, "PUT": 2}),
                       reconfigure=cors(allow_methods=["GET"], max_age=600))),
    Scenario("reconfigure-revoked-origin-cached-preflight", "reconfigure", cors(allow_methods=["PUT"], max_age=600), PUT,
             ok(server={"OPTIONS": 1, "PUT": 1}),
             then=Step(PUT, blocked(server={"OPTIONS": 1, "PUT": 2}),
                       reconfigure=cors(allow_origin=["{other}"], allow_methods=["PUT"], max_age=600))),
    Scenario("reconfigure-adds-policy-to-app-started-without-any", "reconfigure", cors(), GET,
             ok(body={"method": "GET"}, server={"GET": 1}), app="policy-free",
             then=Step(GET, ok(401, body={"message": "Unauthorized"}, server={"GET": 2}),
                       reconfigure=cors(), policies=KEYED)),
    Scenario("reconfigure-bad-config-keeps-old", "reconfigure", cors(), GET, ok(),
             then=Step(GET, ok(server={"GET": 2}), reconfigure=cors(allow_origin=["not an origin"]),
                       reconfigure_fails=True)),
]
# fmt: on

#: The scenario families (issue 3's list, plus scope and HTTP-cache rows); each has allowed and refused cases.
FAMILIES = (
    "origin",
    "credentials",
    "method",
    "headers",
    "expose",
    "max-age",
    "policies",
    "errors",
    "sse",
    "scope",
    "cache",
    "reconfigure",
)
