"""Real parts for the rate-limit plugin's tests: a redis-server and a gunicorn.

Both are started on 127.0.0.1 on a free port, waited for with a bounded wait, and
stopped by the fixture that started them. A missing ``redis-server`` skips the
Redis tests on a workstation and FAILS them in CI (``CI`` set to true).
"""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest
from procs import GUNICORN_EXTRA, START_TIMEOUT, Gunicorn, RedisServer, free_port, in_ci, stop_process, wait_until

ROOT = Path(__file__).resolve().parents[2]

@pytest.fixture(scope="session")
def redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (Debian package redis-server; scripts/test.sh installs it)"
        if in_ci():
            pytest.fail(message + ": required in CI", pytrace=False)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="module")
def redis_server(redis_binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(redis_binary, tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of a running, empty Redis (restarted if a test left it stopped)."""
    if redis_server.proc is None or redis_server.proc.poll() is not None:
        redis_server.start()
    redis_server.flush()
    return redis_server.url


# -- gunicorn ------------------------------------------------------------------

#: The sample app (its ``public`` API reads GRAVICORS_SAMPLE_RATE_LIMIT/_PERIOD/_STORAGE).
SAMPLE_APP = "sample_app.api:create_app()"


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Callable[..., Gunicorn]]:
    """Starts ``gunicorn -w 4`` on the sample app with the given env; stops it at the end."""
    started: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []

    def start(env: dict[str, str], workers: int = 4) -> Gunicorn:
        port = free_port()
        log_path = tmp_path / f"gunicorn-{port}.log"
        logs.append(log_path)
        full_env = {**os.environ, **env}
        # A config store of its own: the sample app seeds it from this env's config.
        full_env.setdefault("GRAVICORS_SAMPLE_STORE", f"sqlite:///{tmp_path}/store-{port}.db")
        full_env.setdefault("GRAVICORS_SAMPLE_SECRET_KEY", f"ratelimit-test-key-{port}")
        full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        with open(log_path, "wb") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", *GUNICORN_EXTRA, SAMPLE_APP],
                cwd=ROOT,
                env=full_env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        started.append(proc)
        server = Gunicorn(proc, port, log_path, workers)

        def ready() -> bool:
            # Every worker booted, and one answers (outside the rate-limited API).
            if server.booted_workers() < workers:
                return False
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                conn.request("GET", "/__gravicors_ratelimit_ready__")
                conn.getresponse().read()
                return True
            except OSError:
                return False
            finally:
                conn.close()

        try:
            wait_until(ready, START_TIMEOUT, f"gunicorn on port {port}", proc)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{log_path.read_text(errors='replace')}") from None
        return server

    yield start
    for proc in started:
        stop_process(proc)
    for log_path in logs:
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        assert "Traceback" not in text, text
