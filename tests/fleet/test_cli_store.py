"""The store's commands (flask_gravicors.cli.store): apply, show, history, diff,
rollback, status, and check on a store; results on stdout, the rest on stderr,
exit statuses 0 ok, 1 invalid, 2 conflict or not found, 3 not all live, 4 store down."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import Result
from flask import Flask
from flask.cli import ScriptInfo
from flask.testing import FlaskCliRunner
from sqlalchemy import insert

from flask_gravicors import ConfigError, GraviCORS
from flask_gravicors.cli import EXIT_CONFLICT, EXIT_INVALID, EXIT_NOT_LIVE, EXIT_UNAVAILABLE, gravicors
from flask_gravicors.store import MAX_VERSION
from flask_gravicors.store.tables import versions

from .conftest import CONFIG
from .fleetapp import config_for
from .pgcluster import PgCluster

V2 = config_for("https://v2.example")
ROOT_API = {"apis": [{"name": "root", "context_path": "/"}]}


def run(app: Flask, *args: str, **env: str) -> Result:
    return app.test_cli_runner().invoke(gravicors, list(args), env=env or None)


def write(tmp_path: Path, config: Any, name: str = "config.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return str(path)


@pytest.fixture
def app(sqlite_url: str, make_app: Callable[..., Flask]) -> Flask:
    return make_app(sqlite_url, GRAVICORS_STORE_POLL_INTERVAL=0.05)


def test_apply(app: Flask, tmp_path: Path) -> None:
    result = run(app, "apply", write(tmp_path, V2), "--author", "alice", "--comment", "widen", "--expect-version", "1")
    assert (result.exit_code, result.stdout) == (0, "2\n")
    assert "saved version 2" in result.stderr
    version = app.extensions["gravicors"].store_for(app).get(2)
    assert (version.config, version.author, version.comment, version.source) == (V2, "alice", "widen", "cli")


def test_apply_author_defaults_to_the_environment(app: Flask, tmp_path: Path) -> None:
    assert run(app, "apply", write(tmp_path, V2), GRAVICORS_AUTHOR="deploy-bot").exit_code == 0
    assert app.extensions["gravicors"].store_for(app).get(2).author == "deploy-bot"


def test_apply_on_a_stale_version_is_a_conflict(app: Flask, tmp_path: Path) -> None:
    assert run(app, "apply", write(tmp_path, V2)).stdout == "2\n"
    result = run(app, "apply", write(tmp_path, CONFIG, "other.json"), "--expect-version", "1")
    assert (result.exit_code, result.stdout) == (EXIT_CONFLICT, "")
    assert "based on version 1, but the latest is version 2" in result.stderr
    assert app.extensions["gravicors"].store_for(app).sql.latest_number() == 2


@pytest.mark.parametrize(
    ("content", "ids"),
    [
        ({"apis": [{"name": "api", "context_path": "/api/", "cors": {"allow_origin": ["*"], "allowCredentials": True}}]},
         ["apis[0].context_path: gravicors.E012", "apis[0].cors.allow_origin[0]: gravicors.E023"]),
        ("{not json", ["gravicors.E004"]),
    ],
)  # fmt: skip
def test_apply_an_invalid_config_saves_nothing(app: Flask, tmp_path: Path, content: Any, ids: list[str]) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    result = run(app, "apply", str(path))
    assert (result.exit_code, result.stdout) == (EXIT_INVALID, "")
    for text in ids:
        assert text in result.stderr
    assert app.extensions["gravicors"].store_for(app).sql.latest_number() == 1


def test_apply_refuses_a_multi_line_author(app: Flask, tmp_path: Path) -> None:
    result = run(app, "apply", write(tmp_path, V2), "--author", "eve\nX")
    assert result.exit_code == 2 and "control characters" in result.stderr
    assert app.extensions["gravicors"].store_for(app).sql.latest_number() == 1


def test_show(app: Flask, tmp_path: Path) -> None:
    run(app, "apply", write(tmp_path, V2))
    assert json.loads(run(app, "show").stdout) == V2
    assert json.loads(run(app, "show", "--version", "1").stdout) == CONFIG
    missing = run(app, "show", "--version", "9")
    assert (missing.exit_code, missing.stdout) == (EXIT_CONFLICT, "")
    assert "version 9 not found" in missing.stderr


def test_show_without_a_store_prints_the_running_config() -> None:
    app = Flask(__name__)
    app.config["GRAVICORS"] = CONFIG
    GraviCORS(app, entry_points=False)
    assert json.loads(run(app, "show").stdout) == CONFIG
    result = run(app, "show", "--version", "1")
    assert result.exit_code == 2 and "has no config store" in result.stderr
    for command in (["history"], ["status"], ["diff", "1", "2"], ["rollback", "1"], ["apply", "x.json"]):
        result = run(app, *command)
        assert result.exit_code == 2 and "set GRAVICORS_STORE" in result.stderr, command


def test_history(app: Flask, tmp_path: Path) -> None:
    other = {"apis": [*V2["apis"], {"name": "other", "context_path": "/other"}]}
    run(app, "apply", write(tmp_path, V2), "--author", "alice", "--comment", "widen\nfor the shop")
    run(app, "apply", write(tmp_path, other), "--author", "bob")
    lines = run(app, "history").stdout.splitlines()
    assert lines[0].split() == ["VERSION", "TIME", "AUTHOR", "SOURCE", "CHANGED", "COMMENT"]
    rows = [line.split(None, 5) for line in lines[2:]]
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [
        ("3", "bob", "cli", "other"),
        ("2", "alice", "cli", "api"),
        ("1", "init", "init", "api"),
    ]
    assert rows[1][5] == "widen\\nfor the shop"  # one line per version, whatever the comment
    assert rows[0][1].endswith("Z") and len(rows[0][1]) == len("2026-01-01T00:00:00Z")
    assert [line.split()[0] for line in run(app, "history", "--limit", "1").stdout.splitlines()[2:]] == ["3"]


def test_diff(app: Flask, tmp_path: Path) -> None:
    run(app, "apply", write(tmp_path, V2))
    result = run(app, "diff", "1", "2")
    assert result.stdout == 'api api: cors.allow_origin: ["https://v0.example"] -> ["https://v2.example"]\n'
    same = run(app, "diff", "2", "2")
    assert (same.exit_code, same.stdout) == (0, "") and "hold the same config" in same.stderr
    assert run(app, "diff", "1", "7").exit_code == EXIT_CONFLICT


def test_rollback(app: Flask, tmp_path: Path) -> None:
    run(app, "apply", write(tmp_path, V2))
    result = run(app, "rollback", "1", "--author", "carol")
    assert (result.exit_code, result.stdout) == (0, "3\n")
    version = app.extensions["gravicors"].store_for(app).get(3)
    assert (version.config, version.author, version.comment, version.source) == (CONFIG, "carol", "rollback to version 1", "cli")
    assert run(app, "rollback", "9").exit_code == EXIT_CONFLICT
    assert run(app, "rollback", "1", "--expect-version", "2").exit_code == EXIT_CONFLICT


def test_status(app: Flask, tmp_path: Path) -> None:
    store = app.extensions["gravicors"].store_for(app)
    store.watcher.stop()  # the test reports for this process itself
    store.report()
    result = run(app, "status")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["HOST", "PID", "VERSION", "APPLIED", "NOTE"]
    assert [(row.split()[0], row.split()[2]) for row in lines[2:]] == [(store.host, "1")]
    assert "newest version 1: 1 of 1 live workers run it" in result.stderr
    # A second worker still on version 1, after version 2 was saved here.
    run(app, "apply", write(tmp_path, V2))
    store.report()
    store.sql.heartbeat("other-host", 4242, version=1, applied_now=True, refused_version=2, refused_error="E023 \x1b[2J")
    result = run(app, "status")
    assert result.exit_code == EXIT_NOT_LIVE
    assert "newest version 2: 1 of 2 live workers run it" in result.stderr
    other = next(line for line in result.stdout.splitlines() if line.startswith("other-host"))
    assert other.split()[1:3] == ["4242", "1"] and other.endswith("refused version 2: E023 \\x1b[2J")


def test_status_with_no_live_worker(app: Flask) -> None:
    app.extensions["gravicors"].store_for(app).close()
    result = run(app, "status")
    assert (result.exit_code, result.stdout.splitlines()[2:]) == (EXIT_NOT_LIVE, [])
    assert "0 of 0 live workers" in result.stderr


def test_check_reads_the_stores_newest_version(app: Flask) -> None:
    result = run(app, "check")
    assert (result.exit_code, result.stderr) == (0, "version 1: ok\n")
    with app.extensions["gravicors"].store_for(app).sql.engine.begin() as conn:
        conn.execute(
            insert(versions).values(
                number=2, config='{"apis": [{"name": "x"}]}', author="dba", created_at=0, comment="", source="api"
            )
        )
    result = run(app, "check")
    assert result.exit_code == EXIT_INVALID
    assert "apis[0]: gravicors.E011" in result.stderr


def test_an_unreachable_store_exits_4(pg_cluster: PgCluster, pg_url: str, make_app: Callable[..., Flask]) -> None:
    app = make_app(pg_url, GRAVICORS_STORE_WATCH=False)
    pg_cluster.stop()
    try:
        result = run(app, "history")
    finally:
        pg_cluster.start()
    assert (result.exit_code, result.stdout) == (EXIT_UNAVAILABLE, "")
    assert "error: store postgresql+psycopg://gravicors:***@127.0.0.1" in result.stderr
    assert pg_cluster.password not in result.stderr


# -- version numbers: outside 1..MAX_VERSION, no version (exit 2), never a traceback --


@pytest.mark.parametrize(
    "args",
    [
        ["show", "--version", "99999999999999999999"],
        ["show", "--version", str(MAX_VERSION + 1)],
        ["show", "--version", "0"],
        ["rollback", str(2**63)],
        ["rollback", "--", "-1"],
        ["diff", "1", "99999999999999999999"],
        ["diff", str(2**63), "1"],
        ["apply", "config.json", "--expect-version", "99999999999999999999"],
        ["rollback", "1", "--expect-version", str(MAX_VERSION + 1)],
    ],
)  # fmt: skip
def test_a_number_outside_the_versions_is_a_usage_error(app: Flask, tmp_path: Path, args: list[str]) -> None:
    write(tmp_path, V2)
    result = app.test_cli_runner().invoke(gravicors, args, catch_exceptions=False)
    assert (result.exit_code, result.stdout) == (EXIT_CONFLICT, "")
    assert "is not in the range" in result.stderr
    assert app.extensions["gravicors"].store_for(app).sql.latest_number() == 1


@pytest.mark.parametrize("args", [["show", "--version", str(MAX_VERSION)], ["rollback", str(MAX_VERSION)]])
def test_the_highest_number_is_not_found(app: Flask, args: list[str]) -> None:
    result = run(app, *args)
    assert (result.exit_code, result.stdout) == (EXIT_CONFLICT, "")
    assert f"version {MAX_VERSION} not found" in result.stderr


# -- a store holding nothing the app can run is repaired from the CLI -----------------


def test_a_store_where_nothing_compiles_can_be_repaired(
    sqlite_url: str, make_app: Callable[..., Flask], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Metrics turned on where the only version has an API at "/" (so does the app's
    GRAVICORS): the app cannot serve, but the commands start (running no config)
    and repair the store; then the app starts on the repaired version."""
    make_app(sqlite_url, ROOT_API)  # version 1, saved where metrics were off
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    settings = {"GRAVICORS_METRICS": True, "GRAVICORS_METRICS_DIR": str(metrics_dir)}
    with pytest.raises(ConfigError, match="gravicors.E092"):
        make_app(sqlite_url, ROOT_API, **settings)

    def command(*args: str) -> Result:
        # The app is made inside the command, as `flask --app ... gravicors` makes it.
        info = ScriptInfo(create_app=lambda: make_app(sqlite_url, ROOT_API, **settings))
        return FlaskCliRunner(Flask(__name__)).invoke(gravicors, list(args), obj=info)

    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="flask_gravicors"):
        history = command("history")
    assert history.exit_code == 0 and [line.split()[0] for line in history.stdout.splitlines()[2:]] == ["1"]
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 2 and "refused version 1" in logged[0] and "this command runs no config" in logged[1]
    assert json.loads(command("show").stdout) == ROOT_API
    failed = command("check")
    assert failed.exit_code == EXIT_INVALID and "GRAVICORS_METRICS_PATH: gravicors.E092" in failed.stderr
    back = command("rollback", "1")
    assert back.exit_code == EXIT_INVALID and "gravicors.E092" in back.stderr
    applied = command("apply", write(tmp_path, CONFIG))
    assert (applied.exit_code, applied.stdout) == (0, "2\n")
    app = make_app(sqlite_url, ROOT_API, **settings)  # GRAVICORS still at "/": the store's version 2 runs
    assert app.extensions["gravicors"].store_for(app).applied == 2
