"""Processes the tests start for real (redis-server, PostgreSQL, gunicorn): free
ports on 127.0.0.1, bounded waits, and stopping exactly the process started."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

START_TIMEOUT = 20.0  # seconds a server gets to come up
STOP_TIMEOUT = 10.0


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str, proc: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {proc.returncode}")
        if check():
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not ready after {timeout} s")
        time.sleep(0.05)


def stop_process(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM, a bounded wait, then SIGKILL: only the process we started."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT)


def _gunicorn_extra_args() -> list[str]:
    try:
        from gunicorn.config import KNOWN_SETTINGS
    except ImportError:
        return []
    # gunicorn >= 24 opens a control socket at one fixed path per user
    # (~/.gunicorn/gunicorn.ctl): parallel test servers must not share it.
    return ["--no-control-socket"] if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS) else []


GUNICORN_EXTRA = _gunicorn_extra_args()


class Gunicorn:
    """A gunicorn server a test started: its master process, port and log."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, log_path: Path, workers: int):
        self.proc = proc
        self.port = port
        self.log_path = log_path
        self.workers = workers

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def booted_workers(self) -> int:
        return self.log().count("Booting worker with pid")

    def pids(self) -> set[int]:
        """The workers gunicorn booted (its log names each)."""
        return {int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", self.log())}

    def stop(self) -> None:
        stop_process(self.proc)


class UWSGI(Gunicorn):
    """A uWSGI server a test started (same shape: its first process, port and log)."""

    def booted_workers(self) -> int:
        return len(self.pids())

    def stop(self) -> None:
        """The master (SIGTERM: --die-on-term), then any worker it left behind (a
        worker outlives a master killed by the fallback SIGKILL): by their pids."""
        workers = self.pids()
        super().stop()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)

    def pids(self) -> set[int]:
        """The workers uWSGI spawned and respawned that still run."""
        log = self.log()
        spawned = re.findall(r"spawned uWSGI worker \d+ (?:\(and the only\) )?\(pid: (\d+)", log)
        respawned = re.findall(r"Respawned uWSGI worker \d+ \(new pid: (\d+)\)", log)
        return {int(pid) for pid in [*spawned, *respawned] if _alive(int(pid))}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")


REDIS_PASSWORD = "s3cret-pw"


class RedisServer:
    """A throwaway redis-server: no persistence, password set, stoppable mid-test."""

    def __init__(self, binary: str, workdir: Path):
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://:{REDIS_PASSWORD}@127.0.0.1:{self.port}/0"

    def client(self) -> Any:
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, password=REDIS_PASSWORD, socket_timeout=2, socket_connect_timeout=2)

    def _pings(self) -> bool:
        try:
            with self.client() as c:
                return bool(c.ping())
        except Exception:
            return False

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--requirepass",
                REDIS_PASSWORD,
                "--dir",
                str(self.workdir),
                "--daemonize",
                "no",
                "--logfile",
                str(self.workdir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._pings, START_TIMEOUT, f"redis-server on port {self.port}", self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)

    def flush(self) -> None:
        with self.client() as c:
            c.flushall()

    def keys(self) -> list[str]:
        with self.client() as c:
            return sorted(k.decode() for k in c.keys("*"))
