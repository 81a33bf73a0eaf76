"""Real gunicorn servers of the fleet app, the real ``flask gravicors`` command, and
a prober that tells what each worker serves (shared with the propagation benchmark).

Workers are told apart by process id: ``/api/pid`` answers with it (and the
number of the worker's answer, which orders each worker's answers). A sync worker
serves one request at a time and the view takes 20 ms, so a round of concurrent
requests (twice as many as there are workers) reaches every worker.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, TypeVar

from procs import GUNICORN_EXTRA, START_TIMEOUT, UWSGI, Gunicorn, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
APP = "tests.fleet.fleetapp:create_app()"
IO_TIMEOUT = 10.0


def env_for(store_url: str, **extra: str) -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "FLEET_STORE": store_url, **extra}


def start_server(
    store_url: str, log_dir: Path, *, workers: int, preload: bool = False, worker_class: str = "sync", **env: str
) -> Gunicorn:
    """``gunicorn -w N -k CLASS`` (plain: no config file, no hook) serving the fleet app."""
    port = free_port()
    log_path = log_dir / f"gunicorn-{port}.log"
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", worker_class, "-b", f"127.0.0.1:{port}"]
    command += GUNICORN_EXTRA
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [*command, *(["--preload"] if preload else []), APP],
            cwd=ROOT,
            env=env_for(store_url, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return _ready(Gunicorn(proc, port, log_path, workers), "gunicorn")


def start_uwsgi(store_url: str, log_dir: Path, *options: str, workers: int) -> UWSGI:
    """uWSGI (pyuwsgi's build) serving the fleet app with ``options`` as the user
    writes them: ``--master``, ``--lazy-apps``..., and nothing of ours."""
    port = free_port()
    log_path = log_dir / f"uwsgi-{port}.log"
    command = [
        # pyuwsgi's own `uwsgi` script does just this: run it with this Python, so
        # no PATH (a venv's bin, ~/.local/bin) decides which uWSGI runs.
        sys.executable,
        "-c",
        "import pyuwsgi; pyuwsgi.run()",
        *options,
        "--processes",
        str(workers),
        "--http-socket",
        f"127.0.0.1:{port}",
        "--module",
        "tests.fleet.uwsgiapp:app",
        "--need-app",
        "--die-on-term",
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env_for(store_url), stdout=log, stderr=subprocess.STDOUT)
    return _ready(UWSGI(proc, port, log_path, workers), "uwsgi")


Server = TypeVar("Server", bound=Gunicorn)


def _ready(server: Server, what: str) -> Server:
    """``server`` once all its workers run and it answers; else stopped, and an
    error with its log."""

    def ready() -> bool:
        if len(server.pids()) < server.workers:
            return False
        try:
            return get(server.port, "/ready")[0] == 200
        except OSError:
            return False

    try:
        wait_until(ready, START_TIMEOUT, f"{what} on port {server.port}", server.proc)
    except RuntimeError as err:
        server.stop()
        raise RuntimeError(f"{err}\n{server.log()}") from None
    return server


def flask_cli(store_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``flask --app <fleet app> gravicors ARGS`` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", APP, "gravicors", *args],
        cwd=ROOT,
        env=env_for(store_url, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def get(port: int, path: str, origin: str | None = None, timeout: float = IO_TIMEOUT) -> tuple[int, str | None, str]:
    """(status, Access-Control-Allow-Origin, body) of one GET on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Origin": origin} if origin else {})
        response = conn.getresponse()
        body = response.read().decode()
        return response.status, response.getheader("Access-Control-Allow-Origin"), body
    finally:
        conn.close()


class Prober:
    """Concurrent GETs of /api/pid over every server: which worker allows which origin."""

    def __init__(self, servers: Iterable[Gunicorn]):
        self.servers = list(servers)
        self.workers = sum(s.workers for s in self.servers)
        self.pool = ThreadPoolExecutor(max_workers=2 * self.workers)

    def close(self) -> None:
        self.pool.shutdown()

    def round(self, origin: str) -> list[tuple[int, int, float, bool]]:
        """One request per thread, spread over the servers: (worker pid, its answer's
        number, when it came, origin allowed), each worker's answers in the order
        it gave them."""
        ports = [s.port for s in self.servers]

        def one(i: int) -> tuple[int, int, float, bool]:
            status, acao, body = get(ports[i % len(ports)], "/api/pid", origin)
            assert status == 200, (status, body)
            pid, number = body.split()
            return int(pid), int(number), time.monotonic(), acao == origin

        return sorted(self.pool.map(one, range(2 * self.workers)))

    def wait_serving(self, pids: set[int], origin: str, timeout: float, since: float | None = None) -> dict[int, float]:
        """Seconds from ``since`` (default: now) until each worker of ``pids`` was
        first seen allowing ``origin``; fails after ``timeout`` seconds, or when a
        worker that allowed it answers the old way again."""
        start = time.monotonic() if since is None else since
        first: dict[int, float] = {}
        while True:
            for pid, _, answered, allowed in self.round(origin):
                assert pid in pids, f"answered by {pid}, not one of the workers {sorted(pids)}"
                if allowed:
                    first.setdefault(pid, answered - start)
                else:
                    assert pid not in first, f"worker {pid} went back to a config refusing {origin}"
            if first.keys() == pids:
                return first
            if time.monotonic() - start > timeout:
                raise AssertionError(f"after {timeout} s, workers {sorted(pids - first.keys())} still refuse {origin}")

    def seen(self, origin: str, rounds: int) -> dict[int, set[bool]]:
        """Over ``rounds`` rounds: for each worker that answered, whether it allowed ``origin``."""
        out: dict[int, set[bool]] = {}
        for _ in range(rounds):
            for pid, _, _, allowed in self.round(origin):
                out.setdefault(pid, set()).add(allowed)
        return out
