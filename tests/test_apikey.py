"""The api-key plugin (plugins/gravicors-apikey): the api-key plan, and old configs'
api-key policy, which loads as a plan.

Plans never run on a preflight (Gravitee skips security there: its tests
``should_skip_security_on_preflight_request_when_valid``, its tracker's #825), so
with run_policies on a keyed API's preflight passes without a key and the actual
request without one gets a 401 the browser lets the script read.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from gravicors_apikey import ApiKeySecurity

from conftest import make_app
from flask_gravicors import ConfigError

O = "https://shop.example.com"
CORS = {"enabled": True, "allow_origin": [O], "allow_methods": ["GET", "PUT"], "allow_headers": ["x-gravitee-api-key"]}
GOLD = {"name": "Gold", "security": "api-key", "configuration": {"keys": ["k1", "k2"]}}
FREE = {"name": "Free", "security": "keyless"}


def keyed_app(plans: list[dict[str, Any]], run_policies: bool = False, **api: Any) -> Any:
    return make_app([{"name": "orders", "context_path": "/orders", "cors": {**CORS, "run_policies": run_policies},
                      "plans": plans, **api}])


def legacy_app(run_policies: bool = False, **config: Any) -> Any:
    return make_app([{"name": "orders", "context_path": "/orders", "cors": {**CORS, "run_policies": run_policies},
                      "policies": [{"name": "api-key", "config": {"keys": ["k1", "k2"], **config}}]}])


MISSING = {"message": "Unauthorized: missing API key", "http_status_code": 401}
INVALID = {"message": "Unauthorized: invalid API key", "http_status_code": 401}
UNRESOLVABLE = {"message": "Unauthorized", "http_status_code": 401}

# (id, plans, request headers, query string, status, JSON body or None when the view answered)
ROWS = [
    ("header", [GOLD], {"X-Gravitee-Api-Key": "k1"}, "", 200, None),
    ("header name is case-insensitive", [GOLD], {"x-gravitee-api-key": "k2"}, "", 200, None),
    ("query parameter", [GOLD], {}, "api-key=k1", 200, None),
    ("no key, no keyless plan: plan unresolvable", [GOLD], {}, "", 401, UNRESOLVABLE),
    ("empty header: the plan handles it, key missing", [GOLD], {"X-Gravitee-Api-Key": ""}, "", 401, MISSING),
    ("empty query parameter: key missing", [GOLD], {}, "api-key=", 401, MISSING),
    ("wrong key", [GOLD], {"X-Gravitee-Api-Key": "k3"}, "", 401, INVALID),
    ("keys are case-sensitive", [GOLD], {"X-Gravitee-Api-Key": "K1"}, "", 401, INVALID),
    ("wrong key in the query", [GOLD], {}, "api-key=nope", 401, INVALID),
    ("no key with a keyless plan: keyless", [GOLD, FREE], {}, "", 200, None),
    ("wrong key with a keyless plan: refused, no fall-through", [FREE, GOLD], {"X-Gravitee-Api-Key": "k3"}, "", 401, INVALID),
    ("a plan without keys refuses every key", [{"name": "Imported", "security": "API_KEY"}], {"X-Gravitee-Api-Key": "k1"},
     "", 401, INVALID),
]


@pytest.mark.parametrize(("plans", "headers", "query", "status", "body"), [pytest.param(*r[1:], id=r[0]) for r in ROWS])
def test_plan(plans: list[dict[str, Any]], headers: dict[str, str], query: str, status: int, body: Any) -> None:
    app = keyed_app(plans)
    response = app.test_client().get("/orders/1", query_string=query, headers={"Origin": O, **headers})
    assert response.status_code == status
    # the 401 carries the CORS headers, so a browser script can read it
    assert response.headers["Access-Control-Allow-Origin"] == O
    if body is not None:
        assert response.json == body
        assert not app.view_calls


def test_configurable_header_and_query_parameter() -> None:
    app = keyed_app([{**GOLD, "configuration": {"keys": ["k1"], "header": "X-Api-Key", "query_param": "key"}}])
    client = app.test_client()
    assert client.get("/orders/1", headers={"X-Api-Key": "k1"}).status_code == 200
    assert client.get("/orders/1?key=k1").status_code == 200
    assert client.get("/orders/1", headers={"X-Gravitee-Api-Key": "k1"}).status_code == 401


@pytest.mark.parametrize(("propagate", "seen"), [(False, None), (True, "k1")])
def test_propagate_api_key(propagate: bool, seen: str | None) -> None:
    # Gravitee removes the key header before the backend unless propagateApiKey.
    app = keyed_app([{**GOLD, "configuration": {"keys": ["k1"], "propagateApiKey": propagate}}])

    @app.get("/orders/key")
    def key() -> Any:
        from flask import request

        return {"key": request.headers.get("X-Gravitee-Api-Key")}

    assert app.test_client().get("/orders/key", headers={"X-Gravitee-Api-Key": "k1"}).json == {"key": seen}


PREFLIGHT = {"Origin": O, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-gravitee-api-key"}


@pytest.mark.parametrize("run_policies", [False, True])
@pytest.mark.parametrize("make", [lambda rp: keyed_app([GOLD], rp), legacy_app], ids=["plan", "legacy policy"])
def test_a_preflight_never_needs_a_key(make: Any, run_policies: bool) -> None:
    # The opposite of what the legacy policy did with run_policies on (a 401 on every
    # preflight): Gravitee's security skip, and the reason for its switch (#825).
    app = make(run_policies)
    response = app.test_client().options("/orders/1", headers=PREFLIGHT)
    assert (response.status_code, response.headers["Access-Control-Allow-Methods"]) == (200, "GET, PUT")
    actual = app.test_client().put("/orders/1", headers={"Origin": O})
    assert (actual.status_code, actual.headers["Access-Control-Allow-Origin"]) == (401, O)


def test_legacy_policy_loads_as_a_plan_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="flask_gravicors"):
        app = legacy_app()
    (message,) = [r.getMessage() for r in caplog.records if "gravicors.W010" in r.getMessage()]
    assert "policies[0] is plan 'api-key'" in message and "never on a preflight" in message
    api = app.extensions["gravicors"]._middlewares[app].runtime.apis[0]
    assert [(p.name, type(p.security)) for p in api.plans] == [("api-key", ApiKeySecurity)]
    assert api.flows.flows == ()
    client = app.test_client()
    assert client.get("/orders/1", headers={"X-Gravitee-Api-Key": "k2"}).status_code == 200
    assert client.get("/orders/1").json == UNRESOLVABLE


def test_legacy_policy_as_a_flow_step_still_checks_keys() -> None:
    app = make_app([{"name": "orders", "context_path": "/orders",
                     "flows": [{"request": [{"policy": "api-key", "configuration": {"keys": ["k1"]}}]}]}])
    assert app.test_client().get("/orders/1").json == MISSING
    assert app.test_client().get("/orders/1?api-key=k1").status_code == 200


@pytest.mark.parametrize(
    ("api", "path"),
    [
        ({"policies": [{"name": "api-key", "config": {}}]}, "apis[0].policies[0].config.keys"),
        ({"policies": [{"name": "api-key", "config": {"keys": []}}]}, "apis[0].policies[0].config.keys"),
        ({"policies": [{"name": "api-key", "config": {"keys": [""]}}]}, "apis[0].policies[0].config.keys[0]"),
        ({"plans": [{**GOLD, "configuration": {"keys": ["k"], "header": "bad header"}}]},
         "apis[0].plans[0].configuration.header"),
        ({"plans": [{**GOLD, "configuration": {"keys": ["k"], "colour": "red"}}]}, "apis[0].plans[0].configuration.colour"),
        ({"plans": [{**GOLD, "configuration": {"keys": [""]}}]}, "apis[0].plans[0].configuration.keys[0]"),
    ],
)
def test_config_errors(api: dict[str, Any], path: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_app([{"name": "orders", "context_path": "/orders", **api}])
    assert [p.path for p in caught.value.problems] == [path]


@pytest.mark.parametrize(
    ("gravitee", "ours"),
    [
        ({"propagateApiKey": False}, {"propagate_api_key": False}),
        ({"propagateApiKey": True, "enableCustomApiKeyHeader": True, "apiKeyHeader": "X-Key"},
         {"propagate_api_key": True, "header": "X-Key"}),
    ],
)
def test_gravitee_translation(gravitee: dict[str, Any], ours: dict[str, Any]) -> None:
    assert ApiKeySecurity.from_gravitee(gravitee) == ours
    assert ApiKeySecurity.from_gravitee(ApiKeySecurity.to_gravitee(ours)) == ours
    with pytest.raises(ValueError, match="extractPayload"):
        ApiKeySecurity.from_gravitee({"extractPayload": True})


# --- Strict types in the plugin's schemas (review finding 11), as the core's (flask_gravicors.strict) ---


def loaded_plan(configuration: Any) -> dict[str, Any]:
    """The plan's configuration as GraviCORS loads it (the installed plugins, no app)."""
    from flask_gravicors import GraviCORS

    plan = {"name": "Gold", "security": "api-key", "configuration": configuration}
    return GraviCORS().load({"apis": [{"name": "orders", "context_path": "/orders", "plans": [plan]}]})["apis"][0]["plans"][0]


