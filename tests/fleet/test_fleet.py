"""The fleet for real: plain ``gunicorn -w N`` serving the fleet app, the real
``flask gravicors`` command, on a SQLite store (one host, 4 workers) and on a
PostgreSQL store shared by two gunicorn servers of 2 workers each (two hosts).

"Within 1 s" is the issue's deadline, counted from the moment the saving command
returns, and checked by asking every worker (told apart by pid) until each has
answered the new way; a worker never goes back to the old answer once it gave the
new one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import pytest
from procs import UWSGI, Gunicorn, wait_until

from flask_gravicors.schema import load_config
from flask_gravicors.store.sql import SqlStore

from .conftest import ORIGIN
from .fleetapp import config_for
from .pgcluster import PgCluster
from .servers import APP, Prober, env_for, flask_cli, get

DEADLINE = 1.0  # seconds: every worker runs a saved version within this
BAD = {"apis": [{"name": "api", "context_path": "/api", "cors": {"allow_origin": ["*"], "allow_credentials": True}}]}


def write(tmp_path: Path, config: object, name: str) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return str(path)


def apply(store_url: str, tmp_path: Path, origin: str, *args: str) -> tuple[int, float]:
    """``flask gravicors apply`` of a config allowing ``origin``: (version, when it returned)."""
    done = flask_cli(store_url, "apply", write(tmp_path, config_for(origin), f"{origin[8:]}.json"), *args)
    returned = time.monotonic()
    assert done.returncode == 0, done.stderr
    return int(done.stdout), returned


def versions(store_url: str) -> list[tuple[int, str]]:
    store = SqlStore(store_url, lambda raw: load_config(raw, {}))
    try:
        return [(v.number, v.source) for v in store.history()]
    finally:
        store.dispose()


def status(store_url: str) -> tuple[int, set[tuple[int, str]]]:
    """``flask gravicors status``: its exit status and the (pid, version) it lists."""
    done = flask_cli(store_url, "status")
    rows = done.stdout.splitlines()[2:]
    return done.returncode, {(int(r.split()[1]), r.split()[2]) for r in rows}


def concurrent_applies(store_url: str, tmp_path: Path, expected: int) -> list[subprocess.CompletedProcess[str]]:
    """Two ``apply --expect-version N`` processes started together."""
    files = [write(tmp_path, config_for(f"https://race{i}.example"), f"race{i}.json") for i in range(2)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", APP, "gravicors", "apply", f, "--expect-version", str(expected)],
            env=env_for(store_url),
            cwd=Path(__file__).resolve().parents[2],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    return [subprocess.CompletedProcess(p.args, p.returncode, o, e) for p, (o, e) in zip(procs, outs, strict=True)]


def scenario(store_url: str, servers: list[Gunicorn], tmp_path: Path) -> None:
    """What every fleet must do: seeded once, apply reaches every worker within 1 s,
    an invalid config changes nothing, of two concurrent saves one wins, rollback,
    status."""
    pids = set().union(*(s.pids() for s in servers))
    assert len(pids) == sum(s.workers for s in servers)
    assert versions(store_url) == [(1, "init")]  # seeded once, by one worker
    prober = Prober(servers)
    try:
        prober.wait_serving(pids, ORIGIN, timeout=5)
        assert status(store_url) == (0, {(pid, "1") for pid in pids})

        number, returned = apply(store_url, tmp_path, "https://v2.example", "--expect-version", "1")
        assert number == 2
        prober.wait_serving(pids, "https://v2.example", DEADLINE, since=returned)

        bad = flask_cli(store_url, "apply", write(tmp_path, BAD, "bad.json"))
        assert (bad.returncode, bad.stdout) == (1, "")
        assert "gravicors.E023" in bad.stderr
        time.sleep(0.5)  # two polls of every worker
        assert prober.seen("https://v2.example", rounds=3) == {pid: {True} for pid in pids}
        assert versions(store_url)[0] == (2, "cli")

        results = concurrent_applies(store_url, tmp_path, expected=2)
        assert sorted(r.returncode for r in results) == [0, 2], [r.stderr for r in results]
        winner = next(i for i, r in enumerate(results) if r.returncode == 0)
        assert results[winner].stdout == "3\n"
        assert "conflict" in results[1 - winner].stderr
        returned = time.monotonic()
        prober.wait_serving(pids, f"https://race{winner}.example", DEADLINE, since=returned)
        assert [n for n, _ in versions(store_url)] == [3, 2, 1]

        back = flask_cli(store_url, "rollback", "2", "--author", "ops")
        returned = time.monotonic()
        assert (back.returncode, back.stdout) == (0, "4\n")
        prober.wait_serving(pids, "https://v2.example", DEADLINE, since=returned)

        time.sleep(0.3)  # each worker reports right after applying
        assert status(store_url) == (0, {(pid, "4") for pid in pids})
    finally:
        prober.close()


def test_sqlite_one_host_four_workers(sqlite_url: str, gunicorn: Callable[..., Gunicorn], tmp_path: Path) -> None:
    scenario(sqlite_url, [gunicorn(sqlite_url, workers=4)], tmp_path)


def test_postgresql_two_hosts_two_workers_each(pg_url: str, gunicorn: Callable[..., Gunicorn], tmp_path: Path) -> None:
    # Both servers start together on the empty database: still seeded once.
    with ThreadPoolExecutor(2) as pool:
        servers = list(pool.map(lambda _: gunicorn(pg_url, workers=2), range(2)))
    scenario(pg_url, servers, tmp_path)


def test_preload(sqlite_url: str, gunicorn: Callable[..., Gunicorn], tmp_path: Path) -> None:
    """``--preload`` loads the app in the master, then forks: each worker gets a
    watcher of its own, and the master never counts as a worker."""
    server = gunicorn(sqlite_url, workers=2, preload=True)
    pids = server.pids()
    prober = Prober([server])
    try:
        number, returned = apply(sqlite_url, tmp_path, "https://v2.example")
        prober.wait_serving(pids, "https://v2.example", DEADLINE, since=returned)
    finally:
        prober.close()
    time.sleep(0.3)
    code, listed = status(sqlite_url)
    assert (code, listed) == (0, {(pid, str(number)) for pid in pids})
    assert server.proc.pid not in {pid for pid, _ in listed}


# (id, store, gunicorn's worker class)
WORKER_CLASSES = [
    ("gevent, SQLite", "sqlite", "gevent"),
    ("gevent, PostgreSQL", "postgresql", "gevent"),
    ("gthread, SQLite", "sqlite", "gthread"),
]  # fmt: skip


@pytest.mark.parametrize(("store", "worker_class"), [pytest.param(*r[1:], id=r[0]) for r in WORKER_CLASSES])
def test_worker_classes(
    request: pytest.FixtureRequest, gunicorn: Callable[..., Gunicorn], tmp_path: Path, store: str, worker_class: str
) -> None:
    """gevent (the watcher a greenlet once gunicorn patched threading) and gthread
    workers: a saved version reaches every worker within 1 s. On PostgreSQL the
    watchers wait on LISTEN for 10 s between polls: the workers keep answering
    meanwhile (the wait yields to the requests instead of holding the worker) and a
    save's NOTIFY still wakes them at once."""
    pg = store == "postgresql"
    store_url = request.getfixturevalue("pg_url" if pg else "sqlite_url")
    server = gunicorn(store_url, workers=2, worker_class=worker_class, **({"FLEET_POLL_INTERVAL": "10"} if pg else {}))

    def answering() -> None:
        started = time.monotonic()
        while time.monotonic() - started < 1.5:  # inside a 10 s wait on PostgreSQL
            assert get(server.port, "/ready", timeout=2.5)[0] == 200

    a_save_reaches_every_worker(store_url, server, tmp_path, meanwhile=answering)


