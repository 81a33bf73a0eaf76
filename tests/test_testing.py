"""The plugin authors' test kit (flask_gravicors.testing): its fixture through the
pytest11 entry point, its throwaway app, and its verdicts, against the extension's
answers and against hand-made answers that a browser would block."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any, Callable

import pytest
from flask import Flask, Request, Response
from marshmallow import Schema, fields

from flask_gravicors import ConfigError, Failure, Policy, SecurityType, hookimpl
from flask_gravicors.testing import (
    ORIGIN,
    actual,
    api,
    compiled,
    cors,
    fetch,
    flow,
    make_app,
    plan,
    policy,
    preflight,
    readable_headers,
    step,
    unsafe_request_headers,
)

EVIL = "https://evil.example.net"

ORDERS = api(
    "orders",
    "/orders",
    cors=cors(
        allow_origin=[ORIGIN],
        allow_methods=["GET", "PUT", "DELETE"],
        allow_headers=["content-type", "x-key"],
        allow_credentials=True,
        expose_headers=["x-request-id"],
        max_age=600,
    ),
)
PUBLIC = api("public", "/public", cors=cors(allow_origin=["*"], allow_methods=["*"], allow_headers=["*"]))


class Refuse(Policy):
    name = "refuse"

    def on_request(self, request: Request) -> Any:
        return {"message": "no"}, 401


class _TagSchema(Schema):
    tag = fields.String(required=True)


class Tag(Policy):
    """Appends its tag to the response's X-Tags (the order steps ran in)."""

    name = "tag"
    config_schema = _TagSchema

    def on_response(self, request: Request, response: Response) -> None:
        response.headers["X-Tags"] = ",".join(filter(None, [response.headers.get("X-Tags"), self.config["tag"]]))


class _TokenSchema(Schema):
    token = fields.String(required=True)


class Token(SecurityType):
    """A plan whose consumers send ``X-Token``."""

    name = "token"
    config_schema = _TokenSchema

    def can_handle(self, request: Request) -> bool:
        return "X-Token" in request.headers

    def authenticate(self, request: Request) -> Failure | None:
        return None if request.headers["X-Token"] == self.config["token"] else Failure(401, "TOKEN_INVALID", "no")


class RefusePlugin:
    @hookimpl
    def gravicors_register_policies(self) -> list[type[Policy]]:
        return [Refuse, Tag]

    @hookimpl
    def gravicors_register_security_types(self) -> list[type[SecurityType]]:
        return [Token]


def test_registered_as_a_pytest_plugin(gravicors_app: Callable[..., Flask]) -> None:
    # The fixture comes from the pytest11 entry point: this module never imports it.
    assert any(ep.value == "flask_gravicors.testing" for ep in entry_points(group="pytest11"))
    assert gravicors_app is make_app


# (method, path, request headers, origin, credentials,
#  allowed, preflight sent, refused_by, status, readable)
FETCH_ROWS = [
    ("GET", "/orders/1", {}, ORIGIN, True, True, False, None, 200, {"content-type", "content-length"}),
    ("GET", "/orders/1", {}, ORIGIN, False, True, False, None, 200, {"content-type"}),
    ("GET", "/orders/1", {}, EVIL, False, False, False, None, 200, set()),
    ("POST", "/orders/1", {"Content-Type": "text/plain"}, ORIGIN, True, True, False, None, 200, set()),
    ("PUT", "/orders/1", {"Content-Type": "application/json"}, ORIGIN, True, True, True, None, 200, set()),
    ("PUT", "/orders/1", {"X-Key": "k"}, ORIGIN, True, True, True, None, 200, set()),
    ("PATCH", "/orders/1", {}, ORIGIN, True, False, True, "method", 400, set()),
    # Browsers upper-case the six standard methods and send any other as written.
    ("put", "/orders/1", {}, ORIGIN, True, True, True, None, 200, set()),
    ("patch", "/orders/1", {}, ORIGIN, True, False, True, "method", 400, set()),
    ("PUT", "/orders/1", {"X-Other": "1"}, ORIGIN, True, False, True, "headers", 400, set()),
    ("PUT", "/orders/1", {}, EVIL, False, False, True, "origin", 400, set()),
    ("GET", "/outside/1", {}, ORIGIN, False, False, False, None, 200, set()),
    ("PUT", "/outside/1", {}, ORIGIN, False, False, True, None, 200, set()),
    ("GET", "/public/1", {}, EVIL, False, True, False, None, 200, {"content-type"}),
    ("PATCH", "/public/1", {"Authorization": "Bearer x"}, EVIL, False, True, True, None, 200, set()),
]


