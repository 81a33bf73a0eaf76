"""Gravitee definitions (flask_gravicors.gravitee): a v2 gateway definition, a v4
gateway definition and a v4 export of the same API load, behave as their Gravitee
meaning says, and survive dump_definition; what cannot be translated is named.

The fixtures (tests/fixtures/gravitee/) were written for these tests from the
shapes of Gravitee's definition model (io.gravitee.definition.model and .v4): one
``orders`` API with CORS (runPolicies on), an api-key plan Gold, a keyless plan
Free whose flow limits PUTs, an API flow limiting writes, and a response template
answering a failed preflight 412.
"""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_gravicors import ConfigError, GraviCORS, Policy, hookimpl
from flask_gravicors.checks import MAX_DEPTH
from flask_gravicors.gravitee import context_path, dump_definition, load_definition, version_of

FIXTURES = Path(__file__).parent / "fixtures" / "gravitee"
NAMES = ["v2-orders", "v4-orders", "v4-export-orders"]
KEYS = {"Gold": ["k1", "k2"]}
SHOP = "https://shop.example.com"
PLUGINS = GraviCORS()


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def app_of(api: dict[str, Any]) -> Flask:
    app = Flask(__name__)
    for rule in ("/orders", "/orders/<path:rest>"):
        app.add_url_rule(rule, rule, lambda rest="": {"ok": True}, methods=["GET", "POST", "PUT"])
    GraviCORS(app, apis=[api])
    return app


@pytest.mark.parametrize("name", NAMES)
def test_versions_are_told_apart(name: str) -> None:
    assert version_of(fixture(name)) == {"v2-orders": "v2", "v4-orders": "v4", "v4-export-orders": "v4-export"}[name]


def pre(origin: str, method: str = "PUT") -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": "x-gravitee-api-key"}


KEY = {"X-Gravitee-Api-Key": "k1"}

# Requests made in turn against one app; (id, method, path, headers, status, Access-Control-Allow-Origin, body part)
BEHAVIOUR = [
    ("valid preflight, no key: security skipped (runPolicies on)", "OPTIONS", "/orders/1", pre(SHOP), 200, SHOP, ""),
    ("the write limit is a POST/PUT flow: it does not count preflights", "OPTIONS", "/orders/1", pre(SHOP), 200, SHOP, ""),
    ("wildcard origin from allowOrigin", "OPTIONS", "/orders/1", pre("https://eu.partner.example.org"), 200,
     "https://eu.partner.example.org", ""),
    ("failed preflight: the CORS_PREFLIGHT_FAILED template", "OPTIONS", "/orders/1", pre("https://evil.example.net"), 412,
     None, "Custom CORS error message"),
    ("no key: the keyless plan", "GET", "/orders/1", {"Origin": SHOP}, 200, SHOP, "ok"),
    ("right key: Gold", "GET", "/orders/1", {"Origin": SHOP, **KEY}, 200, SHOP, "ok"),
    ("wrong key: the API_KEY_INVALID template, readable cross-origin", "GET", "/orders/1",
     {"Origin": SHOP, "X-Gravitee-Api-Key": "nope", "Accept": "application/json"}, 403, SHOP, "unknown key"),
    ("a write", "POST", "/orders", {"Origin": SHOP, **KEY}, 200, SHOP, "ok"),
    ("a second write", "POST", "/orders", {"Origin": SHOP, **KEY}, 200, SHOP, "ok"),
    ("a third write in the minute: 429, readable", "POST", "/orders", {"Origin": SHOP, **KEY}, 429, SHOP, "Rate limit"),
    ("outside the API: untouched", "GET", "/other", {"Origin": SHOP}, 404, None, ""),
]


