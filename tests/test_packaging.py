"""The distributions: the core's and each plugin's sdist and wheel build with
``python -m build`` and pass ``twine check --strict``; each version is kept in one
place; the CHANGELOG follows Keep a Changelog.

Offline: ``--no-isolation`` builds with the setuptools and wheel already installed
(the ``release`` extra) instead of downloading them into a fresh environment. Each
project is copied first, so the build writes nothing into the work tree.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import flask_gravicors

ROOT = Path(__file__).resolve().parents[1]
PROJECTS = [ROOT, *sorted(p for p in (ROOT / "plugins").iterdir() if (p / "setup.cfg").is_file())]
JUNK = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", ".git", "venv")


def _version_of(project: Path) -> str:
    """The version the project's ``__version__`` holds (its one place)."""
    cfg = (project / "setup.cfg").read_text()
    found = re.search(r"^version = attr: ([\w.]+)\.__version__$", cfg, re.M)
    assert found, f"{project.name}/setup.cfg must read its version from __version__ (version = attr: ...)"
    init = project / found.group(1).replace(".", "/") / "__init__.py"
    match = re.search(r'^__version__ = "([^"]+)"$', init.read_text(), re.M)
    assert match, f"no __version__ in {init}"
    return match.group(1)


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name if p != ROOT else "flask-gravicors")
def test_builds_and_passes_twine_check(project: Path, tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(project, source, ignore=JUNK)
    out = tmp_path / "dist"
    # sdist first, then the wheel built from the unpacked sdist: what a user who
    # installs the sdist gets, so a file missing from the sdist fails here.
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, list(out.iterdir())
    version = _version_of(project)
    assert f"-{version}-" in wheels[0].name and sdists[0].name.endswith(f"-{version}.tar.gz")

    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheels[0]), str(sdists[0])],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2, checked.stdout

    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
        entry_points = next(wheel.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    if project == ROOT:
        for shipped in ("flask_gravicors/py.typed", "flask_gravicors/testing.py", "flask_gravicors/cli/scaffold.py"):
            assert shipped in names
        assert any(n.startswith("flask_gravicors/cli/plugin_template/") and n.endswith(".tmpl") for n in names)
        assert "[pytest11]\ngravicors = flask_gravicors.testing" in entry_points
        assert "[flask.commands]\ngravicors = flask_gravicors.cli:gravicors" in entry_points
        assert not any(n.startswith(("tests/", "plugins/", "docs/", "benchmarks/")) for n in names)
    else:
        assert "[flask_gravicors]" in entry_points


def test_the_version_is_the_packages_own() -> None:
    assert _version_of(ROOT) == flask_gravicors.__version__


# Keep a Changelog 1.1.0: "## [Unreleased]" on top, then "## [x.y.z] - YYYY-MM-DD"
# newest first, each with "### Added/Changed/Deprecated/Removed/Fixed/Security".
KINDS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")


def test_changelog_follows_keep_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog\n")
    assert "keepachangelog.com" in text and "semver.org" in text
    versions = re.findall(r"^## (.+)$", text, re.M)
    assert versions and versions[0] == "[Unreleased]", versions
    released = versions[1:]
    for heading in released:
        assert re.fullmatch(r"\[\d+\.\d+\.\d+\] - \d{4}-\d{2}-\d{2}", heading), heading
    numbers = [tuple(int(x) for x in re.findall(r"\d+", h.split("]")[0])) for h in released]
    assert numbers == sorted(numbers, reverse=True)
    # The version about to be released is newer than every released one.
    assert all(tuple(int(x) for x in flask_gravicors.__version__.split(".")) >= n for n in numbers)
    for kind in re.findall(r"^### (.+)$", text, re.M):
        assert kind in KINDS, kind
    # Every section holds entries.
    for section in re.split(r"^### .+$", text, flags=re.M)[1:]:
        assert re.search(r"^- ", section.split("\n## ")[0], re.M), section[:200]
