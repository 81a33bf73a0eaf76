"""``flask gravicors check``: a file or the running config, problems on stderr, exit status 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_gravicors import GraviCORS
from flask_gravicors.cli import EXIT_INVALID, gravicors

GOOD = {"apis": [{"name": "orders", "context_path": "/orders", "cors": {"enabled": True, "allow_origin": ["https://a.example"]}}]}
BAD = {
    "apis": [
        {"name": "orders", "context_path": "/orders/", "cors": {"enabled": True, "allow_origin": ["*"], "allowCredentials": True}}
    ]
}


def _app(config: Any = GOOD) -> Flask:
    app = Flask(__name__)
    app.config["GRAVICORS"] = config
    GraviCORS(app, entry_points=False)
    return app


@pytest.mark.parametrize(
    ("config", "status", "stderr_has"),
    [
        (GOOD, 0, ["ok"]),
        (
            BAD,
            EXIT_INVALID,
            ["apis[0].context_path: gravicors.E012", "apis[0].cors.allow_origin[0]: gravicors.E023", "(hint: "],
        ),
        ({"apis": "nope"}, EXIT_INVALID, ["apis: gravicors.E003"]),
    ],
)
def test_check_file(tmp_path: Path, config: Any, status: int, stderr_has: list[str]) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = _app().test_cli_runner().invoke(gravicors, ["check", str(path)])
    assert result.exit_code == status, result.output
    assert result.stdout == ""
    for text in stderr_has:
        assert text in result.stderr


def test_check_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{not json")
    result = _app().test_cli_runner().invoke(gravicors, ["check", str(path)])
    assert result.exit_code == EXIT_INVALID
    assert "gravicors.E004" in result.stderr


def test_check_running_config_after_reconfigure() -> None:
    app = _app()
    runner = app.test_cli_runner()
    assert runner.invoke(gravicors, ["check"]).exit_code == 0
    other = {"apis": [{"name": "x", "context_path": "/x"}]}
    app.extensions["gravicors"].reconfigure(other, app=app)
    assert app.extensions["gravicors"].running_config(app) == other


def test_check_without_app_or_file_is_a_usage_error() -> None:
    app = Flask(__name__)  # no GraviCORS on it
    result = app.test_cli_runner().invoke(gravicors, ["check"])
    assert result.exit_code == 2
    assert "does not use flask_gravicors" in result.stderr


def test_group_is_in_the_flask_command_without_an_app(tmp_path: Path) -> None:
    """Registered through the flask.commands entry point: `flask gravicors check FILE`
    works in a folder with no app at all."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(BAD))
    done = subprocess.run(
        [sys.executable, "-m", "flask", "gravicors", "check", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == EXIT_INVALID, done.stderr
    assert done.stdout == ""
    assert "gravicors.E023" in done.stderr