# (id, api fields, path of the one E003); a secret key never appears in the message.
STRICT_TYPES = [
    ("a set of keys", {"plans": [{**GOLD, "configuration": {"keys": {"k1"}}}]}, "apis[0].plans[0].configuration.keys"),
    ("one string for the keys", {"plans": [{**GOLD, "configuration": {"keys": "k1"}}]}, "apis[0].plans[0].configuration.keys"),
    ("bytes for a key", {"plans": [{**GOLD, "configuration": {"keys": [b"s3cret"]}}]}, "apis[0].plans[0].configuration.keys[0]"),
    ("1.0 for propagate_api_key", {"plans": [{**GOLD, "configuration": {"keys": ["k"], "propagate_api_key": 1.0}}]},
     "apis[0].plans[0].configuration.propagate_api_key"),
    ('"false" for propagate_api_key', {"plans": [{**GOLD, "configuration": {"keys": ["k"], "propagate_api_key": "false"}}]},
     "apis[0].plans[0].configuration.propagate_api_key"),
    ("1 for Gravitee's propagateApiKey", {"plans": [{**GOLD, "configuration": {"keys": ["k"], "propagateApiKey": 1}}]},
     "apis[0].plans[0].configuration.propagate_api_key"),
    ("bytes for the header", {"plans": [{**GOLD, "configuration": {"keys": ["k"], "header": b"X-Key"}}]},
     "apis[0].plans[0].configuration.header"),
    ("a number for the query parameter", {"plans": [{**GOLD, "configuration": {"keys": ["k"], "query_param": 5}}]},
     "apis[0].plans[0].configuration.query_param"),
    ("legacy policy: a set of keys", {"policies": [{"name": "api-key", "config": {"keys": {"k1"}}}]}, "apis[0].policies[0].config.keys"),
    ("legacy policy: bytes for a key", {"policies": [{"name": "api-key", "config": {"keys": [b"s3cret"]}}]},
     "apis[0].policies[0].config.keys[0]"),
]


