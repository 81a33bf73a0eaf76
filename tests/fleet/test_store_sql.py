"""The store in SQL (flask_gravicors.store.sql): versions, conflicts, seeding, schema
steps and the worker registry, each on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable

import pytest
from sqlalchemy import Column, Integer, Table, insert, inspect, update

from flask_gravicors import ConfigError
from flask_gravicors.schema import load_config
from flask_gravicors.store import MAX_VERSION, StoreError, VersionConflict, VersionNotFound
from flask_gravicors.store import tables as schema
from flask_gravicors.store.sql import SqlStore, canonical

from .conftest import CONFIG
from .fleetapp import config_for
from .pgcluster import PgCluster

ROOT = Path(__file__).resolve().parents[2]
ALL_STEPS = [step.number for step in schema.STEPS]


def validate(raw: Any) -> Any:
    return load_config(raw, {})


_opened: list[SqlStore] = []


def open_store(url: str) -> SqlStore:
    store = SqlStore(url, validate)
    _opened.append(store)
    return store


def new_store(url: str) -> SqlStore:
    store = open_store(url)
    store.migrate()
    return store


@pytest.fixture(autouse=True)
def _dispose() -> Any:
    yield
    while _opened:
        _opened.pop().dispose()


def in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """``work(i)`` in ``count`` threads released together; results (or exceptions) in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[i] = work(i)
        except Exception as err:  # collected: the test asserts on them
            results[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


# -- schema steps ----------------------------------------------------------------


def test_migrate_creates_the_tables_once(store_url: str) -> None:
    store = new_store(store_url)
    store.migrate()  # a second start changes nothing
    assert store.schema_steps() == ALL_STEPS
    names = set(inspect(store.engine).get_table_names())
    assert {"gravicors_schema", "gravicors_versions", "gravicors_workers", "gravicors_users", "gravicors_sessions"} <= names


def test_adding_a_table_is_one_step(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The upgrade path: a store made with today's steps gains the next step's
    table at the next start, keeps its versions, and applies the step once however
    many processes start together."""
    old = new_store(store_url)
    old.seed(CONFIG)
    extra = Table("gravicors_test_extra", schema.metadata, Column("id", Integer, primary_key=True))
    try:
        step = schema.Step(len(ALL_STEPS) + 1, "an extra table", schema.creating(extra))
        monkeypatch.setattr(schema, "STEPS", [*schema.STEPS, step])
        monkeypatch.setattr("flask_gravicors.store.sql.STEPS", schema.STEPS)
        stores = [open_store(store_url) for _ in range(4)]
        errors = [r for r in in_threads(4, lambda i: stores[i].migrate()) if r is not None]
        assert errors == []
        assert old.schema_steps() == [*ALL_STEPS, step.number]
        assert "gravicors_test_extra" in inspect(old.engine).get_table_names()
        assert [v.number for v in old.history()] == [1]
    finally:
        schema.metadata.remove(extra)


def test_concurrent_first_starts_create_the_schema_once(store_url: str) -> None:
    stores = [open_store(store_url) for _ in range(6)]
    assert in_threads(6, lambda i: stores[i].migrate()) == [None] * 6
    assert stores[0].schema_steps() == ALL_STEPS


def test_a_schema_from_a_newer_version_is_refused(store_url: str) -> None:
    store = new_store(store_url)
    with store.engine.begin() as conn:
        conn.execute(insert(schema.schema_steps).values(step=99, name="from the future", applied_at=0))
    with pytest.raises(StoreError, match=r"step\(s\) \[99\].*newer flask_gravicors"):
        store.migrate()


# -- versions ---------------------------------------------------------------------


def test_save_get_history(store_url: str) -> None:
    store = new_store(store_url)
    first, wrote = store.seed(CONFIG)
    assert (first.number, first.source, first.author, first.changed, wrote) == (1, "init", "init", ("api",), True)
    other = {"apis": [*CONFIG["apis"], {"name": "other", "context_path": "/other"}]}
    second = store.save(other, author="alice", comment="add other", source="cli")
    third = store.save(config_for("https://v3.example"), author="bob", expected_version=2)
    assert [(v.number, v.author, v.source, v.comment, v.changed) for v in store.history()] == [
        (3, "bob", "api", "", ("api", "other")),
        (2, "alice", "cli", "add other", ("other",)),
        (1, "init", "init", "", ("api",)),
    ]
    assert store.get(2) == second and store.get(2).config == other
    assert store.current() == third
    assert [v.number for v in store.history(limit=2)] == [3, 2]
    assert store.history(limit=2)[1].changed == ("other",)  # compared with version 1, read for that
    assert third.created_at >= second.created_at >= first.created_at
    with pytest.raises(VersionNotFound, match="version 9 not found"):
        store.get(9)


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(store_url: str) -> None:
    store = new_store(store_url)
    store.seed(CONFIG)
    store.save(config_for("https://v2.example"), author="alice", comment="first")
    with pytest.raises(VersionConflict) as caught:
        store.save(config_for("https://v3.example"), author="bob", expected_version=1)
    assert caught.value.expected == 1
    assert caught.value.latest is not None and (caught.value.latest.number, caught.value.latest.author) == (2, "alice")
    assert "based on version 1, but the latest is version 2 (by alice" in str(caught.value)
    assert store.latest_number() == 2


def test_two_saves_expecting_one_version_exactly_one_wins(store_url: str) -> None:
    store = new_store(store_url)
    store.seed(CONFIG)
    savers = [open_store(store_url) for _ in range(8)]
    results = in_threads(
        8, lambda i: savers[i].save(config_for(f"https://w{i}.example"), author=f"writer{i}", expected_version=1)
    )
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(r, VersionConflict) for r in results if r is not winners[0])
    assert [v.number for v in store.history()] == [2, 1]
    assert store.get(2).author == winners[0].author


class FirstAttemptGate:
    """Holds a save's first attempt between its read and its insert until the other
    save's first attempt is there too (a retry goes straight on)."""

    def __init__(self, barrier: threading.Barrier):
        self.barrier = barrier
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if self.calls == 1:
            self.barrier.wait(timeout=30)


def test_racing_inserts_on_postgresql(pg_url: str) -> None:
    """Both saves read the newest number before either inserts (forced): the primary
    key refuses the second insert. Expecting a version, the loser is a conflict;
    expecting none, it saves as the next number."""
    store = new_store(pg_url)
    store.seed(CONFIG)
    for expected, outcome in ((1, "conflict"), (None, "both")):
        savers = [open_store(pg_url) for _ in range(2)]
        gate = threading.Barrier(2)
        for saver in savers:
            saver._before_insert = FirstAttemptGate(gate)
        results = in_threads(
            2, lambda i, s=savers, e=expected: s[i].save(config_for(f"https://r{i}.example"), author="r", expected_version=e)
        )
        for saver in savers:
            saver._before_insert = None
        saved = [r for r in results if not isinstance(r, Exception)]
        if outcome == "conflict":
            assert len(saved) == 1 and sum(isinstance(r, VersionConflict) for r in results) == 1, results
        else:
            assert len(saved) == 2 and {v.number for v in saved} == {3, 4}, results
    assert [v.number for v in store.history()] == [4, 3, 2, 1]


def test_an_invalid_config_writes_nothing(store_url: str) -> None:
    store = new_store(store_url)
    store.seed(CONFIG)
    bad = {"apis": [{"name": "api", "context_path": "/api/", "cors": {"allow_origin": ["*"], "allow_credentials": True}}]}
    with pytest.raises(ConfigError) as caught:
        store.save(bad, author="alice")
    assert caught.value.ids == {"gravicors.E012", "gravicors.E023"}
    with pytest.raises(ConfigError, match="gravicors.E004"):
        store.save({"apis": {"a set is not JSON"}}, author="alice")
    assert store.latest_number() == 1


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def looping() -> dict[str, Any]:
    config: dict[str, Any] = {"apis": []}
    config["apis"].append(config)
    return config


@pytest.mark.parametrize(
    "config",
    [{"apis": nested(100_000)}, {"apis": [{"name": "a", "context_path": "/a", "cors": nested(40)}]}, looping()],
    ids=["100,000 levels", "40 levels", "holds itself"],
)
def test_a_config_too_deep_is_e006_before_it_is_dumped(sqlite_url: str, config: Any) -> None:
    """The size bounds come before json.dumps, whose recursion a deep config would
    exhaust (a RecursionError out of reconfigure, the console or the CLI)."""
    store = new_store(sqlite_url)
    with pytest.raises(ConfigError) as caught:
        canonical(config)
    assert caught.value.ids == {"gravicors.E006"}
    with pytest.raises(ConfigError) as caught:
        store.save(config, author="alice")
    assert caught.value.ids == {"gravicors.E006"}
    assert store.latest_number() is None


@pytest.mark.parametrize("number", [0, -1, MAX_VERSION, MAX_VERSION + 1, 2**63, 10**30, -(2**63) - 1])
def test_a_number_outside_the_versions_is_not_found(store_url: str, number: int) -> None:
    """Never a driver's error (SQLite's OverflowError, PostgreSQL's "integer out of
    range"): MAX_VERSION is the number column's bound."""
    store = new_store(store_url)
    store.seed(CONFIG)
    with pytest.raises(VersionNotFound, match=f"version {number} not found"):
        store.get(number)


@pytest.mark.parametrize("limit", [1, MAX_VERSION, 2**63, 10**30])
def test_a_history_limit_beyond_the_versions(store_url: str, limit: int) -> None:
    store = new_store(store_url)
    store.seed(CONFIG)
    assert [v.number for v in store.history(limit=limit)] == [1]


@pytest.mark.parametrize("limit", [0, -1, -2, True, 1.5, "2"])
def test_a_history_limit_that_is_no_count_is_refused(store_url: str, limit: Any) -> None:
    """Not a slice of the versions (history(-2) was every version but the two oldest)."""
    store = new_store(store_url)
    store.seed(CONFIG)
    with pytest.raises(ValueError, match="limit must be a whole number from 1"):
        store.history(limit=limit)


def test_before_skips_gaps(store_url: str) -> None:
    store = new_store(store_url)
    store.seed(CONFIG)
    store.save(config_for("https://v2.example"), author="alice")
    with store.engine.begin() as conn:  # a version written by hand, leaving a gap
        conn.execute(insert(schema.versions).values(number=5, config="{}", author="dba", created_at=0, comment="", source="api"))
    found = [getattr(store.before(n), "number", None) for n in (MAX_VERSION + 1, 5, 4, 2, 1, 0, -3)]
    assert found == [5, 2, 2, 1, None, None, None]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"author": ""}, "author must not be empty"),
        ({"author": "eve\r\nX-Injected: 1"}, "control characters"),
        ({"author": "a" * 201}, "at most 200"),
        ({"author": "alice", "comment": "c" * 2001}, "at most 2000"),
        ({"author": "alice", "source": "elsewhere"}, "source must be one of"),
    ],
)
def test_bad_author_comment_or_source(sqlite_url: str, kwargs: dict[str, Any], message: str) -> None:
    store = new_store(sqlite_url)
    with pytest.raises(ValueError, match=message):
        store.save(CONFIG, **kwargs)
    assert store.latest_number() is None