@pytest.mark.parametrize("name", NAMES)
def test_behaves_as_in_gravitee(name: str) -> None:
    app = app_of(load_definition(fixture(name), KEYS, gravicors=PLUGINS))
    client = app.test_client()
    for row, method, path, headers, status, acao, body in BEHAVIOUR:
        response = client.open(path, method=method, headers=headers)
        assert (response.status_code, response.headers.get("Access-Control-Allow-Origin")) == (status, acao), row
        assert body in response.get_data(as_text=True), row
    # Free's own flow (a plan flow): one PUT an hour without a key, none more; Gold's
    # consumers are not limited by it.
    client = app_of(load_definition(fixture(name), KEYS, gravicors=PLUGINS)).test_client()
    assert [client.put("/orders/2", headers={"Origin": SHOP}).status_code for _ in range(2)] == [200, 429]
    assert client.put("/orders/2", headers=KEY).status_code == 200


@pytest.mark.parametrize("name", NAMES)
def test_round_trip_through_dump_definition(name: str) -> None:
    loaded = load_definition(fixture(name), KEYS, gravicors=PLUGINS)
    dumped = dump_definition(loaded, gravicors=PLUGINS)
    again = load_definition(json.loads(json.dumps(dumped)), KEYS, gravicors=PLUGINS)
    assert PLUGINS.load({"apis": [again]}) == PLUGINS.load({"apis": [loaded]})
    # the export carries no key (Gravitee keeps keys in subscriptions)
    assert "k1" not in json.dumps(dumped)


def test_dump_is_a_v4_export() -> None:
    api = {
        "name": "orders", "context_path": "/orders", "entrypoints": ["http-proxy", "sse"],
        "cors": {"enabled": True, "allow_origin": [SHOP], "dynamic_origins": True, "run_policies": True},
        "plans": [{"name": "Gold", "security": "api-key", "configuration": {"keys": ["k1"]}}, {"name": "Free", "security": "keyless"}],
        "flows": [{"name": "f", "request": [{"policy": "rate-limit", "configuration": {"limit": 5, "period": "30s"}}]}],
        "response_templates": {"DEFAULT": {"*/*": {"status": 500}}},
    }
    dumped = dump_definition(api, gravicors=PLUGINS)
    export = dumped["api"]
    assert (export["definitionVersion"], export["type"]) == ("V4", "PROXY")
    (listener,) = export["listeners"]
    assert listener["type"] == "HTTP" and listener["paths"] == [{"path": "/orders/"}]
    assert [e["type"] for e in listener["entrypoints"]] == ["http-proxy", "sse"]
    assert listener["cors"]["allowOrigin"] == [SHOP] and listener["cors"]["runPolicies"] is True
    assert listener["cors"]["gravicors"] == {"dynamic_origins": True}
    assert [(p["name"], p["security"]["type"]) for p in dumped["plans"]] == [("Gold", "API_KEY"), ("Free", "KEY_LESS")]
    step = export["flows"][0]["request"][0]
    assert step["configuration"]["rate"] == {"limit": 5, "periodTime": 30, "periodTimeUnit": "SECONDS", "key": ""}
    assert export["flows"][0]["selectors"] == [{"type": "HTTP", "path": "/", "pathOperator": "STARTS_WITH", "methods": []}]
    assert export["responseTemplates"] == {"DEFAULT": {"*/*": {"status": 500, "body": "", "headers": {}, "propagateErrorKeyToLogs": False}}}
    assert PLUGINS.load({"apis": [load_definition(dumped, {"Gold": ["k1"]}, gravicors=PLUGINS)]}) == PLUGINS.load({"apis": [api]})


def test_a_blueprint_api_cannot_be_dumped() -> None:
    with pytest.raises(ConfigError) as caught:
        dump_definition({"name": "a", "blueprint": "shop"}, gravicors=PLUGINS)
    assert caught.value.ids == {"gravicors.E080"}


def test_without_keys_an_api_key_plan_refuses_every_key() -> None:
    api = load_definition(fixture("v4-export-orders"), gravicors=PLUGINS)
    assert api["plans"][0]["configuration"]["keys"] == []
    client = app_of(api).test_client()
    assert client.get("/orders/1", headers={"X-Gravitee-Api-Key": "k1"}).status_code == 401
    assert client.get("/orders/1").status_code == 200  # keyless


