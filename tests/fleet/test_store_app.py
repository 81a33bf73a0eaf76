"""An app with a config store, in one process (flask_gravicors.store.app and
.watcher): seeding, what runs, reconfigure saving, the watcher applying and
refusing, the worker registry, which processes watch, and a store outage."""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any, Callable

import click
import pytest
from flask import Flask
from marshmallow import Schema
from sqlalchemy import insert

from flask_gravicors import ConfigError, Policy, hookimpl
from flask_gravicors.store import SchemaError, VersionConflict
from flask_gravicors.store.app import CLI_MARK, AppStore, serving_process
from flask_gravicors.store.tables import schema_steps, versions

from .conftest import CONFIG, ORIGIN
from .fleetapp import config_for
from .pgcluster import PgCluster

FAST = {"GRAVICORS_STORE_POLL_INTERVAL": 0.05}
ME = (socket.gethostname(), os.getpid())


def store_of(app: Flask) -> AppStore:
    store = app.extensions["gravicors"].store_for(app)
    assert store is not None
    return store


def allowed(app: Flask, origin: str) -> bool:
    response = app.test_client().get("/api/x", headers={"Origin": origin})
    assert response.status_code == 200
    return response.headers.get("Access-Control-Allow-Origin") == origin


def wait_for(check: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.02)


