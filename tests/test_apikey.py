"""The api-key plugin (plugins/gravicors-apikey) and what run_policies means for it.
Apps and the browser's verdicts come from the plugin authors' kit (flask_gravicors.testing)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from flask_gravicors import ConfigError
from flask_gravicors.testing import actual, api, cors, make_app, policy, preflight

O = "https://shop.example.com"


def keyed_app(run_policies: bool = False, **config: Any) -> Flask:
    block = cors(allow_origin=[O], allow_methods=["GET", "PUT"], allow_headers=["x-gravitee-api-key"], run_policies=run_policies)
    return make_app([api("orders", "/orders", cors=block, policies=[policy("api-key", keys=["k1", "k2"], **config)])])


# (request headers, query string, expected status, message)
ROWS = [
    ({"X-Gravitee-Api-Key": "k1"}, "", 200, None),
    ({"x-gravitee-api-key": "k2"}, "", 200, None),
    ({}, "api-key=k1", 200, None),
    ({}, "", 401, "Unauthorized: missing API key"),
    ({"X-Gravitee-Api-Key": ""}, "", 401, "Unauthorized: missing API key"),
    ({"X-Gravitee-Api-Key": "k3"}, "", 401, "Unauthorized: invalid API key"),
    ({"X-Gravitee-Api-Key": "K1"}, "", 401, "Unauthorized: invalid API key"),
    ({}, "api-key=nope", 401, "Unauthorized: invalid API key"),
]


@pytest.mark.parametrize(("headers", "query", "status", "message"), ROWS)
def test_key(headers: dict[str, str], query: str, status: int, message: str | None) -> None:
    app = keyed_app()
    # The 401 carries the CORS headers, so a browser script can read it.
    outcome = actual(app, "GET", "/orders/1", origin=O, headers=headers, query_string=query).assert_allowed(status=status)
    if message:
        assert outcome.response.json == {"message": message}
        assert not app.view_calls  # type: ignore[attr-defined]


def test_configurable_header() -> None:
    app = keyed_app(header="X-Api-Key")
    client = app.test_client()
    assert client.get("/orders/1", headers={"X-Api-Key": "k1"}).status_code == 200
    assert client.get("/orders/1", headers={"X-Gravitee-Api-Key": "k1"}).status_code == 401


def test_run_policies_decides_the_preflight() -> None:
    # Off (the default): the keyless preflight passes; the actual request needs the key.
    preflight(keyed_app(False), "/orders/1", method="PUT", origin=O, headers=["x-gravitee-api-key"]).assert_allowed(status=200)
    # On: browsers send no custom header on a preflight, so the keyed API fails it.
    on = preflight(keyed_app(True), "/orders/1", method="PUT", origin=O, headers=["x-gravitee-api-key"])
    on.assert_blocked(reason="the preflight got 401")
    assert "Access-Control-Allow-Methods" not in on.response.headers


@pytest.mark.parametrize(
    ("config", "path"),
    [
        ({}, "apis[0].policies[0].config.keys"),
        ({"keys": []}, "apis[0].policies[0].config.keys"),
        ({"keys": [""]}, "apis[0].policies[0].config.keys[0]"),
        ({"keys": ["k"], "header": "bad header"}, "apis[0].policies[0].config.header"),
        ({"keys": ["k"], "colour": "red"}, "apis[0].policies[0].config.colour"),
    ],
)
def test_config_errors(config: dict[str, Any], path: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_app([api("orders", "/orders", policies=[policy("api-key", **config)])])
    assert [p.path for p in caught.value.problems] == [path]
