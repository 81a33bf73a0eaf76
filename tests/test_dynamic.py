"""Origins decided at run time (flask_gravicors.dynamic): the gravicors_origin_allowed
hook, asked only for what the static list does not allow, behind a cache per
(API, origin) that expires after GRAVICORS_DYNAMIC_ORIGINS_TTL seconds."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from conftest import make_app
from flask_gravicors import ConfigError, hookimpl
from flask_gravicors.dynamic import DECISION_CACHE_SIZE, DynamicOrigins

O = "https://shop.example.com"
TENANT = "https://tenant-a.example.com"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Tenants:
    """A plugin deciding origins from a table; counts what it is asked."""

    def __init__(self, allowed: dict[str, bool | None] | None = None, fail: bool = False):
        self.allowed = dict(allowed or {})
        self.fail = fail
        self.asked: list[tuple[str, str]] = []

    @hookimpl
    def gravicors_origin_allowed(self, api_name: str, origin: str) -> bool | None:
        self.asked.append((api_name, origin))
        if self.fail:
            raise RuntimeError("tenant database down")
        return self.allowed.get(origin)


def test_decisions_are_cached_until_they_expire() -> None:
    tenants, clock = Tenants({TENANT: True}), Clock()
    dynamic = DynamicOrigins("orders", lambda api, origin: tenants.gravicors_origin_allowed(api, origin), 60, clock)
    assert dynamic.decide(TENANT) == (True, 1060.0)
    clock.now += 59
    assert dynamic.decide(TENANT) == (True, 1060.0)
    assert dynamic.decide("https://other.example.com") == (False, 1119.0)  # no opinion: not allowed
    tenants.allowed[TENANT] = False
    clock.now += 1
    assert dynamic.decide(TENANT) == (False, 1120.0)
    assert tenants.asked == [("orders", TENANT), ("orders", "https://other.example.com"), ("orders", TENANT)]


def test_an_exception_refuses_and_is_logged_once_per_decision(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    dynamic = DynamicOrigins("orders", Tenants(fail=True).gravicors_origin_allowed, 60, clock)
    with caplog.at_level(logging.ERROR, logger="flask_gravicors"):
        assert [dynamic.decide(TENANT)[0] for _ in range(5)] == [False] * 5
        clock.now += 61
        assert dynamic.decide(TENANT)[0] is False
    assert len(caplog.records) == 2
    assert "tenant database down" in caplog.text and "'https://tenant-a.example.com'" in caplog.text


def test_the_cache_is_bounded() -> None:
    dynamic = DynamicOrigins("orders", lambda api, origin: True, 60, Clock())
    for i in range(3 * DECISION_CACHE_SIZE):
        dynamic.decide(f"https://t{i}.example.com")
        assert len(dynamic._cache) <= DECISION_CACHE_SIZE


def dynamic_app(tenants: Tenants, ttl: float = 60, **cors: Any) -> Any:
    return make_app(
        [{"name": "orders", "context_path": "/orders",
          "cors": {"enabled": True, "allow_origin": [O], "allow_methods": ["GET", "PUT"], "dynamic_origins": True, **cors}},
         {"name": "public", "context_path": "/public", "cors": {"enabled": True, "allow_origin": [O]}}],
        plugins=(tenants,),
        config={"GRAVICORS_DYNAMIC_ORIGINS_TTL": ttl},
    )


# (origin, Access-Control-Allow-Origin, whether the hook is asked)
ACTUAL = [
    (TENANT, TENANT, True),
    ("https://stranger.example.com", None, True),
    (O, O, False),  # the static list allows it
    ("null", None, False),  # never asked about null
    ("https://bad origin", None, False),  # nor about a value no browser sends
    (None, None, False),
]


@pytest.mark.parametrize(("origin", "acao", "asked"), ACTUAL)
def test_actual_requests(origin: str | None, acao: str | None, asked: bool) -> None:
    tenants = Tenants({TENANT: True, "null": True, "https://bad origin": True})
    client = dynamic_app(tenants).test_client()
    for _ in range(3):
        response = client.get("/orders/1", headers={"Origin": origin} if origin else {})
        assert response.headers.get("Access-Control-Allow-Origin") == acao
        assert response.headers["Vary"] == "Origin"
    # asked once for three requests: the decision is cached
    assert tenants.asked == ([("orders", origin)] if asked else [])


def test_preflights_use_the_same_decision() -> None:
    tenants = Tenants({TENANT: True})
    client = dynamic_app(tenants).test_client()
    ok = client.options("/orders/1", headers={"Origin": TENANT, "Access-Control-Request-Method": "PUT"})
    refused = client.options("/orders/1", headers={"Origin": "https://x.example.com", "Access-Control-Request-Method": "PUT"})
    assert (ok.status_code, ok.headers["Access-Control-Allow-Origin"]) == (200, TENANT)
    assert (refused.status_code, refused.headers.get("Access-Control-Allow-Origin")) == (400, None)
    client.get("/orders/1", headers={"Origin": TENANT})
    assert tenants.asked == [("orders", TENANT), ("orders", "https://x.example.com")]


def test_apis_without_dynamic_origins_never_ask() -> None:
    tenants = Tenants({TENANT: True})
    response = dynamic_app(tenants).test_client().get("/public/1", headers={"Origin": TENANT})
    assert response.headers.get("Access-Control-Allow-Origin") is None
    assert tenants.asked == []


def test_a_star_api_with_dynamic_origins_always_varies() -> None:
    response = dynamic_app(Tenants(), allow_origin=["*"]).test_client().get("/orders/1", headers={"Origin": TENANT})
    assert (response.headers["Access-Control-Allow-Origin"], response.headers["Vary"]) == ("*", "Origin")


def test_a_changed_answer_is_seen_once_the_ttl_passes() -> None:
    tenants = Tenants({TENANT: True})
    app = dynamic_app(tenants, ttl=0.2)
    client = app.test_client()
    assert client.get("/orders/1", headers={"Origin": TENANT}).headers["Access-Control-Allow-Origin"] == TENANT
    runtime = app.extensions["gravicors"]._middlewares[app].runtime
    # the WSGI layer's memo holds the decision (the fast path), with its expiry
    assert ("/orders/", TENANT) in runtime.seen and runtime.expires is not None
    tenants.allowed[TENANT] = False
    deadline = time.monotonic() + 5
    while client.get("/orders/1", headers={"Origin": TENANT}).headers.get("Access-Control-Allow-Origin") is not None:
        assert time.monotonic() < deadline, "the refusal was never seen"
        time.sleep(0.05)
    assert tenants.asked.count(("orders", TENANT)) >= 2


def test_a_failing_hook_refuses(caplog: pytest.LogCaptureFixture) -> None:
    client = dynamic_app(Tenants(fail=True)).test_client()
    with caplog.at_level(logging.ERROR, logger="flask_gravicors"):
        for _ in range(3):
            response = client.get("/orders/1", headers={"Origin": TENANT})
            assert (response.status_code, response.headers.get("Access-Control-Allow-Origin")) == (200, None)
    assert len([r for r in caplog.records if "gravicors_origin_allowed failed" in r.getMessage()]) == 1


def test_no_hook_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="flask_gravicors"):
        make_app([{"name": "orders", "context_path": "/orders", "cors": {"enabled": True, "dynamic_origins": True}}])
    assert "gravicors.W011" in caplog.text and "'orders'" in caplog.text


@pytest.mark.parametrize("ttl", [-1, "60", True, 86401])
def test_bad_ttl(ttl: Any) -> None:
    with pytest.raises(ConfigError, match="GRAVICORS_DYNAMIC_ORIGINS_TTL"):
        dynamic_app(Tenants(), ttl=ttl)
