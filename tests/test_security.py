"""Hostile requests change nothing; one regression test per advisory in issue 4 and
per hole of issue 12.

Requests are made two ways: through werkzeug's test client (which percent-decodes
the URL the way a WSGI server does), and as raw WSGI calls with a hand-made
``environ``, for what the test client refuses to build (CR/LF in header values,
``//`` paths, repeated headers joined by a server). Every response is checked for
the invariants of issue 4: never a 500, never an ``Access-Control-Allow-Origin``
for an origin the config does not allow, never CR or LF in a response header.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import unquote_to_bytes

import gravicors_ratelimit
import pytest
from flask import Blueprint, Flask, request
from marshmallow import Schema, fields
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from flask_gravicors import ConfigError, GraviCORS, Policy, core, hookimpl
from flask_gravicors.core import MAX_REQUEST_HEADERS_ITEMS, MAX_REQUEST_HEADERS_LENGTH
from flask_gravicors.schema import load_config

ALLOWED = "https://allowed.example.com"
PARTNER = "https://*.partner.example.org"
REGEX = r"https://app-[0-9]+\.example\.net"
FOO, BAR = "https://foo.com", "https://bar.com"
ADMIN_ORIGIN = "https://admin.example.com"

ACAO = "Access-Control-Allow-Origin"
ACAC = "Access-Control-Allow-Credentials"
ACAPN = "Access-Control-Allow-Private-Network"


# --- A counting policy and an app whose views say which API they belong to ---


class _Label(Schema):
    label = fields.String(required=True)
    deny = fields.Boolean(load_default=False)


class CountingPolicy(Policy):
    """Counts its runs per label; with ``deny`` it answers 401 like an auth plan."""

    name = "count"
    config_schema = _Label
    runs: dict[str, int] = {}

    def on_request(self, request: Any) -> Any:
        label = self.config["label"]
        CountingPolicy.runs[label] = CountingPolicy.runs.get(label, 0) + 1
        if self.config["deny"]:
            return {"message": "denied"}, 401
        return None


class CountingPlugin:
    @hookimpl
    def gravicors_register_policies(self) -> list[type[Policy]]:
        return [CountingPolicy]


@pytest.fixture(autouse=True)
def _reset_counts() -> Iterable[None]:
    CountingPolicy.runs.clear()
    yield
    CountingPolicy.runs.clear()


def counted(label: str, deny: bool = False) -> list[dict[str, Any]]:
    return [{"name": "count", "config": {"label": label, "deny": deny}}]


ORDERS_CORS = {
    "enabled": True,
    "allow_origin": [ALLOWED, PARTNER, REGEX, FOO, BAR],
    "allow_methods": ["GET", "POST", "PUT"],
    "allow_headers": ["content-type", "authorization", "x-api-key"],
    "allow_credentials": True,
    "expose_headers": ["x-request-id"],
    "max_age": 600,
}
ADMIN_CORS = {"enabled": True, "allow_origin": [ADMIN_ORIGIN], "allow_methods": ["GET", "DELETE"], "allow_credentials": True}


def api(name: str, path: str, cors: dict[str, Any] | None = None, deny: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "context_path": path, "policies": counted(name, deny)}
    if cors is not None:
        out["cors"] = cors
    return out


def build_app(apis: list[dict[str, Any]], routes: Iterable[str] = ("/orders", "/orders/admin", "/api", "/Orders", "/ordersx", "/a+b", "/a b")) -> Flask:
    """Routes ``<prefix>`` and ``<prefix>/<path:rest>`` for each prefix, plus a catch-all.

    Each view appends its prefix to ``app.view_calls``: which API's code ran.
    """
    app = Flask(__name__)
    app.view_calls = []  # type: ignore[attr-defined]
    methods = ["GET", "POST", "PUT", "DELETE"]

    def make_view(prefix: str) -> Any:
        def view(rest: str = "") -> Any:
            app.view_calls.append(prefix)  # type: ignore[attr-defined]
            return {"prefix": prefix, "rest": rest}

        return view

    for n, prefix in enumerate(routes):
        view = make_view(prefix)
        endpoint = f"r{n}"
        app.add_url_rule(prefix, endpoint + "_root", view, methods=methods)
        app.add_url_rule(f"{prefix}/<path:rest>", endpoint + "_any", view, methods=methods)
    app.add_url_rule("/<path:rest>", "catch_all", make_view("*"), methods=methods)
    app.config["GRAVICORS"] = {"apis": apis}
    GraviCORS(app, plugins=[CountingPlugin()], entry_points=False)
    return app


@pytest.fixture
def app() -> Flask:
    return build_app(
        [
            api("orders", "/orders", ORDERS_CORS),
            api("admin", "/orders/admin", ADMIN_CORS),
            api("api", "/api"),
            api("plus", "/a+b"),
        ]
    )


# --- Raw WSGI calls ---


@dataclass
class Result:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def get(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        assert len(values) <= 1, f"{name} sent {len(values)} times"
        return values[0] if values else None


def path_info(url_path: str) -> str:
    """PATH_INFO as a WSGI server builds it: percent-decoded bytes read as latin-1."""
    return unquote_to_bytes(url_path).decode("latin-1")


def call(app: Flask, method: str = "GET", path: str = "/orders/1", **environ: str) -> Result:
    """One request through the whole WSGI stack, with ``environ`` keys set verbatim."""
    env = EnvironBuilder(method=method).get_environ()
    env["PATH_INFO"] = path
    env.update(environ)
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"] = status
        captured["headers"] = list(headers)
        return lambda data: None

    chunks = app(env, start_response)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    result = Result(int(captured["status"].split()[0]), captured["headers"], body)
    assert_invariants(result)
    return result


def assert_invariants(result: Result) -> None:
    assert result.status != 500
    for name, value in result.headers:
        assert "\r" not in name and "\n" not in name
        assert "\r" not in value and "\n" not in value, (name, value)


def preflight(app: Flask, origin: str, method: str = "PUT", headers: str | None = None, path: str = "/orders/1", **extra: str) -> Result:
    environ = {"HTTP_ORIGIN": origin, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": method, **extra}
    if headers is not None:
        environ["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = headers
    return call(app, "OPTIONS", path, **environ)


# --- Hostile Origin values ---

# (id, Origin as the WSGI environ holds it, allowed by ORDERS_CORS)
ORIGINS = [
    ("allowed", ALLOWED, True),
    ("upper-case-same-origin", "HTTPS://ALLOWED.EXAMPLE.COM", True),
    ("wildcard-subdomain", "https://a.partner.example.org", True),
    ("regex-whole", "https://app-12.example.net", True),
    ("null", "null", False),
    ("empty", "", False),
    ("repeated-comma-space", f"{ALLOWED}, {ALLOWED}", False),
    ("repeated-comma", f"{ALLOWED},{ALLOWED}", False),
    ("trailing-dot", ALLOWED + ".", False),
    ("trailing-slash", ALLOWED + "/", False),
    ("default-port", ALLOWED + ":443", False),
    ("http-scheme", "http://allowed.example.com", False),
    ("non-ascii-utf8-as-latin1", "https://allowéd.example.com".encode().decode("latin-1"), False),
    ("non-ascii-text", "https://allowéd.example.com", False),
    ("crlf", ALLOWED + "\r\nSet-Cookie: owned=1", False),
    ("lf", ALLOWED + "\nX-Evil: 1", False),
    ("nul", ALLOWED + "\x00", False),
    ("leading-space", " " + ALLOWED, False),
    ("8kib", "https://" + "a" * 8192 + ".example.com", False),
    ("8kib-under-wildcard", "https://" + "a." * 4096 + "partner.example.org", False),
    ("suffix-attack", ALLOWED + ".evil.net", False),
    ("prefix-attack", "https://evilallowed.example.com", False),
    ("userinfo-attack", ALLOWED + "@evil.net", False),
    ("wildcard-apex", "https://partner.example.org", False),
    ("wildcard-suffix-attack", "https://a.partner.example.org.evil.net", False),
    ("wildcard-fragment-trick", "https://evil.net#.partner.example.org", False),
    ("wildcard-query-trick", "https://evil.net?.partner.example.org", False),
    ("wildcard-port-trick", "https://evil.net:1.partner.example.org", False),
    ("regex-prefix-attack", "https://app-12.example.net.evil.com", False),
    ("regex-case-insensitive-ok", "https://APP-12.example.net", True),
    ("barfoo", "https://barfoo.com", False),
    ("foobar", "https://foobar.com", False),
]


@pytest.mark.parametrize(("origin", "allowed"), [pytest.param(o, a, id=i) for i, o, a in ORIGINS])
def test_hostile_origin_on_actual_request(app: Flask, origin: str, allowed: bool) -> None:
    result = call(app, "GET", "/orders/1", HTTP_ORIGIN=origin)
    assert result.status == 200  # actual requests are never refused for their origin
    assert result.get(ACAO) == (origin if allowed else None)
    assert result.get(ACAC) == ("true" if allowed else None)
    assert result.get("Vary") == "Origin"
    assert CountingPolicy.runs == {"orders": 1}
    assert app.view_calls == ["/orders"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("origin", "allowed"), [pytest.param(o, a, id=i) for i, o, a in ORIGINS])
def test_hostile_origin_on_preflight(app: Flask, origin: str, allowed: bool) -> None:
    result = preflight(app, origin, headers="content-type")
    assert result.status == (200 if allowed else 400)
    assert result.get(ACAO) == (origin if allowed else None)
    if not allowed:
        assert not any(k.lower().startswith("access-control-allow-") for k, _ in result.headers)
        assert result.body == b"CORS preflight refused: origin not allowed\n"
    assert CountingPolicy.runs == {}
    assert app.view_calls == []  # type: ignore[attr-defined]


def test_view_set_allow_origin_is_removed_for_a_hostile_origin() -> None:
    app = Flask(__name__)

    @app.get("/orders/leaky")
    def leaky() -> Any:
        return "x", 200, {ACAO: request.headers.get("Origin", "*"), ACAC: "true"}

    app.config["GRAVICORS"] = {"apis": [{"name": "orders", "context_path": "/orders", "cors": ORDERS_CORS}]}
    GraviCORS(app, entry_points=False)
    for origin, allowed in (("null", False), (ALLOWED + ".evil.net", False), (ALLOWED, True)):
        result = call(app, "GET", "/orders/leaky", HTTP_ORIGIN=origin)
        assert result.get(ACAO) == (origin if allowed else None)
        assert result.get(ACAC) == ("true" if allowed else None)


# --- Access-Control-Request-Headers: bounded work ---


class _CountingToken:
    """Stands in for core.TOKEN_RE and counts per-item regex work."""

    def __init__(self, pattern: re.Pattern[str]):
        self.pattern = pattern
        self.calls = 0

    def fullmatch(self, value: str) -> Any:
        self.calls += 1
        return self.pattern.fullmatch(value)


@pytest.fixture
def token_calls(monkeypatch: pytest.MonkeyPatch) -> _CountingToken:
    counter = _CountingToken(core.TOKEN_RE)
    monkeypatch.setattr(core, "TOKEN_RE", counter)
    return counter


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(",".join(["content-type"] * 10_000), id="10000-items"),
        pytest.param("x" * 65_536, id="64KiB-one-item"),
        pytest.param(", " * 32_768, id="64KiB-empty-items"),
        pytest.param(",".join(["a"] * (MAX_REQUEST_HEADERS_ITEMS + 1)), id="items-bound-plus-one"),
        pytest.param("a" * (MAX_REQUEST_HEADERS_LENGTH + 1), id="length-bound-plus-one"),
    ],
)
def test_oversized_request_headers_refused_without_per_item_work(app: Flask, token_calls: _CountingToken, value: str) -> None:
    result = preflight(app, ALLOWED, headers=value)
    assert result.status == 400
    assert result.body == b"CORS preflight refused: headers not allowed\n"
    assert token_calls.calls == 0


def test_request_headers_at_the_bound_are_read_with_one_check_per_item(app: Flask, token_calls: _CountingToken) -> None:
    items = (["content-type", "authorization", "x-api-key"] * MAX_REQUEST_HEADERS_ITEMS)[:MAX_REQUEST_HEADERS_ITEMS]
    value = ",".join(items)
    assert len(value) <= MAX_REQUEST_HEADERS_LENGTH
    result = preflight(app, ALLOWED, headers=value)
    assert result.status == 200
    assert token_calls.calls <= MAX_REQUEST_HEADERS_ITEMS


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("content-type,,authorization", 200),
        (" content-type ,\tauthorization\t, ", 200),
        ("Content-Type, AUTHORIZATION", 200),
        (",", 200),
        ("", 200),
        ("content-type, cookie", 400),
        ("content-type authorization", 400),
        ("content-type\r\nx-evil: 1", 400),
        ("content-type;x", 400),
        ("cont\x00ent-type", 400),
    ],
)
def test_request_headers_odd_spellings(app: Flask, value: str, status: int) -> None:
    result = preflight(app, ALLOWED, headers=value)
    assert result.status == status
    if status == 200:
        allowed = result.get("Access-Control-Allow-Headers") or ""
        assert set(allowed.lower().split(", ")) <= {"content-type", "authorization", "x-api-key", ""}


# --- Paths: no spelling reaches an API's view without its policies ---

# (id, URL path as sent on the wire, expected view prefix or None, policy labels that ran)
SPELLINGS = [
    ("exact", "/orders/1", "/orders", {"orders": 1}),
    ("root", "/orders", "/orders", {"orders": 1}),
    ("encoded-letter", "/%6Frders/1", "/orders", {"orders": 1}),
    ("encoded-upper-hex", "/%6frders/%31", "/orders", {"orders": 1}),
    ("encoded-slash-dotdot", "/orders%2F..", "/orders", {"orders": 1}),
    ("encoded-slash", "/orders%2Fadmin%2Fx", "/orders/admin", {"admin": 1}),
    ("double-inner-slash", "/orders//1", "*", {"orders": 1}),  # werkzeug: no view of /orders, still /orders' API
    ("dot-segments-inside", "/orders/1/../../admin", "/orders", {"orders": 1}),
    ("case", "/Orders/1", "/Orders", {}),
    ("case-root", "/ORDERS", "*", {}),
    ("plus", "/orders+x", "*", {}),
    ("ordersx", "/ordersx/1", "/ordersx", {}),
    ("dotdot-from-other-api", "/api/../orders", "/api", {"api": 1}),
    ("encoded-dotdot-from-other-api", "/api/%2E%2E/orders", "/api", {"api": 1}),
    ("dotdot-from-nowhere", "/x/../orders/1", "*", {}),
    ("admin", "/orders/admin/x", "/orders/admin", {"admin": 1}),
    ("admin-encoded", "/orders/%61dmin/x", "/orders/admin", {"admin": 1}),
    ("adminx-is-orders", "/orders/adminx", "/orders", {"orders": 1}),
    ("admin-case", "/orders/Admin/x", "/orders", {"orders": 1}),
    ("plus-api", "/a+b/1", "/a+b", {"plus": 1}),
    ("plus-api-encoded-plus", "/a%2Bb/1", "/a+b", {"plus": 1}),
    ("space-is-not-plus", "/a%20b/1", "/a b", {}),
    ("crlf-in-path", "/orders%0D%0A/1", None, {}),  # 404: no route matches a newline
    ("invalid-utf8", "/orders/%FF", "/orders", {"orders": 1}),
]


@pytest.mark.parametrize(("url", "view", "ran"), [pytest.param(u, v, r, id=i) for i, u, v, r in SPELLINGS])
def test_path_spellings_with_the_test_client(app: Flask, url: str, view: str | None, ran: dict[str, int]) -> None:
    response = app.test_client().get(url, headers={"Origin": ALLOWED})
    assert response.status_code != 500
    views = app.view_calls  # type: ignore[attr-defined]
    assert views == ([view] if view else [])
    assert CountingPolicy.runs == ran
    # The policy of the API whose view ran, ran.
    owner = {"/orders": "orders", "/orders/admin": "admin", "/api": "api", "/a+b": "plus"}.get(view or "")
    if owner:
        assert CountingPolicy.runs.get(owner) == 1
    # CORS headers only from the API that owns the path (admin does not allow ALLOWED).
    assert (response.headers.get(ACAO) == ALLOWED) == ("orders" in ran)


@pytest.mark.parametrize(("url", "view", "ran"), [pytest.param(u, v, r, id=i) for i, u, v, r in SPELLINGS])
def test_path_spellings_as_a_server_decodes_them(app: Flask, url: str, view: str | None, ran: dict[str, int]) -> None:
    call(app, "GET", path_info(url), HTTP_ORIGIN=ALLOWED)
    assert app.view_calls == ([view] if view else [])  # type: ignore[attr-defined]
    assert CountingPolicy.runs == ran


# PATH_INFO values the test client cannot build (it reads "//orders" as a host).
# werkzeug routes on "/" + PATH_INFO.lstrip("/"): these reach /orders' views, so
# they must meet /orders' policies and CORS rules (a hole found and fixed here).
RAW_PATHS = [
    ("//orders", "/orders", {"orders": 1}),
    ("//orders/1", "/orders", {"orders": 1}),
    ("///orders/1", "/orders", {"orders": 1}),
    ("orders/1", "/orders", {"orders": 1}),
    ("//orders/admin/1", "/orders/admin", {"admin": 1}),
    ("//api/../orders", "/api", {"api": 1}),
    ("/./orders/1", "*", {}),
    ("//Orders/1", "/Orders", {}),
]


@pytest.mark.parametrize(("path", "view", "ran"), RAW_PATHS)
def test_raw_paths_do_not_skip_policies(app: Flask, path: str, view: str, ran: dict[str, int]) -> None:
    result = call(app, "GET", path, HTTP_ORIGIN=ALLOWED)
    assert app.view_calls == [view]  # type: ignore[attr-defined]
    assert CountingPolicy.runs == ran
    assert (result.get(ACAO) == ALLOWED) == ("orders" in ran)


def test_deny_policy_guards_every_spelling_of_its_views() -> None:
    app = build_app([api("orders", "/orders", ORDERS_CORS, deny=True)])
    for url in ("/orders", "/orders/1", "/%6Frders/1", "/orders%2F..", "/orders//1", "/%6F%72%64%65%72%73"):
        response = app.test_client().get(url)
        assert response.status_code in (401, 308, 404), url
    assert "/orders" not in app.view_calls  # type: ignore[attr-defined]
    for path in ("//orders", "//orders/1", "orders/1"):
        assert call(app, "GET", path).status == 401
    assert "/orders" not in app.view_calls  # type: ignore[attr-defined]


def test_a_path_seen_before_opens_no_way_past_the_policies() -> None:
    # The WSGI layer remembers what a request got by the first characters of its path
    # (Runtime.key_length). A decoy outside the API sent first, with the same first
    # characters as a path that reaches the API's views, must not let that path skip
    # the API's policies, however many leading slashes both carry.
    app = build_app([api("orders", "/orders", ORDERS_CORS, deny=True)])
    for n in range(1, 12):
        lead = "/" * n
        for decoy, target in ((lead + "elsewhere/1", lead + "orders/1"), (lead + "ordersx", lead + "orders")):
            assert call(app, "GET", decoy, HTTP_ORIGIN=ALLOWED).status == 200, decoy
            assert call(app, "GET", target, HTTP_ORIGIN=ALLOWED).status == 401, target
    assert "/orders" not in app.view_calls  # type: ignore[attr-defined]


def test_blueprint_bound_api_covers_every_spelling() -> None:
    app = Flask(__name__)
    app.view_calls = []  # type: ignore[attr-defined]
    shop = Blueprint("shop", __name__, url_prefix="/shop")

    @shop.get("/orders/<path:rest>")
    def orders(rest: str) -> str:
        app.view_calls.append(rest)  # type: ignore[attr-defined]
        return "ok"

    app.register_blueprint(shop)
    app.config["GRAVICORS"] = {"apis": [{"name": "shop", "blueprint": "shop", "policies": counted("shop", deny=True)}]}
    GraviCORS(app, plugins=[CountingPlugin()], entry_points=False)
    client = app.test_client()
    for url in ("/shop/orders/1", "/%73hop/orders/1", "/shop/%6Frders/..", "/shop//orders/1"):
        assert client.get(url).status_code in (401, 308), url
    assert app.view_calls == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("host", ["a..b", "x" * 64 + ".example"])
@pytest.mark.parametrize("method", ["GET", "OPTIONS"])
def test_a_host_werkzeug_cannot_bind_is_flasks_400(host: str, method: str) -> None:
    """Routing a blueprint-bound API binds the URL map to the request's Host: one
    werkzeug refuses (BadHost) is Flask's 400, never an exception out of the layer."""
    app = Flask(__name__)
    shop = Blueprint("shop", __name__, url_prefix="/shop")
    shop.add_url_rule("/<path:rest>", "any", lambda rest: "ok")
    app.register_blueprint(shop)
    app.config["GRAVICORS"] = {"apis": [{"name": "shop", "blueprint": "shop", "cors": {**ORDERS_CORS}}]}
    GraviCORS(app, entry_points=False)
    headers = {"Host": host, "Origin": ALLOWED, "Access-Control-Request-Method": "PUT"}
    assert app.test_client().open("/shop/x", method=method, headers=headers).status_code == 400


