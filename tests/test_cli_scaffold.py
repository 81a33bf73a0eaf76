"""``flask gravicors new-plugin NAME``: the names it takes, the files it writes, and a
generated plugin that installs with ``pip install -e`` and passes its own tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from flask_gravicors import GraviCORS
from flask_gravicors.cli import EXIT_CONFLICT, gravicors


def invoke(*args: str) -> object:
    return Flask(__name__).test_cli_runner().invoke(gravicors, list(args))


@pytest.mark.parametrize(
    ("name", "package", "written"),
    [
        ("add-header", "add_header", True),
        ("x2", "x2", True),
        ("gravicors-geo-ip", "gravicors_geo_ip", True),
        ("Add-Header", None, False),
        ("add_header", None, False),
        ("-add", None, False),
        ("add-", None, False),
        ("add--header", None, False),
        ("2fa", None, False),
        ("", None, False),
        ("../evil", None, False),
        ("import", None, False),  # a keyword cannot be imported
        ("json", None, False),  # would shadow the standard module
    ],
)
def test_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, package: str | None, written: bool) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("new-plugin", "--", name)
    if written:
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
        files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
        expected = ["README.md", "pyproject.toml", "setup.cfg", f"{package}/__init__.py", "tests/test_policy.py"]
        assert files == sorted(f"{name}/{f}" for f in expected)
        # stdout: the files written, one a line; nothing else.
        assert sorted(result.stdout.split()) == files  # type: ignore[attr-defined]
        assert f"{name} = {package}" in (tmp_path / name / "setup.cfg").read_text()
    else:
        assert result.exit_code == 2  # type: ignore[attr-defined]  # click's usage error
        assert "Invalid value for NAME" in result.stderr  # type: ignore[attr-defined]
        assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "add-header").mkdir()
    (tmp_path / "add-header" / "mine.txt").write_text("keep")
    result = invoke("new-plugin", "add-header")
    assert result.exit_code == EXIT_CONFLICT  # type: ignore[attr-defined]
    assert "already exists" in result.stderr and result.stdout == ""  # type: ignore[attr-defined]
    assert [p.name for p in (tmp_path / "add-header").iterdir()] == ["mine.txt"]


def test_needs_no_app(tmp_path: Path) -> None:
    # The real `flask` command, no --app and no FLASK_APP: the group comes from the
    # flask.commands entry point.
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_APP", "FLASK_DEBUG")}
    flask = Path(sys.executable).with_name("flask")
    done = subprocess.run(
        [str(flask), "gravicors", "new-plugin", "geo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "geo" / "geo" / "__init__.py").is_file()


def _child_venv(where: Path) -> Path:
    """A venv in ``where`` that sees this interpreter's installed packages (pytest,
    flask_gravicors and its kit) through a .pth file, and installs into its own
    site-packages: the plugin installed there never reaches this environment."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120)
    python = where / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    parents = [p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages") and os.path.isdir(p)]
    assert parents, sys.path
    # addsitedir (not a plain path line) so the parents' own .pth files run too:
    # editable installs, such as flask_gravicors's in CI, live in them.
    (Path(purelib) / "_parent_site.pth").write_text(
        "import site; " + "; ".join(f"site.addsitedir({p!r})" for p in parents) + "\n"
    )
    return python


def test_a_new_plugin_installs_and_passes_its_own_tests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert invoke("new-plugin", "add-header").exit_code == 0  # type: ignore[attr-defined]
    python = _child_venv(tmp_path / "venv")
    # Offline and fast: no dependency resolution, the build backend already installed.
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-e", "./add-header"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    run = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path / "add-header",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^9 passed", run.stdout, re.M), run.stdout
    # The plugin went into the child venv only.
    assert "add-header" not in GraviCORS().policies
