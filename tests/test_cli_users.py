"""``flask gravicors create-user`` and ``delete-user`` (flask_gravicors.cli.users):
the console's users made from the command line; no default user anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from click.testing import Result
from flask import Flask

from flask_gravicors import GraviCORS
from flask_gravicors.cli import EXIT_CONFLICT, gravicors


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = Flask(__name__)
    app.config.update(GRAVICORS={"apis": []}, GRAVICORS_STORE=f"sqlite:///{tmp_path}/store.db", GRAVICORS_STORE_WATCH=False)
    GraviCORS(app, entry_points=False)
    yield app
    app.extensions["gravicors"].store_for(app).close()


def run(app: Flask, *args: str, input: str | None = None) -> Result:
    return app.test_cli_runner().invoke(gravicors, list(args), input=input)


def accounts(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["gravicors"].store_for(app).accounts


def test_create_user_reads_one_line_of_stdin(app: Flask) -> None:
    result = run(app, "create-user", "alice", "--role", "admin", "--password-stdin", input="s3cret password\nignored\n")
    assert (result.exit_code, result.stdout) == (0, "")
    assert "created user alice (admin)" in result.stderr
    assert accounts(app).authenticate("alice", "s3cret password").role == "admin"
    # Without a newline at the end, and with a Windows line end.
    assert run(app, "create-user", "bob", "--role", "viewer", "--password-stdin", input="no newline pw").exit_code == 0
    assert accounts(app).authenticate("bob", "no newline pw") is not None
    assert run(app, "create-user", "carol", "--role", "editor", "--password-stdin", input="windows pw\r\n").exit_code == 0
    assert accounts(app).authenticate("carol", "windows pw") is not None


def test_create_user_prompts_twice_without_stdin_flag(app: Flask) -> None:
    result = run(app, "create-user", "alice", "--role", "editor", input="typed password\ntyped password\n")
    assert result.exit_code == 0, result.output
    assert accounts(app).authenticate("alice", "typed password") is not None
    mismatch = run(app, "create-user", "bob", "--role", "editor", input="one password\nanother one\n")
    assert mismatch.exit_code != 0 and accounts(app).get_user("bob") is None


@pytest.mark.parametrize(
    ("args", "stdin", "code", "message"),
    [
        (
            ["create-user", "alice", "--role", "root", "--password-stdin"],
            "long enough\n",
            2,
            "'root' is not one of 'viewer', 'editor', 'admin'",
        ),
        (["create-user", "alice", "--password-stdin"], "long enough\n", 2, "Missing option '--role'"),
        (["create-user", "alice", "--role", "admin", "--password-stdin"], "short\n", 2, "a password has 8 to 1024 characters"),
        (["create-user", "alice", "--role", "admin", "--password-stdin"], "\n", 2, "a password has 8 to 1024 characters"),
        (["create-user", " alice", "--role", "admin", "--password-stdin"], "long enough\n", 2, "without spaces at either end"),
    ],
)
def test_bad_users(app: Flask, args: list[str], stdin: str, code: int, message: str) -> None:
    result = run(app, *args, input=stdin)
    assert (result.exit_code, result.stdout) == (code, "") and message in result.stderr
    assert accounts(app).users() == []


def test_a_taken_name_and_a_missing_user_exit_2(app: Flask) -> None:
    assert run(app, "create-user", "alice", "--role", "admin", "--password-stdin", input="first password\n").exit_code == 0
    again = run(app, "create-user", "alice", "--role", "viewer", "--password-stdin", input="second password\n")
    assert again.exit_code == EXIT_CONFLICT and "user 'alice' already exists" in again.stderr
    assert accounts(app).authenticate("alice", "first password").role == "admin"
    gone = run(app, "delete-user", "alice")
    assert (gone.exit_code, gone.stdout) == (0, "") and "deleted user alice" in gone.stderr
    assert accounts(app).get_user("alice") is None
    missing = run(app, "delete-user", "alice")
    assert missing.exit_code == EXIT_CONFLICT and "no user 'alice'" in missing.stderr


def test_delete_user_ends_their_sessions(app: Flask) -> None:
    run(app, "create-user", "alice", "--role", "admin", "--password-stdin", input="first password\n")
    token = accounts(app).open_session("alice", {}, 60)
    assert run(app, "delete-user", "alice").exit_code == 0
    assert accounts(app).load_session(token) is None


def test_without_a_store(tmp_path: Path) -> None:
    app = Flask(__name__)
    app.config["GRAVICORS"] = {"apis": []}
    GraviCORS(app, entry_points=False)
    result = run(app, "create-user", "alice", "--role", "admin", "--password-stdin", input="long enough\n")
    assert result.exit_code == 2 and "has no config store: set GRAVICORS_STORE" in result.stderr