@pytest.mark.parametrize(
    ("method", "path", "headers", "origin", "credentials", "allowed", "preflighted", "refused_by", "status", "readable"),
    FETCH_ROWS,
)
def test_fetch(
    method: str,
    path: str,
    headers: dict[str, str],
    origin: str,
    credentials: bool,
    allowed: bool,
    preflighted: bool,
    refused_by: str | None,
    status: int,
    readable: set[str],
) -> None:
    app = make_app([ORDERS, PUBLIC])
    outcome = fetch(app, method, path, origin=origin, headers=headers, credentials=credentials)
    assert outcome.allowed is allowed, str(outcome)
    assert (outcome.preflight is not None) is preflighted
    assert outcome.refused_by == refused_by
    assert outcome.status == status
    assert readable <= outcome.readable
    # A refused preflight stops the browser: the actual request is never sent.
    assert app.view_calls == ([path] if allowed or not preflighted else [])  # type: ignore[attr-defined]


def test_exposed_headers_are_readable_only_when_allowed() -> None:
    app = make_app([ORDERS], plugins=[RefusePlugin()], entry_points=False)
    app.after_request(lambda r: (r.headers.update({"X-Request-Id": "7", "X-Secret": "s"}), r)[1])
    outcome = actual(app, "GET", "/orders/1", credentials=True).assert_allowed(status=200, readable=["X-Request-Id"])
    assert outcome.header("x-request-id") == "7"
    assert not outcome.can_read("X-Secret") and outcome.header("X-Secret") is None
    blocked = actual(app, "GET", "/orders/1", origin=EVIL).assert_blocked(reason="no Access-Control-Allow-Origin")
    assert blocked.readable == frozenset() and blocked.header("content-type") is None


def test_a_policy_answer_is_readable_and_the_view_does_not_run() -> None:
    keyed = api("orders", "/orders", cors=ORDERS["cors"], policies=[policy("refuse")])
    app = make_app([keyed], plugins=[RefusePlugin()], entry_points=False)
    outcome = fetch(app, "GET", "/orders/1", credentials=True).assert_allowed(status=401)
    assert outcome.response.json == {"message": "no"}
    assert app.view_calls == []  # type: ignore[attr-defined]


def test_blueprint_bound_apis_get_their_blueprint() -> None:
    shop = api("shop", None, blueprint="shop", cors=cors(allow_origin=[ORIGIN]))
    admin = api("admin", None, blueprint="shop.admin", cors=cors(allow_origin=[EVIL]))
    app = make_app([shop, admin])
    fetch(app, "GET", "/shop").assert_allowed(status=200)
    fetch(app, "GET", "/shop/x").assert_allowed(status=200)
    fetch(app, "GET", "/shop/admin/x").assert_blocked()
    fetch(app, "GET", "/shop/admin/x", origin=EVIL).assert_allowed(status=200)
    assert app.view_calls == ["/shop", "/shop/x", "/shop/admin/x", "/shop/admin/x"]  # type: ignore[attr-defined]


def test_preflight_alone() -> None:
    app = make_app([ORDERS])
    ok = preflight(app, "/orders/1", method="PUT", headers=["Content-Type", "X-Key"], credentials=True).assert_allowed()
    assert ok.response.headers["Access-Control-Max-Age"] == "600"
    assert ok.readable == frozenset()  # a preflight's answer is never read by the script
    preflight(app, "/orders/1", method="PUT", private_network=True).assert_blocked(reason="Private-Network")
    preflight(app, "/orders/1", method="PATCH").assert_blocked(refused_by="method")
    assert app.view_calls == []  # type: ignore[attr-defined]


def test_assertion_messages_say_what_the_browser_saw() -> None:
    app = make_app([ORDERS])
    with pytest.raises(AssertionError, match=r"(?s)expected allowed.*preflight 400 \(refused: method\).*blocked"):
        fetch(app, "PATCH", "/orders/1").assert_allowed()
    with pytest.raises(AssertionError, match=r"(?s)expected blocked.*response 200: allowed.*response headers"):
        fetch(app, "GET", "/orders/1").assert_blocked()
    with pytest.raises(AssertionError, match="expected status 201"):
        fetch(app, "GET", "/orders/1").assert_allowed(status=201)
    with pytest.raises(AssertionError, match=r"expected \['x-request-id'\] readable"):
        fetch(app, "GET", "/orders/1").assert_allowed(readable=["x-request-id"])
    with pytest.raises(AssertionError, match="refused by the origin check"):
        fetch(app, "PATCH", "/orders/1").assert_blocked(refused_by="origin")


# -- plans, flows and steps: the config's own shape ---------------------------------