@pytest.mark.parametrize(("api", "path"), [pytest.param(*r[1:], id=r[0]) for r in STRICT_TYPES])
def test_config_types_are_strict(api: dict[str, Any], path: str) -> None:
    from flask_gravicors import GraviCORS

    with pytest.raises(ConfigError) as caught:
        GraviCORS().load({"apis": [{"name": "orders", "context_path": "/orders", **api}]})
    assert [(p.path, p.id) for p in caught.value.problems] == [(path, "gravicors.E003")]
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    ("configuration", "propagate"),
    [({"keys": ["k"]}, False), ({"keys": ["k"], "propagateApiKey": True}, True), ({"keys": ("k",), "propagate_api_key": True}, True)],
)
def test_gravitee_spelling_and_tuples_still_load(configuration: dict[str, Any], propagate: bool) -> None:
    assert loaded_plan(configuration)["configuration"]["propagate_api_key"] is propagate


@pytest.mark.parametrize(
    ("gravitee", "error"),
    [
        ({"enableCustomApiKeyHeader": "false", "apiKeyHeader": "X-Key"}, "enableCustomApiKeyHeader"),
        ({"enableCustomApiKeyHeader": 1, "apiKeyHeader": "X-Key"}, "enableCustomApiKeyHeader"),
    ],
)
def test_gravitee_translation_checks_types(gravitee: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        ApiKeySecurity.from_gravitee(gravitee)


def test_gravitee_flags_go_to_the_schema_as_written() -> None:
    # Not bool()-ed: "false" would have become true. The schema refuses it.
    assert ApiKeySecurity.from_gravitee({"propagateApiKey": "false"}) == {"propagate_api_key": "false"}
    assert ApiKeySecurity.from_gravitee({"propagateApiKey": None}) == {"propagate_api_key": False}
