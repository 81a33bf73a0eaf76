"""What every ``flask gravicors`` command shares (flask_gravicors.cli.common): an app
that fails at init_app (its config invalid, its store unusable) is an exit status
and its problems on stderr, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo

from flask_gravicors import GraviCORS
from flask_gravicors.cli import EXIT_INVALID, EXIT_UNAVAILABLE, gravicors

BAD = {"apis": [{"name": "orders", "context_path": "/orders/", "cors": {"enabled": True, "max_age": -5}}]}


def bad_config(tmp_path: Path) -> Flask:
    app = Flask("bad_config")
    app.config["GRAVICORS"] = BAD
    GraviCORS(app, entry_points=False)
    return app


def unusable_store(tmp_path: Path) -> Flask:
    app = Flask("unusable_store")
    # A file where the store's directory should be: nothing can be created there.
    (tmp_path / "file").write_text("")
    app.config.update(GRAVICORS={"apis": []}, GRAVICORS_STORE=f"sqlite:///{tmp_path}/file/x.db")
    GraviCORS(app, entry_points=False)
    return app


COMMANDS = [["check"], ["explain", "/orders/1", "--origin", "https://a.example"], ["routes"], ["export"], ["show"]]
# (id, the app, exit status, on stderr)
APPS = [
    ("invalid config", bad_config, EXIT_INVALID, ["the app did not start", "apis[0].context_path: gravicors.E012", "gravicors.E040"]),
    ("unusable store", unusable_store, EXIT_UNAVAILABLE, ["the app did not start", "store sqlite:///"]),
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize(("factory", "status", "stderr_has"), [pytest.param(*r[1:], id=r[0]) for r in APPS])
def test_an_app_that_fails_to_start(
    tmp_path: Path, command: list[str], factory: Callable[[Path], Flask], status: int, stderr_has: list[str]
) -> None:
    info = ScriptInfo(create_app=lambda: factory(tmp_path))
    result: Any = CliRunner().invoke(gravicors, command, obj=info)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert (result.exit_code, result.stdout) == (status, "")
    for text in stderr_has:
        assert text in result.stderr
    assert "Traceback" not in result.stderr
