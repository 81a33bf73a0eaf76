"""flask_gravicors.explain: its verdict against the real response, row by row.

The table test takes every row of the request tables that states a config and a
request (tests/test_wsgi.py, tests/test_core.py, tests/test_gravitee_cases.py and
the browser suite's tests/browser/scenarios.py), turns the row into what a page's
script does (origin, method, headers, credentials: both modes where a row does not
say), builds the row's app, and compares explain's verdict with the test kit's
Outcome on the app's real answers (flask_gravicors.testing.fetch: the preflight
when Fetch sends one, then the actual request, judged by the browser's rules).
When the request is blocked, explain's changes are applied to the config: the app
then lets the script read the response, or refuses the config with exactly the
rules explain said the change trips.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, cast

import pytest
import test_core
import test_gravitee_cases
import test_wsgi
from flask import Flask

from conftest import make_app as wsgi_app
from flask_gravicors import ConfigError, GraviCORS
from flask_gravicors.browser import is_forbidden_request_header
from flask_gravicors.core import parse_request_headers
from flask_gravicors.explain import BrowserRequest, Change, Report, explain
from flask_gravicors.testing import Outcome, fetch
from flask_gravicors.testing import make_app as kit_app

sys.path.insert(0, str(Path(__file__).parent))
from browser.scenarios import SCENARIOS, Origins, Scenario, api_config  # noqa: E402
from browser.servers import make_api_app  # noqa: E402

ORIGINS = Origins(5000, 5001)


@dataclass(frozen=True)
class Ask:
    """One row as a page's request: the row's app (made from ``config``), the URL,
    and what the script sends."""

    id: str
    build: Callable[[dict[str, Any]], Flask]
    config: dict[str, Any]
    url: str
    origin: str
    method: str
    headers: dict[str, str] = field(default_factory=dict)
    credentials: bool = False
    private_network: bool = False


def loadable(cors: dict[str, Any]) -> dict[str, Any]:
    """A core-level cors block (test_core builds CorsRules without validation) with
    the opt-ins the refusal rules ask for, so an app can run it."""
    out = dict(cors)
    credentials = out.get("allow_credentials") or out.get("allowCredentials")
    origins = out.get("allow_origin") or out.get("allowOrigin") or []
    if credentials and "*" in origins:
        out["dangerously_allow_any_origin_with_credentials"] = True
    if "null" in origins:
        out["dangerously_allow_null_origin"] = True
    return out


def _modes(ask: Ask) -> list[Ask]:
    return [ask, Ask(**{**ask.__dict__, "id": ask.id + " (credentials)", "credentials": True})]


def _raw_rows(id: str, build: Callable[[dict[str, Any]], Flask], api: dict[str, Any], path: str, method: str,
              headers: dict[str, str]) -> list[Ask]:
    """A row written as a raw request (a preflight's, or an actual request's headers)
    as what a script does, in both credentials modes; none when no script sends it."""
    if "Origin" not in headers or "Upgrade" in headers:
        return []  # no cross-origin read; a WebSocket handshake is no fetch()
    pna = False
    if method == "OPTIONS" and "Access-Control-Request-Method" in headers:
        names = parse_request_headers(headers.get("Access-Control-Request-Headers", ""))
        if names is None:
            return []
        pna = headers.get("Access-Control-Request-Private-Network") == "true"
        method, sent = headers["Access-Control-Request-Method"], {name: "x" for name in sorted(names)}
    else:
        # A script cannot set the forbidden ones (Origin, Access-Control-Request-*...).
        sent = {k: v for k, v in headers.items() if not is_forbidden_request_header(k)}
    return _modes(Ask(id, build, {"apis": [api]}, path, headers["Origin"], method, sent, private_network=pna))


def wsgi_rows() -> list[Ask]:
    out = []
    for row in test_wsgi.ROWS:
        api = {"name": "orders", "context_path": "/orders", "entrypoints": row.entrypoints, "cors": row.cors, "policies": row.policies}
        out += _raw_rows(f"wsgi: {row.id}", lambda c: wsgi_app(c["apis"]), api, row.path, row.method, row.headers)
    return out


def core_rows() -> list[Ask]:
    out = []
    for i, row in enumerate(test_core.PREFLIGHTS):
        changes, origin, method, req_headers, pna = cast(tuple[dict[str, Any], str, str, "str | None", "str | None"], row[:5])
        names = parse_request_headers(req_headers or "")
        if names is None or not re.fullmatch(r"[A-Za-z]+", method):
            continue  # no browser sends a malformed header list or method
        api = {"name": "api", "context_path": "/api", "cors": loadable({**test_core.BASE, **changes})}
        out += _modes(Ask(f"core: PREFLIGHTS[{i}] {changes} {method} {sorted(names)}", lambda c: kit_app(c["apis"]),
                          {"apis": [api]}, "/api/x", origin, method, {name: "x" for name in sorted(names)},
                          private_network=pna == "true"))
    return out


def gravitee_rows() -> list[Ask]:
    out = []
    for case in test_gravitee_cases.CASES:

        def build(config: dict[str, Any]) -> Flask:
            fields = {k: v for k, v in config["apis"][0].items() if k not in ("name", "context_path", "cors")}
            return test_gravitee_cases.app_for(
                test_gravitee_cases.Case("explain", config["apis"][0]["cors"], "GET", {}, 200, api=fields)
            )

        api = {"name": "api", "context_path": "/test", "cors": case.cors, **case.api}
        out += _raw_rows(f"gravitee: {case.source}", build, api, "/test/my_team", case.method, case.headers)
    return out


def _script(js: str) -> tuple[str, dict[str, str], bool, str]:
    """(method, headers, credentials, URL suffix) of a browser row's JavaScript."""
    suffix = re.search(r'URL \+ "([^"]*)"', js)
    method = re.search(r'method: "([^"]+)"', js) or re.match(r'xhr\("([^"]+)"', js)
    found = re.search(r"headers: (\{[^}]*\})", js)
    headers: dict[str, str] = json.loads(found.group(1)) if found else {}
    if "body:" in js and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "text/plain;charset=UTF-8"  # what fetch() sets for a string body
    if js.startswith("sse("):
        headers["Accept"] = "text/event-stream"
    credentials = 'credentials: "include"' in js or "withCredentials: true" in js
    return (method.group(1) if method else "GET"), headers, credentials, suffix.group(1) if suffix else ""