# (helper call, the config it writes)
SHAPES = [
    (step("rate-limit", limit=5), {"policy": "rate-limit", "configuration": {"limit": 5}}),
    (step("tag", tag="a"), {"policy": "tag", "configuration": {"tag": "a"}}),
    (flow(), {"name": "", "request": [], "response": []}),
    (
        flow(step("tag", tag="a"), response=[step("tag", tag="b")], name="tags"),
        {"name": "tags", "request": [step("tag", tag="a")], "response": [step("tag", tag="b")]},
    ),
    (
        flow(step("refuse"), path="/admin/:id", path_operator="EQUALS", methods=["DELETE"]),
        {
            "name": "",
            "request": [{"policy": "refuse", "configuration": {}}],
            "response": [],
            "selectors": [{"type": "http", "path": "/admin/:id", "path_operator": "EQUALS", "methods": ["DELETE"]}],
        },
    ),
    (plan("Free"), {"name": "Free", "security": "keyless", "configuration": {}}),
    (
        plan("Gold", "api-key", keys=["k1"], flows=[flow()]),
        {"name": "Gold", "security": "api-key", "configuration": {"keys": ["k1"]}, "flows": [flow()]},
    ),
    (
        api("orders", "/orders", plans=[plan("Free")], flows=[flow()], response_templates={}),
        {"name": "orders", "context_path": "/orders", "plans": [plan("Free")], "flows": [flow()], "response_templates": {}},
    ),
    (policy("rate-limit", limit=5), {"name": "rate-limit", "config": {"limit": 5}}),
]


@pytest.mark.parametrize(("made", "config"), SHAPES)
def test_helpers_write_the_configs_shape(made: dict[str, Any], config: dict[str, Any]) -> None:
    assert made == config


def test_a_bad_step_or_plan_is_reported_where_the_config_holds_it() -> None:
    # Validated by the same schemas as a user's config: the paths are the config's.
    with pytest.raises(ConfigError) as caught:
        make_app(
            [api("orders", "/orders", plans=[plan("Gold", "token")], flows=[flow(step("tag"), path="orders")])],
            flows=[flow(step("nope"))],
            plugins=[RefusePlugin()],
            entry_points=False,
        )
    assert sorted(p.path for p in caught.value.problems) == [
        "apis[0].flows[0].request[0].configuration.tag",
        "apis[0].flows[0].selectors[0].path",
        "apis[0].plans[0].configuration.token",
        "flows[0].request[0].policy",
    ]


TAGGED = api(
    "orders",
    "/orders",
    cors=cors(allow_origin=[ORIGIN], allow_methods=["GET", "DELETE"], allow_headers=["x-token"], expose_headers=["x-tags"]),
    plans=[plan("Member", "token", token="t1", flows=[flow(step("tag", tag="plan"))]), plan("Free")],
    flows=[flow(step("tag", tag="api")), flow(step("refuse"), path="/admin", methods=["DELETE"])],
)


# (method, path, request headers, status, X-Tags the script reads)
RUNS = [
    ("GET", "/orders/1", {}, 200, "api,platform"),
    ("GET", "/orders/1", {"X-Token": "t1"}, 200, "plan,api,platform"),
    ("GET", "/orders/1", {"X-Token": "t2"}, 401, "platform"),
    ("GET", "/orders/admin/1", {}, 200, "api,platform"),
    ("DELETE", "/orders/admin/1", {}, 401, "api,platform"),
    ("DELETE", "/orders/1", {}, 200, "api,platform"),
]


@pytest.mark.parametrize(("method", "path", "headers", "status", "tags"), RUNS)
def test_plans_flows_and_platform_flows_run_in_gravitees_order(
    method: str, path: str, headers: dict[str, str], status: int, tags: str
) -> None:
    app = make_app([TAGGED], flows=[flow(step("tag", tag="platform"))], plugins=[RefusePlugin()], entry_points=False)
    outcome = fetch(app, method, path, headers=headers).assert_allowed(status=status, readable=["x-tags"])
    assert outcome.header("X-Tags") == tags


def test_compiled_gives_the_instances_a_plugin_configured() -> None:
    app = make_app([TAGGED, api("public", "/public")], plugins=[RefusePlugin()], entry_points=False)
    orders = compiled(app, "orders")
    assert [(p.name, type(p.security).__name__) for p in orders.plans] == [("Member", "Token"), ("Free", "Keyless")]
    assert orders.plans[0].security.config == {"token": "t1"}
    assert [(type(p).__name__, dict(p.config)) for p in orders.policies] == [("Tag", {"tag": "api"}), ("Refuse", {})]
    assert compiled(app, "public").policies == ()
    with pytest.raises(KeyError, match="'nope'"):
        compiled(app, "nope")


# -- the browser's side, on answers no flask_gravicors would give -------------------


def crafted(headers: dict[str, str], status: int = 200) -> Flask:
    """An app without flask_gravicors whose every answer carries ``headers``."""
    app = Flask(__name__)

    @app.route("/", methods=["GET", "OPTIONS", "PUT", "PATCH"])
    def answer() -> Any:
        return "x", status, headers

    return app


