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
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_gravicors import ConfigError, GraviCORS
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
