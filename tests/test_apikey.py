"""The api-key plugin (plugins/gravicors-apikey) and what run_policies means for it."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import make_app
from flask_gravicors import ConfigError

O = "https://shop.example.com"


def keyed_app(run_policies: bool = False, **config: Any) -> Any:
    return make_app(
        [
            {
                "name": "orders",
                "context_path": "/orders",
                "cors": {"enabled": True, "allow_origin": [O], "allow_methods": ["GET", "PUT"],
                         "allow_headers": ["x-gravitee-api-key"], "run_policies": run_policies},
                "policies": [{"name": "api-key", "config": {"keys": ["k1", "k2"], **config}}],
            }
        ],
        plugins=(),
    )


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
    response = app.test_client().get("/orders/1", query_string=query, headers={"Origin": O, **headers})
    assert response.status_code == status
    # the 401 carries the CORS headers, so a browser script can read it
    assert response.headers["Access-Control-Allow-Origin"] == O
    if message:
        assert response.json == {"message": message}
        assert not app.view_calls


def test_configurable_header() -> None:
    app = keyed_app(header="X-Api-Key")
    client = app.test_client()
    assert client.get("/orders/1", headers={"X-Api-Key": "k1"}).status_code == 200
    assert client.get("/orders/1", headers={"X-Gravitee-Api-Key": "k1"}).status_code == 401


@pytest.mark.parametrize(
    ("run_policies", "status", "allow_methods"),
    [
        # off (the default): the keyless preflight passes; the actual request needs the key
        (False, 200, "GET, PUT"),
        # on: browsers send no custom header on a preflight, so the keyed API fails it
        (True, 401, None),
    ],
)
def test_run_policies_decides_the_preflight(run_policies: bool, status: int, allow_methods: str | None) -> None:
    response = keyed_app(run_policies).test_client().options(
        "/orders/1", headers={"Origin": O, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-gravitee-api-key"}
    )
    assert response.status_code == status
    assert response.headers.get("Access-Control-Allow-Methods") == allow_methods


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
        make_app([{"name": "orders", "context_path": "/orders", "policies": [{"name": "api-key", "config": config}]}], plugins=())
    assert [p.path for p in caught.value.problems] == [path]
