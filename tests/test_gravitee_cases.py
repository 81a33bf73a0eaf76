"""Gravitee's own CORS test cases, as a table run against flask_gravicors.

Each row names the Gravitee test it comes from (gravitee-io/gravitee-api-management:
the gateway's ``CorsPreflightRequestProcessorTest`` and ``CorsSimpleRequestProcessorTest``
of the v4 engine, the standalone gateway's ``CorsTest``, ``CorsRegexTest``,
``CorsWildcardTest`` and ``CorsWithPoliciesFlowTest``, and the integration tests
``CorsV4EmulationIntegrationTest`` and ``CorsV4IntegrationTest``), with that
test's configuration and request, written again here as our config. The expected
answer is ours; where it differs from Gravitee's on purpose the row says how and
why (``differs``). Every other row is Gravitee's expectation unchanged.

Gravitee's unit tests use ``Origin: origin`` (not an origin a browser sends) and
check Gravitee's own header values; the integration tests run a real gateway with
an API whose backend is a mock (here: the view, which must not run on a
preflight).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, Request, Response

from flask_gravicors import GraviCORS, Policy, hookimpl
from flask_gravicors.core import ACAC, ACAH, ACAM, ACAO, ACAPN, ACEH, ACMA

POLICY_HEADER = "X-Gravitee-Policy"


class AddHeaderPolicy(Policy):
    """Gravitee's integration tests' ``add-header`` test policy: a response header."""

    name = "add-header"

    def on_response(self, request: Request, response: Response) -> None:
        response.headers[POLICY_HEADER] = "response-header"


class Plugin:
    @hookimpl
    def gravicors_register_policies(self) -> list[type[Policy]]:
        return [AddHeaderPolicy]


@dataclass(frozen=True)
class Case:
    #: The Gravitee test (class.method) this row comes from.
    source: str
    cors: dict[str, Any]
    method: str
    headers: dict[str, str]
    status: int
    #: Headers the answer must have (None: must be absent).
    expect: dict[str, str | None] = field(default_factory=dict)
    #: Whether the view (Gravitee's backend) must have run; None: not checked.
    view: bool | None = None
    #: Plans, flows, response templates of the API.
    api: dict[str, Any] = field(default_factory=dict)
    #: How and why we answer otherwise than Gravitee, on purpose; None: we agree.
    differs: str | None = None


def preflight(origin: str = "origin", method: str = "GET", **extra: str) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": method, **extra}


# Gravitee's CorsPreflightRequestProcessorTest and CorsSimpleRequestProcessorTest setup
PROCESSOR = {"enabled": True, "allowOrigin": ["*"], "allowMethods": ["GET"], "allowHeaders": []}
# the standalone gateway's cors.json, cors_regex_origin.json, cors_wildcard_origin.json
STANDALONE = {"enabled": True, "allowCredentials": False, "allowHeaders": ["x-forwarded-for"],
              "allowMethods": ["DELETE", "POST", "GET", "PATCH"], "exposeHeaders": ["x-forwarded-host"], "maxAge": -1}
# the integration tests' cors-running-policies.json / cors-not-running-policies.json
INTEGRATION = {"enabled": True, "allowCredentials": True, "allowHeaders": ["x-gravitee-test"], "allowMethods": ["GET", "POST"],
               "allowOrigin": ["https://mydomain.com"]}
ADD_HEADER_FLOW = {"flows": [{"name": "flow-1", "selectors": [{"type": "http", "path": "/", "pathOperator": "STARTS_WITH"}],
                              "request": [], "response": [{"name": "Add Headers", "policy": "add-header"}]}]}
API_KEY_PLAN = {"plans": [{"name": "plan-id", "security": "API_KEY", "configuration": {"keys": ["apiKeyValue"],
                                                                                       "propagateApiKey": True}}]}
TEMPLATE = {"response_templates": {"CORS_PREFLIGHT_FAILED": {"*/*": {"status": 412, "body": "Custom CORS error message"}}}}
MYDOMAIN = "https://mydomain.com"

STAR_NOT_ECHOED = ("Gravitee echoes the request's Origin for '*'; we send a literal '*' when credentials are off, which "
                   "Fetch accepts and which lets shared caches keep one answer (no Vary: Origin needed)")
NO_EMPTY_ACAH = ("Gravitee sends an empty Access-Control-Allow-Headers when none are configured; we send none: an empty "
                 "header allows nothing and costs bytes")
STAR_ALWAYS = (
    "Gravitee adds no Access-Control-Allow-Origin to a request without Origin; a public API ('*' without "
    "credentials) here answers every actual request with '*', so a shared cache may keep any answer for everyone "
    "(issue 12: an answer cached from a request without Origin would otherwise break every browser's read)"
)
STAR_CREDENTIALS = ("'*' with credentials is refused at load time (gravicors.E023: every site could read the API with the "
                    "user's cookies) unless dangerously_allow_any_origin_with_credentials, set here to follow the row")

P = "CorsPreflightRequestProcessorTest"
S = "CorsSimpleRequestProcessorTest"
E = "CorsV4EmulationIntegrationTest"
V4 = "CorsV4IntegrationTest"

# fmt: off
CASES: list[Case] = [
    # ---- v4 engine: CorsPreflightRequestProcessorTest ------------------------------------------------
    Case(f"{P}.shouldInterruptWithDefaultHeadersWhenCorsEnabledAndValidRequest", PROCESSOR, "OPTIONS", preflight(), 200,
         {ACAO: "*", ACAM: "GET", ACAH: None, ACAC: None, ACMA: None}, view=False,
         differs=f"{STAR_NOT_ECHOED}; {NO_EMPTY_ACAH}"),
    Case(f"{P}.shouldInterruptWithCredentialsWhenCorsEnabledAndValidRequest",
         {**PROCESSOR, "allowCredentials": True, "dangerously_allow_any_origin_with_credentials": True}, "OPTIONS",
         preflight(), 200, {ACAO: "origin", ACAM: "GET", ACAC: "true"}, view=False, differs=STAR_CREDENTIALS),
    Case(f"{P}.shouldInterruptWithControlMaxAgeHeaderWhenCorsEnabledAndValidRequest", {**PROCESSOR, "maxAge": 10},
         "OPTIONS", preflight(), 200, {ACAM: "GET", ACMA: "10"}, view=False),
    Case(f"{P}.shouldInterruptWithInvalidRequestBadMethodAndPoliciesNotRun", {**PROCESSOR, "runPolicies": False},
         "OPTIONS", preflight(method="POST"), 400, {ACAO: None, ACAM: None, ACAH: None}, view=False),
    Case(f"{P}.shouldInterruptWithInvalidRequestBadMethodAndRunPolicies", {**PROCESSOR, "runPolicies": True},
         "OPTIONS", preflight(method="POST"), 400, {ACAO: None, ACAM: None, ACAH: None}, view=False),
    Case(f"{P}.shouldInterruptWithAccessControlAllowHeadersWhenCorsEnabledAndValidRequest",
         {**PROCESSOR, "allowHeaders": ["X-Test", "X-Test-2"]}, "OPTIONS", preflight(), 200,
         {ACAM: "GET", ACAH: "X-Test, X-Test-2"}, view=False),
    Case(f"{P}.shouldCompleteWithoutChangingResponseWhenCorsDisabled", {**PROCESSOR, "enabled": False}, "OPTIONS",
         preflight(), 200, {ACAO: None, ACAM: None}),
    Case(f"{P}.shouldCompleteWithoutAddingHeadersWhenCorsEnableButNotOptionsMethod", PROCESSOR, "GET", preflight(), 200,
         {ACAM: None, ACAH: None}, view=True),
    Case(f"{P}.shouldCompleteWithoutAddingHeadersWhenCorsEnableButNoOrigin", PROCESSOR, "OPTIONS",
         {"Access-Control-Request-Method": "GET"}, 200, {ACAO: "*", ACAM: None}, differs=STAR_ALWAYS),
    Case(f"{P}.shouldCompleteWithoutAddingHeadersWhenCorsEnableButNoHeaderMethod", PROCESSOR, "OPTIONS",
         {"Origin": "origin"}, 200, {ACAM: None, ACAH: None}),
    Case(f"{P}.shouldInterruptWithWildcardMethodsWhenCorsEnabledAndValidRequest", {**PROCESSOR, "allowMethods": ["*"]},
         "OPTIONS", preflight(method="POST"), 200, {ACAM: "POST"}, view=False,
         differs="Gravitee answers Access-Control-Allow-Methods: *; we name the requested method, because browsers read "
                 "'*' literally on credentialed requests (Fetch)"),
    Case(f"{P}.shouldInterruptWithWildcardHeadersWhenCorsEnabledAndValidRequest", {**PROCESSOR, "allowHeaders": ["*"]},
         "OPTIONS", preflight(**{"Access-Control-Request-Headers": "x-a,authorization"}), 200,
         {ACAH: "authorization, x-a"}, view=False,
         differs="Gravitee answers Access-Control-Allow-Headers: *; we name the requested headers, because '*' never "
                 "covers Authorization and is no wildcard with credentials (Fetch)"),
    Case(f"{P}.shouldSetAllowPrivateNetworkHeaderWhenEnabledAndRequestHasPnaHeader",
         {**PROCESSOR, "allowOrigin": ["https://origin.example"], "allowPrivateNetwork": True}, "OPTIONS",
         preflight("https://origin.example", **{"Access-Control-Request-Private-Network": "true"}), 200, {ACAPN: "true"},
         differs="the same answer; the origin is an explicit one because '*' with allowPrivateNetwork is refused "
                 "(gravicors.E050: any site could reach the private network)"),
    Case(f"{P}.shouldNotSetAllowPrivateNetworkHeaderWhenEnabledButRequestMissingPnaHeader",
         {**PROCESSOR, "allowOrigin": ["https://origin.example"], "allowPrivateNetwork": True}, "OPTIONS",
         preflight("https://origin.example"), 200, {ACAPN: None}),
    Case(f"{P}.shouldNotSetAllowPrivateNetworkHeaderWhenDisabledAndRequestHasPnaHeader", PROCESSOR, "OPTIONS",
         preflight(**{"Access-Control-Request-Private-Network": "true"}), 200, {ACAPN: None}),
    Case(f"{P}.shouldCompleteWithoutAddingHeadersWhenCorsWildcardAndInvalidRequest",
         {**PROCESSOR, "allowMethods": ["*"], "allowHeaders": ["*"]}, "OPTIONS", {"Access-Control-Request-Method": "GET"},
         200, {ACAO: "*", ACAM: None, ACAH: None}, differs=STAR_ALWAYS),
    Case(f"{P} (isRequestValid: an empty allowHeaders accepts every requested header)", PROCESSOR, "OPTIONS",
         preflight(**{"Access-Control-Request-Headers": "x-anything"}), 400, {ACAO: None},
         differs="Gravitee passes a preflight asking for any header when allowHeaders is empty; a browser would then "
                 "refuse the answer (the header is not listed), so we refuse it here, naming the failed check"),
    # ---- v4 engine: CorsSimpleRequestProcessorTest ---------------------------------------------------
    Case(f"{S}.shouldCompleteWithDefaultHeadersWhenCorsEnabledAndValidRequest", PROCESSOR, "GET", {"Origin": "origin"}, 200,
         {ACAO: "*", ACAC: None}, view=True, differs=STAR_NOT_ECHOED),
    Case(f"{S}.shouldCompleteWithClientCredentialsHeaderWhenCorsEnabledAndValidRequest",
         {**PROCESSOR, "allowCredentials": True, "dangerously_allow_any_origin_with_credentials": True}, "GET",
         {"Origin": "origin"}, 200, {ACAO: "origin", ACAC: "true"}, view=True, differs=STAR_CREDENTIALS),
    Case(f"{S}.shouldCompleteAndRemoveCorsHeadersWhenCorsEnableButNoOrigin", PROCESSOR, "GET", {}, 200,
         {ACAO: "*", ACAC: None}, view=True, differs=STAR_ALWAYS),
    Case(f"{S}.shouldCompleteAndRemoveCorsHeadersWhenCorsEnableButOriginNotAllowed",
         {**PROCESSOR, "allowOrigin": ["https://allowed.example"]}, "GET", {"Origin": "https://not-allowed.example"}, 200,
         {ACAO: None, ACAC: None, ACEH: None}, view=True),
    # ---- standalone gateway: CorsTest (cors.json) --------------------------------------------------------
    Case("CorsTest.preflight_request", {**STANDALONE, "allowOrigin": ["http://localhost"]}, "OPTIONS",
         preflight("http://localhost"), 200, {ACAO: "http://localhost"}, view=False),
    Case("CorsTest.preflight_request_unauthorized", {**STANDALONE, "allowOrigin": ["http://localhost"]}, "OPTIONS",
         preflight("http://bad_host"), 400, {ACAO: None}, view=False),
    Case("CorsTest.simple_request_no_origin", {**STANDALONE, "allowOrigin": ["http://localhost"]}, "GET", {}, 200,
         {ACAO: None}, view=True),
    Case("CorsTest.simple_request_with_origin", {**STANDALONE, "allowOrigin": ["http://localhost"]}, "GET",
         {"Origin": "http://localhost"}, 200, {ACAO: "http://localhost", ACEH: "x-forwarded-host"}, view=True),
    # ---- standalone gateway: CorsRegexTest (cors_regex_origin.json) -------------------------------------------
    Case("CorsRegexTest.preflight_request", {**STANDALONE, "allowOrigin": ["(http|https)://.*.mycompany.com"]}, "OPTIONS",
         preflight("http://api.mycompany.com"), 200, {ACAO: "http://api.mycompany.com"}, view=False),
    Case("CorsRegexTest.preflight_request_unauthorized", {**STANDALONE, "allowOrigin": ["(http|https)://.*.mycompany.com"]},
         "OPTIONS", preflight("http://mycompany.com"), 400, {ACAO: None}, view=False),
    Case("CorsRegexTest.simple_request_no_origin", {**STANDALONE, "allowOrigin": ["(http|https)://.*.mycompany.com"]},
         "GET", {}, 200, {ACAO: None}, view=True),
    Case("CorsRegexTest.simple_request_with_origin", {**STANDALONE, "allowOrigin": ["(http|https)://.*.mycompany.com"]},
         "GET", {"Origin": "https://api2.mycompany.com"}, 200, {ACAO: "https://api2.mycompany.com", ACEH: "x-forwarded-host"},
         view=True),
    # ---- standalone gateway: CorsWildcardTest (cors_wildcard_origin.json) ----------------------------------------
    Case("CorsWildcardTest.preflight_request", {**STANDALONE, "allowOrigin": ["*"]}, "OPTIONS", preflight("http://localhost"),
         200, {ACAO: "*", ACAM: "DELETE, POST, GET, PATCH"}, view=False, differs=STAR_NOT_ECHOED),
    Case("CorsWildcardTest.simple_request_no_origin", {**STANDALONE, "allowOrigin": ["*"]}, "GET", {}, 200, {ACAO: "*"},
         view=True, differs=STAR_ALWAYS),
    Case("CorsWildcardTest.simple_request_with_origin", {**STANDALONE, "allowOrigin": ["*"]}, "GET",
         {"Origin": "http://localhost"}, 200, {ACAO: "*", ACEH: "x-forwarded-host"}, view=True,
         differs=f"the v3 engine's answer; the v4-emulation engine echoes the origin. {STAR_NOT_ECHOED}"),
    # ---- standalone gateway: flows on a preflight (cors-flow.json, cors-with-policies-flow.json) ----------------
    Case("CorsPoliciesFlowTest.shouldRunFlows_preflightRequest", {**STANDALONE, "allowOrigin": ["http://localhost"]},
         "OPTIONS", preflight("http://localhost"), 200, {POLICY_HEADER: None}, view=False,
         api={"flows": [{"selectors": [{"path": "/", "methods": ["OPTIONS"]}], "response": [{"policy": "add-header"}]}]}),
    Case("CorsWithPoliciesFlowTest.shouldRunFlows_preflightWithPolicies",
         {**STANDALONE, "allowOrigin": ["http://localhost"], "runPolicies": True}, "OPTIONS", preflight("http://localhost"),
         200, {POLICY_HEADER: "response-header"}, view=False,
         api={"flows": [{"selectors": [{"path": "/", "methods": ["OPTIONS"]}], "response": [{"policy": "add-header"}]}]}),
]

for _engine in (E, V4):
    CASES += [
        # CheckingResponseStatus
        Case(f"{_engine}.CheckingResponseStatus.should_return_200_status_when_preflight_request_is_valid (running)",
             {**INTEGRATION, "runPolicies": True}, "OPTIONS", preflight(MYDOMAIN), 200,
             {ACAO: MYDOMAIN, ACAM: "GET, POST", ACAH: "x-gravitee-test", ACAC: "true"}, view=False, api=ADD_HEADER_FLOW),
        Case(f"{_engine}.CheckingResponseStatus.should_return_200_status_when_preflight_request_is_valid (not running)",
             {**INTEGRATION, "runPolicies": False}, "OPTIONS", preflight(MYDOMAIN), 200,
             {ACAO: MYDOMAIN, ACAM: "GET, POST", ACAH: "x-gravitee-test"}, view=False, api=ADD_HEADER_FLOW),
        Case(f"{_engine}.CheckingResponseStatus.should_return_400_status_when_preflight_request_is_invalid_and_policies_"
             "configured_to_run (running)", {**INTEGRATION, "runPolicies": True}, "OPTIONS", preflight("https://unknown.com"),
             400, view=False, api=ADD_HEADER_FLOW),
        Case(f"{_engine}.CheckingResponseStatus.should_return_400_status_when_preflight_request_is_invalid_and_policies_"
             "configured_to_run (not running)", {**INTEGRATION, "runPolicies": False}, "OPTIONS",
             preflight("https://unknown.com"), 400, view=False, api=ADD_HEADER_FLOW),
        Case(f"{_engine}.CheckingResponseStatus.should_return_apply_response_template_when_preflight_request_is_invalid",
             {**INTEGRATION, "runPolicies": True}, "OPTIONS", preflight("https://unknown.com"), 412, {ACAO: None}, view=False,
             api={**ADD_HEADER_FLOW, **TEMPLATE}),
        # CheckingPoliciesExecution
        Case(f"{_engine}.CheckingPoliciesExecution.should_apply_policy_on_preflight_request_when_valid",
             {**INTEGRATION, "runPolicies": True}, "OPTIONS", preflight(MYDOMAIN), 200, {POLICY_HEADER: "response-header"},
             view=False, api=ADD_HEADER_FLOW),
        Case(f"{_engine}.CheckingPoliciesExecution.should_not_apply_policy_on_preflight_request_when_invalid (running)",
             {**INTEGRATION, "runPolicies": True}, "OPTIONS", preflight("https://unknown.com"), 400, {POLICY_HEADER: None},
             view=False, api=ADD_HEADER_FLOW),
        Case(f"{_engine}.CheckingPoliciesExecution.should_not_apply_policy_on_preflight_request_when_invalid (not running)",
             {**INTEGRATION, "runPolicies": False}, "OPTIONS", preflight("https://unknown.com"), 400, {POLICY_HEADER: None},
             view=False, api=ADD_HEADER_FLOW),
        # CheckingRejection
        Case(f"{_engine}.CheckingRejection.should_reject_preflight_request_when_forbidden_origin",
             {**INTEGRATION, "runPolicies": True}, "OPTIONS", preflight("https://unknown.com"), 400,
             {ACAO: None, ACAM: None, ACAH: None}, view=False, api=ADD_HEADER_FLOW),
        Case(f"{_engine}.CheckingRejection.should_reject_preflight_request_when_forbidden_header",
             {**INTEGRATION, "runPolicies": True}, "OPTIONS",
             preflight(MYDOMAIN, **{"Access-Control-Request-Headers": "x-gravitee-test, x-gravitee-dev"}), 400,
             {ACAM: None, ACAH: None}, view=False, api=ADD_HEADER_FLOW),
        Case(f"{_engine}.CheckingRejection.should_reject_preflight_request_when_forbidden_method",
             {**INTEGRATION, "runPolicies": True}, "OPTIONS",
             preflight(MYDOMAIN, "PUT", **{"Access-Control-Request-Headers": "x-gravitee-test"}), 400,
             {ACAM: None, ACAH: None}, view=False, api=ADD_HEADER_FLOW),
        # CheckingSecurityChainSkip: an api-key plan, runPolicies on
        Case(f"{_engine}.CheckingSecurityChainSkip.should_skip_security_on_preflight_request_when_valid",
             {**INTEGRATION, "runPolicies": True}, "OPTIONS", preflight(MYDOMAIN), 200, {ACAO: MYDOMAIN}, view=False,
             api={**ADD_HEADER_FLOW, **API_KEY_PLAN}),
        Case(f"{_engine}.CheckingSecurityChainSkip.should_skip_security_on_preflight_request_when_invalid",
             {**INTEGRATION, "runPolicies": True}, "OPTIONS", preflight("https://unknown.com"), 400, view=False,
             api={**ADD_HEADER_FLOW, **API_KEY_PLAN}),
        Case(f"{_engine}.CheckingSecurityChainSkip.should_apply_security_chain_on_regular_request",
             {**INTEGRATION, "runPolicies": True}, "GET", preflight(MYDOMAIN), 401, {ACAO: MYDOMAIN}, view=False,
             api={**ADD_HEADER_FLOW, **API_KEY_PLAN}),
        Case(f"{_engine}.CheckingSecurityChainSkip (the key the test creates, on a regular request)",
             {**INTEGRATION, "runPolicies": True}, "GET", {"Origin": MYDOMAIN, "X-Gravitee-Api-Key": "apiKeyValue"}, 200,
             {ACAO: MYDOMAIN, POLICY_HEADER: "response-header"}, view=True, api={**ADD_HEADER_FLOW, **API_KEY_PLAN}),
    ]
# fmt: on


def app_for(case: Case) -> Flask:
    app = Flask(__name__)
    app.view_calls = []  # type: ignore[attr-defined]

    def view(path: str = "") -> Any:
        app.view_calls.append(path)  # type: ignore[attr-defined]
        return {"backend": True}

    for rule in ("/test", "/test/<path:path>"):
        app.add_url_rule(rule, rule, view, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    api = {"name": "api", "context_path": "/test", "cors": case.cors, **case.api}
    GraviCORS(app, apis=[api], plugins=[Plugin()])
    return app


@pytest.mark.parametrize("case", CASES, ids=[c.source for c in CASES])
def test_gravitee_case(case: Case) -> None:
    app = app_for(case)
    response = app.test_client().open("/test/my_team", method=case.method, headers=case.headers)
    assert response.status_code == case.status
    for name, value in case.expect.items():
        assert response.headers.get(name) == value, name
    if case.view is not None:
        assert bool(app.view_calls) is case.view
    if case.method == "OPTIONS" and "Access-Control-Request-Method" in case.headers and case.status >= 400:
        # a refused preflight never carries an Access-Control-Allow-* header
        assert not [h for h in response.headers.keys() if h.lower().startswith("access-control-allow-")]


def test_the_table_covers_every_named_gravitee_test() -> None:
    sources = {c.source.split(".")[0].split(" ")[0] for c in CASES}
    assert sources == {
        "CorsPreflightRequestProcessorTest", "CorsSimpleRequestProcessorTest", "CorsTest", "CorsRegexTest",
        "CorsWildcardTest", "CorsPoliciesFlowTest", "CorsWithPoliciesFlowTest", "CorsV4EmulationIntegrationTest",
        "CorsV4IntegrationTest",
    }
    assert len({c.source for c in CASES}) == len(CASES)
    # the security skip on preflights, in both engines' integration tests
    assert sum("should_skip_security_on_preflight_request_when_valid" in c.source for c in CASES) == 2
    differing = [c for c in CASES if c.differs]
    assert all(len(c.differs or "") > 40 for c in differing), "a deliberate difference says why"
    assert len(differing) < len(CASES) // 4
