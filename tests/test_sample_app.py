"""The demo app: its config loads with the shipped plugins and each API behaves as the page shows."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask

from sample_app.__main__ import DEMO_USER, demo_user
from sample_app.api import PAGE_ORIGINS, create_app, sample_config, secret_key
from sample_app.page import create_page_app

PAGE = PAGE_ORIGINS[0]


@pytest.fixture(autouse=True)
def _store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The sample app keeps its config in a store: a fresh one per test (and a key of its own).
    monkeypatch.setenv("GRAVICORS_SAMPLE_STORE", f"sqlite:///{tmp_path}/gravicors.db")
    monkeypatch.setenv("GRAVICORS_SAMPLE_SECRET_KEY", "sample-test-key")


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


def test_the_console_and_its_demo_user(api: Flask) -> None:
    """The console is at /gravicors/; the demo user is made with a random password,
    a new one at each start (the old one stops working)."""
    client = api.test_client()
    assert client.get("/gravicors/login").status_code == 200
    accounts = api.extensions["gravicors"].store_for(api).accounts
    assert accounts.users() == []  # no default user
    first = demo_user(api)
    assert accounts.authenticate(DEMO_USER, first).role == "admin"
    second = demo_user(api)
    assert second != first and len(second) >= 16
    assert accounts.authenticate(DEMO_USER, first) is None and accounts.authenticate(DEMO_USER, second) is not None


def test_orders_allows_the_pages_first_origin_only(api: Flask) -> None:
    """The page's second origin (localhost) is the one the console's walk adds."""
    assert sample_config()["apis"][0]["cors"]["allow_origin"] == PAGE_ORIGINS[:1]
    response = api.test_client().get("/orders?api-key=demo-key", headers={"Origin": PAGE_ORIGINS[1]})
    assert response.status_code == 200 and "Access-Control-Allow-Origin" not in response.headers


def test_secret_key_is_made_once_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    monkeypatch.delenv("GRAVICORS_SAMPLE_SECRET_KEY")
    app = SimpleNamespace(instance_path=str(tmp_path / "instance"))
    key = secret_key(app)  # type: ignore[arg-type]
    assert len(key) == 64 and secret_key(app) == key  # type: ignore[arg-type]
    path = tmp_path / "instance" / "secret_key"
    assert path.stat().st_mode & 0o777 == 0o600 and sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]
    monkeypatch.setenv("GRAVICORS_SAMPLE_SECRET_KEY", "given")
    assert secret_key(app) == "given"  # type: ignore[arg-type]