def a_save_reaches_every_worker(
    store_url: str, server: Gunicorn, tmp_path: Path, meanwhile: Callable[[], None] = lambda: None
) -> None:
    """Every worker of ``server`` serves the seed; after ``meanwhile``, a saved
    version reaches each within 1 s, and status lists exactly them, at it."""
    pids = server.pids()
    prober = Prober([server])
    try:
        prober.wait_serving(pids, ORIGIN, timeout=5)
        meanwhile()
        number, returned = apply(store_url, tmp_path, "https://v2.example")
        prober.wait_serving(pids, "https://v2.example", DEADLINE, since=returned)
        time.sleep(0.3)  # each worker reports right after applying
        assert status(store_url) == (0, {(pid, str(number)) for pid in pids})
    finally:
        prober.close()


# (id, uWSGI's options as a user writes them, workers)
UWSGI_MODES = [
    # The app is loaded in the master, then the workers are forked: uWSGI runs no
    # os.register_at_fork hook, its post-fork hook starts each worker's watcher.
    ("master", ["--master"], 3),
    ("master, py-call-osafterfork", ["--master", "--py-call-osafterfork"], 2),
    # The app is loaded in each worker: as plain gunicorn.
    ("lazy-apps", ["--master", "--lazy-apps"], 2),
    # No master: the process that loaded the app is the one worker.
    ("one process", [], 1),
]  # fmt: skip