# (answer headers, status, credentials, allowed, reason)
ACTUAL_CHECKS = [
    ({"Access-Control-Allow-Origin": "*"}, 200, False, True, None),
    (
        {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"},
        200,
        True,
        False,
        "'*' on a request with credentials",
    ),
    ({"Access-Control-Allow-Origin": ORIGIN}, 200, True, False, "Credentials is not 'true'"),
    (
        {"Access-Control-Allow-Origin": ORIGIN, "Access-Control-Allow-Credentials": "True"},
        200,
        True,
        False,
        "Credentials is not 'true'",
    ),
    ({"Access-Control-Allow-Origin": ORIGIN, "Access-Control-Allow-Credentials": "true"}, 500, True, True, None),
    ({"Access-Control-Allow-Origin": ORIGIN.upper()}, 200, False, False, "not the page's origin"),
    ({"Access-Control-Allow-Origin": ORIGIN + "/"}, 200, False, False, "not the page's origin"),
    ({}, 200, False, False, "no Access-Control-Allow-Origin"),
]


@pytest.mark.parametrize(("headers", "status", "credentials", "allowed", "reason"), ACTUAL_CHECKS)
def test_cors_check(headers: dict[str, str], status: int, credentials: bool, allowed: bool, reason: str | None) -> None:
    outcome = actual(crafted(headers, status), "GET", "/", credentials=credentials)
    assert outcome.allowed is allowed
    assert outcome.reason is None if reason is None else reason in (outcome.reason or "")


def test_two_allow_origin_values_fail_the_check() -> None:
    app = Flask(__name__)
    app.add_url_rule(
        "/", "x", lambda: ("x", 200, [("Access-Control-Allow-Origin", ORIGIN), ("Access-Control-Allow-Origin", EVIL)])
    )
    actual(app, "GET", "/").assert_blocked(reason="not the page's origin")


# (answer headers, status, method, request headers, credentials, allowed)
PREFLIGHT_CHECKS = [
    ({"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "*"}, 200, "PATCH", [], False, True),
    (
        {"Access-Control-Allow-Origin": ORIGIN, "Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Methods": "*"},
        200,
        "PATCH",
        [],
        True,
        False,
    ),
    (
        {
            "Access-Control-Allow-Origin": ORIGIN,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Methods": "PATCH",
        },
        204,
        "PATCH",
        [],
        True,
        True,
    ),
    ({"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PATCH"}, 400, "PATCH", [], False, False),
    ({"Access-Control-Allow-Origin": "*"}, 200, "POST", ["x-a"], False, False),
    ({"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "X-A"}, 200, "POST", ["x-a"], False, True),
    ({"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "*"}, 200, "POST", ["x-a"], False, True),
    ({"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "*"}, 200, "POST", ["authorization"], False, False),
    ({"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "patch"}, 200, "PATCH", [], False, False),
]


@pytest.mark.parametrize(("headers", "status", "method", "names", "credentials", "allowed"), PREFLIGHT_CHECKS)
def test_preflight_check(
    headers: dict[str, str], status: int, method: str, names: list[str], credentials: bool, allowed: bool
) -> None:
    outcome = preflight(crafted(headers, status), "/", method=method, headers=names, credentials=credentials)
    assert outcome.allowed is allowed, str(outcome)


# (answer headers, credentials, readable)
READABLE = [
    ({"Access-Control-Expose-Headers": "X-A", "X-A": "1", "X-B": "2"}, False, {"x-a", "content-type", "content-length"}),
    (
        {"Access-Control-Expose-Headers": "*", "X-A": "1", "Set-Cookie": "a=b"},
        False,
        {"x-a", "content-type", "content-length", "access-control-expose-headers"},
    ),
    ({"Access-Control-Expose-Headers": "*", "X-A": "1"}, True, {"content-type", "content-length"}),
    ({"Access-Control-Expose-Headers": "set-cookie", "Set-Cookie": "a=b"}, False, {"content-type", "content-length"}),
]


@pytest.mark.parametrize(("headers", "credentials", "readable"), READABLE)
def test_readable_headers(headers: dict[str, str], credentials: bool, readable: set[str]) -> None:
    response = crafted(headers).test_client().get("/")
    assert readable_headers(response, credentials) == readable


@pytest.mark.parametrize(
    ("headers", "names"),
    [
        ({"Accept": "x", "Content-Type": "text/plain; charset=utf-8"}, []),
        ({"Content-Type": "application/json"}, ["content-type"]),
        ({"X-B": "1", "x-a": "2", "Accept-Language": "fr"}, ["x-a", "x-b"]),
    ],
)
def test_unsafe_request_headers(headers: dict[str, str], names: list[str]) -> None:
    assert unsafe_request_headers(headers) == names
