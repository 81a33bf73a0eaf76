"""gravicors-ratelimit under a real ``gunicorn -w 4`` serving the sample app
(``sample_app.api:create_app()``, its ``public`` API rate-limited from the
GRAVICORS_SAMPLE_RATE_* environment variables).

Spreading requests over workers deterministically: a sync worker serves one
connection at a time and the listening socket hands connections out in arrival
order. So three connections opened first, each with an unfinished request, hold
three workers; every request sent after them is served by the fourth; finishing
the three held requests then has them served by the three other workers.
"""

from __future__ import annotations

import http.client
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest

pytest.importorskip("gravicors_ratelimit")
pytest.importorskip("gunicorn")

PATH = "/public/hello"
WORKERS = 4
IO_TIMEOUT = 15.0  # bound on every socket wait of these tests


def get(port: int, path: str = PATH) -> tuple[int, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=IO_TIMEOUT)
    try:
        conn.request("GET", path, headers={"Origin": "https://any.example.org"})
        resp = conn.getresponse()
        resp.read()
        return resp.status, dict(resp.getheaders())
    finally:
        conn.close()


class HeldRequest:
    """A connection whose request is sent up to its last line: it holds one worker."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
        self.sock.sendall(f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://any.example.org\r\n".encode())

    def finish(self) -> tuple[int, dict[str, str]]:
        self.sock.sendall(b"Connection: close\r\n\r\n")
        resp = http.client.HTTPResponse(self.sock)
        try:
            resp.begin()
            resp.read()
            return resp.status, dict(resp.getheaders())
        finally:
            resp.close()

    def close(self) -> None:
        self.sock.close()


def spread(port: int, n_first: int) -> tuple[list[tuple[int, dict[str, str]]], list[tuple[int, dict[str, str]]]]:
    """``n_first`` requests served by one worker, then one by each of the three others."""
    held = [HeldRequest(port) for _ in range(WORKERS - 1)]
    try:
        first = [get(port) for _ in range(n_first)]
        others = [h.finish() for h in held]
    finally:
        for h in held:
            h.close()
    return first, others


def env(limit: int, storage: str) -> dict[str, str]:
    return {
        "GRAVICORS_SAMPLE_RATE_LIMIT": str(limit),
        # Long enough that no window ends during a test: counts, never clocks.
        "GRAVICORS_SAMPLE_RATE_PERIOD": "1h",
        "GRAVICORS_SAMPLE_RATE_STORAGE": storage,
    }


N = 10


def test_redis_storage_is_shared_by_the_workers(gunicorn: Callable[..., Any], redis_url: str) -> None:
    server = gunicorn(env(N, redis_url))
    first, others = spread(server.port, N + 2)
    responses = first + others  # N + 5 requests over all 4 workers
    statuses = [status for status, _ in responses]
    assert statuses.count(429) == 5
    assert statuses.count(200) == N
    assert statuses == [200] * N + [429] * 5
    assert [h["X-Rate-Limit-Remaining"] for _, h in first] == [str(N - 1 - i) for i in range(N)] + ["0", "0"]
    # The three other workers saw the shared count, and answered 429 with CORS headers.
    for status, headers in others:
        assert status == 429
        assert headers["X-Rate-Limit-Remaining"] == "0"
        assert headers["X-Rate-Limit-Limit"] == str(N)
        assert int(headers["Retry-After"]) >= 1
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert "X-Rate-Limit-Remaining" in headers["Access-Control-Expose-Headers"]
    # One window for everyone: the same reset on every response (Redis TTL has
    # one-second resolution, so allow that much between two reads).
    resets = [int(h["X-Rate-Limit-Reset"]) for _, h in responses]
    assert max(resets) - min(resets) <= 1000


def test_memory_storage_is_not_shared_by_the_workers(gunicorn: Callable[..., Any]) -> None:
    server = gunicorn(env(N, "memory://"))
    first, others = spread(server.port, N + 2)
    statuses = [status for status, _ in first + others]
    # Same N + 5 requests as above: only the worker that saw N + 2 refuses.
    assert statuses.count(429) == 2
    assert statuses == [200] * N + [429] * 2 + [200] * 3
    # Each other worker counts from zero on its own.
    assert [h["X-Rate-Limit-Remaining"] for _, h in others] == [str(N - 1)] * 3


def test_concurrent_burst_gives_exactly_five_429(gunicorn: Callable[..., Any], redis_url: str) -> None:
    limit = 20
    server = gunicorn(env(limit, redis_url))
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: get(server.port), range(limit + 5)))
    statuses = [status for status, _ in responses]
    assert statuses.count(429) == 5
    assert statuses.count(200) == limit
    # Redis counted every hit once (atomic increments): each remaining value once.
    remaining = sorted(int(h["X-Rate-Limit-Remaining"]) for status, h in responses if status == 200)
    assert remaining == list(range(limit))


def test_redis_outage_under_gunicorn(gunicorn: Callable[..., Any], redis_url: str, redis_server: Any) -> None:
    server = gunicorn(env(3, redis_url))
    assert [get(server.port)[0] for _ in range(4)] == [200, 200, 200, 429]

    redis_server.stop()
    # on_storage_error "allow" (the sample app's default): served, never a 500,
    # whichever worker answers; held requests make sure all four meet the outage.
    first, others = spread(server.port, 4)
    for status, headers in first + others:
        assert status == 200
        assert "X-Rate-Limit-Remaining" not in headers

    redis_server.start()
    first, others = spread(server.port, 3)
    assert [status for status, _ in first] == [200, 200, 200]
    assert [status for status, _ in others] == [429, 429, 429]

    log = server.log()
    # Logged once per worker (all four met the outage), the
    # storage URL's password hidden.
    assert log.count("unreachable") == WORKERS, log
    assert log.count("unreachable") == log.count("reachable again")
    assert "s3cret-pw" not in log
    assert "redis://:***@127.0.0.1" in log
