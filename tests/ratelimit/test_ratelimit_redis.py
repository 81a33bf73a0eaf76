"""gravicors-ratelimit against a real redis-server (started by tests/ratelimit/conftest.py):
shared counters, and an outage in the middle of a test followed by recovery."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask

from flask_gravicors.testing import Outcome, actual, api, cors, flow, make_app, step

pytest.importorskip("gravicors_ratelimit")

RL_HEADERS = ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset")


def limited_app(config: dict[str, Any]) -> Flask:
    """The kit's app with a ``public`` API whose flow rate-limits every request."""
    block = cors(allow_origin=["https://app.example.com"], expose_headers=list(RL_HEADERS))
    return make_app([api("public", "/public", cors=block, flows=[flow(step("rate-limit", **config))])])


def hit(app: Flask, addr: str = "10.0.0.1", **headers: str) -> Outcome:
    """A GET from the page's origin (the kit's ORIGIN) and client address ``addr``."""
    return actual(app, "GET", "/public/x", headers=headers, environ_base={"REMOTE_ADDR": addr})


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "gravicors_ratelimit" and r.levelno >= logging.WARNING]


def test_two_hosts_share_one_redis_counter(redis_url: str, redis_server: Any) -> None:
    # Two independent apps (two processes or hosts behind a balancer) on one Redis.
    config = {"limit": 4, "period": "1h", "storage": redis_url}
    host_a, host_b = limited_app(config), limited_app(config)
    remaining = [hit(app).assert_allowed(status=200).header("X-Rate-Limit-Remaining") for app in (host_a, host_b, host_a, host_b)]
    assert remaining == ["3", "2", "1", "0"]
    hit(host_a).assert_allowed(status=429)  # the page's script reads the 429
    assert hit(host_b).status == 429
    assert hit(host_b, addr="10.0.0.2").status == 200
    # Counters are limits' keys, namespaced per API, step and client, with a TTL (fixed window).
    keys = redis_server.keys()
    assert keys == sorted(
        [
            "LIMITS:gravicors/public/flows[0].request[0]/ip:10.0.0.1/4/1/hour",
            "LIMITS:gravicors/public/flows[0].request[0]/ip:10.0.0.2/4/1/hour",
        ]
    )
    with redis_server.client() as c:
        assert 0 < c.ttl(keys[0]) <= 3600


def test_api_keys_are_stored_hashed(redis_url: str, redis_server: Any) -> None:
    app = limited_app({"limit": 4, "key": "api-key", "storage": redis_url})
    assert hit(app, **{"X-Gravitee-Api-Key": "very-secret-key"}).status == 200
    keys = redis_server.keys()
    assert len(keys) == 1 and keys[0].startswith("LIMITS:gravicors/public/flows[0].request[0]/api-key:")
    assert "very-secret-key" not in keys[0]


def test_redis_stopped_mid_test_allow_then_recovery(redis_url: str, redis_server: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "gravicors_ratelimit")
    app = limited_app({"limit": 2, "period": "1h", "storage": redis_url, "timeout": 0.5})
    assert hit(app).header("X-Rate-Limit-Remaining") == "1"
    assert hit(app).header("X-Rate-Limit-Remaining") == "0"
    assert hit(app).status == 429

    redis_server.stop()
    for _ in range(5):
        resp = hit(app).assert_allowed(status=200).response  # on_storage_error: allow (the default); never a 500
        assert not any(h in resp.headers for h in RL_HEADERS)
    outage = warnings_of(caplog)
    assert len(outage) == 1, outage
    assert "unreachable" in outage[0] and "Connection refused" in outage[0]
    assert f"redis://:***@127.0.0.1:{redis_server.port}/0" in outage[0]
    assert "s3cret-pw" not in caplog.text

    redis_server.start()  # same port, empty (no persistence): counting starts afresh
    assert hit(app).header("X-Rate-Limit-Remaining") == "1"
    assert hit(app).header("X-Rate-Limit-Remaining") == "0"
    assert hit(app).status == 429
    logged = warnings_of(caplog)
    assert len(logged) == 2 and "reachable again" in logged[1]

    # A second outage is logged again, once.
    redis_server.stop()
    assert hit(app).status == 200
    assert hit(app).status == 200
    assert len(warnings_of(caplog)) == 3
    redis_server.start()


def test_redis_stopped_mid_test_deny_then_recovery(redis_url: str, redis_server: Any) -> None:
    app = limited_app({"limit": 5, "storage": redis_url, "on_storage_error": "deny"})
    assert hit(app).status == 200
    redis_server.stop()
    for _ in range(3):
        # A 503 the page's script reads.
        assert hit(app).assert_allowed(status=503).response.is_json
    redis_server.start()
    assert hit(app).assert_allowed(status=200).header("X-Rate-Limit-Remaining") == "4"


def test_two_rate_limits_of_one_api_keep_their_own_counters(redis_url: str) -> None:
    """Two steps alike in two flows (two paths) count apart, on Redis as in memory:
    the counter's key names the step (Policy.step)."""
    limit = step("rate-limit", limit=3, period="1m", storage=redis_url)
    block = cors(allow_origin=["https://app.example.com"], expose_headers=list(RL_HEADERS))
    app = make_app([api("public", "/public", cors=block, flows=[flow(limit, path="/a"), flow(limit, path="/b")])])
    for _ in range(3):
        actual(app, "GET", "/public/a").assert_allowed(status=200)
    assert actual(app, "GET", "/public/b").assert_allowed(status=200).header("X-Rate-Limit-Remaining") == "2"
