"""Fixtures of the config store's tests: a real PostgreSQL (one throwaway cluster for
the session, a fresh database per test), SQLite files, apps with a store, and
real gunicorn servers, each stopped by the fixture that started it.

A missing PostgreSQL fails these tests (``scripts/test.sh`` installs Debian's
``postgresql`` package when it is missing): they never skip.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from flask import Flask
from procs import UWSGI, Gunicorn

from flask_gravicors import GraviCORS

from .fleetapp import config_for
from .pgcluster import PgCluster, bindir
from .servers import Server, start_server, start_uwsgi

ORIGIN = "https://v0.example"
CONFIG = config_for(ORIGIN)

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    binaries = bindir()
    if binaries is None:
        pytest.fail(
            "PostgreSQL's server is not installed (Debian package postgresql; scripts/test.sh installs it)", pytrace=False
        )
    cluster = PgCluster(binaries)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """A new, empty database on the running cluster (restarted if a test left it down)."""
    if not pg_cluster.running:
        pg_cluster.start()
    return pg_cluster.create_database(f"test_{next(_databases)}")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/store.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str:
    """Each test using it runs on SQLite and on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def make_app() -> Iterator[Callable[..., Flask]]:
    """Builds apps with a store (``/api/x`` under the API; ``plugins`` for GraviCORS);
    closes their stores after the test."""
    made: list[Flask] = []

    def make(url: str, config: Any = CONFIG, *, plugins: tuple[Any, ...] = (), **settings: Any) -> Flask:
        app = Flask(__name__)
        app.config["GRAVICORS"] = config
        app.config["GRAVICORS_STORE"] = url
        app.config.update(settings)

        @app.get("/api/x")
        def x() -> str:
            return "ok"

        made.append(app)
        GraviCORS(app, plugins=plugins, entry_points=False)
        return app

    yield make
    for app in made:
        ext = app.extensions.get("gravicors")
        store = ext.store_for(app) if ext is not None else None
        if store is not None:
            store.close()


def _servers(start: Callable[..., Server]) -> Iterator[Callable[..., Server]]:
    """``start`` as a fixture gives it: the servers it started are stopped after the
    test, and no worker of theirs may have logged a traceback."""
    started: list[Server] = []

    def run(*args: Any, **kwargs: Any) -> Server:
        server = start(*args, **kwargs)
        started.append(server)
        return server

    yield run
    for server in started:
        server.stop()
    for server in started:
        log = server.log()
        assert "Traceback" not in log, log


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Callable[..., Gunicorn]]:
    """Starts gunicorn servers of the fleet app: ``gunicorn(store_url, workers=N,
    preload=False, **env)``."""
    yield from _servers(lambda store_url, **options: start_server(store_url, tmp_path, **options))


@pytest.fixture
def uwsgi(tmp_path: Path) -> Iterator[Callable[..., UWSGI]]:
    """Starts uWSGI servers of the fleet app: ``uwsgi(store_url, *options, workers=N)``."""
    yield from _servers(lambda store_url, *options, **kw: start_uwsgi(store_url, tmp_path, *options, **kw))