@pytest.mark.parametrize(("raw", "expected"), [("/orders/", "/orders"), ("/orders", "/orders"), ("/", "/"), ("/a/b//", "/a/b")])
def test_context_paths_are_normalised(raw: str, expected: str) -> None:
    assert context_path(raw) == expected


def edit(name: str, change: Any) -> dict[str, Any]:
    data = copy.deepcopy(fixture(name))
    change(data)
    return data


def v2_el(data: dict[str, Any]) -> None:
    data["flows"][0]["condition"] = "#request.headers['content-type'] == 'application/json'"
    data["flows"][0]["pre"][0]["condition"] = "{#request.method == 'POST'}"
    data["plans"][0]["selectionRule"] = "#context.attributes['jwt'] != null"


def v2_untranslatable(data: dict[str, Any]) -> None:
    data["proxy"]["virtual_hosts"] = [{"path": "/orders"}, {"path": "/orders-v2", "host": "api.example.com"}]
    data["plans"][2]["status"] = "PUBLISHED"  # an OAUTH2 plan, deployed
    data["flows"][0]["pre"].append({"name": "t", "policy": "transform-headers", "configuration": {}})
    data["flow_mode"] = "BEST_MATCH"


def v4_untranslatable(data: dict[str, Any]) -> None:
    data["listeners"].append({"type": "tcp", "hosts": ["x"]})
    data["flowExecution"] = {"mode": "best-match", "matchRequired": True}
    data["flows"][0]["selectors"].append({"type": "condition", "condition": "{#request.headers['x'] != null}"})
    data["flows"][0]["request"][0]["configuration"]["rate"]["periodTimeUnit"] = "MONTHS"
    data["plans"]["free-id"]["mode"] = "push"


def export_untranslatable(data: dict[str, Any]) -> None:
    data["api"]["type"] = "NATIVE"
    data["api"]["flows"][0]["subscribe"] = [{"policy": "rate-limit"}]
    data["plans"][2]["security"]["configuration"]["followRedirects"] = True


# (id, definition, keys, [(path, rule id)])
REFUSED = [
    ("v2 EL", edit("v2-orders", v2_el), KEYS, [
        ("flows[0].condition", "gravicors.E017"),
        ("flows[0].pre[0].condition", "gravicors.E017"),
        ("plans[0].selectionRule", "gravicors.E017"),
    ]),
    ("v2 untranslatable", edit("v2-orders", v2_untranslatable), KEYS, [
        ("proxy.virtual_hosts", "gravicors.E080"),
        ("proxy.virtual_hosts[1].host", "gravicors.E080"),
        ("plans[2].security", "gravicors.E080"),
        ("flows[0].pre[1].policy", "gravicors.E080"),
        ("flow_mode", "gravicors.E080"),
    ]),
    ("v4 untranslatable", edit("v4-orders", v4_untranslatable), KEYS, [
        ("listeners[1].type", "gravicors.E080"),
        ("flowExecution.mode", "gravicors.E080"),
        ("flowExecution.matchRequired", "gravicors.E080"),
        ("flows[0].selectors[1].condition", "gravicors.E017"),
        ("flows[0].request[0].configuration", "gravicors.E080"),
        ("plans.free-id.mode", "gravicors.E080"),
    ]),
    ("export untranslatable", edit("v4-export-orders", export_untranslatable), KEYS, [
        ("api.type", "gravicors.E080"),
        ("api.flows[0].subscribe", "gravicors.E080"),
        ("plans[2].security", "gravicors.E080"),
    ]),
    ("keys for a plan that is not there", fixture("v4-orders"), {"Gold": ["k1"], "Platinum": ["p1"]}, [("keys", "gravicors.E080")]),
    ("keys for a keyless plan", fixture("v4-orders"), {"Free": ["k1"]}, [("keys", "gravicors.E080")]),
]


