"""Flows: selectors, and the order in which platform flows, plans and API flows run.

The first table is the path selector alone (flask_gravicors.flows). The second
runs requests through an app whose every flow step records its calls (conftest's
``record`` policy: a request step records its on_request and, on the way out, its
on_response; a response step only its on_response), and compares the whole
sequence with Gravitee's order: platform flows, plan security, plan flows, API
flows, view; on the way out plan flows, API flows, platform flows.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

import pytest
from flask import Flask, request

from conftest import CALLS, PolicyPlugin, make_app
from flask_gravicors import GraviCORS
from flask_gravicors.flows import EQUALS, STARTS_WITH, CompiledFlow, FlowSet, path_matcher

O = "https://shop.example.com"

# (selector path, operator, path relative to the context path, matches)
PATHS = [
    ("/", STARTS_WITH, "/anything/below", True),
    ("/", STARTS_WITH, "/", True),
    ("/", EQUALS, "/", True),
    ("/", EQUALS, "/a", False),
    ("/orders", STARTS_WITH, "/orders", True),
    ("/orders", STARTS_WITH, "/orders/", True),
    ("/orders", STARTS_WITH, "/orders/1", True),
    # deliberate: a segment boundary (Gravitee's prefix match would take /ordersx)
    ("/orders", STARTS_WITH, "/ordersx", False),
    ("/orders/", STARTS_WITH, "/orders/1", True),
    ("/orders", EQUALS, "/orders", True),
    ("/orders", EQUALS, "/orders/", True),
    ("/orders", EQUALS, "/orders/1", False),
    ("/orders", STARTS_WITH, "/Orders", False),
    ("/orders/:id", EQUALS, "/orders/42", True),
    ("/orders/:id", EQUALS, "/orders/42/", True),
    ("/orders/:id", EQUALS, "/orders/42/items", False),
    ("/orders/:id", EQUALS, "/orders/", False),
    ("/orders/:id", STARTS_WITH, "/orders/42/items", True),
    ("/orders/:id", STARTS_WITH, "/orders", False),
    ("/orders/:id/items", EQUALS, "/orders/a-b.c~d/items", True),
    # literal segments are literal: "." is no regex wildcard
    ("/a.b", EQUALS, "/aXb", False),
    ("/a.b/:x", EQUALS, "/aXb/1", False),
    ("/a.b/:x", EQUALS, "/a.b/1", True),
    # A ":name" segment is what werkzeug's default converter routes ([^/]+) on the
    # decoded path, whatever it holds (Gravitee's class is for the raw path)
    ("/users/:id", EQUALS, "/users/\u00e4", True),
    ("/users/:id", EQUALS, "/users/a b", True),
    ("/users/:id", EQUALS, "/users/<x>", True),
    ("/users/:id", EQUALS, '/users/"', True),
    ("/users/:id", EQUALS, "/users/\ufffd", True),
    ("/users/:id", EQUALS, "/users/a\x00b", True),
    ("/users/:id", EQUALS, "/users/a\nb", True),
    ("/users/:id", EQUALS, "/users/..", True),
    ("/users/:id", EQUALS, "/users/100%", True),
    ("/users/:id", STARTS_WITH, "/users/\u00e4/x", True),
    ("/users/:id", EQUALS, "/users/a/b", False),
    ("/users/:id", EQUALS, "/users/", False),
    # a selector written raw, as Gravitee reads paths, selects the decoded path
    ("/caf%C3%A9", EQUALS, "/caf\u00e9", True),
    ("/a%2Fb", EQUALS, "/a/b", True),
    ("/a%2Fb/:x", EQUALS, "/a/b/c", True),
    ("/%3Aid", EQUALS, "/:id", True),
    ("/%3Aid", EQUALS, "/42", False),
    ("/100%", EQUALS, "/100%", True),
]


@pytest.mark.parametrize(("path", "operator", "rel", "matches"), PATHS)
def test_path_selector(path: str, operator: str, rel: str, matches: bool) -> None:
    matcher = path_matcher(path, operator)
    assert (matcher is None or matcher(rel)) is matches


def guarded_app() -> Any:
    """Views under /orders, each behind a flow whose step answers with its own status."""
    app = Flask(__name__)
    app.view_calls = []  # type: ignore[attr-defined]

    def view(**args: Any) -> str:
        app.view_calls.append(request.path)  # type: ignore[attr-defined]
        return "view"

    app.add_url_rule("/orders/users/<uid>", "user", view, methods=["GET", "DELETE"])
    app.add_url_rule("/orders/secret", "secret", view)
    app.add_url_rule("/orders/loose/", "loose", view, strict_slashes=False)
    app.add_url_rule("/orders/files/<path:rest>", "files", view)
    app.add_url_rule("/orders/caf\u00e9", "cafe", view)
    app.add_url_rule("/orders/dav", "dav", view, methods=["PROPFIND"])

    def guard(status: int, **selector: Any) -> dict[str, Any]:
        return {"selectors": [selector], "request": [{"policy": "answer", "configuration": {"status": status}}]}

    flows = [
        guard(471, path="/users/:id"),
        guard(472, path="/secret", methods=["GET"]),
        guard(473, path="/loose", pathOperator="EQUALS"),
        guard(474, path="/files/:dir/:name", pathOperator="EQUALS"),
        guard(475, path="/caf%C3%A9", pathOperator="EQUALS"),
        guard(476, path="/dav", methods=["OTHER"]),
    ]
    app.config["GRAVICORS"] = {"apis": [{"name": "orders", "context_path": "/orders", "flows": flows}]}
    GraviCORS(app, plugins=[PolicyPlugin()], entry_points=False)
    return app


# (id, method, URL path as sent, status: the guarding flow's, or no view was reached)
# Every row is a spelling some server or client can send; none may reach a view
# without the flow whose selector covers it.
SPELLINGS = [
    ("param: plain", "GET", "/orders/users/abc", 471),
    ("param: non-ASCII", "GET", "/orders/users/%C3%A4", 471),
    ("param: space", "DELETE", "/orders/users/a%20b", 471),
    ("param: angle brackets", "GET", "/orders/users/%3Cx%3E", 471),
    ("param: double quote", "GET", "/orders/users/%22", 471),
    ("param: invalid UTF-8, U+FFFD to Flask", "GET", "/orders/users/%FF", 471),
    ("param: NUL", "GET", "/orders/users/a%00b", 471),
    ("param: encoded dot-dot", "GET", "/orders/users/%2e%2e", 471),
    ("param: percent sign", "GET", "/orders/users/100%25", 471),
    ("param: lower-case method, routed upper-cased", "get", "/orders/users/abc", 471),
    ("param: encoded slash, decoded by the server", "GET", "/orders/users/a%2Fb", 471),
    ("param: empty segment first", "GET", "/orders/users//abc", 471),
    ("param: leading slashes", "GET", "//orders/users/%C3%A4", 471),
    ("param: case is no other spelling", "GET", "/orders/Users/abc", 404),
    ("strict_slashes=False: trailing slash", "GET", "/orders/loose/", 473),
    ("strict_slashes=False: no trailing slash", "GET", "/orders/loose", 473),
    ("strict_slashes=False: trailing //", "GET", "/orders/loose//", 473),
    ("strict_slashes=False: inner //", "GET", "/orders//loose", 473),
    ("path converter: a//b", "GET", "/orders/files/a//b", 474),
    ("path converter: a/b//", "GET", "/orders/files/a/b//", 474),
    ("selector written raw: decoded path", "GET", "/orders/caf%C3%A9", 475),
    ("selector written raw: leading slashes", "GET", "///orders/caf%C3%A9", 475),
    ("GET selector: GET", "GET", "/orders/secret", 472),
    ("GET selector: HEAD runs the GET view", "HEAD", "/orders/secret", 472),
    ("GET selector: lower-case head", "head", "/orders/secret", 472),
    ("GET selector: Flask's automatic OPTIONS answer runs no view", "OPTIONS", "/orders/secret", 200),
    ("OTHER selector: a method Gravitee has no name for", "PROPFIND", "/orders/dav", 476),
    ("OTHER selector: lower-case", "propfind", "/orders/dav", 476),
]


@pytest.mark.parametrize(("method", "url", "status"), [pytest.param(*row[1:], id=row[0]) for row in SPELLINGS])
def test_no_spelling_of_a_url_reaches_a_view_without_its_flows(method: str, url: str, status: int) -> None:
    app = guarded_app()
    # PATH_INFO as a WSGI server builds it: percent-decoded bytes read as latin-1.
    path_info = unquote_to_bytes(url).decode("latin-1")
    response = app.test_client().open("/", method=method, environ_overrides={"PATH_INFO": path_info})
    assert (response.status_code, app.view_calls) == (status, [])


# (selector methods, request method as Flask reads it, selected)
METHODS = [
    ([], "PROPFIND", True),
    (["GET"], "GET", True),
    (["GET"], "HEAD", True),  # deliberate: Flask answers HEAD with the GET view
    (["HEAD"], "GET", False),
    (["POST"], "HEAD", False),
    (["GET"], "OPTIONS", False),
    (["OTHER"], "PROPFIND", True),
    (["OTHER"], "OTHER", True),
    (["OTHER"], "GET", False),
    (["OTHER"], "HEAD", False),
    (["OTHER"], "CONNECT", False),
    (["PUT", "OTHER"], "PUT", True),
]


@pytest.mark.parametrize(
    ("methods", "method", "selected"), [pytest.param(*row, id=f"{'+'.join(row[0]) or 'all'} {row[1]}") for row in METHODS]
)
def test_method_selector(methods: list[str], method: str, selected: bool) -> None:
    flow = CompiledFlow({"selectors": [{"path": "/", "methods": methods}], "request": [{"policy": "p"}]}, lambda step: step)
    assert flow.matches("/", method) is selected


def test_disabled_flows_and_steps_and_empty_flows_are_dropped() -> None:
    made: list[str] = []

    def make(step: dict[str, Any]) -> str:
        made.append(step["policy"])
        return step["policy"]

    flows = FlowSet(
        [
            {"enabled": False, "request": [{"policy": "off-flow"}]},
            {"request": [{"policy": "off-step", "enabled": False}, {"policy": "on"}]},
            {"request": [], "response": []},
        ],
        make,
    )
    assert made == ["on"]
    assert [f.request for f in flows.flows] == [("on",)]


def rec(label: str) -> dict[str, Any]:
    return {"policy": "record", "configuration": {"label": label}}


PLATFORM = [{"name": "platform", "request": [rec("P1")], "response": [rec("P2")]}]
PLANS = [
    {"name": "Gold", "security": "api-key", "configuration": {"keys": ["k1"]},
     "flows": [{"request": [rec("G1")], "response": [rec("G2")]}]},
    {"name": "Free", "security": "keyless", "flows": [{"request": [rec("F1")]}]},
]
API_FLOWS = [
    {"name": "all", "request": [rec("A1")], "response": [rec("A2")]},
    {"name": "writes", "selectors": [{"path": "/", "pathOperator": "STARTS_WITH", "methods": ["POST"]}],
     "request": [rec("W1")]},
    {"name": "one order", "selectors": [{"path": "/:id", "path_operator": "EQUALS"}], "request": [rec("I1")]},
]
CORS = {"enabled": True, "allow_origin": [O], "allow_methods": ["GET", "POST"], "allow_headers": ["x-gravitee-api-key"]}


def app_with(run_policies: bool, flows: list[dict[str, Any]] = API_FLOWS) -> Any:
    return make_app(
        [{"name": "orders", "context_path": "/orders", "cors": {**CORS, "run_policies": run_policies},
          "plans": PLANS, "flows": flows}],
        flows=PLATFORM,
    )


def req(label: str) -> tuple[str, str]:
    return (label, "request")


def resp(label: str) -> tuple[str, str]:
    return (label, "response")


PREFLIGHT = {"Origin": O, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-gravitee-api-key"}

# (id, run_policies, method, path, headers, status, view ran, (label, phase) calls in order)
ORDER = [
    ("key: platform, Gold's flows, API flows, view; then Gold, API, platform", False, "GET", "/orders",
     {"X-Gravitee-Api-Key": "k1"}, 200, True,
     [req("P1"), req("G1"), req("A1"), resp("G1"), resp("G2"), resp("A1"), resp("A2"), resp("P1"), resp("P2")]),
    ("no key: the keyless plan's flows", False, "GET", "/orders", {}, 200, True,
     [req("P1"), req("F1"), req("A1"), resp("F1"), resp("A1"), resp("A2"), resp("P1"), resp("P2")]),
    ("wrong key: 401 from Gold, no plan or API flow; platform's response steps still run", False, "GET", "/orders",
     {"X-Gravitee-Api-Key": "nope"}, 401, False, [req("P1"), resp("P1"), resp("P2")]),
    ("selectors: methods", False, "POST", "/orders", {}, 200, True,
     [req("P1"), req("F1"), req("A1"), req("W1"), resp("F1"), resp("A1"), resp("A2"), resp("W1"), resp("P1"),
      resp("P2")]),
    ("selectors: path relative to the context path", False, "GET", "/orders/7", {}, 200, True,
     [req("P1"), req("F1"), req("A1"), req("I1"), resp("F1"), resp("A1"), resp("A2"), resp("I1"), resp("P1"),
      resp("P2")]),
    ("valid preflight, run_policies off: only platform flows", False, "OPTIONS", "/orders", PREFLIGHT, 200, False,
     [req("P1"), resp("P1"), resp("P2")]),
    ("valid preflight, run_policies on: platform and API flows, never plans", True, "OPTIONS", "/orders", PREFLIGHT,
     200, False, [req("P1"), req("A1"), resp("A1"), resp("A2"), resp("P1"), resp("P2")]),
    ("a preflight is OPTIONS: the POST flow does not run on a POST's preflight", True, "OPTIONS", "/orders",
     {**PREFLIGHT, "Access-Control-Request-Method": "POST"}, 200, False,
     [req("P1"), req("A1"), resp("A1"), resp("A2"), resp("P1"), resp("P2")]),
    ("failed preflight, run_policies on: platform flows only", True, "OPTIONS", "/orders",
     {**PREFLIGHT, "Access-Control-Request-Method": "DELETE"}, 400, False, [req("P1"), resp("P1"), resp("P2")]),
    ("outside every API: nothing runs", True, "GET", "/outside", {}, 200, True, []),
]


@pytest.mark.parametrize(("run_policies", "method", "path", "headers", "status", "view", "calls"),
                         [pytest.param(*row[1:], id=row[0]) for row in ORDER])
def test_order(run_policies: bool, method: str, path: str, headers: dict[str, str], status: int, view: bool,
               calls: list[tuple[str, str]]) -> None:
    app = app_with(run_policies)
    response = app.test_client().open(path, method=method, headers=headers)
    assert response.status_code == status
    assert bool(app.view_calls) is view
    assert [(label, phase) for label, phase, _, _ in CALLS] == calls


def test_a_step_that_answers_stops_the_chain_and_skips_response_steps() -> None:
    flows = [{"request": [rec("A1"), {"policy": "answer", "configuration": {"status": 429}}, rec("A3")],
              "response": [rec("A2")]}]
    app = app_with(False, flows)
    response = app.test_client().get("/orders", headers={"Origin": O})
    assert response.status_code == 429
    assert response.headers["Access-Control-Allow-Origin"] == O
    assert not app.view_calls
    assert [(label, phase) for label, phase, _, _ in CALLS] == [
        req("P1"), req("F1"), req("A1"), ("answer", "request"), resp("F1"), resp("A1"), resp("P1"), resp("P2"),
    ]


def test_platform_flows_run_for_every_api_and_api_name_is_platform() -> None:
    app = make_app(
        [{"name": "orders", "context_path": "/orders"}, {"name": "public", "context_path": "/public"}],
        flows=[{"request": [rec("P")], "selectors": [{"path": "/", "methods": ["GET"]}]}],
    )
    client = app.test_client()
    client.get("/orders/1")
    client.get("/public/1")
    client.post("/public/1")
    client.get("/outside/1")
    assert CALLS == [("P", "request", "platform", "GET"), ("P", "response", "platform", "200")] * 2


def test_an_api_without_plans_is_open_and_its_flows_still_run() -> None:
    app = make_app([{"name": "orders", "context_path": "/orders", "flows": [{"request": [rec("A")]}]}])
    assert app.test_client().get("/orders").status_code == 200
    assert [c[:2] for c in CALLS] == [req("A"), resp("A")]


def test_legacy_policies_keep_their_chain_behaviour() -> None:
    # One flow over every path and method: each policy's on_request in order, then
    # on_response of every policy that ran, answer or not.
    app = make_app([{"name": "orders", "context_path": "/orders",
                     "policies": [{"name": "record", "config": {"label": "L1"}}, {"name": "answer"}]}])
    assert app.test_client().put("/orders/9").status_code == 401
    assert [c[:2] for c in CALLS] == [req("L1"), ("answer", "request"), resp("L1")]