def messages(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


def test_an_empty_store_is_seeded_and_runs(store_url: str, make_app: Callable[..., Flask]) -> None:
    app = make_app(store_url)
    (version,) = store_of(app).history()
    assert (version.number, version.source, version.author, version.config) == (1, "init", "init", CONFIG)
    assert store_of(app).applied == 1
    assert allowed(app, ORIGIN)


def test_a_file_config_is_seeded_as_its_content(sqlite_url: str, make_app: Callable[..., Flask], tmp_path: Path) -> None:
    path = tmp_path / "gravicors.json"
    path.write_text(json.dumps(CONFIG))
    app = make_app(sqlite_url, str(path))
    assert store_of(app).current().config == CONFIG  # type: ignore[union-attr]


def test_the_store_wins_over_the_app_config(
    sqlite_url: str, make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    first = make_app(sqlite_url)
    store_of(first).save(config_for("https://v2.example"), author="alice")
    with caplog.at_level(logging.WARNING, logger="flask_gravicors"):
        second = make_app(sqlite_url)  # its GRAVICORS is version 1's
    assert allowed(second, "https://v2.example") and not allowed(second, ORIGIN)
    assert len(messages(caplog, "GRAVICORS differs from the store's version 2, which is what runs")) == 1
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="flask_gravicors"):
        make_app(sqlite_url, config_for("https://v2.example"))  # the same: no warning
        make_app(sqlite_url, None)  # none given: no warning
        with click.Context(click.Command("history")) as ctx:
            ctx.meta[CLI_MARK] = True
            make_app(sqlite_url)  # a flask gravicors command runs nothing: no warning
    assert messages(caplog, "differs") == []


def test_reconfigure_saves_a_version_and_applies_it(store_url: str, make_app: Callable[..., Flask]) -> None:
    app = make_app(store_url, **FAST)
    ext = app.extensions["gravicors"]
    version = ext.reconfigure(config_for("https://v2.example"), app=app, author="alice", comment="widen")
    assert (version.number, version.author, version.comment, version.source) == (2, "alice", "widen", "api")
    assert allowed(app, "https://v2.example")  # at once, in this process
    assert ext.running_config(app) == config_for("https://v2.example")
    # Invalid: refused before anything is written; the old config stays.
    with pytest.raises(ConfigError):
        ext.reconfigure({"apis": [{"name": "x", "context_path": "x"}]}, app=app)
    with pytest.raises(VersionConflict):
        ext.reconfigure(config_for("https://v3.example"), app=app, expected_version=1)
    assert store_of(app).sql.latest_number() == 2
    assert allowed(app, "https://v2.example")


def test_another_worker_applies_a_saved_version(store_url: str, make_app: Callable[..., Flask]) -> None:
    """Two apps on one store stand for two workers: a save through one reaches the
    other through its watcher, and its requests never fail meanwhile."""
    saver = make_app(store_url, **FAST)
    worker = make_app(store_url, **FAST)
    store_of(saver).save(config_for("https://v2.example"), author="alice")
    wait_for(lambda: allowed(worker, "https://v2.example"))
    assert store_of(worker).applied == 2


def test_rollback_saves_the_old_config_again(store_url: str, make_app: Callable[..., Flask]) -> None:
    app = make_app(store_url, **FAST)
    store = store_of(app)
    store.save(config_for("https://v2.example"), author="alice")
    back = store.rollback(1, author="bob")
    assert (back.number, back.author, back.comment, back.config) == (3, "bob", "rollback to version 1", CONFIG)
    assert [str(c) for c in store.diff(2, 3)] == ['api api: cors.allow_origin: ["https://v2.example"] -> ["https://v0.example"]']
    assert allowed(app, ORIGIN) and not allowed(app, "https://v2.example")


def test_a_worker_registers_and_reports_its_version(store_url: str, make_app: Callable[..., Flask]) -> None:
    app = make_app(store_url, **FAST)
    store = store_of(app)

    def mine() -> Any:
        return next((w for w in store.workers() if (w.host, w.pid) == ME), None)

    wait_for(lambda: mine() is not None and mine().version == 1)
    store.save(config_for("https://v2.example"), author="alice")
    wait_for(lambda: mine().version == 2)
    assert store.running(2) == (1, 1)
    store.close()
    assert store.sql.workers() == []


def test_a_version_written_around_the_checks_is_refused(
    sqlite_url: str, make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    """Invalid rows can only be written by hand: a worker keeps its config, logs the
    refusal once and reports it; a later valid version is applied."""
    app = make_app(sqlite_url, **FAST)
    store = store_of(app)
    bad = {"apis": [{"name": "api", "context_path": "/api", "cors": {"allow_origin": ["*"], "allow_credentials": True}}]}
    with caplog.at_level(logging.ERROR, logger="flask_gravicors"):
        with store.sql.engine.begin() as conn:
            conn.execute(
                insert(versions).values(number=2, config=json.dumps(bad), author="dba", created_at=0, comment="", source="api")
            )

        def reported() -> bool:
            mine = [w for w in store.workers() if (w.host, w.pid) == ME]
            return bool(mine) and mine[0].refused_version == 2

        wait_for(reported)
        time.sleep(0.3)  # several more polls
    (logged,) = messages(caplog, "refused version 2")
    assert "keeps running version 1" in logged and "gravicors.E023" in logged
    assert "gravicors.E023" in (store.workers()[0].refused_error or "")
    assert allowed(app, ORIGIN) and store.applied == 1
    store.save(config_for("https://v3.example"), author="alice")
    wait_for(lambda: allowed(app, "https://v3.example"))
    wait_for(lambda: store.workers()[0].refused_version is None)


def test_starting_on_an_invalid_newest_version_runs_the_newest_valid_one(sqlite_url: str, make_app: Callable[..., Flask]) -> None:
    first = make_app(sqlite_url)
    store_of(first).save(config_for("https://v2.example"), author="alice")
    with store_of(first).sql.engine.begin() as conn:
        conn.execute(
            insert(versions).values(number=3, config='{"apis": 5}', author="dba", created_at=0, comment="", source="api")
        )
    second = make_app(sqlite_url)
    assert store_of(second).applied == 2 and store_of(second).refused is not None
    assert store_of(second).refused[0] == 3  # type: ignore[index]
    assert allowed(second, "https://v2.example")


@pytest.mark.parametrize(
    ("command", "mark", "setting", "serves"),
    [
        (None, False, None, True),  # gunicorn, uwsgi, app.run(): no click command
        ("run", False, None, True),  # flask run
        ("shell", False, None, False),  # flask shell, flask routes...
        ("shell", False, True, True),  # forced on
        (None, False, False, False),  # forced off
        ("apply", True, None, False),  # a flask gravicors command
        ("apply", True, True, False),  # ... whatever the setting
    ],
)
def test_which_processes_watch(command: str | None, mark: bool, setting: bool | None, serves: bool) -> None:
    config = {} if setting is None else {"GRAVICORS_STORE_WATCH": setting}
    if command is None:
        assert serving_process(config) is serves
        return
    with click.Context(click.Command(command)) as ctx:
        if mark:
            ctx.meta[CLI_MARK] = True
        assert serving_process(config) is serves


def test_a_command_process_starts_no_watcher(sqlite_url: str, make_app: Callable[..., Flask]) -> None:
    with click.Context(click.Command("apply")) as ctx:
        ctx.meta[CLI_MARK] = True
        app = make_app(sqlite_url, **FAST)
    store = store_of(app)
    assert store.watcher is None
    # It saves and reconfigures like any process, and never registers.
    app.extensions["gravicors"].reconfigure(config_for("https://v2.example"), app=app)
    assert allowed(app, "https://v2.example")
    time.sleep(0.2)
    assert store.workers() == []


def test_outage_keeps_serving_and_recovers(
    pg_cluster: PgCluster, pg_url: str, make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL down: requests are answered from memory (none touches the
    database), the outage is logged once and the recovery once, and a version
    saved after the restart is applied."""
    app = make_app(pg_url, **FAST)
    saver = make_app(pg_url, GRAVICORS_STORE_WATCH=False)
    with caplog.at_level(logging.INFO, logger="flask_gravicors"):
        pg_cluster.stop()
        try:
            wait_for(lambda: bool(messages(caplog, "unreachable")), timeout=10)
            started = time.monotonic()
            while time.monotonic() - started < 1.5:  # many retries meanwhile
                assert allowed(app, ORIGIN)
        finally:
            pg_cluster.start()
        wait_for(lambda: bool(messages(caplog, "reachable again")), timeout=5)
        store_of(saver).save(config_for("https://v2.example"), author="alice")
        wait_for(lambda: allowed(app, "https://v2.example"), timeout=5)
    (down,) = messages(caplog, "unreachable")
    assert "keeps serving version 1" in down and pg_cluster.password not in down
    assert len(messages(caplog, "reachable again")) == 1
    assert pg_cluster.password not in caplog.text


def test_a_worker_starting_during_an_outage(
    pg_cluster: PgCluster, pg_url: str, make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    """It starts anyway (a gunicorn worker that fails to boot stops the whole
    server), serving the app's own config, and takes the store's newest version
    once the store is back."""
    make_app(pg_url, GRAVICORS_STORE_WATCH=False).extensions["gravicors"].reconfigure(
        config_for("https://v2.example"), author="alice"
    )
    with caplog.at_level(logging.INFO, logger="flask_gravicors"):
        pg_cluster.stop()
        try:
            app = make_app(pg_url, **FAST)
            assert allowed(app, ORIGIN)
            time.sleep(0.3)  # the watcher tries meanwhile
        finally:
            pg_cluster.start()
        wait_for(lambda: allowed(app, "https://v2.example"), timeout=5)
        wait_for(lambda: bool(messages(caplog, "reachable again")))  # logged right after
    assert len(messages(caplog, "unreachable at start, serving the app's own GRAVICORS")) == 1
    assert len(messages(caplog, "unreachable")) == 1  # not again by the watcher
    assert len(messages(caplog, "reachable again")) == 1


def test_an_empty_store_down_at_start_is_seeded_when_back(
    pg_cluster: PgCluster, pg_url: str, make_app: Callable[..., Flask]
) -> None:
    pg_cluster.stop()
    try:
        app = make_app(pg_url, **FAST)
    finally:
        pg_cluster.start()
    wait_for(lambda: store_of(app).applied == 1, timeout=5)
    (version,) = store_of(app).history()
    assert (version.number, version.source, version.config) == (1, "init", CONFIG)


def test_a_sqlite_folder_not_there_yet_is_an_outage(tmp_path: Path, make_app: Callable[..., Flask]) -> None:
    """A volume mounted after the app starts: the app serves its own config, and
    the watcher makes the file, seeds it and runs it once the folder is there."""
    app = make_app(f"sqlite:///{tmp_path}/volume/store.db", **FAST)
    assert allowed(app, ORIGIN) and store_of(app).applied is None
    (tmp_path / "volume").mkdir()
    wait_for(lambda: store_of(app).applied == 1, timeout=5)
    assert oct((tmp_path / "volume" / "store.db").stat().st_mode & 0o777) == "0o600"


def test_a_store_from_a_newer_version_stops_the_start(sqlite_url: str, make_app: Callable[..., Flask]) -> None:
    """Not an outage to wait out: older code must not run against newer tables."""
    first = make_app(sqlite_url)
    with store_of(first).sql.engine.begin() as conn:
        conn.execute(insert(schema_steps).values(step=99, name="from the future", applied_at=0))
    with pytest.raises(SchemaError, match="newer flask_gravicors"):
        make_app(sqlite_url)


# -- one definition of valid: what init_app refuses is never saved ---------------------

ROOT_API = {"apis": [{"name": "root", "context_path": "/"}]}


def _fails_plugin() -> Any:
    class Fails(Policy):
        name = "fails"
        config_schema = Schema

        def __init__(self, config: Any, api_name: str) -> None:
            raise ValueError("cannot set up")

    class Plugin:
        @hookimpl
        def gravicors_register_policies(self) -> list[type[Policy]]:
            return [Fails]

    return Plugin()


def with_metrics(tmp_path: Path) -> dict[str, Any]:
    directory = tmp_path / f"metrics-{len(list(tmp_path.glob('metrics-*')))}"
    directory.mkdir()
    return {"GRAVICORS_METRICS": True, "GRAVICORS_METRICS_DIR": str(directory)}


# (id, what the app needs, a config that passes the schemas but not the compile, rule)
UNCOMPILABLE = [
    ("an API owning the metrics path", "metrics", ROOT_API, "gravicors.E092"),
    ("a policy that cannot be set up", "plugin",
     {"apis": [{"name": "api", "context_path": "/api", "flows": [{"request": [{"policy": "fails"}]}]}]}, "gravicors.E015"),
]  # fmt: skip


def uncompilable_app(make_app: Callable[..., Flask], url: str, tmp_path: Path, needs: str, **settings: Any) -> Flask:
    if needs == "metrics":
        return make_app(url, **with_metrics(tmp_path), **settings)
    return make_app(url, plugins=(_fails_plugin(),), **settings)


@pytest.mark.parametrize(("needs", "config", "rule"), [pytest.param(*r[1:], id=r[0]) for r in UNCOMPILABLE])
def test_a_config_that_does_not_compile_is_never_saved(
    sqlite_url: str, make_app: Callable[..., Flask], tmp_path: Path, needs: str, config: Any, rule: str
) -> None:
    """save() and reconfigure() check with load(), which compiles on trial:
    nothing is written, and the running config stays."""
    app = uncompilable_app(make_app, sqlite_url, tmp_path, needs, **FAST)
    ext, store = app.extensions["gravicors"], store_of(app)
    with pytest.raises(ConfigError) as caught:
        ext.load(config, app)
    assert caught.value.ids == {rule}
    with pytest.raises(ConfigError) as caught:
        store.save(config, author="alice")
    assert caught.value.ids == {rule}
    with pytest.raises(ConfigError) as caught:
        ext.reconfigure(config, app=app)
    assert caught.value.ids == {rule}
    assert store.sql.latest_number() == 1 and store.applied == 1 and store.refused is None
    assert allowed(app, ORIGIN)


@pytest.mark.parametrize(("needs", "config", "rule"), [pytest.param(*r[1:], id=r[0]) for r in UNCOMPILABLE])
def test_an_uncompilable_config_is_not_seeded(
    sqlite_url: str, make_app: Callable[..., Flask], tmp_path: Path, needs: str, config: Any, rule: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        uncompilable_app(make_app, sqlite_url, tmp_path, needs, GRAVICORS=config)
    assert caught.value.ids == {rule}
    fixed = uncompilable_app(make_app, sqlite_url, tmp_path, needs)  # the store is still empty: seeded now
    assert [(v.number, v.config) for v in store_of(fixed).history()] == [(1, CONFIG)]


def write_version(app: Flask, number: int, config: Any) -> None:
    """A version written around the app's checks (by hand, or by a process whose
    settings or plugins differ)."""
    with store_of(app).sql.engine.begin() as conn:
        conn.execute(
            insert(versions).values(
                number=number, config=json.dumps(config), author="dba", created_at=0, comment="", source="api"
            )
        )


@pytest.mark.parametrize(("needs", "config", "rule"), [pytest.param(*r[1:], id=r[0]) for r in UNCOMPILABLE])
def test_starting_where_the_newest_versions_do_not_compile(
    sqlite_url: str,
    make_app: Callable[..., Flask],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    needs: str,
    config: Any,
    rule: str,
) -> None:
    """The newest version that compiles runs (a gap and two refused versions
    skipped); the newest refused is logged once and reported; the boot never fails."""
    first = make_app(sqlite_url, GRAVICORS_STORE_WATCH=False)
    store_of(first).save(config_for("https://v2.example"), author="alice")
    write_version(first, 4, config)
    write_version(first, 5, config)
    with caplog.at_level(logging.ERROR, logger="flask_gravicors"):
        app = uncompilable_app(make_app, sqlite_url, tmp_path, needs, **FAST)
        store = store_of(app)
        assert (store.applied, store.refused[0] if store.refused else None) == (2, 5)
        assert allowed(app, "https://v2.example")
        wait_for(lambda: [(w.version, w.refused_version) for w in store.workers() if (w.host, w.pid) == ME] == [(2, 5)])
        time.sleep(0.2)  # more polls: not refused nor logged again
    (logged,) = messages(caplog, "refused version")
    assert "refused version 5" in logged and "keeps running version 2" in logged and rule in logged
    assert rule in (store.workers()[0].refused_error or "")
    store_of(first).save(config_for("https://v6.example"), author="alice")
    wait_for(lambda: allowed(app, "https://v6.example"))
    assert store.applied == 6 and store.refused is None


@pytest.mark.parametrize(
    ("given", "runs"),
    [(config_for("https://own.example"), "https://own.example"), (ROOT_API, None), (None, None)],
    ids=["its own GRAVICORS passes: it runs", "its own GRAVICORS does not pass", "no GRAVICORS of its own"],
)
def test_starting_where_no_version_compiles(
    sqlite_url: str, make_app: Callable[..., Flask], tmp_path: Path, given: Any, runs: str | None
) -> None:
    """No version passes this app's checks: its own GRAVICORS runs when it passes;
    otherwise a serving process refuses to start (serving no config would drop
    every API's plans) with the newest version's problems or its GRAVICORS's."""
    first = make_app(sqlite_url, ROOT_API)  # saved where metrics are off
    if runs is None:
        with pytest.raises(ConfigError) as caught:
            make_app(sqlite_url, given, **with_metrics(tmp_path))
        assert caught.value.ids == {"gravicors.E092"}
        return
    app = make_app(sqlite_url, given, **with_metrics(tmp_path))
    assert (store_of(app).applied, store_of(app).refused[0]) == (None, 1)  # type: ignore[index]
    assert allowed(app, runs)
    assert store_of(first).sql.latest_number() == 1  # nothing written


def test_rolling_back_to_a_version_that_no_longer_compiles(
    sqlite_url: str, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    first = make_app(sqlite_url, GRAVICORS_STORE_WATCH=False)
    store_of(first).save(ROOT_API, author="alice")  # fine where metrics are off
    store_of(first).save(CONFIG, author="alice")
    app = make_app(sqlite_url, **with_metrics(tmp_path), **FAST)
    with pytest.raises(ConfigError) as caught:
        store_of(app).rollback(2, author="bob")
    assert caught.value.ids == {"gravicors.E092"}
    assert store_of(app).sql.latest_number() == 3 and allowed(app, ORIGIN)


def test_reconfigure_with_a_config_too_deep_for_json(sqlite_url: str, make_app: Callable[..., Flask]) -> None:
    app = make_app(sqlite_url, GRAVICORS_STORE_WATCH=False)
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ConfigError) as caught:
        app.extensions["gravicors"].reconfigure({"apis": deep}, app=app)
    assert caught.value.ids == {"gravicors.E006"}
    assert store_of(app).sql.latest_number() == 1
