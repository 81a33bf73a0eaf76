"""flask_gravicors.console.throttle: failed logins per user name and per address,
per process or shared in a real redis-server; a Redis outage neither fails a login
nor unlocks a throttled name."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Iterator

import pytest
from procs import RedisServer

from flask_gravicors.console import ConsoleError
from flask_gravicors.console.throttle import LoginThrottle


def test_five_failures_per_name_or_per_address() -> None:
    throttle = LoginThrottle("memory://", 5, 60)
    for i in range(5):
        assert not throttle.blocked("alice", f"10.0.0.{i}")
        throttle.failed("alice", f"10.0.0.{i}")
    assert throttle.blocked("alice", "10.0.0.99") and throttle.blocked("ALICE", "10.0.0.98")  # the name, any address
    assert not throttle.blocked("bob", "10.0.0.4")  # each of those addresses failed once only
    for name in ("a", "b", "c", "d", "e"):
        throttle.failed(name, "10.9.9.9")
    assert throttle.blocked("zed", "10.9.9.9")  # the address, any name
    assert 55 <= throttle.retry_after("alice", "10.0.0.99") <= 60


def test_the_window_passes() -> None:
    throttle = LoginThrottle("memory://", 2, 1)
    throttle.failed("alice", "a")
    throttle.failed("alice", "a")
    assert throttle.blocked("alice", "a")
    time.sleep(1.1)
    assert not throttle.blocked("alice", "a")


def test_a_bad_storage_is_refused_at_start() -> None:
    with pytest.raises(ConsoleError, match="GRAVICORS_CONSOLE_LIMITS_STORAGE"):
        LoginThrottle("nosuch://x", 5, 60)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (Debian package redis-server; scripts/test.sh installs it)", pytrace=False)
    server = RedisServer(binary, Path(tmp_path_factory.mktemp("redis")))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_shared_by_every_worker_through_redis(redis_server: RedisServer) -> None:
    redis_server.flush()
    workers = [LoginThrottle(redis_server.url, 5, 60) for _ in range(4)]
    for i in range(5):
        workers[i % 4].failed("alice", f"10.0.0.{i}")
    assert all(w.blocked("alice", "10.1.1.1") for w in workers)
    assert not any(w.blocked("bob", "10.1.1.1") for w in workers)
    assert any(key.startswith("LIMITS:") for key in redis_server.keys())


def test_a_redis_outage_counts_here_and_unlocks_nothing(redis_server: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    if redis_server.proc is None or redis_server.proc.poll() is not None:
        redis_server.start()
    redis_server.flush()
    throttle = LoginThrottle(redis_server.url, 5, 60)
    for _ in range(5):
        throttle.failed("alice", "10.0.0.1")  # counted in Redis
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="flask_gravicors.console"):
        started = time.monotonic()
        assert not throttle.blocked("bob", "10.0.0.2")  # an attempt is judged, not failed
        for _ in range(5):
            throttle.failed("bob", "10.0.0.2")  # counted in this process meanwhile
        assert throttle.blocked("bob", "10.0.0.3")
        assert time.monotonic() - started < 10  # bounded waits on the dead server
        errors = [r for r in caplog.records if "unreachable" in r.getMessage()]
        assert len(errors) == 1  # logged once
        redis_server.start()  # back, empty: Redis forgot alice's failures, this process did not forget bob's
        assert throttle.blocked("bob", "10.0.0.4")
        assert not throttle.blocked("carol", "10.0.0.5")
        assert caplog.records[-1].getMessage() == "failed logins: the limits storage is back, counting there again"
        throttle.failed("carol", "10.0.0.5")
        assert redis_server.keys()  # counted in Redis again
