"""Response templates: which template answers a failure, and what the answer is.

The first table is flask_gravicors.templates alone (key, then Accept); the second
runs requests through an app, so a template's answer is seen with the CORS
headers the WSGI layer adds (kept on actual requests, never added to a failed
preflight).
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from procs import GUNICORN_EXTRA, START_TIMEOUT, Gunicorn, free_port, wait_until

from conftest import make_app
from flask_gravicors.templates import Failure, Templates, default_answer, render

O = "https://shop.example.com"

TEMPLATES = Templates(
    {
        "API_KEY_INVALID": {
            "application/json": {"status": 403, "body": '{"error": "bad key"}', "headers": {"X-Why": "key"}},
            "text/xml": {"status": 403, "body": "<error/>"},
            "*/*": {"status": 401, "body": "no"},
        },
        "API_KEY_MISSING": {"application/json": {"status": 401, "body": "{}"}},
        "DEFAULT": {"*/*": {"status": 418, "body": "default template"}},
    }
)
INVALID = Failure(401, "API_KEY_INVALID", "Unauthorized: invalid API key")

# (failure key, Accept, expected (media, status) or None when no template applies)
PICKS = [
    ("API_KEY_INVALID", "application/json", ("application/json", 403)),
    ("API_KEY_INVALID", "text/xml", ("text/xml", 403)),
    ("API_KEY_INVALID", "text/html, application/json;q=0.9, text/xml;q=0.95", ("text/xml", 403)),
    ("API_KEY_INVALID", "Application/JSON", ("application/json", 403)),
    ("API_KEY_INVALID", "text/html", ("*/*", 401)),
    ("API_KEY_INVALID", None, ("*/*", 401)),
    ("API_KEY_INVALID", "application/json;q=0, text/plain", ("*/*", 401)),
    # the key has templates but none for this Accept and no */*: no template (Gravitee
    # does not fall back to DEFAULT then)
    ("API_KEY_MISSING", "text/html", None),
    ("API_KEY_MISSING", "application/json", ("application/json", 401)),
    # a key without templates: DEFAULT's
    ("GATEWAY_PLAN_UNRESOLVABLE", "application/json", ("*/*", 418)),
]


@pytest.mark.parametrize(("key", "accept", "expected"), PICKS)
def test_pick(key: str, accept: str | None, expected: tuple[str, int] | None) -> None:
    picked = TEMPLATES.pick(key, accept)
    assert (None if picked is None else (picked[0], picked[1].status)) == expected


def test_render_a_template() -> None:
    status, headers, body = render(
        Failure(401, "API_KEY_INVALID", "m", headers={"Retry-After": "1", "X-Why": "ours"}), TEMPLATES, "application/json"
    )
    assert (status, body) == (403, b'{"error": "bad key"}')
    # the template's header wins over the failure's; the failure's others stay
    assert headers == [("Retry-After", "1"), ("Content-Type", "application/json"), ("X-Why", "key"), ("Content-Length", "20")]


def test_render_a_wildcard_template_is_text() -> None:
    assert ("Content-Type", "text/plain; charset=utf-8") in render(INVALID, TEMPLATES, "text/html")[1]


# (Accept, expected content type, expected body)
DEFAULTS = [
    (None, "application/json", {"message": "Unauthorized: invalid API key", "http_status_code": 401}),
    ("*/*", "application/json", {"message": "Unauthorized: invalid API key", "http_status_code": 401}),
    ("text/html,application/json", "application/json", {"message": "Unauthorized: invalid API key", "http_status_code": 401}),
    ("text/html", "text/plain; charset=utf-8", "Unauthorized: invalid API key"),
]


@pytest.mark.parametrize(("accept", "content_type", "body"), DEFAULTS)
def test_default_answer(accept: str | None, content_type: str, body: Any) -> None:
    status, headers, raw = default_answer(INVALID, accept)
    assert status == 401
    assert dict(headers)["Content-Type"] == content_type
    assert (json.loads(raw) if content_type == "application/json" else raw.decode()) == body


def test_a_json_message_is_sent_as_it_is() -> None:
    failure = Failure(429, "RATE_LIMIT_TOO_MANY_REQUESTS", '{"limit": 3}', content_type="application/json")
    assert default_answer(failure, "*/*")[2] == b'{"limit": 3}'
    assert default_answer(failure, "text/html")[2] == b'{"limit": 3}'


CORS = {"enabled": True, "allow_origin": [O], "allow_methods": ["GET"], "allow_credentials": True}
PREFLIGHT_FAILED = {"CORS_PREFLIGHT_FAILED": {"*/*": {"status": 412, "body": "Custom CORS error message"}}}
KEYED = [{"name": "Gold", "security": "api-key", "configuration": {"keys": ["k1"]}}]


def api(**extra: Any) -> dict[str, Any]:
    return {"name": "orders", "context_path": "/orders", "cors": CORS, **extra}


# (id, api, platform flows, method, headers, status, body, Access-Control-Allow-Origin)
ROWS = [
    # Gravitee's CorsV4IntegrationTest fixture: a template answers 412 on a failed preflight
    ("failed preflight: template, no Allow-*", api(response_templates=PREFLIGHT_FAILED), None, "OPTIONS",
     {"Origin": "https://evil.test", "Access-Control-Request-Method": "GET"}, 412, b"Custom CORS error message", None),
    ("failed preflight with platform flows: the same template, through Flask", api(response_templates=PREFLIGHT_FAILED),
     [{"request": [{"policy": "record"}]}], "OPTIONS", {"Origin": O, "Access-Control-Request-Method": "PUT"}, 412,
     b"Custom CORS error message", None),
    ("failed preflight without a template: 400 naming the check", api(), None, "OPTIONS",
     {"Origin": O, "Access-Control-Request-Method": "PUT"}, 400, b"CORS preflight refused: method not allowed\n", None),
    ("DEFAULT template also covers a failed preflight", api(response_templates={"DEFAULT": {"*/*": {"status": 403}}}), None,
     "OPTIONS", {"Origin": O, "Access-Control-Request-Method": "PUT"}, 403, b"", None),
    ("valid preflight: templates do not apply", api(response_templates=PREFLIGHT_FAILED), None, "OPTIONS",
     {"Origin": O, "Access-Control-Request-Method": "GET"}, 200, b"", O),
    ("plan refusal: template, CORS headers kept", api(plans=KEYED,
     response_templates={"API_KEY_INVALID": {"*/*": {"status": 403, "body": "bad key"}}}), None, "GET",
     {"Origin": O, "X-Gravitee-Api-Key": "k9"}, 403, b"bad key", O),
    ("plan unresolvable: Gravitee's default JSON, CORS headers kept", api(plans=KEYED), None, "GET",
     {"Origin": O, "Accept": "*/*"}, 401, b'{"message": "Unauthorized", "http_status_code": 401}', O),
]


@pytest.mark.parametrize(("config", "platform", "method", "headers", "status", "body", "acao"),
                         [pytest.param(*row[1:], id=row[0]) for row in ROWS])
def test_answers(config: dict[str, Any], platform: Any, method: str, headers: dict[str, str], status: int, body: bytes,
                 acao: str | None) -> None:
    app = make_app([config], flows=platform)
    response = app.test_client().open("/orders", method=method, headers=headers)
    assert (response.status_code, response.data) == (status, body)
    assert response.headers.get("Access-Control-Allow-Origin") == acao
    if method == "OPTIONS":
        assert response.headers["Vary"] == "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        if status != 200:
            assert not [h for h in response.headers.keys() if h.lower().startswith("access-control-allow-")]
    assert not app.view_calls


ROOT = Path(__file__).resolve().parent.parent

LATIN_1_APP = """
from flask import Flask
from flask_gravicors import GraviCORS

