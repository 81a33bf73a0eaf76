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
