"""The rule for a missing redis-server: skipped on a workstation, a FAILURE in CI.

Runs one Redis test in a child pytest whose PATH holds no redis-server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGET = "tests/ratelimit/test_ratelimit_redis.py::test_api_keys_are_stored_hashed"


def run_without_redis(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PATH"] = str(tmp_path)  # an empty directory: no redis-server to find
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsf", "-p", "no:cacheprovider", TARGET],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("ci", ["true", "1"])
def test_missing_redis_server_fails_in_ci(tmp_path: Path, ci: str) -> None:
    result = run_without_redis(tmp_path, ci)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "redis-server is not installed" in result.stdout and "required in CI" in result.stdout
    assert "1 error" in result.stdout


def test_missing_redis_server_skips_outside_ci(tmp_path: Path) -> None:
    result = run_without_redis(tmp_path, None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout and "redis-server is not installed" in result.stdout