def test_a_comment_may_span_lines(sqlite_url: str) -> None:
    store = new_store(sqlite_url)
    assert store.save(CONFIG, author="alice", comment="line 1\nline 2").comment == "line 1\nline 2"


def test_tuples_are_saved_as_lists(sqlite_url: str) -> None:
    """What is validated is what is stored and read back: the JSON form."""
    store = new_store(sqlite_url)
    store.save({"apis": ({"name": "t", "context_path": "/t", "entrypoints": ("http-get",)},)}, author="a")
    assert store.current().config == {"apis": [{"name": "t", "context_path": "/t", "entrypoints": ["http-get"]}]}  # type: ignore[union-attr]


def test_seeding_happens_once_when_many_start_together(store_url: str) -> None:
    stores = [open_store(store_url) for _ in range(8)]
    for s in stores:
        s.migrate()
    results = in_threads(8, lambda i: stores[i].seed(config_for(f"https://seed{i}.example")))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sum(wrote for _, wrote in results) == 1
    assert len({version.number for version, _ in results}) == 1
    (only,) = stores[0].history()
    assert (only.number, only.source) == (1, "init")


def test_seed_validates_only_what_it_writes(sqlite_url: str) -> None:
    store = new_store(sqlite_url)
    with pytest.raises(ConfigError):
        store.seed({"apis": [{"name": "x"}]})  # no context_path nor blueprint
    assert store.latest_number() is None
    store.seed(CONFIG)
    assert store.seed({"apis": [{"name": "x"}]}) == (store.get(1), False)