@pytest.mark.parametrize(("options", "workers"), [pytest.param(*r[1:], id=r[0]) for r in UWSGI_MODES])
def test_uwsgi(sqlite_url: str, uwsgi: Callable[..., UWSGI], tmp_path: Path, options: list[str], workers: int) -> None:
    """Under uWSGI, however it loads the app, every worker (and only the workers)
    runs a watcher: a saved version reaches each within 1 s, and status lists them."""
    a_save_reaches_every_worker(sqlite_url, uwsgi(sqlite_url, *options, workers=workers), tmp_path)


def test_uwsgi_respawned_worker_serves_the_newest_version(sqlite_url: str, uwsgi: Callable[..., UWSGI], tmp_path: Path) -> None:
    """A worker uWSGI respawns is forked from a master that loaded the app before
    the last save: its first answer already runs the newest version."""
    server = uwsgi(sqlite_url, "--master", workers=1)
    (old,) = server.pids()
    number, returned = apply(sqlite_url, tmp_path, "https://v2.example")
    Prober([server]).wait_serving({old}, "https://v2.example", DEADLINE, since=returned)
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: len(server.pids() - {old}) == 1, 10, "the respawned worker")
    status_code, allowed, body = get(server.port, "/api/pid", "https://v2.example")
    assert (status_code, allowed, body.split()[1]) == (200, "https://v2.example", "1")  # its first answer


def test_postgresql_outage(pg_cluster: PgCluster, pg_url: str, gunicorn: Callable[..., Gunicorn], tmp_path: Path) -> None:
    """PostgreSQL stopped for 10 s while clients send requests: none fails, the old
    config keeps serving, every worker logs the outage once and the recovery once,
    and a version saved after the restart reaches every worker."""
    servers = [gunicorn(pg_url, workers=2) for _ in range(2)]
    pids = set().union(*(s.pids() for s in servers))
    answers: list[tuple[int, str | None]] = []
    failures: list[str] = []
    stop = threading.Event()

    def client(port: int) -> None:
        while not stop.is_set():
            try:
                code, acao, _ = get(port, "/api/pid", ORIGIN)
                answers.append((code, acao))
            except OSError as err:
                failures.append(repr(err))

    clients = [threading.Thread(target=client, args=(s.port,)) for s in servers for _ in range(2)]
    for t in clients:
        t.start()
    try:
        time.sleep(0.5)
        pg_cluster.stop()
        time.sleep(10)
        before_restart = len(answers)
        pg_cluster.start()
        restarted, back_at = time.monotonic(), time.time()
        time.sleep(2.5)
    finally:
        stop.set()
        for t in clients:
            t.join(30)
        if not pg_cluster.running:
            pg_cluster.start()
    assert failures == []
    assert before_restart > 100 and set(answers) == {(200, ORIGIN)}

    number, returned = apply(pg_url, tmp_path, "https://after.example")
    prober = Prober(servers)
    try:
        timings = prober.wait_serving(pids, "https://after.example", DEADLINE, since=returned)
    finally:
        prober.close()
    assert number == 2 and returned - restarted < 10
    assert max(timings.values()) < DEADLINE
    logs = "".join(s.log() for s in servers)
    for pid in pids:
        mine = [line for line in logs.splitlines() if line.startswith(f"[{pid}] ")]
        assert sum("unreachable, keeps serving version 1" in line for line in mine) == 1, mine
        (again,) = [line for line in mine if "reachable again" in line]
        # Reconnected within 2 s of the database accepting connections again.
        assert float(again.split()[1]) - back_at < 2.0, again
    assert pg_cluster.password not in logs
