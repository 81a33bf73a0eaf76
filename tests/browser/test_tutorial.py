"""The tutorial (docs/tutorial.rst) as a reader runs it, with Chromium: its app.py
serves the API, its index.html is the page, opened at the allowed origin and at
another one. Only the ports change (free ones instead of 5001 and 8000), in the
files' text, so the code run is the code the page shows."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pytest

from .servers import RequestLog, ServerThread

TUTORIAL = Path(__file__).resolve().parents[2] / "docs" / "examples" / "tutorial"


def static_page(body: bytes) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """``python -m http.server`` serving index.html, as far as the page needs."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") not in ("/", "/index.html"):
            start_response("404 Not Found", [("Content-Length", "0")])
            return [b""]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    return serve


@pytest.fixture
def tutorial() -> Iterator[tuple[int, RequestLog]]:
    """The page server and the API server, both from the tutorial's files."""
    page_server = ServerThread(static_page(b"placeholder"))
    page_port = page_server.port
    source = (TUTORIAL / "app.py").read_text()
    assert source.count("http://localhost:8000") == 1
    namespace: dict[str, Any] = {"__name__": "tutorial_app"}
    exec(
        compile(source.replace("http://localhost:8000", f"http://localhost:{page_port}"), str(TUTORIAL / "app.py"), "exec"),
        namespace,
    )
    app = namespace["app"]
    log = RequestLog(app.wsgi_app)
    app.wsgi_app = log
    api_server = ServerThread(app).start()
    page = (TUTORIAL / "index.html").read_text()
    assert page.count("http://127.0.0.1:5001") == 1
    # Each file names the other's port: the page server's port came first, its page now.
    page_server.server.app = static_page(page.replace("http://127.0.0.1:5001", f"http://127.0.0.1:{api_server.port}").encode())
    page_server.start()
    try:
        yield page_port, log
    finally:
        page_server.stop()
        api_server.stop()


def verdict(chromium: Any, url: str) -> list[str]:
    """What the page shows once its script is done (a fresh browser context: no cache)."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("document.getElementById('out').textContent.includes('done')", timeout=15_000)
        return page.inner_text("#out").splitlines()
    finally:
        context.close()


def test_the_tutorial_ends_with_the_browsers_verdict(chromium: Any, tutorial: tuple[int, RequestLog]) -> None:
    port, log = tutorial
    # The allowed origin: the GET, the PUT's preflight, the PUT.
    assert verdict(chromium, f"http://localhost:{port}/") == ["GET: paid", "PUT: shipped", "done"]
    assert [r["method"] for r in log.under("/orders")] == ["GET", "OPTIONS", "PUT"]
    # The same page from another origin: the GET reaches the view, the script may
    # not read it, so no PUT is ever sent.
    assert verdict(chromium, f"http://127.0.0.1:{port}/") == ["blocked: Failed to fetch", "done"]
    time.sleep(0.2)  # nothing else may arrive
    assert [r["method"] for r in log.under("/orders")] == ["GET", "OPTIONS", "PUT", "GET"]