def browser_rows() -> list[Ask]:
    out = []
    for scenario in SCENARIOS:
        method, headers, credentials, suffix = _script(scenario.request)
        area = "b" if scenario.blueprint else "s" if scenario.cors is not None else "outside"
        apis = [api_config(scenario, ORIGINS)] if scenario.cors is not None else []

        def build(config: dict[str, Any], scenario: Scenario = scenario) -> Flask:
            app, _, hook = make_api_app(copy.deepcopy(config["apis"]), [scenario.id] if scenario.blueprint else [])
            for origin, allowed in (scenario.hook or {}).items():
                hook.answers[scenario.id, ORIGINS.fill(origin)] = allowed
            return app

        origin = "null" if scenario.request.startswith("sandboxed") else ORIGINS.fill(scenario.page)
        url = f"/{area}/{scenario.id}{scenario.path}{suffix}"
        out.append(Ask(f"browser: {scenario.id}", build, {"apis": apis}, url, origin, method, headers, credentials))
    return out


ROWS = wsgi_rows() + core_rows() + gravitee_rows() + browser_rows()

#: Rows whose real outcome is not CORS's alone, and what explain says instead.
#: "policy": a step answers the (valid) preflight outside 200-299: explain says
#: the CORS checks pass and names the steps that run on the preflight.
#: "view": the view sets Access-Control-Allow-Origin itself outside every API.
DIFFERENCES = {
    "wsgi: run_policies: a policy's answer wins, with the origin part": "policy",
    "wsgi: run_policies: a policy's answer wins, with the origin part (credentials)": "policy",
    "browser: run-policies-on-quota-preflight-fails": "policy",
    "browser: outside-every-api-view-headers-untouched": "view",
}


def real(ask: Ask, app: Flask) -> Outcome:
    return fetch(app, ask.method, ask.url, origin=ask.origin, headers=ask.headers, credentials=ask.credentials,
                 private_network=ask.private_network)


