"""``flask gravicors explain``: the report on stdout, --json, exit statuses, and the
README's example output (it must be what the command prints)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from conftest import make_app
from flask_gravicors.cli import EXIT_BLOCKED, EXIT_OK, gravicors
from flask_gravicors.explain import BrowserRequest

ROOT = Path(__file__).resolve().parents[1]
O = "https://shop.example.com"
GRAVITEE_CORS = {"enabled": True, "allowOrigin": [O], "allowMethods": ["GET"], "allowHeaders": ["x-trace"]}


def app_with(*apis: dict[str, Any]) -> Flask:
    return make_app(list(apis))


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(gravicors, ["explain", *args])


ORDERS = {"name": "orders", "context_path": "/orders", "cors": GRAVITEE_CORS}
CLOSED = {"name": "closed", "context_path": "/public", "cors": {"enabled": False, "allow_origin": [O]}}

# (args, exit status, texts the report holds)
ROWS = [
    (["/orders/1", "--origin", O], EXIT_OK, ["Browser: ALLOWED", "Preflight: none"]),
    (["https://api.example.com/orders/1?x=1", "--origin", O, "--header", "X-Trace"], EXIT_OK,
     ["x-trace is not a CORS-safelisted request header", "Access-Control-Request-Headers: x-trace", "answered 200"]),
    (["/orders/1", "--origin", O, "--method", "put"], EXIT_BLOCKED,
     ["FAIL  method", "answered 400 (refused: method)", 'apis[0].cors.allowMethods += ["PUT"]']),
    (["/orders/1", "--origin", "https://evil.test", "--credentials", "--content-type", "application/json"], EXIT_BLOCKED,
     ["Content-Type application/json is not one of", 'apis[0].cors.allowOrigin += ["https://evil.test"]',
      'apis[0].cors.allowHeaders += ["content-type"]', 'apis[0].cors.allowCredentials = true']),
    (["/elsewhere", "--origin", O], EXIT_BLOCKED, ["API: none owns /elsewhere", "Browser: BLOCKED"]),
    (["/public/x", "--origin", O], EXIT_BLOCKED, ["CORS does not apply", "FAIL  cors", "apis[1].cors.enabled = true"]),
    (["/orders/1", "--origin", O, "--header", "Cookie: a=b"], EXIT_OK, ["refuses to let a script set cookie"]),
]


@pytest.mark.parametrize(("args", "status", "texts"), ROWS, ids=[" ".join(r[0]) for r in ROWS])
def test_explain_command(args: list[str], status: int, texts: list[str]) -> None:
    result = run(app_with(ORDERS, CLOSED), *args)
    assert result.exit_code == status, result.output + result.stderr
    for text in texts:
        assert text in result.stdout, result.stdout
    assert result.stderr == ""


def test_json_is_the_same_report() -> None:
    app = app_with(ORDERS, CLOSED)
    args = ["/orders/1", "--origin", "https://evil.test", "--method", "PATCH", "--header", "X-Trace"]
    result = run(app, *args, "--json")
    assert result.exit_code == EXIT_BLOCKED
    asked = BrowserRequest("/orders/1", "https://evil.test", method="PATCH", headers=["X-Trace"])
    report = app.extensions["gravicors"].explain(asked, app=app)
    assert json.loads(result.stdout) == json.loads(report.to_json())
    data = json.loads(result.stdout)
    assert data["allowed"] is False and [c["path"] for c in data["changes"]] == [
        "apis[0].cors.allowOrigin",
        "apis[0].cors.allowMethods",
    ]
    assert [c["name"] for c in data["checks"]] == ["cors", "origin", "method", "headers", "private_network", "credentials"]


def test_a_bad_header_name_is_a_usage_error() -> None:
    result = run(app_with(ORDERS), "/orders/1", "--origin", O, "--header", "bad header")
    assert result.exit_code == 2 and "is not a header name" in result.stderr


# (--origin as typed, what the usage error says)
NOT_ORIGINS = [
    ("https://shop.example.com/", "has a trailing slash; did you mean https://shop.example.com?"),
    ("shop.example.com", "does not start with scheme://; did you mean https://shop.example.com?"),
    ("https://shop.example.com/cart", "has a path"),
    ("https://*.example.com", "a pattern, not an origin"),
    ("https://bücher.example", "in punycode: xn--bcher-kva.example"),
]  # fmt: skip


@pytest.mark.parametrize(("origin", "says"), NOT_ORIGINS)
def test_an_origin_no_browser_sends_is_a_usage_error(origin: str, says: str) -> None:
    """Else it would be judged, and a change "allowing" it suggested that the
    config refuses (E020)."""
    result = run(app_with(ORDERS), "/orders/1", "--origin", origin)
    assert result.exit_code == 2 and "no browser sends it" in result.output and says in result.output


def test_printed_values_are_escaped() -> None:
    result = run(app_with(ORDERS), "/orders/1%1b[31m", "--origin", O)
    assert "\x1b" not in result.stdout and "\\x1b" in result.stdout
    refused = run(app_with(ORDERS), "/orders/1", "--origin", "https://evil.test\x1b[31m")
    assert refused.exit_code == 2 and "\x1b" not in refused.output and "\\x1b" in refused.output


def test_the_readme_shows_what_the_command_prints() -> None:
    readme = (ROOT / "README.md").read_text()
    example = re.findall(r"```python\n(.*?)```", readme, re.S)[0]
    command, shown = re.search(r"```console\n\$ (flask --app app gravicors explain [^\n]*)\n(.*?)```", readme, re.S).groups()  # type: ignore[union-attr]
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(example, namespace)
    app: Flask = namespace["app"]  # type: ignore[assignment]
    args = shlex.split(command)[5:]  # after "flask --app app gravicors explain"
    result = app.test_cli_runner().invoke(gravicors, ["explain", *args])
    assert result.stdout == shown
