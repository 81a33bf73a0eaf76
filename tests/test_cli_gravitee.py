"""``flask gravicors import`` and ``export``: JSON on stdout only, notes and problems on stderr."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_gravicors import GraviCORS
from flask_gravicors.cli import EXIT_CONFLICT, EXIT_INVALID, gravicors
from flask_gravicors.gravitee import load_definition

FIXTURES = Path(__file__).parent / "fixtures" / "gravitee"


def copy_fixture(tmp_path: Path, name: str, change: Any = None) -> str:
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    if change is not None:
        change(data)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return str(path)


def invoke(*args: str) -> Any:
    return Flask(__name__).test_cli_runner().invoke(gravicors, list(args))


def test_import_prints_a_config_and_notes_plans_without_keys(tmp_path: Path) -> None:
    result = invoke("import", copy_fixture(tmp_path, "v4-export-orders"))
    assert result.exit_code == 0, result.stderr
    config = json.loads(result.stdout)
    assert [api["name"] for api in config["apis"]] == ["orders"]
    assert config["apis"][0]["plans"][0]["configuration"]["keys"] == []
    assert "api-key plan 'Gold' has no keys: it refuses every key" in result.stderr
    GraviCORS().load(config)  # ready for GRAVICORS


def test_import_with_keys(tmp_path: Path) -> None:
    result = invoke("import", copy_fixture(tmp_path, "v2-orders"), "--keys", "Gold=k1,k2", "--keys", "Gold=k3")
    assert result.exit_code == 0, result.stderr
    (api,) = json.loads(result.stdout)["apis"]
    assert api["plans"][0]["configuration"]["keys"] == ["k1", "k2", "k3"]
    assert result.stderr == ""


def test_import_several_files_must_not_clash(tmp_path: Path) -> None:
    first = copy_fixture(tmp_path, "v2-orders")
    second = copy_fixture(tmp_path, "v4-orders")
    result = invoke("import", first, second, "--keys", "Gold=k1")
    assert result.exit_code == EXIT_INVALID
    assert result.stdout == ""
    assert "apis[1].name: gravicors.E010" in result.stderr and "apis[1].context_path: gravicors.E013" in result.stderr


def rename(data: dict[str, Any]) -> None:
    data["name"] = "orders-v4"
    data["listeners"][0]["paths"] = [{"path": "/v4/orders"}]


def test_import_several_files(tmp_path: Path) -> None:
    result = invoke("import", copy_fixture(tmp_path, "v2-orders"), copy_fixture(tmp_path, "v4-orders", rename), "--keys", "Gold=k1")
    assert result.exit_code == 0, result.stderr
    assert [(a["name"], a["context_path"]) for a in json.loads(result.stdout)["apis"]] == [
        ("orders", "/orders"),
        ("orders-v4", "/v4/orders"),
    ]


def untranslatable(data: dict[str, Any]) -> None:
    data["plans"][2]["status"] = "PUBLISHED"  # OAUTH2
    data["flows"][0]["pre"][0]["condition"] = "{#request.method == 'POST'}"


@pytest.mark.parametrize(
    ("args", "stderr_has"),
    [
        (["--keys", "Gold"], ["PLAN=KEY1,KEY2"]),
        (["--keys", "Platinum=p1"], ["--keys Platinum: no api-key plan of that name"]),
    ],
)
def test_import_bad_keys(tmp_path: Path, args: list[str], stderr_has: list[str]) -> None:
    result = invoke("import", copy_fixture(tmp_path, "v2-orders"), *args)
    assert result.exit_code in (EXIT_INVALID, 2)
    assert result.stdout == ""
    for text in stderr_has:
        assert text in result.stderr


def test_import_names_every_problem_of_every_file(tmp_path: Path) -> None:
    bad = copy_fixture(tmp_path, "v2-orders", untranslatable)
    unreadable = tmp_path / "broken.json"
    unreadable.write_text("{not json")
    result = invoke("import", bad, str(unreadable))
    assert result.exit_code == EXIT_INVALID
    assert result.stdout == ""
    for text in ("plans[2].security: gravicors.E080", "flows[0].pre[0].condition: gravicors.E017", "broken.json:", "gravicors.E004"):
        assert text in result.stderr


def app_with(apis: list[dict[str, Any]]) -> Flask:
    app = Flask(__name__)
    app.config["GRAVICORS"] = {"apis": apis}
    GraviCORS(app)
    return app


ORDERS = load_definition(json.loads((FIXTURES / "v4-orders.json").read_text()), {"Gold": ["k1"]})
SHOP = {"name": "shop", "blueprint": "shop"}


def test_export_one_api() -> None:
    result = app_with([ORDERS, SHOP]).test_cli_runner().invoke(gravicors, ["export", "--api", "orders"])
    assert result.exit_code == 0, result.stderr
    export = json.loads(result.stdout)
    assert export["api"]["name"] == "orders" and export["api"]["definitionVersion"] == "V4"
    # export -> import gives the API back (keys apart: exports hold none)
    assert GraviCORS().load({"apis": [load_definition(export, {"Gold": ["k1"]})]}) == GraviCORS().load({"apis": [ORDERS]})


def test_export_all_leaves_blueprint_apis_out() -> None:
    result = app_with([ORDERS, SHOP]).test_cli_runner().invoke(gravicors, ["export"])
    assert result.exit_code == 0, result.stderr
    assert [e["api"]["name"] for e in json.loads(result.stdout)] == ["orders"]
    assert "API 'shop' is bound to a blueprint: left out" in result.stderr


def test_export_all_then_import_gives_the_apis_back(tmp_path: Path) -> None:
    """export prints a JSON list for several APIs; import reads each of its items."""
    public = {"name": "public", "context_path": "/public", "cors": {"enabled": True, "allow_origin": ["https://a.example"]}}
    exported = app_with([ORDERS, public]).test_cli_runner().invoke(gravicors, ["export"])
    path = tmp_path / "all.json"
    path.write_text(exported.stdout)
    result = invoke("import", str(path), "--keys", "Gold=k1")
    assert result.exit_code == 0, result.stderr
    assert GraviCORS().load(json.loads(result.stdout)) == GraviCORS().load({"apis": [ORDERS, public]})
    path.write_text(json.dumps([json.loads(exported.stdout)[0], {"nope": 1}]))
    refused = invoke("import", str(path), "--keys", "Gold=k1")
    assert refused.exit_code == EXIT_INVALID and f"{path}[1]:" in refused.stderr


@pytest.mark.parametrize(("name", "status"), [("nope", EXIT_CONFLICT), ("shop", EXIT_INVALID)])
def test_export_errors(name: str, status: int) -> None:
    result = app_with([ORDERS, SHOP]).test_cli_runner().invoke(gravicors, ["export", "--api", name])
    assert result.exit_code == status
    assert result.stdout == ""


def test_import_needs_no_app(tmp_path: Path) -> None:
    """`flask gravicors import` in a folder with no app, through the flask.commands entry point."""
    shutil.copy(FIXTURES / "v2-orders.json", tmp_path / "orders.json")
    done = subprocess.run(
        [sys.executable, "-m", "flask", "gravicors", "import", "orders.json", "--keys", "Gold=k1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["apis"][0]["context_path"] == "/orders"


# --- Malformed definitions: problems on stderr, exit status 1, never a traceback (review finding 5) ---

V4 = '{"definitionVersion": "V4", "name": "x", "listeners": [{"type": "http", "paths": [{"path": "/x"}]}], %s}'

# (id, file content, a line stderr must hold)
MALFORMED_FILES = [
    ("v2 virtual_hosts a number", '{"name": "x", "proxy": {"virtual_hosts": 5}}', "proxy.virtual_hosts: gravicors.E003"),
    ("v2 paths a list", '{"name": "x", "proxy": {"context_path": "/x"}, "paths": ["a"]}', "paths: gravicors.E003"),
    ("methods one string", V4 % '"flows": [{"selectors": [{"type": "http", "path": "/", "methods": "POST"}]}]',
     "flows[0].selectors[0].methods: gravicors.E003"),
    ("JWT connectTimeout null", V4 % '"plans": [{"name": "j", "security": {"type": "JWT", "configuration": {"connectTimeout": null}}}]',
     "plans[0].security: gravicors.E080"),
    ("securityDefinition nested 30 000 levels",
     '{"name": "x", "proxy": {"context_path": "/x"}, "plans": [{"name": "p", "security": "KEY_LESS", "securityDefinition": "%s"}]}'
     % ("[" * 30_000 + "]" * 30_000), "plans[0].securityDefinition: gravicors.E006"),
    ("a file nested 100 000 levels", '{"name": "x", "flows": %s}' % ("[" * 100_000 + "]" * 100_000), "gravicors.E006"),
    ("a JSON string", '"x"', "gravicors.E004"),
    ("a JSON list of no definitions", "[1, 2]", "gravicors.E004"),
]


@pytest.mark.parametrize(("content", "line"), [pytest.param(*r[1:], id=r[0]) for r in MALFORMED_FILES])
def test_import_of_a_malformed_definition(tmp_path: Path, content: str, line: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = invoke("import", str(path))
    # SystemExit: the command chose its status; another exception would be one it did not catch.
    assert isinstance(result.exception, SystemExit), result.exc_info
    assert (result.exit_code, result.stdout) == (EXIT_INVALID, "")
    # Each problem under its file, or its item of a file holding a list.
    assert re.search(re.escape(str(path)) + r"(\[\d+\])?:", result.stderr) and line in result.stderr


def test_import_of_malformed_definitions_prints_no_traceback(tmp_path: Path) -> None:
    """The real command: every file's problems on stderr, status 1, no traceback."""
    names = []
    for i, (_, content, _) in enumerate(MALFORMED_FILES):
        (tmp_path / f"bad{i}.json").write_text(content)
        names.append(f"bad{i}.json")
    done = subprocess.run(
        [sys.executable, "-m", "flask", "gravicors", "import", *names], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (EXIT_INVALID, "")
    assert "Traceback" not in done.stderr
    for name, (_, _, line) in zip(names, MALFORMED_FILES, strict=True):
        assert re.search(re.escape(name) + r"(\[\d+\])?:", done.stderr) and line in done.stderr
