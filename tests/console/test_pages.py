"""flask_gravicors.console.pages: every answer's security headers, names in URLs,
the error pages."""

from __future__ import annotations

import pytest
from flask import Flask

from flask_gravicors.console.pages import CSP, SegmentConverter

from .conftest import Console


def test_every_answer_has_a_strict_csp_and_no_cors_headers(app: Flask) -> None:
    editor = Console(app)
    editor.login("editor")
    responses = [
        editor.get(path) for path in ("/apis", "/apis/orders/cors", "/history", "/users", "/nowhere", "/static/console.js")
    ]
    responses.append(editor.client.get("/gravicors/apis", headers={"Origin": "https://evil.example"}))
    for response in responses:
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["X-Frame-Options"] == "DENY" and response.headers["X-Content-Type-Options"] == "nosniff"
        assert not any(name.lower().startswith("access-control-") for name in response.headers.keys())
        response.close()
    assert "script-src 'self'" in CSP and "style-src 'self'" in CSP and "frame-ancestors 'none'" in CSP
    assert "unsafe-inline" not in CSP
    # Pages are never cached; static files may be.
    assert responses[0].headers["Cache-Control"] == "no-store"
    assert responses[5].headers.get("Cache-Control") != "no-store"


def test_no_inline_script_or_style(app: Flask) -> None:
    editor = Console(app)
    pages = [("/login", editor.get("/login").text)]
    editor.login("admin")
    for path in (
        "/apis",
        "/apis/orders",
        "/apis/orders/edit",
        "/apis/orders/entrypoints",
        "/apis/orders/cors",
        "/history",
        "/history/1",
        "/users",
    ):
        pages.append((path, editor.get(path).text))
    assert len(pages) == 9
    for path, html in pages:
        assert html.count("<script") == html.count('<script src="/gravicors/static/console.js" defer></script>') == 1, path
        assert "<style" not in html and " style=" not in html and " on" + "click=" not in html, path


@pytest.mark.parametrize(
    ("name", "segment"),
    [
        ("orders", "orders"),
        ("orders-v2.1_x", "orders-v2.1_x"),
        ("a/b", "~YS9i"),
        ("<script>", "~PHNjcmlwdD4"),
        ("~tilde", "~fnRpbGRl"),
        ("café au lait", "~Y2Fmw6kgYXUgbGFpdA"),
        (".hidden", "~LmhpZGRlbg"),
    ],
)
def test_names_in_urls(name: str, segment: str) -> None:
    converter = SegmentConverter(None)  # type: ignore[arg-type]
    assert converter.to_url(name) == segment
    assert converter.to_python(segment) == name


def test_error_pages(app: Flask) -> None:
    viewer = Console(app)
    viewer.login("viewer")
    assert viewer.get("/apis/~!!!").status_code == 404  # not base64: no such page
    response = viewer.get("/apis/nope/cors")
    assert response.status_code == 404 and "No API called 'nope' in version 1." in viewer.text(response)
    json = viewer.client.get("/gravicors/apis/nope", headers={"Accept": "application/json"})
    assert json.status_code == 404 and json.get_json() == {"error": "No API called 'nope' in version 1."}
