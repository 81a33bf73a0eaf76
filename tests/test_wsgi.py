"""The WSGI layer through a Flask app: config x request -> response, view and policy calls.

Each row: the API's cors block and policies, a request, and what must come back:
status, headers (None = must be absent), whether the view ran, and the policy calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, abort

from conftest import CALLS, OWN_HEADERS, make_app
from flask_gravicors.wsgi import for_log, merge_vary, refused_check, rewrite_headers

O = "https://shop.example.com"
EVIL = "https://evil.test"
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

CORS = {
    "enabled": True,
    "allow_origin": [O],
    "allow_methods": ["GET", "POST", "PUT"],
    "allow_headers": ["content-type", "x-key"],
    "allow_credentials": True,
    "max_age": 600,
    "expose_headers": ["x-request-id"],
}
STAR = {"enabled": True, "allow_origin": ["*"], "allow_methods": ["GET"]}
RECORD = [{"name": "record"}]
ANSWER = [{"name": "answer", "config": {"status": 401}}]


def pre(origin: str = O, method: str = "PUT", headers: str | None = None, **extra: str) -> dict[str, str]:
    out = {"Origin": origin, "Access-Control-Request-Method": method, **extra}
    if headers is not None:
        out["Access-Control-Request-Headers"] = headers
    return out


@dataclass
class Row:
    id: str
    cors: dict[str, Any]
    method: str
    path: str
    headers: dict[str, str]
    status: int
    expect: dict[str, str | None]
    view: bool
    policies: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, str]] | None = None  # (policy, phase) in order
    entrypoints: list[str] = field(default_factory=lambda: ["http-proxy"])


ALLOWED_ACTUAL = {
    "Access-Control-Allow-Origin": O,
    "Access-Control-Allow-Credentials": "true",
    "Access-Control-Expose-Headers": "x-request-id",
    "Vary": "Origin",
}
NO_CORS = {
    "Access-Control-Allow-Origin": None,
    "Access-Control-Allow-Credentials": None,
    "Access-Control-Expose-Headers": None,
}

ROWS = [
    # --- actual requests
    Row("allowed GET", CORS, "GET", "/orders/1", {"Origin": O}, 200, ALLOWED_ACTUAL, True),
    Row("disallowed GET still served, no CORS headers", CORS, "GET", "/orders/1", {"Origin": EVIL}, 200,
        {**NO_CORS, "Vary": "Origin"}, True),
    Row("no Origin: only Vary", CORS, "GET", "/orders/1", {}, 200, {**NO_CORS, "Vary": "Origin"}, True),
    Row("null origin refused unless listed", CORS, "GET", "/orders/1", {"Origin": "null"}, 200, NO_CORS, True),
    Row("star without credentials: literal *, no Vary", STAR, "GET", "/orders", {"Origin": O}, 200,
        {"Access-Control-Allow-Origin": "*", "Vary": None, "Access-Control-Allow-Credentials": None}, True),
    # issue 12: the same answer without an Origin (before: no header at all, so a shared
    # cache could keep that answer and serve it to browsers) and for "null"
    Row("star without credentials, no Origin: literal * too", {**STAR, "expose_headers": ["x-id"]}, "GET", "/orders", {},
        200, {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "x-id", "Vary": None}, True),
    Row("star without credentials, Origin null: literal * too", STAR, "GET", "/orders", {"Origin": "null"}, 200,
        {"Access-Control-Allow-Origin": "*", "Vary": None}, True),
    Row("OPTIONS without ACRM is an actual request", CORS, "OPTIONS", "/orders/1", {"Origin": O}, 200, ALLOWED_ACTUAL, False),
    Row("cors disabled: untouched", {**CORS, "enabled": False}, "GET", "/orders/1", {"Origin": O}, 200,
        {**NO_CORS, "Vary": None}, True),
    Row("websocket-only API: no CORS", CORS, "GET", "/orders/1", {"Origin": O}, 200, {**NO_CORS, "Vary": None}, True,
        entrypoints=["websocket"]),
    # (werkzeug answers a handshake to a plain route with 400; what matters is no CORS)
    Row("websocket handshake never gets CORS", CORS, "GET", "/orders/1",
        {"Origin": O, "Connection": "keep-alive, Upgrade", "Upgrade": "WebSocket"}, 400, {**NO_CORS, "Vary": None}, False),
    Row("request outside every API untouched", CORS, "GET", "/outside/1", {"Origin": O}, 200, {**NO_CORS, "Vary": None}, True),
    Row("outside every API, a view's own CORS headers are kept", CORS, "GET", "/outside/own-headers", {"Origin": EVIL},
        200, {**OWN_HEADERS, "Vary": "Accept-Encoding"}, True),
    Row("cors disabled, a view's own CORS headers are kept", {**CORS, "enabled": False}, "GET", "/orders/own-headers",
        {"Origin": EVIL}, 200, {**OWN_HEADERS, "Vary": "Accept-Encoding"}, True),
    Row("/ordersx is not /orders", CORS, "GET", "/ordersx/1", {"Origin": O}, 200, {**NO_CORS, "Vary": None}, True),
    Row("/Orders is not /orders", CORS, "GET", "/Orders/1", {"Origin": O}, 404, {**NO_CORS, "Vary": None}, False),
    # --- preflights, run_policies off
    Row("valid preflight", CORS, "OPTIONS", "/orders/1", pre(headers="content-type"), 200, {
        "Access-Control-Allow-Origin": O, "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "GET, POST, PUT", "Access-Control-Allow-Headers": "content-type, x-key",
        "Access-Control-Max-Age": "600", "Vary": PREFLIGHT_VARY, "Access-Control-Expose-Headers": None,
        "Content-Length": "0"}, False),
    Row("preflight to a path with no view is still answered", CORS, "OPTIONS", "/orders/none/here", pre(), 200,
        {"Access-Control-Allow-Origin": O}, False),
    Row("preflight bad origin", CORS, "OPTIONS", "/orders/1", pre(origin=EVIL), 400,
        {"Access-Control-Allow-Origin": None, "Access-Control-Allow-Methods": None, "Vary": PREFLIGHT_VARY}, False),
    Row("preflight bad method", CORS, "OPTIONS", "/orders/1", pre(method="DELETE"), 400,
        {"Access-Control-Allow-Origin": None, "Vary": PREFLIGHT_VARY}, False),
    Row("preflight bad header", CORS, "OPTIONS", "/orders/1", pre(headers="x-other"), 400,
        {"Access-Control-Allow-Headers": None}, False),
    Row("max_age -1: no Max-Age", {**CORS, "max_age": -1}, "OPTIONS", "/orders/1", pre(), 200,
        {"Access-Control-Max-Age": None}, False),
    Row("private network on: its request header is in the preflight Vary", {**CORS, "allow_private_network": True},
        "OPTIONS", "/orders/1", pre(), 200, {"Vary": PREFLIGHT_VARY + ", Access-Control-Request-Private-Network"}, False),
    Row("private network on: in the refusal's Vary too", {**CORS, "allow_private_network": True}, "OPTIONS",
        "/orders/1", pre(origin=EVIL), 400, {"Vary": PREFLIGHT_VARY + ", Access-Control-Request-Private-Network"}, False),
    Row("policies do not run on a preflight by default", CORS, "OPTIONS", "/orders/1", pre(), 200,
        {"Access-Control-Allow-Origin": O}, False, policies=ANSWER, calls=[]),
    # --- preflights, run_policies on
    Row("run_policies: a policy's answer wins, with the origin part", {**CORS, "run_policies": True}, "OPTIONS",
        "/orders/1", pre(headers="x-key"), 401, {
            "Access-Control-Allow-Origin": O, "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Methods": None, "Access-Control-Allow-Headers": None, "Vary": PREFLIGHT_VARY},
        False, policies=ANSWER, calls=[("answer", "request")]),
    Row("run_policies: chain passes, 200 preflight answer, view never runs", {**CORS, "run_policies": True}, "OPTIONS",
        "/orders/1", pre(), 200, {
            "Access-Control-Allow-Origin": O, "Access-Control-Allow-Methods": "GET, POST, PUT",
            "Access-Control-Max-Age": "600", "Vary": PREFLIGHT_VARY, "X-Policy-record": "seen"},
        False, policies=RECORD, calls=[("record", "request"), ("record", "response")]),
    Row("run_policies: invalid preflight never runs policies", {**CORS, "run_policies": True}, "OPTIONS",
        "/orders/1", pre(origin=EVIL), 400, {"Access-Control-Allow-Origin": None}, False, policies=RECORD, calls=[]),
    # --- policy chain on actual requests
    Row("chain runs in order then the view", CORS, "GET", "/orders/1", {"Origin": O}, 200, ALLOWED_ACTUAL, True,
        policies=[{"name": "record", "config": {"label": "a"}}, {"name": "record", "config": {"label": "b"}}],
        calls=[("a", "request"), ("b", "request"), ("a", "response"), ("b", "response")]),
    Row("policy answer stops the chain and keeps CORS headers", CORS, "GET", "/orders/1", {"Origin": O}, 401,
        ALLOWED_ACTUAL, False, policies=[{"name": "record"}, *ANSWER, {"name": "record", "config": {"label": "late"}}],
        calls=[("record", "request"), ("answer", "request"), ("record", "response")]),
    Row("policies run without Origin too", CORS, "GET", "/orders/1", {}, 401, {"Access-Control-Allow-Origin": None},
        False, policies=ANSWER, calls=[("answer", "request")]),
    Row("policies run with cors disabled", {"enabled": False}, "GET", "/orders/1", {}, 401, {}, False,
        policies=ANSWER, calls=[("answer", "request")]),
    Row("policies run for a websocket handshake", CORS, "GET", "/orders/1",
        {"Connection": "Upgrade", "Upgrade": "websocket"}, 401, NO_CORS, False, policies=ANSWER,
        calls=[("answer", "request")]),
]


# What an app saw before the row's request: nothing, a GET to the same path with the
# same Origin, or to a longer path that shares the memo key of the row's path.
WARM = {"first sight": None, "after a GET with the same path and Origin": "", "after a GET below that path": "/y/z"}


@pytest.mark.parametrize("warm", WARM.values(), ids=list(WARM))
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_request(row: Row, warm: str | None) -> None:
    app = make_app([{"name": "orders", "context_path": "/orders", "entrypoints": row.entrypoints,
                     "cors": row.cors, "policies": row.policies}])
    client = app.test_client()
    if warm is not None:
        # The WSGI layer's fast path remembers what actual requests got, by (path key,
        # Origin): one seen before must not change any answer (preflight, handshake,
        # chain, a path outside the API).
        client.get(row.path + warm, headers={k: v for k, v in row.headers.items() if k == "Origin"})
        CALLS.clear()
        app.view_calls.clear()  # type: ignore[attr-defined]
    response = client.open(row.path, method=row.method, headers=row.headers)
    assert response.status_code == row.status
    for name, value in row.expect.items():
        assert response.headers.get(name) == value, name
    assert bool(app.view_calls) is row.view  # type: ignore[attr-defined]
    if row.calls is not None:
        assert [(c[0], c[1]) for c in CALLS] == row.calls
    if row.status == 400 and row.method == "OPTIONS":
        assert b"not allowed" in response.data and O.encode() not in response.data


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_a_request_leaves_no_trace_on_the_next(row: Row) -> None:
    # The reverse of the "warm" rows above: whatever the row's request was (a
    # preflight, a handshake, a refused origin), a plain GET after it to the same
    # path with the same Origin gets what it gets on a fresh app.
    def plain_get(app: Flask) -> tuple[int, list[tuple[str, str]]]:
        origin = {k: v for k, v in row.headers.items() if k == "Origin"}
        response = app.test_client().get(row.path, headers=origin)
        return response.status_code, sorted(response.headers.items())

    api = {"name": "orders", "context_path": "/orders", "entrypoints": row.entrypoints, "cors": row.cors,
           "policies": row.policies}
    fresh = plain_get(make_app([api]))
    app = make_app([api])
    app.test_client().open(row.path, method=row.method, headers=row.headers)
    assert plain_get(app) == fresh


# The fast path, structurally (speed itself is only measured in benchmarks/): after a
# first request, does a second one resolve its path again? (first request, second
# request, resolved again). A request whose path starts like one seen before with
# the same Origin is answered from the memo, inside the API or outside every API.
H = {"HTTP_ORIGIN": O}
WS = {"HTTP_ORIGIN": O, "HTTP_CONNECTION": "Upgrade", "HTTP_UPGRADE": "websocket"}
RESOLVED_AGAIN = [
    ("same path", ("GET", "/orders/1", H), ("GET", "/orders/1", H), False),
    ("another path under the API", ("GET", "/orders/1", H), ("POST", "/orders/2/items", H), False),
    ("another path outside every API", ("GET", "/outside/1", H), ("GET", "/outside/2", H), False),
    ("another origin", ("GET", "/orders/1", H), ("GET", "/orders/1", {"HTTP_ORIGIN": EVIL}), True),
    ("a path with another key", ("GET", "/orders/1", H), ("GET", "/ordersx/1", H), True),
    ("a preflight", ("GET", "/orders/1", H), ("OPTIONS", "/orders/1", {**H, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT"}),
     True),
    ("a handshake", ("GET", "/orders/1", H), ("GET", "/orders/1", WS), True),
    ("after a handshake", ("GET", "/orders/1", WS), ("GET", "/orders/1", H), True),
    ("paths starting with //", ("GET", "//orders/1", H), ("GET", "//orders/1", H), True),
]


@pytest.mark.parametrize(("first", "second", "resolved_again"), [r[1:] for r in RESOLVED_AGAIN],
                         ids=[r[0] for r in RESOLVED_AGAIN])
def test_which_requests_the_memo_answers(
    monkeypatch: pytest.MonkeyPatch, first: tuple[str, str, dict[str, str]], second: tuple[str, str, dict[str, str]],
    resolved_again: bool,
) -> None:
    from flask_gravicors.core import Runtime

    app = make_app([{"name": "orders", "context_path": "/orders", "cors": CORS}])
    resolved: list[str] = []
    real = Runtime.resolve
    monkeypatch.setattr(Runtime, "resolve", lambda self, environ: resolved.append(environ["PATH_INFO"]) or real(self, environ))
    for method, path, environ in (first, second):
        app.test_client().open(path, method=method, environ_overrides={"PATH_INFO": path, **environ})
    assert len(resolved) == (2 if resolved_again else 1)


def _errors_app(cors: dict[str, Any]) -> Flask:
    app = make_app([{"name": "orders", "context_path": "/orders", "cors": cors}])

    @app.get("/orders/abort/<int:status>")
    def aborts(status: int) -> None:
        abort(status)

    @app.get("/orders/crash")
    def crashes() -> None:
        raise RuntimeError("boom")

    @app.get("/orders/own-headers")
    def own_headers() -> Any:
        return "x", 200, {**OWN_HEADERS, "Vary": "Accept-Encoding, origin"}

    @app.get("/orders/vary-star")
    def vary_star() -> Any:
        return "x", 200, {"Vary": "*"}

    return app


@pytest.mark.parametrize(
    ("path", "origin", "status", "expect"),
    [
        ("/orders/abort/401", O, 401, ALLOWED_ACTUAL),
        ("/orders/abort/404", O, 404, ALLOWED_ACTUAL),
        ("/orders/abort/429", O, 429, ALLOWED_ACTUAL),
        ("/orders/abort/404", EVIL, 404, {**NO_CORS, "Vary": "Origin"}),
        ("/orders/crash", O, 500, ALLOWED_ACTUAL),
        ("/orders/crash", EVIL, 500, NO_CORS),
        # the view's own CORS headers are replaced by ours, or removed
        ("/orders/own-headers", O, 200, {**ALLOWED_ACTUAL, "Vary": "Accept-Encoding, origin"}),
        ("/orders/own-headers", EVIL, 200, {**NO_CORS, "Vary": "Accept-Encoding, origin"}),
        ("/orders/own-headers", None, 200, {**NO_CORS, "Vary": "Accept-Encoding, origin"}),
        ("/orders/vary-star", O, 200, {"Vary": "*"}),
    ],
)
def test_every_response_of_the_api(path: str, origin: str | None, status: int, expect: dict[str, Any]) -> None:
    app = _errors_app(CORS)
    app.testing = False  # unhandled exceptions become Flask's 500, as in production
    headers = {"Origin": origin} if origin else {}
    response = app.test_client().get(path, headers=headers)
    assert response.status_code == status
    for name, value in expect.items():
        assert response.headers.get(name) == value, name
    assert len(response.headers.getlist("Access-Control-Allow-Origin")) <= 1
    assert len(response.headers.getlist("Vary")) == 1


@pytest.mark.parametrize(
    ("existing", "add", "merged"),
    [
        ([], "Origin", "Origin"),
        (["Accept-Encoding"], "Origin", "Accept-Encoding, Origin"),
        (["origin"], "Origin", "origin"),
        (["Accept", "Cookie, ORIGIN"], "Origin", "Accept, Cookie, ORIGIN"),
        (["*"], "Origin", "*"),
        (["Origin"], PREFLIGHT_VARY, PREFLIGHT_VARY),
    ],
)
def test_merge_vary(existing: list[str], add: str, merged: str) -> None:
    assert merge_vary(existing, add) == merged


def test_rewrite_headers_drops_owned_and_appends_ours() -> None:
    out = rewrite_headers(
        [("Content-Type", "x"), ("access-control-allow-origin", "*"), ("Vary", "A"), ("Vary", "B")],
        frozenset({"access-control-allow-origin"}),
        "Origin",
        [("Access-Control-Allow-Origin", O)],
    )
    assert out == [("Content-Type", "x"), ("Vary", "A, B, Origin"), ("Access-Control-Allow-Origin", O)]


@pytest.mark.parametrize(
    ("value", "logged"),
    [
        ("https://a.test", "'https://a.test'"),
        ("x\r\nINFO forged line", "'x\\r\\nINFO forged line'"),
        ("a" * 300, "'" + "a" * 200 + "'..."),
        (None, "-"),
    ],
)
def test_for_log_escapes_client_values(value: str | None, logged: str) -> None:
    assert for_log(value) == logged
    assert "\n" not in for_log(value) and "\r" not in for_log(value)


def test_refused_preflight_is_logged_escaped(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app([{"name": "orders", "context_path": "/orders", "cors": CORS}])
    with caplog.at_level("INFO", logger="flask_gravicors"):
        # the test client refuses CR/LF in headers; a raw environ does not
        app.test_client().options("/orders/1", headers=pre(), environ_overrides={"HTTP_ORIGIN": "https://evil.test\r\nforged"})
    (record,) = [r for r in caplog.records if "refused" in r.getMessage()]
    assert "origin not allowed" in record.getMessage()
    assert "\n" not in record.getMessage() and "\\r\\n" in record.getMessage()


# --- debug mode (GRAVICORS_DEBUG) ---------------------------------------------------

# (preflight request headers, check, value named in the 400 body, text in the WARNING line)
DEBUG_REFUSALS = [
    (pre(origin=EVIL), "origin", "'https://evil.test'", "origin 'https://evil.test' is not in allow_origin ['https://shop.example.com']"),
    (pre(method="PATCH"), "method", "'PATCH'", "method 'PATCH' is not in allow_methods ['GET', 'POST', 'PUT']"),
    (pre(headers="content-type,x-other,x-b"), "headers", "'x-b'", "header 'x-b' is not in allow_headers ['content-type', 'x-key']"),
    (pre(headers="a b"), "headers", "'a b'", "Access-Control-Request-Headers 'a b' is not a list of at most 100 header names"),
]


@pytest.mark.parametrize(("headers", "check", "value", "logged"), DEBUG_REFUSALS)
def test_debug_mode_names_the_refused_value(
    headers: dict[str, str], check: str, value: str, logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app([{"name": "orders", "context_path": "/orders", "cors": CORS}], config={"GRAVICORS_DEBUG": True})
    with caplog.at_level("WARNING", logger="flask_gravicors"):
        response = app.test_client().options("/orders/1", headers=headers)
    assert response.status_code == 400
    assert response.get_data(as_text=True) == f"CORS preflight refused: {check} not allowed: {value}\n"
    assert refused_check(response.get_data()) == check  # as the test kit reads it
    (record,) = [r for r in caplog.records if "preflight refused" in r.getMessage()]
    assert record.levelname == "WARNING" and logged in record.getMessage()
    # The body never holds the configured lists.
    assert O not in response.get_data(as_text=True) and "x-key" not in response.get_data(as_text=True)


def test_debug_body_is_escaped_and_bounded() -> None:
    app = make_app([{"name": "orders", "context_path": "/orders", "cors": CORS}], config={"GRAVICORS_DEBUG": True})
    hostile = "https://evil.test\r\nX-Injected: 1" + "a" * 5000
    response = app.test_client().options("/orders/1", headers=pre(), environ_overrides={"HTTP_ORIGIN": hostile})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and body.count("\n") == 1 and "\r" not in body
    assert "\\r\\nX-Injected" in body and len(body) < 300


def test_debug_mode_logs_a_refused_actual_request_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app([{"name": "orders", "context_path": "/orders", "cors": CORS}], config={"GRAVICORS_DEBUG": True})
    now = [1000.0]
    app.extensions["gravicors"].runtime_for(app).clock = lambda: now[0]
    client = app.test_client()

    def logged() -> list[str]:
        return [r.getMessage() for r in caplog.records if "actual request" in r.getMessage()]

    with caplog.at_level("WARNING", logger="flask_gravicors"):
        for path in ("/orders/1", "/orders/1", "/orders/2/x", "/orders/1"):
            assert client.get(path, headers={"Origin": EVIL}).headers.get("Access-Control-Allow-Origin") is None
        client.get("/orders/1", headers={"Origin": "https://other.test"})
        client.get("/orders/1", headers={"Origin": O})  # allowed: never logged
        assert len(logged()) == 2  # one per (API, origin)
        assert "origin 'https://evil.test' is not in allow_origin" in logged()[0] and "\n" not in logged()[0]
        now[0] += 59
        client.get("/orders/1", headers={"Origin": EVIL})
        assert len(logged()) == 2
        now[0] += 2
        client.get("/orders/1", headers={"Origin": EVIL})
        assert len(logged()) == 3


def test_debug_mode_keeps_once_a_minute_through_a_flood_of_origins(caplog: pytest.LogCaptureFixture) -> None:
    """More distinct refused origins within a minute than the table holds: an origin
    logged is not logged again within the minute, and the overflow is one line."""
    from flask_gravicors.core import ORIGIN_CACHE_SIZE

    app = make_app([{"name": "orders", "context_path": "/orders", "cors": CORS}], config={"GRAVICORS_DEBUG": True})
    app.extensions["gravicors"].runtime_for(app).clock = lambda: 1000.0
    client = app.test_client()
    with caplog.at_level("WARNING", logger="flask_gravicors"):
        client.get("/orders/1", headers={"Origin": EVIL})
        for i in range(ORIGIN_CACHE_SIZE + 50):
            client.get("/orders/1", headers={"Origin": f"https://x{i}.evil.test"})
        client.get("/orders/1", headers={"Origin": EVIL})
    named = [r.getMessage() for r in caplog.records if "actual request on API" in r.getMessage()]
    overflow = [r.getMessage() for r in caplog.records if "not logged one by one" in r.getMessage()]
    assert len([m for m in named if "'https://evil.test'" in m]) == 1
    assert len(named) == ORIGIN_CACHE_SIZE and len(overflow) == 1


def test_without_debug_a_refused_actual_request_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app([{"name": "orders", "context_path": "/orders", "cors": CORS}])
    with caplog.at_level("DEBUG", logger="flask_gravicors"):
        app.test_client().get("/orders/1", headers={"Origin": EVIL})
    assert not [r for r in caplog.records if "actual request" in r.getMessage()]
    # ... and the memo keeps no expiry for it: the fast path reads no clock.
    assert [entry[3] for entry in app.extensions["gravicors"].runtime_for(app).seen.values()] == [None]


def test_debug_mode_warns_of_a_private_network_preflight_not_granted(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app([{"name": "orders", "context_path": "/orders", "cors": CORS}], config={"GRAVICORS_DEBUG": True})
    with caplog.at_level("WARNING", logger="flask_gravicors"):
        response = app.test_client().options("/orders/1", headers=pre(**{"Access-Control-Request-Private-Network": "true"}))
    assert response.status_code == 200 and "Access-Control-Allow-Private-Network" not in response.headers
    assert any("Private Network Access" in r.getMessage() for r in caplog.records)
