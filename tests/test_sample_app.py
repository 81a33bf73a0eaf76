"""The demo app: its config loads with the shipped plugins and each API behaves as the page shows."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask

from sample_app.api import PAGE_ORIGINS, create_app, sample_config
from sample_app.page import create_page_app

PAGE = PAGE_ORIGINS[0]


@pytest.fixture(autouse=True)
def _store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The sample app keeps its config in a store: a fresh one per test.
    monkeypatch.setenv("GRAVICORS_SAMPLE_STORE", f"sqlite:///{tmp_path}/gravicors.db")


@pytest.fixture
def api() -> Iterator[Flask]:
    app = create_app()
    yield app
    app.extensions["gravicors"].store_for(app).close()


# (method, path, request headers, status, Access-Control-Allow-Origin)
ROWS = [
    ("GET", "/orders?api-key=demo-key", {"Origin": PAGE}, 200, PAGE),
    ("GET", "/orders", {"Origin": PAGE}, 401, PAGE),
    ("GET", "/orders", {"Origin": PAGE, "X-Gravitee-Api-Key": "wrong"}, 401, PAGE),
    # run_policies on: the keyless preflight of the page's "PUT without key" button passes
    ("OPTIONS", "/orders/1", {"Origin": PAGE, "Access-Control-Request-Method": "PUT",
                              "Access-Control-Request-Headers": "content-type"}, 200, PAGE),
    ("PUT", "/orders/1", {"Origin": PAGE, "Content-Type": "application/json"}, 401, PAGE),
    ("GET", "/orders?api-key=demo-key", {"Origin": "https://evil.test"}, 200, None),
    ("OPTIONS", "/orders/1", {"Origin": PAGE, "Access-Control-Request-Method": "PUT",
                              "Access-Control-Request-Headers": "content-type,x-gravitee-api-key"}, 200, PAGE),
    ("OPTIONS", "/orders/1", {"Origin": PAGE, "Access-Control-Request-Method": "PATCH"}, 400, None),
    ("GET", "/public/hello", {"Origin": "https://anyone.test"}, 200, "*"),
    ("GET", "/chat", {"Origin": PAGE}, 426, None),
]


@pytest.mark.parametrize(("method", "path", "headers", "status", "acao"), ROWS)
def test_api(api: Flask, method: str, path: str, headers: dict[str, str], status: int, acao: str | None) -> None:
    response = api.test_client().open(path, method=method, headers=headers)
    assert (response.status_code, response.headers.get("Access-Control-Allow-Origin")) == (status, acao)


def test_the_flow_runs_on_a_preflight_and_the_plan_does_not(api: Flask) -> None:
    # The flow's rate limit counts the preflight and says so; no key was needed.
    client = api.test_client()
    preflight = client.options("/orders/1", headers={"Origin": PAGE, "Access-Control-Request-Method": "PUT"})
    assert preflight.status_code == 200
    assert preflight.headers["X-Rate-Limit-Limit"] == "120"
    remaining = int(preflight.headers["X-Rate-Limit-Remaining"])
    # Without a key the plan refuses before the flow: not counted, no X-Rate-Limit-*.
    actual = client.put("/orders/1", headers={"Origin": PAGE})
    assert (actual.status_code, actual.json["message"]) == (401, "Unauthorized")
    assert "X-Rate-Limit-Remaining" not in actual.headers
    keyed = client.put("/orders/1?api-key=demo-key", headers={"Origin": PAGE})
    assert (keyed.status_code, int(keyed.headers["X-Rate-Limit-Remaining"])) == (200, remaining - 1)


def test_the_page_has_the_keyless_put_button() -> None:
    html = create_page_app("http://127.0.0.1:5001").test_client().get("/").get_data(as_text=True)
    assert "orders: PUT without key (run policies on: the preflight passes" in html


def test_sse_stream(api: Flask) -> None:
    response = api.test_client().get("/events/clock?count=2", headers={"Origin": PAGE})
    assert response.mimetype == "text/event-stream"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.get_data(as_text=True) == "data: tick 0\n\ndata: tick 1\n\n"


def test_websocket_only_api_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="flask_gravicors"):
        app = create_app()
    app.extensions["gravicors"].store_for(app).close()
    assert any("gravicors.W001" in r.getMessage() and "chat" in r.getMessage() for r in caplog.records)


def test_page_points_at_the_api_origin() -> None:
    html = create_page_app("http://127.0.0.1:5001").test_client().get("/").get_data(as_text=True)
    assert 'const API = "http://127.0.0.1:5001"' in html and "{{API_ORIGIN}}" not in html


def test_config_lives_in_the_store(api: Flask) -> None:
    """The first start saved the sample config as version 1; the store's version is what runs."""
    store = api.extensions["gravicors"].store_for(api)
    (version,) = store.history()
    assert (version.number, version.source, version.config) == (1, "init", sample_config())