@pytest.mark.parametrize(("definition", "keys", "expected"), [pytest.param(*r[1:], id=r[0]) for r in REFUSED])
def test_untranslatable_parts_are_all_named(definition: dict[str, Any], keys: Any, expected: list[tuple[str, str]]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_definition(definition, keys, gravicors=PLUGINS)
    assert sorted((p.path, p.id) for p in caught.value.problems) == sorted(expected)


def test_the_translation_is_validated_as_init_app_would() -> None:
    data = fixture("v4-orders")
    data["listeners"][0]["cors"]["allowOrigin"] = ["*"]  # with allowCredentials: refused (E023)
    with pytest.raises(ConfigError) as caught:
        load_definition(data, KEYS, gravicors=PLUGINS)
    assert [(p.path, p.id) for p in caught.value.problems] == [("apis[0].cors.allowOrigin[0]", "gravicors.E023")]


def test_not_a_definition() -> None:
    with pytest.raises(ConfigError) as caught:
        load_definition([1, 2], gravicors=PLUGINS)  # type: ignore[arg-type]
    assert caught.value.ids == {"gravicors.E004"}


# --- Malformed definitions: one ConfigError, never another exception (review finding 5) ---


def v4(**fields: Any) -> dict[str, Any]:
    return {"definitionVersion": "V4", "name": "x", "listeners": [{"type": "http", "paths": [{"path": "/x"}]}], **fields}


def v2(**fields: Any) -> dict[str, Any]:
    return {"name": "x", "proxy": {"context_path": "/x"}, **fields}


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def selector(**fields: Any) -> dict[str, Any]:
    return {"selectors": [{"type": "http", "path": "/a", **fields}]}


def jwt_plan(**configuration: Any) -> dict[str, Any]:
    return {"name": "j", "security": {"type": "JWT", "configuration": {"signature": "RSA_RS256", **configuration}}}


class Broken(Policy):
    """A third-party policy whose translation fails as no ValueError."""

    name = "broken"

    @classmethod
    def from_gravitee(cls, configuration: Any) -> dict[str, Any]:
        return {"limit": configuration["limit"]}  # KeyError


class BrokenPlugin:
    @hookimpl
    def gravicors_register_policies(self) -> list[type[Policy]]:
        return [Broken]


def step(policy: str = "rate-limit", **fields: Any) -> dict[str, Any]:
    return {"policy": policy, "configuration": {"rate": {"limit": 1}}, **fields}


# (id, definition, keys, [(path, rule id)]): the reviewer's cases first, then their kin.
MALFORMED: list[tuple[str, Any, Any, list[tuple[str, str]]]] = [
    ("v2 virtual_hosts a number", v2(proxy={"virtual_hosts": 5}), None, [("proxy.virtual_hosts", "gravicors.E003")]),
    ("v2 paths a list", v2(paths=["a"]), None, [("paths", "gravicors.E003")]),
    ("v4 path a list", {**v4(), "listeners": [{"type": "http", "paths": [{"path": ["/x"]}]}]}, None,
     [("listeners[0].paths[0].path", "gravicors.E003")]),
    ("v4 path a number", {**v4(), "listeners": [{"type": "http", "paths": [{"path": 5}]}]}, None,
     [("listeners[0].paths[0].path", "gravicors.E003")]),
    ("selector methods a number", v4(flows=[selector(methods=5)]), None, [("flows[0].selectors[0].methods", "gravicors.E003")]),
    ("selector methods mixed", v4(flows=[selector(methods=[1, "GET"])]), None,
     [("flows[0].selectors[0].methods[0]", "gravicors.E003")]),
    # Gravitee's JSON reader fills its set of methods from an array only: "POST" is refused, not ["P", "O", "S", "T"].
    ("selector methods one string", v4(flows=[{**selector(methods="POST"), "request": [step()]}]), None,
     [("flows[0].selectors[0].methods", "gravicors.E003")]),
    ("v2 flow methods one string", v2(flows=[{"methods": "POST", "pre": [step()]}]), None, [("flows[0].methods", "gravicors.E003")]),
    ("selector pathOperator a list", v4(flows=[selector(pathOperator=["EQUALS"])]), None,
     [("flows[0].selectors[0].pathOperator", "gravicors.E003")]),
    ("listener cors.gravicors a list", {**v4(), "listeners": [{"type": "http", "paths": [{"path": "/x"}], "cors": {"gravicors": [1, 2]}}]},
     None, [("listeners[0].cors.gravicors", "gravicors.E003")]),
    ("listener cors a string", {**v4(), "listeners": [{"type": "http", "paths": [{"path": "/x"}], "cors": "on"}]}, None,
     [("listeners[0].cors", "gravicors.E003")]),
    ("entrypoint type a number", {**v4(), "listeners": [{"type": "http", "paths": [{"path": "/x"}], "entrypoints": [{"type": 5}]}]},
     None, [("listeners[0].entrypoints[0].type", "gravicors.E003")]),
    ("JWT connectTimeout null", v4(plans=[jwt_plan(connectTimeout=None)]), None, [("plans[0].security", "gravicors.E080")]),
    ("JWT requestTimeout a string", v4(plans=[jwt_plan(requestTimeout="2000")]), None, [("plans[0].security", "gravicors.E080")]),
    ("JWT gravicors a list", v4(plans=[jwt_plan(gravicors=[1])]), None, [("plans[0].security", "gravicors.E080")]),
    ("rate-limit periodTime a list", v4(flows=[{"request": [{"policy": "rate-limit", "configuration": {"rate": {"limit": 1, "periodTime": [1]}}}]}]),
     None, [("flows[0].request[0].configuration", "gravicors.E080")]),
    ("rate-limit periodTimeUnit a number", v4(flows=[{"request": [{"policy": "rate-limit", "configuration": {"rate": {"limit": 1, "periodTimeUnit": 5}}}]}]),
     None, [("flows[0].request[0].configuration", "gravicors.E080")]),
    ("api-key enableCustomApiKeyHeader a string", v2(plans=[{"name": "p", "security": "API_KEY",
     "securityDefinition": '{"enableCustomApiKeyHeader": "false", "apiKeyHeader": "X-K"}'}]), None, [("plans[0].security", "gravicors.E080")]),
    ("a plugin's translation raising a KeyError", v4(flows=[{"request": [{"policy": "broken", "configuration": {}}]}]), None,
     [("flows[0].request[0].configuration", "gravicors.E015")]),
    # The JSON reader recurses: 30 000 levels fit the string bound and exhaust it; 100 000 do not fit.
    ("securityDefinition nested 30 000 levels", v2(plans=[{"name": "p", "security": "KEY_LESS",
     "securityDefinition": "[" * 30_000 + "]" * 30_000}]), None, [("plans[0].securityDefinition", "gravicors.E006")]),
    ("securityDefinition nested 100 000 levels", v2(plans=[{"name": "p", "security": "KEY_LESS",
     "securityDefinition": "[" * 100_000 + "]" * 100_000}]), None, [("plans[0].securityDefinition", "gravicors.E006")]),
    ("securityDefinition nested 40 levels", v2(plans=[{"name": "p", "security": "KEY_LESS",
     "securityDefinition": json.dumps({"a": nested(40)})}]), None,
     [("plans[0].securityDefinition.a" + "[0]" * (MAX_DEPTH - 1), "gravicors.E006")]),
    ("securityDefinition a JSON list", v2(plans=[{"name": "p", "security": "API_KEY", "securityDefinition": "[1,2]"}]), None,
     [("plans[0].securityDefinition", "gravicors.E003")]),
    ("a definition nested 100 000 levels", v4(flows=nested(100_000)), None, [("flows" + "[0]" * (MAX_DEPTH - 1), "gravicors.E006")]),
    ("flowExecution a string", v4(flowExecution="x"), None, [("flowExecution", "gravicors.E003")]),
    ("flowExecution.matchRequired a string", v4(flowExecution={"matchRequired": "false"}), None,
     [("flowExecution.matchRequired", "gravicors.E003")]),
    ("listeners a string", {"definitionVersion": "V4", "name": "x", "listeners": "http"}, None,
     [("listeners", "gravicors.E003")]),
    ("v4 plan security a string", v4(plans=[{"name": "p", "security": "KEY_LESS"}]), None, [("plans[0].security", "gravicors.E003")]),
    ("plans a string", v4(plans="KEY_LESS"), None, [("plans", "gravicors.E003")]),
    ("a plan a number", v4(plans=[5]), None, [("plans[0]", "gravicors.E003")]),
    ("plan status a number", v4(plans=[{"name": "p", "security": {"type": "KEY_LESS"}, "status": 5}]), None,
     [("plans[0].status", "gravicors.E003")]),
    ("plan flows an object", v4(plans=[{"name": "p", "security": {"type": "KEY_LESS"}, "flows": {}}]), None,
     [("plans[0].flows", "gravicors.E003")]),
    ("a flow a string", v4(flows=["f"]), None, [("flows[0]", "gravicors.E003")]),
    ("a step a number", v4(flows=[{"request": [5]}]), None, [("flows[0].request[0]", "gravicors.E003")]),
    # A condition that is no string is no missing condition: it would run the step everywhere.
    ("step condition a number", v4(flows=[{"request": [step(condition=5)]}]), None,
     [("flows[0].request[0].condition", "gravicors.E003")]),
    ("condition selector holding a number", v4(flows=[{"selectors": [{"type": "condition", "condition": 5}]}]), None,
     [("flows[0].selectors[0].condition", "gravicors.E017")]),
    ("responseTemplates a list", v4(responseTemplates=[{"status": 400}]), None, [("responseTemplates", "gravicors.E003")]),
    ("a template a string", v4(responseTemplates={"X": {"*/*": "400"}}), None, [("responseTemplates.X.*/*", "gravicors.E003")]),
    ("flow_mode a number", v2(flow_mode=1), None, [("flow_mode", "gravicors.E003")]),
    ("definitionVersion an integer of 5 000 digits", {"definitionVersion": 10**5000, **v2(proxy={"virtual_hosts": 5})}, None,
     [("proxy.virtual_hosts", "gravicors.E003")]),
    ("keys one string", v2(plans=[{"name": "p", "security": "API_KEY"}]), {"p": "k1"}, [("keys.p", "gravicors.E003")]),
    ("keys a list", v2(), ["p"], [("keys", "gravicors.E003")]),
    ("plan name a list, with keys", v2(plans=[{"name": ["p"], "security": "API_KEY"}]), {"p": ["k1"]}, [("keys", "gravicors.E080")]),
]


@pytest.mark.parametrize(("definition", "keys", "expected"), [pytest.param(*r[1:], id=r[0]) for r in MALFORMED])
def test_malformed_definitions_are_one_config_error(definition: Any, keys: Any, expected: list[tuple[str, str]]) -> None:
    plugins = GraviCORS(plugins=[BrokenPlugin()])
    with pytest.raises(ConfigError) as caught:
        load_definition(definition, keys, gravicors=plugins)
    assert sorted((p.path, p.id) for p in caught.value.problems) == sorted(expected)


@pytest.mark.parametrize(("methods", "expected"), [(["post", "GET"], ["GET", "POST"]), ([], []), (None, [])])
def test_selector_methods_are_a_list(methods: Any, expected: list[str]) -> None:
    # Gravitee reads its enums case-insensitively; a missing list selects every method.
    api = load_definition(v4(flows=[{**selector(methods=methods), "request": [step()]}]), gravicors=PLUGINS)
    assert PLUGINS.load({"apis": [api]})["apis"][0]["flows"][0]["selectors"][0]["methods"] == expected


# Random JSON, and JSON shaped like each kind of definition: with random JSON
# anywhere (noisy), or only with values Gravitee writes, translatable or not (clean).
LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
VALUES = st.recursive(
    LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8
)


def definitions(noisy: bool) -> Any:
    """v2 definitions, v4 definitions and v4 exports."""

    def either(choice: Any) -> Any:
        """``choice`` (a strategy or a plain value); when noisy, sometimes any JSON value."""
        strategy = choice if isinstance(choice, st.SearchStrategy) else st.just(choice)
        return st.one_of(strategy, strategy, strategy, strategy, VALUES) if noisy else strategy

    def shaped(fields: dict[str, Any], required: tuple[str, ...] = ()) -> Any:
        """An object with some of ``fields`` (those ``required`` always), each ``either`` its strategy."""
        given = {name: either(strategy) for name, strategy in fields.items()}
        optional = {name: value for name, value in given.items() if name not in required}
        return either(st.fixed_dictionaries({name: given[name] for name in required}, optional=optional))

    def listed(strategy: Any) -> Any:
        return st.lists(strategy, max_size=3)

    methods = listed(st.sampled_from(["GET", "post", "PUT", "OPTIONS", "BREW"])) | st.sampled_from(["POST", "GET"])
    rate = shaped(
        {"limit": st.integers(0, 5), "periodTime": st.integers(0, 3), "periodTimeUnit": st.sampled_from(["SECONDS", "MONTHS"])}
    )
    configurations = st.one_of(
        shaped(
            {"rate": rate, "addHeaders": st.booleans(), "gravicors": shaped({"key": "api-key", "timeout": 1})}, required=("rate",)
        ),
        shaped({"propagateApiKey": st.booleans(), "enableCustomApiKeyHeader": st.booleans(), "apiKeyHeader": "X-Key"}),
        shaped(
            {
                "signature": st.sampled_from(["HMAC_HS256", "RSA_RS256"]),
                "resolverParameter": "s" * 32,
                "connectTimeout": st.integers(-1, 5000),
                "requestTimeout": st.integers(0, 20000),
                "followRedirects": st.booleans(),
            },
            required=("resolverParameter",),
        ),
    )
    steps = shaped(
        {
            "policy": st.sampled_from(["rate-limit", "rate-limit", "api-key", "nope", "broken"]),
            "configuration": configurations | st.builds(json.dumps, configurations),
            "enabled": st.booleans(),
            "condition": st.sampled_from(["", "", "{#true}"]),
            "name": "s",
        },
        required=("policy",),
    )
    # Mostly what translates; sometimes what does not (as Gravitee writes it).
    security = st.sampled_from(["API_KEY", "KEY_LESS", "key-less", "JWT", "KEY_LESS", "OAUTH2"])
    status = st.sampled_from(["PUBLISHED", "PUBLISHED", "STAGING", "deprecated"])
    cors = shaped(
        {
            "enabled": st.booleans(),
            "allowOrigin": listed(st.sampled_from(["*", "https://a.example"])),
            "allowCredentials": st.booleans(),
            "maxAge": st.integers(-2, 10),
            "gravicors": shaped({"run_policies": st.booleans()}),
        }
    )
    flows_v2 = shaped(
        {
            "path-operator": shaped(
                {"path": st.sampled_from(["/", "/a"]), "operator": st.sampled_from(["EQUALS", "STARTS_WITH"])}
            ),
            "methods": methods,
            "pre": listed(steps),
            "post": listed(steps),
            "condition": "",
            "enabled": st.booleans(),
        }
    )
    flows_v4 = shaped(
        {
            "selectors": listed(
                shaped(
                    {
                        "type": st.sampled_from(["http", "HTTP", "condition", "channel"]),
                        "path": "/a",
                        "pathOperator": "EQUALS",
                        "methods": methods,
                    },
                    required=("type",),
                )
            ),
            "request": listed(steps),
            "response": listed(steps),
            "subscribe": listed(steps),
            "enabled": st.booleans(),
        }
    )
    templates = st.dictionaries(
        st.sampled_from(["DEFAULT", "API_KEY_INVALID"]),
        st.dictionaries(
            st.sampled_from(["*/*"]), shaped({"status": st.integers(100, 600), "body": "b", "headers": shaped({"X-A": "b"})})
        ),
        max_size=2,
    )
    v2 = shaped(
        {
            "name": st.sampled_from(["orders", "shop"]),
            "gravitee": "2.0.0",
            "flow_mode": st.sampled_from(["DEFAULT", "BEST_MATCH"]),
            "proxy": shaped(
                {
                    "virtual_hosts": listed(
                        shaped({"path": st.sampled_from(["/o", "/o/"]), "host": st.sampled_from(["", "", "", "h"])})
                    ),
                    "context_path": "/o",
                    "cors": cors,
                }
            ),
            "flows": listed(flows_v2),
            "paths": st.dictionaries(st.just("/"), listed(shaped({"methods": methods}))),
            "response_templates": templates,
            "plans": listed(
                shaped(
                    {
                        "name": st.sampled_from(["Gold", "Free"]),
                        "security": security,
                        "status": status,
                        "flows": listed(flows_v2),
                        "securityDefinition": st.builds(json.dumps, configurations) | st.sampled_from(["[" * 5000, "{", ""]),
                        "selectionRule": st.sampled_from(["", "{#x}"]),
                    },
                    required=("name", "security"),
                )
            ),
        },
        required=("name", "proxy"),
    )
    plans_v4 = listed(
        shaped(
            {
                "name": st.sampled_from(["Gold", "Free"]),
                "security": shaped({"type": security, "configuration": configurations}, required=("type",)),
                "status": status,
                "mode": st.sampled_from(["STANDARD", "PUSH"]),
                "flows": listed(flows_v4),
            },
            required=("name", "security"),
        )
    )
    api_v4 = {
        "definitionVersion": st.sampled_from(["V4", "4.0.0"]),
        "name": st.sampled_from(["orders", "shop"]),
        "type": st.sampled_from(["PROXY", "proxy", "NATIVE"]),
        "listeners": listed(
            shaped(
                {
                    "type": st.sampled_from(["http", "HTTP", "http", "tcp"]),
                    "paths": listed(
                        shaped(
                            {"path": st.sampled_from(["/o", "/o/", "/o", "/"]), "host": st.sampled_from(["", "", "", "h"])},
                            required=("path",),
                        )
                    ),
                    "entrypoints": listed(shaped({"type": st.sampled_from(["http-proxy", "sse"])}, required=("type",))),
                    "cors": cors,
                },
                required=("type", "paths"),
            )
        ),
        "flowExecution": shaped({"mode": st.sampled_from(["DEFAULT", "BEST_MATCH"]), "matchRequired": st.booleans()}),
        "flows": listed(flows_v4),
        "responseTemplates": templates,
    }
    by_id = st.dictionaries(st.text(max_size=4), plans_v4.map(lambda p: p[0] if p else {}), max_size=2)
    v4 = shaped({**api_v4, "plans": plans_v4 | by_id}, required=("definitionVersion", "name", "listeners"))
    export = st.fixed_dictionaries({"api": shaped(api_v4, required=("name", "listeners"))}, optional={"plans": either(plans_v4)})
    return st.one_of(v2, v4, export)


FUZZ_PLUGINS = GraviCORS(plugins=[BrokenPlugin()])


@settings(
    max_examples=400,
    # A functional bound, far above the milliseconds one example takes: an input that
    # made the translation slow (a deep walk, a quadratic pass) would exceed it. Not a measurement.
    deadline=datetime.timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(
    data=st.one_of(VALUES, definitions(noisy=True), definitions(noisy=False)),
    keys=st.none() | VALUES | st.dictionaries(st.sampled_from(["Gold", "Free"]), st.lists(st.sampled_from(["k1", ""]))),
)
def test_fuzzed_definitions_raise_only_config_error_quickly(data: Any, keys: Any) -> None:
    try:
        api = load_definition(data, keys, gravicors=FUZZ_PLUGINS, strict_keys=False)
    except ConfigError as err:
        assert err.problems and str(err).encode("utf-8")  # every problem prints on any terminal
        return
    assert FUZZ_PLUGINS.load({"apis": [api]})["apis"][0]["name"] == api["name"]