# --- Regression tests named after each advisory of issue 4 (REFERENCE.md section 3) ---


def test_flask_cors_regex_prefix_match_is_fullmatch(app: Flask) -> None:
    # flask-cors used re.match: https://a.example.com.evil.net passed a.example.com's regex.
    assert call(app, HTTP_ORIGIN="https://app-7.example.net").get(ACAO) == "https://app-7.example.net"
    for origin in ("https://app-7.example.net.evil.net", "https://app-7.example.netx", "xhttps://app-7.example.net"):
        assert call(app, HTTP_ORIGIN=origin).get(ACAO) is None
        assert preflight(app, origin).status == 400


def test_any_origin_with_credentials_is_refused_not_reflected() -> None:
    # flask-cors, Starlette and django-cors-headers reflect every origin for '*' + credentials.
    with pytest.raises(ConfigError) as caught:
        build_app([api("orders", "/orders", {"enabled": True, "allow_origin": ["*"], "allow_credentials": True})])
    assert caught.value.ids == {"gravicors.E023"}
    # Without credentials '*' is sent literally, never a reflected origin.
    app = build_app([api("orders", "/orders", {"enabled": True, "allow_origin": ["*"]})])
    result = call(app, HTTP_ORIGIN="https://evil.net")
    assert result.get(ACAO) == "*" and result.get(ACAC) is None
    # Only the explicit opt-in reflects, and then it is what the user asked for.
    app = build_app(
        [
            api(
                "orders",
                "/orders",
                {"enabled": True, "allow_origin": ["*"], "allow_credentials": True, "dangerously_allow_any_origin_with_credentials": True},
            )
        ]
    )
    assert call(app, HTTP_ORIGIN="https://evil.net").get(ACAO) == "https://evil.net"


