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
from flask import Flask, request
from gravicors_apikey import ApiKeySecurity

from flask_gravicors import ConfigError
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
    step,
)

CORS = cors(allow_origin=[ORIGIN], allow_methods=["GET", "PUT"], allow_headers=["x-gravitee-api-key"])
GOLD = plan("Gold", "api-key", keys=["k1", "k2"])
FREE = plan("Free")


def keyed_app(plans: list[dict[str, Any]], run_policies: bool = False) -> Flask:
    return make_app([api("orders", "/orders", cors={**CORS, "run_policies": run_policies}, plans=plans)])


def legacy_app(run_policies: bool = False) -> Flask:
    return make_app(
        [api("orders", "/orders", cors={**CORS, "run_policies": run_policies}, policies=[policy("api-key", keys=["k1", "k2"])])]
    )


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
    ("a plan without keys refuses every key", [plan("Imported", "API_KEY")], {"X-Gravitee-Api-Key": "k1"}, "", 401, INVALID),
]


@pytest.mark.parametrize(("plans", "headers", "query", "status", "body"), [pytest.param(*r[1:], id=r[0]) for r in ROWS])
def test_plan(plans: list[dict[str, Any]], headers: dict[str, str], query: str, status: int, body: Any) -> None:
    app = keyed_app(plans)
    # What a page's fetch() gets: the key header makes the browser preflight first
    # (no key there), and the 401 carries the CORS headers, so the script reads it.
    outcome = fetch(app, "GET", "/orders/1", headers=headers, query_string=query).assert_allowed(status=status)
    assert (outcome.preflight is not None) is bool(headers)
    if body is not None:
        assert outcome.response.json == body
        assert not app.view_calls  # type: ignore[attr-defined]
    else:
        assert app.view_calls == ["/orders/1"]  # type: ignore[attr-defined]


def test_configurable_header_and_query_parameter() -> None:
    app = keyed_app([plan("Gold", "api-key", keys=["k1"], header="X-Api-Key", query_param="key")])
    actual(app, "GET", "/orders/1", headers={"X-Api-Key": "k1"}).assert_allowed(status=200)
    actual(app, "GET", "/orders/1", query_string="key=k1").assert_allowed(status=200)
    actual(app, "GET", "/orders/1", headers={"X-Gravitee-Api-Key": "k1"}).assert_allowed(status=401)


@pytest.mark.parametrize(("propagate", "seen"), [(False, None), (True, "k1")])
def test_propagate_api_key(propagate: bool, seen: str | None) -> None:
    # Gravitee removes the key header before the backend unless propagateApiKey.
    app = keyed_app([plan("Gold", "api-key", keys=["k1"], propagateApiKey=propagate)])

    @app.get("/orders/key")
    def key() -> Any:
        return {"key": request.headers.get("X-Gravitee-Api-Key")}

    outcome = fetch(app, "GET", "/orders/key", headers={"X-Gravitee-Api-Key": "k1"}).assert_allowed(status=200)
    assert outcome.response.json == {"key": seen}


# (query string sent, what the view sees of it without propagateApiKey)
QUERY_KEYS = [
    ("api-key=k1&page=2", {"args": {"page": "2"}, "query": "page=2"}),
    ("page=2&api%2Dkey=k1&q=a+b%20c", {"args": {"page": "2", "q": "a b c"}, "query": "page=2&q=a+b%20c"}),
    ("api-key=k1", {"args": {}, "query": ""}),
]  # fmt: skip


@pytest.mark.parametrize(("query", "seen"), QUERY_KEYS)
def test_a_key_sent_in_the_query_does_not_reach_the_view(query: str, seen: dict[str, Any]) -> None:
    """As Gravitee's cleanupApiKey: the query parameter goes too, the others keep
    their bytes; request.args and request.url no longer hold the key."""
    app = keyed_app([plan("Gold", "api-key", keys=["k1"])])

    @app.get("/orders/query")
    def query_view() -> Any:
        return {"args": request.args.to_dict(), "query": request.query_string.decode(), "url": request.url}

    outcome = fetch(app, "GET", f"/orders/query?{query}").assert_allowed(status=200)
    body = outcome.response.json
    assert {"args": body["args"], "query": body["query"]} == seen and "k1" not in body["url"]