# -- workers ----------------------------------------------------------------------


def test_worker_registry(store_url: str) -> None:
    store = new_store(store_url)
    store.heartbeat("host-a", 11, version=1, applied_now=True)
    store.heartbeat("host-b", 22, version=None, applied_now=False, refused_version=2, refused_error="bad")
    store.heartbeat("host-a", 11, version=2, applied_now=True)
    live = store.workers()
    assert [(w.host, w.pid, w.version, w.refused_version, w.refused_error) for w in live] == [
        ("host-a", 11, 2, None, None),
        ("host-b", 22, None, 2, "bad"),
    ]
    assert live[0].applied_at is not None and live[1].applied_at is None
    assert live[0].started_at <= live[0].seen_at
    # Not seen for 10 s: not live.
    with store.engine.begin() as conn:
        conn.execute(update(schema.workers).where(schema.workers.c.pid == 22).values(seen_at=live[1].seen_at - 10.5))
    assert [w.pid for w in store.workers()] == [11]
    store.deregister("host-a", 11)
    assert store.workers() == []


# -- connections ------------------------------------------------------------------


def test_an_unreachable_store_is_a_store_error_without_the_password(pg_cluster: PgCluster) -> None:
    closed = pg_cluster.url().replace(f":{pg_cluster.port}/", ":1/")
    store = open_store(closed)
    with pytest.raises(StoreError) as caught:
        store.latest_number()
    assert pg_cluster.password not in str(caught.value)
    assert "***@127.0.0.1:1/postgres" in str(caught.value)
    assert pg_cluster.password not in store.url_text