def test_cve_2024_1681_log_injection(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    # flask-cors wrote the request path to its log unescaped.
    hostile = "\r\nINFO:flask_gravicors:forged line"
    with caplog.at_level(logging.DEBUG, logger="flask_gravicors"):
        call(app, "GET", "/orders/x" + hostile, HTTP_ORIGIN="https://evil.net" + hostile)
        preflight(app, "https://evil.net" + hostile, method="PUT" + hostile, headers="a" + hostile, path="/orders/x" + hostile)
        preflight(app, ALLOWED, method="PATCH\r\nx", path="/orders/x" + hostile)
        preflight(app, ALLOWED, headers="cookie\nx", path="/orders/x" + hostile)
    records = [r for r in caplog.records if r.name.startswith("flask_gravicors")]
    assert len(records) >= 3  # the refusals are logged ...
    for record in records:
        message = record.getMessage()
        assert "\r" not in message and "\n" not in message  # ... on one line each
    assert any("\\r\\n" in r.getMessage() for r in records)


# (id, cors block quoting hostile text) -> every problem prints as one printable line
QUOTING_CONFIGS = [
    ("RE2 quotes a bad pattern", {"enabled": True, "allow_origin": ["https://x[a\x1b[31mRED\r\ngravicors: ok"]}),
    ("RE2 quotes a lookahead", {"enabled": True, "allow_origin": ["https://(?=\r\n)x"]}),
    ("an unknown field", {"enabled": True, "allow_origin": ["https://a.example"], "x\r\ny": 1}),
    ("a bad method", {"enabled": True, "allow_origin": ["https://a.example"], "allow_methods": ["GE\rT"]}),
]  # fmt: skip


@pytest.mark.parametrize("cors", [pytest.param(r[1], id=r[0]) for r in QUOTING_CONFIGS])
def test_a_problem_quoting_the_config_is_one_printable_line(cors: dict[str, Any]) -> None:
    """`flask gravicors check` prints str(problem): a CR/LF or an escape sequence in
    the config must not forge a line or reach the terminal."""
    with pytest.raises(ConfigError) as refused:
        load_config({"apis": [api("orders", "/orders", cors)]}, {})
    assert refused.value.problems
    for item in refused.value.problems:
        assert str(item).isprintable(), str(item)
    assert len(str(refused.value).splitlines()) == len(refused.value.problems) + 1


def test_cve_2024_6221_private_network_header_is_opt_in() -> None:
    ask = {"HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK": "true"}
    off = build_app([api("orders", "/orders", {**ORDERS_CORS})])
    assert preflight(off, ALLOWED, **ask).get(ACAPN) is None
    on = build_app([api("orders", "/orders", {**ORDERS_CORS, "allow_private_network": True})])
    assert preflight(on, ALLOWED, **ask).get(ACAPN) == "true"
    # Only on a valid preflight that asked with exactly "true".
    assert preflight(on, ALLOWED).get(ACAPN) is None
    assert preflight(on, ALLOWED, HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK="false").get(ACAPN) is None
    refused = preflight(on, "https://evil.net", **ask)
    assert refused.status == 400 and refused.get(ACAPN) is None
    assert preflight(on, ALLOWED, method="PATCH", **ask).get(ACAPN) is None
    assert call(on, "GET", HTTP_ORIGIN=ALLOWED, **ask).get(ACAPN) is None
    # And never with '*': any site could reach the private network.
    with pytest.raises(ConfigError) as caught:
        build_app([api("orders", "/orders", {"enabled": True, "allow_origin": ["*"], "allow_private_network": True})])
    assert caught.value.ids == {"gravicors.E050"}


@pytest.mark.parametrize("reverse", [False, True])
def test_cve_2024_6839_most_specific_context_path_wins(reverse: bool) -> None:
    # flask-cors sorted its resource patterns by length and chose the wrong one.
    apis = [api("orders", "/orders", ORDERS_CORS), api("admin", "/orders/admin", ADMIN_CORS)]
    app = build_app(apis[::-1] if reverse else apis)
    assert call(app, "GET", "/orders/admin/1", HTTP_ORIGIN=ALLOWED).get(ACAO) is None
    assert call(app, "GET", "/orders/admin/1", HTTP_ORIGIN=ADMIN_ORIGIN).get(ACAO) == ADMIN_ORIGIN
    assert preflight(app, ALLOWED, method="GET", path="/orders/admin/1").status == 400
    assert preflight(app, ADMIN_ORIGIN, method="DELETE", path="/orders/admin").status == 200
    assert call(app, "GET", "/orders/adminx", HTTP_ORIGIN=ALLOWED).get(ACAO) == ALLOWED
    assert CountingPolicy.runs == {"admin": 2, "orders": 1}


def test_cve_2024_6844_plus_is_not_space(app: Flask) -> None:
    # flask-cors decoded '+' in paths to a space, so /a+b matched the rule for '/a b'.
    assert call(app, "GET", "/a+b/1").status == 200
    assert CountingPolicy.runs == {"plus": 1}
    assert call(app, "GET", path_info("/a%20b/1")).status == 200
    assert CountingPolicy.runs == {"plus": 1}  # '/a b' is not the '/a+b' API
    assert app.view_calls == ["/a+b", "/a b"]  # type: ignore[attr-defined]
    # and '/orders+x' is neither /orders nor '/orders x'
    result = call(app, "GET", "/orders+x", HTTP_ORIGIN=ALLOWED)
    assert result.get(ACAO) is None and result.get("Vary") is None
    assert CountingPolicy.runs == {"plus": 1}


def test_cve_2024_6866_paths_are_case_sensitive(app: Flask) -> None:
    # flask-cors matched paths case-insensitively: /Admin got /admin's policy.
    result = call(app, "GET", "/Orders/1", HTTP_ORIGIN=ALLOWED)
    assert result.get(ACAO) is None and result.get("Vary") is None
    assert CountingPolicy.runs == {}
    assert app.view_calls == ["/Orders"]  # type: ignore[attr-defined]
    assert preflight(app, ALLOWED, path="/Orders/1").get(ACAO) is None
    result = call(app, "GET", "/orders/ADMIN/1", HTTP_ORIGIN=ADMIN_ORIGIN)
    assert result.get(ACAO) is None  # /orders's rules, not /orders/admin's
    assert CountingPolicy.runs == {"orders": 1}


def test_cve_2020_25032_dot_segments_are_not_resolved(app: Flask) -> None:
    # flask-cors matched /api/../x against /api/*.
    result = call(app, "GET", "/api/../orders", HTTP_ORIGIN=ALLOWED)
    assert result.get(ACAO) is None
    assert CountingPolicy.runs == {"api": 1}
    assert app.view_calls == ["/api"]  # type: ignore[attr-defined]


def test_ghsa_vhxv_fg4m_p2w8_barfoo_is_not_foo_or_bar(app: Flask) -> None:
    # jub0bs/cors: with https://foo.com and https://bar.com allowed, https://barfoo.com was too.
    for origin in (FOO, BAR):
        assert call(app, HTTP_ORIGIN=origin).get(ACAO) == origin
    for origin in ("https://barfoo.com", "https://foobar.com", "https://foo.combar.com", "https://bar.comfoo.com", "https://fo.com"):
        assert call(app, HTTP_ORIGIN=origin).get(ACAO) is None
        assert preflight(app, origin).status == 400


def test_rs_cors_170_huge_request_headers_bounded(app: Flask, token_calls: _CountingToken) -> None:
    # rs/cors spent 127 ms and 121 MB on one Access-Control-Request-Headers.
    huge = ",".join(["authorization"] * 10_000)
    assert len(huge) > 100_000
    result = preflight(app, ALLOWED, headers=huge)
    assert result.status == 400
    assert token_calls.calls == 0


def test_flask_cors_disallowed_method_preflight_is_400(app: Flask) -> None:
    # flask-cors answered 200 with partial headers.
    result = preflight(app, ALLOWED, method="PATCH")
    assert result.status == 400
    assert not any(k.lower().startswith("access-control-allow-") for k, _ in result.headers)
    # Methods compare case-sensitively: browsers send "patch" as "patch".
    assert preflight(app, ALLOWED, method="put").status == 400
    assert preflight(app, ALLOWED, method="PUT").status == 200


def test_null_origin_is_not_reflected_unless_opted_in() -> None:
    app = build_app([api("orders", "/orders", ORDERS_CORS)])
    assert call(app, HTTP_ORIGIN="null").get(ACAO) is None
    with pytest.raises(ConfigError):
        build_app([api("orders", "/orders", {**ORDERS_CORS, "allow_origin": ["null"]})])
    app = build_app([api("orders", "/orders", {**ORDERS_CORS, "allow_origin": ["null"], "dangerously_allow_null_origin": True})])
    assert call(app, HTTP_ORIGIN="null").get(ACAO) == "null"


def test_websocket_handshake_gets_no_cors_but_policies_run(app: Flask) -> None:
    result = call(
        app, "GET", "/orders/ws", HTTP_ORIGIN="https://evil.net", HTTP_CONNECTION="keep-alive, Upgrade", HTTP_UPGRADE="websocket"
    )
    assert result.get(ACAO) is None
    assert CountingPolicy.runs == {"orders": 1}


def test_path_rewriting_middleware_wrapped_after_init_app_runs_first() -> None:
    # SECURITY.md: a middleware that moves a prefix out of PATH_INFO must wrap the app
    # after init_app, so the API is chosen on the path Flask will route.
    app = build_app([api("orders", "/orders", ORDERS_CORS, deny=True)])
    inner = app.wsgi_app

    def strip_v1(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"].startswith("/v1/"):
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + "/v1"
            environ["PATH_INFO"] = environ["PATH_INFO"][3:]
        return inner(environ, start_response)

    app.wsgi_app = strip_v1  # type: ignore[method-assign]
    assert call(app, "GET", "/v1/orders/1").status == 401
    assert app.view_calls == []  # type: ignore[attr-defined]


# --- Issue 12: hardening. One test (or table) per hole, named after what it guards ---

ROOT = Path(__file__).resolve().parents[1]
ACEH = "Access-Control-Expose-Headers"


def cors_api(cors: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "orders", "context_path": "/orders", "cors": {"enabled": True, **cors}, **extra}


def nested_dict(depth: int) -> dict[str, Any]:
    """An object nested ``depth`` levels, built without recursion."""
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"x": value}
    return value


# Item 1: each config loaded before, judged by rules that saw another value than the
# one that ran (the set: every origin got Allow-Origin with credentials). Item 2: each
# raised something else than ConfigError from init_app, reconfigure and load_config.
# (id, API, rule ids of the one ConfigError)
HOSTILE_CONFIGS = [
    ("origins-as-a-set-with-credentials", cors_api({"allow_origin": {"*"}, "allow_credentials": True}), {"gravicors.E003"}),
    ("credentials-as-float", cors_api({"allow_origin": ["*"], "allow_credentials": 1.0}), {"gravicors.E003"}),
    ("credentials-as-string", cors_api({"allow_origin": ["*"], "allowCredentials": "true"}), {"gravicors.E003"}),
    ("bytes-method-past-e032", cors_api({"allow_methods": [b"TRACK"]}), {"gravicors.E003"}),
    ("bytes-regex-past-e021", cors_api({"allow_origin": [b"https://(a"]}), {"gravicors.E003"}),
    ("bytes-context-path-past-e012", {"name": "orders", "context_path": b"/orders/../admin"}, {"gravicors.E003"}),
    ("regex-nested-1000-levels", cors_api({"allow_origin": ["https://" + "(" * 1000 + "a" + ")" * 1000]}), None),
    ("regex-repeat-overflow", cors_api({"allow_origin": ["https://a{99999999999}"]}), {"gravicors.E021"}),
    ("context-path-lone-surrogate", {"name": "orders", "context_path": "/\udcff"}, {"gravicors.E003"}),
    ("selector-method-lone-surrogate", {"name": "orders", "context_path": "/orders", "flows": [
        {"selectors": [{"type": "http", "path": "/", "methods": ["\ud800", "GET"]}]}]}, {"gravicors.E003"}),
    ("config-nested-100000-levels", {"name": "orders", "context_path": "/orders", "description": nested_dict(100_000)}, {"gravicors.E006"}),
    ("max-age-of-5000-digits", cors_api({"max_age": 10**5000}), {"gravicors.E040"}),
    (
        "rate-limit-storage-option-not-a-number",
        {"name": "orders", "context_path": "/orders", "policies": [
            {"name": "rate-limit", "config": {"limit": 5, "storage": "redis://127.0.0.1:1/0?socket_timeout=abc"}}]},
        {"gravicors.E003"},
    ),
    (
        "rate-limit-storage-unknown-option",
        {"name": "orders", "context_path": "/orders", "policies": [
            {"name": "rate-limit", "config": {"limit": 5, "storage": "redis://127.0.0.1:1/0?foo=bar"}}]},
        {"gravicors.E003"},
    ),
]
PLUGINS = [CountingPlugin(), gravicors_ratelimit]


def _flask_app() -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/orders/<path:rest>", "orders", lambda rest: "ok")
    return app


@pytest.mark.parametrize(("api_config", "ids"), [pytest.param(a, i, id=n) for n, a, i in HOSTILE_CONFIGS])
def test_only_config_error_leaves_load_config_init_app_and_reconfigure(api_config: dict[str, Any], ids: set[str] | None) -> None:
    raw = {"apis": [api_config]}
    app = _flask_app()
    app.config["GRAVICORS"] = raw
    running = _flask_app()
    running.config["GRAVICORS"] = {"apis": []}
    ext = GraviCORS(running, plugins=PLUGINS, entry_points=False)
    for attempt in (
        lambda: load_config(raw, ext.policies),
        lambda: GraviCORS(app, plugins=PLUGINS, entry_points=False),
        lambda: ext.reconfigure(raw, app=running),
    ):
        if ids is None:
            attempt()  # an odd config that is valid loads; nothing else leaves
            continue
        with pytest.raises(ConfigError) as caught:
            attempt()
        assert caught.value.ids == ids
        assert str(caught.value).encode("utf-8")  # prints on any terminal: values shown escaped


def test_a_set_of_origins_no_longer_hands_every_site_credentials() -> None:
    # The hole of item 1, end to end: before, the set loaded and the rules never saw a "*".
    with pytest.raises(ConfigError):
        build_app([api("orders", "/orders", {"enabled": True, "allow_origin": {"*"}, "allow_credentials": True})])
    app = build_app([api("orders", "/orders", {"enabled": True, "allow_origin": ["*"], "allow_credentials": False})])
    result = call(app, HTTP_ORIGIN="https://evil.net")
    assert result.get(ACAO) == "*" and result.get(ACAC) is None


@pytest.mark.parametrize(("text", "ids"), [("[" * 100_000 + "]" * 100_000, {"gravicors.E006"}), ('{"apis": ' + "[" * 40 + "]" * 40 + "}", {"gravicors.E006"})])
def test_deeply_nested_json_config_file_is_a_config_error(tmp_path: Path, text: str, ids: set[str]) -> None:
    # The file reader caught only OSError and ValueError: the JSON reader's RecursionError left init_app.
    path = tmp_path / "gravicors.json"
    path.write_text(text, encoding="utf-8")
    app = _flask_app()
    app.config["GRAVICORS"] = str(path)
    with pytest.raises(ConfigError) as caught:
        GraviCORS(app, plugins=PLUGINS, entry_points=False)
    assert caught.value.ids == ids


def test_context_path_holding_u_fffd_is_refused() -> None:
    # Item 3: werkzeug decodes PATH_INFO with errors="replace", so "GET /%FF/x" routes to a
    # view under "/\ufffd" while the WSGI layer sees the byte FF, not U+FFFD's EF BF BD:
    # the API's policies (an API key) did not run. Such a context path is refused (E012).
    assert Request(EnvironBuilder(path="/%FF/x").get_environ()).path == "/\ufffd/x"
    with pytest.raises(ConfigError) as caught:
        build_app([api("keyed", "/\ufffd", deny=True), api("orders", "/orders")], routes=("/\ufffd", "/orders"))
    assert caught.value.ids == {"gravicors.E012"}
    assert {p.path for p in caught.value.problems} == {"apis[0].context_path"}


REDOS = r"https://([a-z0-9]+)*\.example\.com"


def test_redos_regex_origin_is_decided_in_linear_time() -> None:
    # Item 5: with Python's re, a 24-character origin took 0.85 s against this pattern
    # and each 2 more characters 4 times as much: 40 characters ran for hours. Under
    # RE2 every decision is linear in the origin's length. Run in a child process
    # with a functional deadline far above the expected fraction of a second, so a
    # regression fails instead of hanging the suite (re holds the GIL, no signal
    # interrupts it).
    script = textwrap.dedent(
        f"""
        from flask import Flask
        from flask_gravicors import GraviCORS
        app = Flask(__name__)
        app.add_url_rule("/orders/<path:rest>", "orders", lambda rest: "ok")
        app.config["GRAVICORS"] = {{"apis": [{{"name": "orders", "context_path": "/orders",
            "cors": {{"enabled": True, "allow_origin": [{REDOS!r}], "allow_methods": ["PUT"]}}}}]}}
        GraviCORS(app, entry_points=False)
        client = app.test_client()
        for n in (24, 40, 480):
            evil = "https://" + "a" * n + "!.example.com"
            assert "Access-Control-Allow-Origin" not in client.get("/orders/1", headers={{"Origin": evil}}).headers
            preflight = client.options("/orders/1", headers={{"Origin": evil, "Access-Control-Request-Method": "PUT"}})
            assert preflight.status_code == 400
        good = "https://" + "a" * 40 + ".example.com"
        assert client.get("/orders/1", headers={{"Origin": good}}).headers["Access-Control-Allow-Origin"] == good
        print("decided")
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "decided"


# Item 6: a public API (allow_origin holds "*", no credentials) answers every actual
# request alike, so a shared cache can keep any of the answers for everyone.
STAR_ORIGINS = [
    ("no-origin", None),
    ("null", "null"),
    ("allowed", ALLOWED),
    ("empty", ""),
    ("crlf", ALLOWED + "\r\nX-Evil: 1"),
    ("joined", f"{ALLOWED},{ALLOWED}"),
    ("8kib", "https://" + "a" * 8192 + ".example.com"),
]


@pytest.mark.parametrize("allow_origin", [["*"], ["*", ALLOWED]])
@pytest.mark.parametrize("origin", [pytest.param(o, id=i) for i, o in STAR_ORIGINS])
def test_public_api_answers_every_actual_request_alike(allow_origin: list[str], origin: str | None) -> None:
    cors = {"enabled": True, "allow_origin": allow_origin, "allow_methods": ["GET"], "expose_headers": ["x-request-id"]}
    app = build_app([api("orders", "/orders", cors)])
    environ = {} if origin is None else {"HTTP_ORIGIN": origin}
    for _ in range(2):  # the first sight and the remembered answer
        result = call(app, "GET", "/orders/1", **environ)
        assert (result.get(ACAO), result.get(ACEH), result.get(ACAC), result.get("Vary")) == ("*", "x-request-id", None, None)
    # Preflights keep their rules: a value no browser sends, and null, are refused.
    if origin not in (None, ALLOWED):
        assert preflight(app, origin, method="GET").status == 400
    elif origin == ALLOWED:
        assert preflight(app, origin, method="GET").get(ACAO) == "*"


@pytest.mark.parametrize("private_network", [False, True])
def test_preflight_vary_names_private_network_when_the_api_answers_it(private_network: bool) -> None:
    # Item 7 (rs/cors): the answer depends on Access-Control-Request-Private-Network.
    app = build_app([api("orders", "/orders", {**ORDERS_CORS, "allow_private_network": private_network})])
    ask = {"HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK": "true"}
    expected = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
    if private_network:
        expected += ", Access-Control-Request-Private-Network"
    for origin in (ALLOWED, "https://evil.net"):
        assert preflight(app, origin, **ask).get("Vary") == expected


# Item 13: what two Origin headers look like through a real server.

ORIGIN_ECHO_APP = '''
from flask import Flask, request
from flask_gravicors import GraviCORS

app = Flask(__name__)


@app.get("/orders/<path:rest>")
def orders(rest):
    return {"origin": request.environ.get("HTTP_ORIGIN")}


app.config["GRAVICORS"] = {"apis": [{"name": "orders", "context_path": "/orders", "cors": {
    "enabled": True, "allow_origin": [r"https://.*\\.example\\.com"], "allow_credentials": True}}]}
GraviCORS(app, entry_points=False)
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _raw_get(port: int, origins: list[str]) -> tuple[dict[str, str], dict[str, Any]]:
    lines = ["GET /orders/1 HTTP/1.1", "Host: 127.0.0.1", *(f"Origin: {o}" for o in origins), "Connection: close", "", ""]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall("\r\n".join(lines).encode("latin-1"))
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers, json.loads(body)


def test_origin_headers_joined_by_gunicorn_are_never_allowed(tmp_path: Path) -> None:
    # gunicorn joins repeated headers with a bare "," (no space), as werkzeug's
    # development server does: "https://a.example.com,https://b.example.com", which a
    # configured regex may well match. No browser sends a comma in an origin: refused.
    (tmp_path / "origin_echo_app.py").write_text(ORIGIN_ECHO_APP, encoding="utf-8")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH")]))}
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "origin_echo_app:app"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                headers, body = _raw_get(port, ["https://a.example.com"])
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.1)
        assert headers["access-control-allow-origin"] == "https://a.example.com"
        headers, body = _raw_get(port, ["https://a.example.com", "https://b.example.com"])
        assert body["origin"] == "https://a.example.com,https://b.example.com"
        assert "access-control-allow-origin" not in headers
        assert "access-control-allow-credentials" not in headers
        assert headers["vary"] == "Origin"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


# Item 14: where we deliberately differ from Gravitee's gateway (docs/request.rst,
# "Where we differ from Gravitee's gateway").


def test_empty_allow_headers_refuses_requested_headers_unlike_gravitee() -> None:
    # Gravitee lets any requested header through an empty list (and sends an empty
    # Access-Control-Allow-Headers); an empty list here allows no header beyond the
    # CORS-safelisted ones, which browsers never ask for.
    app = build_app([api("orders", "/orders", {**ORDERS_CORS, "allow_headers": []})])
    refused = preflight(app, ALLOWED, headers="x-custom")
    assert refused.status == 400 and refused.body == b"CORS preflight refused: headers not allowed\n"
    passed = preflight(app, ALLOWED)
    assert passed.status == 200 and passed.get("Access-Control-Allow-Headers") is None


def test_allow_methods_answered_as_configured_not_upper_cased_unlike_gravitee() -> None:
    # Gravitee upper-cases allowMethods; Fetch compares methods case-sensitively and
    # browsers send "patch" as written, so "patch" is answered as "patch".
    app = build_app([api("orders", "/orders", {**ORDERS_CORS, "allow_methods": ["GET", "patch"]})])
    passed = preflight(app, ALLOWED, method="patch")
    assert passed.status == 200 and passed.get("Access-Control-Allow-Methods") == "GET, patch"
    assert preflight(app, ALLOWED, method="PATCH").status == 400


def _section(text: str, title: str) -> str:
    """An rst section: from ``title`` to the next heading (a line underlined with ``-``)."""
    start = text.index(title)
    body = start + len(title) + 1 + len(title) + 1  # the title and its underline
    following = re.search(r"\n[^\n]+\n-{3,}\n", text[body:])
    return text[start : body + following.start() if following else len(text)]


def test_documented_differences_from_gravitee_are_the_tested_ones() -> None:
    page = (ROOT / "docs" / "request.rst").read_text(encoding="utf-8")
    section = _section(page, "Where we differ from Gravitee's gateway")
    for test in (test_empty_allow_headers_refuses_requested_headers_unlike_gravitee, test_allow_methods_answered_as_configured_not_upper_cased_unlike_gravitee):
        assert f"``{test.__name__}``" in section


def test_security_md_names_a_test_for_each_origin_claim() -> None:
    # Item 13: SECURITY.md says what happens to null and to values no browser sends,
    # under "*" and under a list; each claim names the test that holds it to the code.
    security = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    cited = set(re.findall(r"`(test_[a-z0-9_]+)`", security))
    defined = {name for name in globals() if name.startswith("test_")}
    tests_dir = ROOT / "tests"
    everywhere = "".join(p.read_text(encoding="utf-8") for p in tests_dir.rglob("test_*.py"))
    assert {name for name in cited if f"def {name}(" not in everywhere} == set()
    for claim in (
        test_public_api_answers_every_actual_request_alike,
        test_origin_headers_joined_by_gunicorn_are_never_allowed,
        test_null_origin_is_not_reflected_unless_opted_in,
        test_hostile_origin_on_actual_request,
    ):
        assert claim.__name__ in cited and claim.__name__ in defined