app = Flask(__name__)


@app.get("/orders/<path:rest>")
def orders(rest):
    return "view"


app.config["GRAVICORS"] = {"apis": [{"name": "orders", "context_path": "/orders",
    "plans": [{"name": "Gold", "security": "api-key", "configuration": {"keys": ["k1"]}}],
    "response_templates": {"GATEWAY_PLAN_UNRESOLVABLE": {"*/*": {"status": 401, "body": "no",
                                                                 "headers": {"X-Why": "caf\\u00e9 \\u00ff"}}}}}]}
GraviCORS(app)
"""


def test_a_latin_1_template_header_is_sent_by_gunicorn(tmp_path: Path) -> None:
    # Review finding 7: header values are sent as Latin-1 bytes (PEP 3333). gunicorn
    # answered a 500 for "\u20acuro" (now gravicors.E072, test_checks); what the
    # schema accepts must go through a real server, byte for byte.
    (tmp_path / "latin1_app.py").write_text(LATIN_1_APP, encoding="utf-8")
    port, log_path = free_port(), tmp_path / "gunicorn.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", *GUNICORN_EXTRA, "latin1_app:app"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Gunicorn(proc, port, log_path, 1)

    def get() -> tuple[int, str | None, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/orders/1")
            response = conn.getresponse()
            # http.client reads header bytes as Latin-1: this is the value's exact bytes.
            return response.status, response.getheader("X-Why"), response.read()
        finally:
            conn.close()

    def up() -> bool:
        try:
            get()
            return True
        except OSError:
            return False

    try:
        wait_until(up, START_TIMEOUT, f"gunicorn on port {port}", proc)
        assert get() == (401, "caf\u00e9 \u00ff", b"no")
    finally:
        server.stop()
    assert "Traceback" not in server.log(), server.log()
