"""flask_gravicors.console.try_it: Try it's fields as the request explain takes, and
its report or the reason there is none (the views' rows are in test_apis.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from flask_gravicors import GraviCORS
from flask_gravicors.console import try_it
from flask_gravicors.errors import ConfigError
from flask_gravicors.explain import BrowserRequest


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, []),
        ("", []),
        ("X-A", ["X-A"]),
        ("X-A, X-B,,\n\n  x-c  ", ["X-A", "X-B", "x-c"]),
        ("Accept: application/json, text/plain\nX-A,X-B", ["Accept: application/json, text/plain", "X-A", "X-B"]),
        ("Content-Type: application/json\r\n", ["Content-Type: application/json"]),
    ],
)
def test_request_headers(text: str | None, expected: list[str]) -> None:
    assert try_it.request_headers(text) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"origin": " https://a.example "}, BrowserRequest("/orders", "https://a.example")),
        (
            {
                "origin": "https://a.example",
                "method": " patch ",
                "headers": "X-A, X-B",
                "credentials": True,
                "private_network": True,
                "content_type": " application/json ",
            },
            BrowserRequest("/orders", "https://a.example", "patch", ["X-A", "X-B"], True, True, "application/json"),
        ),
        ({"origin": "null", "method": "", "content_type": "  "}, BrowserRequest("/orders", "null")),
    ],
)
def test_browser_request(fields: dict[str, Any], expected: BrowserRequest) -> None:
    assert try_it.browser_request(fields, "/orders") == replace(expected, headers=list(expected.headers))


CONFIG = {
    "apis": [{"name": "orders", "context_path": "/orders", "cors": {"enabled": True, "allow_origin": ["https://a.example"]}}]
}


def test_run_reports_or_says_why_not() -> None:
    from flask import Flask

    app = Flask(__name__)
    app.config["GRAVICORS"] = CONFIG
    ext = GraviCORS(app, entry_points=False)

    def explain(asked: BrowserRequest, *, config: Any) -> Any:
        return ext.explain(asked, config=config, app=app)

    allowed = try_it.run(explain, BrowserRequest("/orders", "https://a.example"), CONFIG)
    assert allowed.report is not None and allowed.report.allowed and (allowed.problems, allowed.error) == ((), None)
    bad = {"apis": [{**CONFIG["apis"][0], "cors": {"allow_origin": ["*"], "allow_credentials": True}}]}
    refused = try_it.run(explain, BrowserRequest("/orders", "https://a.example"), bad)
    assert refused.report is None and [p.id for p in refused.problems] == ["gravicors.E023"]
    with pytest.raises(ConfigError):  # what run() turns into problems
        explain(BrowserRequest("/orders", "https://a.example"), config=bad)
    for asked, error in [
        (BrowserRequest("/orders", "https://a.example", headers=["X B"]), "'X B' is not a header name"),
        (BrowserRequest("http://api.example:99999/orders", "https://a.example"), "Port out of range"),
    ]:
        result = try_it.run(explain, asked, CONFIG)
        assert result.report is None and result.error is not None and error in result.error