def test_plain_postgresql_urls_use_psycopg(pg_url: str) -> None:
    store = new_store(pg_url.replace("postgresql+psycopg://", "postgresql://"))
    assert store.url.drivername == "postgresql+psycopg"
    assert store.latest_number() is None


def test_an_in_memory_sqlite_store_is_refused() -> None:
    with pytest.raises(StoreError, match="in-memory SQLite store"):
        SqlStore("sqlite://", validate)


def test_a_sqlite_file_that_cannot_be_made_yet(tmp_path: Path) -> None:
    """The file is made at the first connection, not when the store is opened: a
    folder not there yet is an outage (StoreError), over once the folder is."""
    store = SqlStore(f"sqlite:///{tmp_path}/not/yet/store.db", validate)
    try:
        with pytest.raises(StoreError, match="cannot create the file"):
            store.migrate()
        (tmp_path / "not" / "yet").mkdir(parents=True)
        store.migrate()
        assert store.latest_number() is None
    finally:
        store.dispose()


def test_the_sqlite_file_is_private(tmp_path: Path) -> None:
    """The config may hold API keys: only the owner may read the file."""
    new_store(f"sqlite:///{tmp_path}/store.db")
    assert stat.S_IMODE(os.stat(tmp_path / "store.db").st_mode) == 0o600


def test_without_the_store_extra(tmp_path: Path) -> None:
    """The core imports and serves without SQLAlchemy; setting GRAVICORS_STORE then
    says which extra to install."""
    script = f"""
import sys
sys.modules["sqlalchemy"] = None  # as if not installed
from flask import Flask
from flask_gravicors import GraviCORS
from flask_gravicors.store import StoreError
import flask_gravicors.cli
app = Flask("x")
app.config["GRAVICORS"] = {CONFIG!r}
GraviCORS(app, entry_points=False)
r = app.test_client().get("/api/x", headers={{"Origin": "https://v0.example"}})
print(r.headers["Access-Control-Allow-Origin"])
app = Flask("y")
app.config["GRAVICORS_STORE"] = "sqlite:///{tmp_path}/s.db"
try:
    GraviCORS(app, entry_points=False)
except StoreError as err:
    print(err)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "https://v0.example"
    assert "GRAVICORS_STORE is set but the store's dependencies are missing" in lines[1]
    assert "pip install 'flask-gravicors[store]'" in lines[1]