def explained(ask: Ask, app: Flask) -> Report:
    ext: GraviCORS = app.extensions["gravicors"]
    request = BrowserRequest(ask.url, ask.origin, ask.method, ask.headers, ask.credentials, ask.private_network)
    return ext.explain(request, app=app)


def apply(config: dict[str, Any], change: Change) -> None:
    """Apply one change (``apis[0].cors.allow_methods += [...]``) to a raw config."""
    keys: list[Any] = []
    for part in change.path.split("."):
        name, _, index = part.partition("[")
        keys.append(name)
        if index:
            keys.append(int(index.rstrip("]")))
    node: Any = config
    for key in keys[:-1]:
        node = node.setdefault(key, {}) if isinstance(key, str) else node[key]
    last = keys[-1]
    node[last] = [*node.get(last, []), *change.value] if change.op == "+=" else change.value


@pytest.mark.parametrize("ask", ROWS, ids=[a.id for a in ROWS])
def test_explain_agrees_with_the_real_response(ask: Ask) -> None:
    app = ask.build(copy.deepcopy(ask.config))
    report = explained(ask, app)
    outcome = real(ask, ask.build(copy.deepcopy(ask.config)))
    difference = DIFFERENCES.get(ask.id)
    if difference == "policy":
        assert report.allowed and not outcome.allowed and report.preflight.runs, (report.text(), str(outcome))
        assert not 200 <= (outcome.preflight.status_code if outcome.preflight is not None else 0) <= 299
        return
    if difference == "view":
        assert report.api is None and not report.allowed and outcome.allowed
        return
    assert report.allowed is outcome.allowed, f"{report.text()}\n---\n{outcome._explain()}"
    failed = [c.name for c in report.checks if c.status == "fail" and not c.after_fixes]
    if outcome.refused_by is not None:
        # The preflight refused by flask_gravicors: explain names the same check first.
        assert failed[:1] == [outcome.refused_by], report.text()
    if report.preflight.needed and report.preflight.status is not None and outcome.preflight is not None:
        assert report.preflight.status == outcome.preflight.status_code or report.preflight.runs
    if report.allowed:
        assert report.reads_all or outcome.readable <= set(report.readable), (report.readable, outcome.readable)
        assert not report.changes and not failed
        return
    assert report.reason
    if not report.changes:
        assert report.api is None or any(c.status == "fail" for c in report.checks)
        return
    # The smallest change: it lets the script read the response, or the config is
    # refused with exactly the rules explain named.
    config = copy.deepcopy(ask.config)
    for change in report.changes:
        apply(config, change)
    trips = {p.id for c in report.changes for p in c.trips}
    if trips:
        with pytest.raises(ConfigError) as refused:
            ask.build(copy.deepcopy(config))
        assert refused.value.ids == trips
        return
    fixed = real(ask, ask.build(config))
    assert fixed.allowed or (report.preflight.runs and fixed.preflight is not None and fixed.preflight.status_code != 200), (
        f"{report.text()}\n---\n{fixed._explain()}"
    )


def test_the_table_covers_the_request_tables() -> None:
    tables = {ask.id.split(":")[0] for ask in ROWS}
    assert tables == {"wsgi", "core", "gravitee", "browser"}
    assert len(ROWS) > 250
    assert {a.id for a in ROWS} >= set(DIFFERENCES), "a difference names a row that no longer exists"
    assert len({a.id for a in ROWS}) == len(ROWS)
    # Allowed and blocked rows in every table, and rows explain fixes.
    for table in tables:
        rows = [a for a in ROWS if a.id.startswith(table)]
        assert len(rows) >= 20, table


# --- explain() itself ----------------------------------------------------------------

GRAVITEE_STYLE = {"name": "shop", "context_path": "/shop", "cors": {"enabled": True, "allowOrigin": ["https://a.example"]}}
ORDERS = {"name": "orders", "context_path": "/orders", "cors": {"enabled": True, "allow_origin": ["https://a.example"]}}