@pytest.mark.parametrize("run_policies", [False, True])
@pytest.mark.parametrize("make", [lambda rp: keyed_app([GOLD], rp), legacy_app], ids=["plan", "legacy policy"])
def test_a_preflight_never_needs_a_key(make: Any, run_policies: bool) -> None:
    # The opposite of what the legacy policy did with run_policies on (a 401 on every
    # preflight): Gravitee's security skip, and the reason for its switch (#825).
    app = make(run_policies)
    answer = preflight(app, "/orders/1", method="PUT", headers=["x-gravitee-api-key"]).assert_allowed(status=200)
    assert answer.response.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    # The keyless PUT itself gets a 401 the script reads.
    fetch(app, "PUT", "/orders/1").assert_allowed(status=401)
    assert app.view_calls == []  # type: ignore[attr-defined]


def test_legacy_policy_loads_as_a_plan_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="flask_gravicors"):
        app = legacy_app()
    (message,) = [r.getMessage() for r in caplog.records if "gravicors.W010" in r.getMessage()]
    assert "policies[0] is plan 'api-key'" in message and "never on a preflight" in message
    orders = compiled(app, "orders")
    assert [(p.name, type(p.security)) for p in orders.plans] == [("api-key", ApiKeySecurity)]
    assert orders.flows.flows == ()
    actual(app, "GET", "/orders/1", headers={"X-Gravitee-Api-Key": "k2"}).assert_allowed(status=200)
    assert actual(app, "GET", "/orders/1").assert_allowed(status=401).response.json == UNRESOLVABLE


def test_legacy_policy_as_a_flow_step_still_checks_keys() -> None:
    app = make_app([api("orders", "/orders", flows=[flow(step("api-key", keys=["k1"]))])])
    assert actual(app, "GET", "/orders/1").response.json == MISSING
    assert actual(app, "GET", "/orders/1", query_string="api-key=k1").status == 200


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"policies": [policy("api-key")]}, "apis[0].policies[0].config.keys"),
        ({"policies": [policy("api-key", keys=[])]}, "apis[0].policies[0].config.keys"),
        ({"policies": [policy("api-key", keys=[""])]}, "apis[0].policies[0].config.keys[0]"),
        ({"plans": [plan("Gold", "api-key", keys=["k"], header="bad header")]}, "apis[0].plans[0].configuration.header"),
        ({"plans": [plan("Gold", "api-key", keys=["k"], colour="red")]}, "apis[0].plans[0].configuration.colour"),
        ({"plans": [plan("Gold", "api-key", keys=[""])]}, "apis[0].plans[0].configuration.keys[0]"),
        ({"flows": [flow(step("api-key", keys=[]))]}, "apis[0].flows[0].request[0].configuration.keys"),
        ({"plans": [plan("Gold", "api-key", keys="secret-key-1")]}, "apis[0].plans[0].configuration.keys"),
        ({"policies": [policy("api-key", keys="secret-key-1")]}, "apis[0].policies[0].config.keys"),
    ],
)
def test_config_errors(fields: dict[str, Any], path: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_app([api("orders", "/orders", **fields)])
    assert [p.path for p in caught.value.problems] == [path]
    assert "secret-key" not in str(caught.value)  # keys are secrets, even given as one string


@pytest.mark.parametrize(
    ("gravitee", "ours"),
    [
        ({"propagateApiKey": False}, {"propagate_api_key": False}),
        (
            {"propagateApiKey": True, "enableCustomApiKeyHeader": True, "apiKeyHeader": "X-Key"},
            {"propagate_api_key": True, "header": "X-Key"},
        ),
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