@pytest.mark.parametrize(
    ("url", "api"),
    [
        ("/orders/1", "orders"),
        ("https://api.example.com/orders/1?x=1#f", "orders"),
        ("orders/1", "orders"),
        ("/%6Frders/1", "orders"),  # the server decodes the path before routing
        ("//orders/1", "orders"),  # werkzeug routes it as /orders/1
        ("/Orders/1", None),
        ("/ordersx", None),
        ("/shop", "shop"),
        # What the browser sends: the URL Standard resolves dot segments (also
        # written %2e) and, in http(s) URLs, reads a backslash as a slash.
        ("/orders/../shop/x", "shop"),
        ("https://api.example.com/orders/%2E%2e/shop/x", "shop"),
        ("https://api.example.com/shop/.%2e/orders/x?a=..", "orders"),
        ("https://api.example.com/orders\\..\\shop", "shop"),
        ("/shop/./x", "shop"),
        ("/orders/...", "orders"),
        ("/orders/..", None),
    ],
)
def test_the_api_of_a_url(url: str, api: str | None) -> None:
    app = kit_app([ORDERS, GRAVITEE_STYLE])
    ext: GraviCORS = app.extensions["gravicors"]
    report = ext.explain(BrowserRequest(url, "https://a.example"), app=app)
    assert report.api == api
    resolved = any(dots in url.lower() for dots in ("/.", "%2e", "\\")) and not url.endswith("/...")
    assert any(note.startswith("the browser sends ") for note in report.notes) == resolved


def test_the_text_keeps_a_line_break_of_a_value_inside_its_line() -> None:
    """An API name or a decoded path holding CR/LF forges no line ("Browser: ...")."""
    forged = "\r\nBrowser: ALLOWED: the script reads the response"
    app = kit_app([{**ORDERS, "name": "orders" + forged}])
    ext: GraviCORS = app.extensions["gravicors"]
    for url in ("/orders/1", "/orders/1%0d%0aBrowser: ALLOWED: forged"):
        lines = ext.explain(BrowserRequest(url, "https://evil.example"), app=app).text().splitlines()
        verdicts = [line for line in lines if line.startswith("Browser: ")]
        assert len(verdicts) == 1 and verdicts[0].startswith("Browser: BLOCKED")
        assert all(line.isprintable() for line in lines)


# (id, API, origin: no change of the API's cors block lets this request through)
UNFIXABLE = [
    ("websocket only, an origin no browser sends", {**ORDERS, "entrypoints": ["websocket"]}, "https://bücher.example"),
    ("cors off, an origin no browser sends", {**ORDERS, "cors": {"enabled": False}}, "https://a.example\t"),
]  # fmt: skip


@pytest.mark.parametrize(("api", "origin"), [pytest.param(*r[1:], id=r[0]) for r in UNFIXABLE])
def test_no_partial_change_when_a_later_failure_has_no_fix(api: dict[str, Any], origin: str) -> None:
    """Fixes of the first failures alone would allow nothing: none is offered."""
    app = kit_app([api])
    ext: GraviCORS = app.extensions["gravicors"]
    report = ext.explain(BrowserRequest("/orders/1", origin), app=app)
    assert (report.allowed, report.changes) == (False, ())
    assert "no change of this API's cors block allows it" in report.notes


def test_without_the_raw_config_changes_use_the_loaded_names() -> None:
    app = kit_app([ORDERS, GRAVITEE_STYLE])
    ext: GraviCORS = app.extensions["gravicors"]
    asked = BrowserRequest("/shop/x", "http://b.example", method="PUT", credentials=True)
    bare = explain(ext.runtime_for(app), asked)
    assert [str(c) for c in bare.changes] == [
        'apis[1].cors.allow_origin += ["http://b.example"]',
        'apis[1].cors.allow_methods += ["PUT"]',
        "apis[1].cors.allow_credentials = true",
    ]
    assert all(not c.trips for c in bare.changes)
    full = ext.explain(asked, app=app)
    assert [str(c) for c in full.changes] == [
        'apis[1].cors.allowOrigin += ["http://b.example"]',
        'apis[1].cors.allowMethods += ["PUT"]',
        "apis[1].cors.allowCredentials = true",
    ]
    # http:// with credentials: the rule trips where the origin was added, found once both changes are made.
    assert [(p.id, p.path) for c in full.changes for p in c.trips] == [("gravicors.E028", "apis[1].cors.allowOrigin[1]")]
    assert json.loads(full.to_json())["changes"][2]["trips"][0]["id"] == "gravicors.E028"
