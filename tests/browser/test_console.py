"""The console in Debian's Chromium, against the demo app served by a real
``gunicorn -w 4`` with its SQLite store: the seed's eight steps by their visible
texts (log in; APIs; the API; Edit API; Entrypoints; Cors; add the demo page's
second origin to Access-Control-Allow-Origin; Save), after which a ``fetch()`` from
that origin, blocked before, succeeds within 2 s whichever worker answers; a refused
save; labels and the keyboard; and logout ending the session on every worker.

The walk's screenshots are the docs' (docs/_static/console/): written there when
missing, or refreshed with GRAVICORS_SCREENSHOTS=1 (a run does not dirty the work
tree otherwise); every run takes them and checks they are images.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from procs import GUNICORN_EXTRA, START_TIMEOUT, Gunicorn, free_port, wait_until

from flask_gravicors.schema import load_config
from flask_gravicors.store.sql import SqlStore
from sample_app.page import create_page_app

from .servers import ServerThread

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "_static" / "console"
WORKERS = 4
USER, PASSWORD = "demo", secrets.token_urlsafe(12)
VIEWER, VIEWER_PASSWORD = "reader", secrets.token_urlsafe(12)
IO_TIMEOUT = 15.0
STEPS = ["1-log-in", "2-apis", "3-the-api", "4-edit-api", "5-entrypoints", "6-cors", "7-allow-origin", "8-save"]

FETCH_ORDERS = """async () => {
  try {
    const response = await fetch(API + "/orders?api-key=demo-key", {credentials: "include", cache: "no-store"});
    return String(response.status);
  } catch (error) {
    return "blocked";
  }
}"""


class Demo:
    """The demo: its page server (two origins: 127.0.0.1 and localhost) and the API
    app under gunicorn, its store, its users."""

    def __init__(self, tmp: Path):
        self.api_port = free_port()
        self.page = ServerThread(create_page_app(f"http://127.0.0.1:{self.api_port}")).start()
        self.store_url = f"sqlite:///{tmp}/gravicors.db"
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "GRAVICORS_SAMPLE_STORE": self.store_url,
            "GRAVICORS_SAMPLE_PAGE_PORT": str(self.page.port),
            "GRAVICORS_SAMPLE_SECRET_KEY": secrets.token_hex(32),
        }
        self.tmp = tmp
        self.server: Gunicorn | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def second_origin(self) -> str:
        """The demo page's second origin: not allowed by the sample config."""
        return f"http://localhost:{self.page.port}"

    def flask(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """The real ``flask --app sample_app.api gravicors ...``."""
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "sample_app.api", "gravicors", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def start(self) -> None:
        log_path = self.tmp / "gunicorn.log"
        command = [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{self.api_port}", *GUNICORN_EXTRA]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [*command, "sample_app.api:create_app()"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.server = Gunicorn(proc, self.api_port, log_path, WORKERS)

        def ready() -> bool:
            # Every worker booted and registered in the store ("live on 4 of 4").
            return len(self.server.pids()) == WORKERS and len(self.store().workers()) == WORKERS  # type: ignore[union-attr]

        try:
            wait_until(ready, START_TIMEOUT, "gunicorn serving the demo", proc)
        except RuntimeError as err:
            self.server.stop()
            raise RuntimeError(f"{err}\n{self.server.log()}") from None

    def store(self) -> SqlStore:
        return SqlStore(self.store_url, lambda raw: load_config(raw, {}))

    def versions(self) -> int:
        store = self.store()
        try:
            return len(store.history())
        finally:
            store.dispose()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            log = self.server.log()
            assert "Traceback" not in log, log
        self.page.stop()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    demo = Demo(tmp_path_factory.mktemp("console"))
    try:
        for name, role, password in ((USER, "admin", PASSWORD), (VIEWER, "viewer", VIEWER_PASSWORD)):
            made = demo.flask("create-user", name, "--role", role, "--password-stdin", stdin=password + "\n")
            assert made.returncode == 0, made.stderr
        demo.start()
        yield demo
    finally:
        demo.stop()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A fresh context and page; CSP violations reported by the page fail the test."""
    context = chromium.new_context(viewport={"width": 1200, "height": 760})
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None)
    try:
        yield page
    finally:
        context.close()
    assert violations == []


def shoot(page: Any, name: str, taken: list[Path], tmp: Path) -> None:
    path = tmp / f"{name}.png"
    page.screenshot(path=str(path))
    taken.append(path)


def log_in(page: Any, demo: Demo, name: str = USER, password: str = PASSWORD) -> None:
    page.goto(demo.base + "/gravicors/")
    page.get_by_label("Username", exact=True).fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/gravicors/apis$"))


def open_cors_tab(page: Any, demo: Demo, api: str = "orders") -> None:
    page.goto(f"{demo.base}/gravicors/apis/{api}/cors")


def test_the_seeds_eight_steps(chromium: Any, browser_page: Any, demo: Demo, tmp_path: Path) -> None:
    page, taken = browser_page, list[Path]()
    # The demo page at its second origin: the orders call is blocked.
    other_context = chromium.new_context()
    other = other_context.new_page()
    other.goto(demo.second_origin + "/")
    assert other.evaluate(FETCH_ORDERS) == "blocked"
    try:
        walk(page, other, demo, taken, tmp_path)
    finally:
        other_context.close()
    keep_screenshots(taken)


def walk(page: Any, other: Any, demo: Demo, taken: list[Path], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    # 1. Log in.
    page.goto(demo.base + "/gravicors/")
    expect(page).to_have_url(re.compile(r".*/gravicors/login\?next=.*"))
    page.get_by_label("Username", exact=True).fill(USER)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    shoot(page, STEPS[0], taken, tmp_path)
    page.get_by_role("button", name="Log in").click()
    # 2. APIs, from the left nav.
    page.get_by_role("navigation", name="Console").get_by_role("link", name="APIs", exact=True).click()
    expect(page.get_by_role("heading", name="APIs")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^orders \/orders HTTP Proxy on$"))).to_be_visible()
    shoot(page, STEPS[1], taken, tmp_path)
    # 3. The API.
    page.get_by_role("link", name="orders", exact=True).click()
    expect(page.get_by_role("heading", name="orders")).to_be_visible()
    shoot(page, STEPS[2], taken, tmp_path)
    # 4. Edit API.
    page.get_by_role("link", name="Edit API", exact=True).click()
    expect(page.get_by_role("heading", name="Edit API: orders")).to_be_visible()
    shoot(page, STEPS[3], taken, tmp_path)
    # 5. Entrypoints, from the inner left nav.
    page.get_by_role("navigation", name="API settings").get_by_role("link", name="Entrypoints", exact=True).click()
    expect(page.get_by_role("rowheader", name="HTTP Proxy")).to_be_visible()
    shoot(page, STEPS[4], taken, tmp_path)
    # 6. The Cors tab.
    page.get_by_role("link", name="Cors", exact=True).click()
    expect(page.get_by_label("Enable CORS", exact=True)).to_be_checked()
    shoot(page, STEPS[5], taken, tmp_path)
    # 7. The demo page's second origin added to Access-Control-Allow-Origin.
    origins = page.get_by_label("Access-Control-Allow-Origin", exact=True)
    origins.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n" + demo.second_origin)
    expect(origins).to_have_value(re.compile(re.escape(demo.second_origin) + "$"))
    shoot(page, STEPS[6], taken, tmp_path)
    # 8. Save.
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Configuration successfully saved!")).to_be_visible()
    saved = time.monotonic()
    # The page origin that was blocked now reads the API, within 2 s.
    while other.evaluate(FETCH_ORDERS) != "200":
        assert time.monotonic() - saved < 2.0, "the saved origin was not served within 2 s"
    took = time.monotonic() - saved
    # ... whichever worker answers: every worker registered the version, and each serves it.
    expect(page.get_by_text(f"Version 2: live on {WORKERS} of {WORKERS} workers")).to_be_visible(timeout=5000)
    shoot(page, STEPS[7], taken, tmp_path)
    assert [other.evaluate(FETCH_ORDERS) for _ in range(12)] == ["200"] * 12
    answers = every_worker(demo.api_port, "/orders?api-key=demo-key", {"Origin": demo.second_origin})
    assert [(status, headers.get("Access-Control-Allow-Origin")) for status, headers in answers] == [
        (200, demo.second_origin)
    ] * WORKERS
    assert demo.versions() == 2
    print(f"served {took:.3f} s after the save")  # noqa: T201 - shown with -s


def keep_screenshots(taken: list[Path], names: list[str] = STEPS) -> None:
    assert [p.stem for p in taken] == names
    refresh = os.environ.get("GRAVICORS_SCREENSHOTS") == "1"
    for path in taken:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, path
        target = SCREENSHOTS / path.name
        if refresh or not target.exists():
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def test_a_refused_save(browser_page: Any, demo: Demo) -> None:
    """ "*" with Access-Control-Allow-Credentials on: the danger hint as "*" is typed,
    then on Save the rule id next to the field, and nothing saved."""
    from playwright.sync_api import expect

    page = browser_page
    log_in(page, demo)
    open_cors_tab(page, demo)
    before = demo.versions()
    hint = page.get_by_text("A value of * is not recommended for production environments")
    expect(hint).to_be_hidden()
    origins = page.get_by_label("Access-Control-Allow-Origin", exact=True)
    origins.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n*")
    expect(hint).to_be_visible()
    expect(page.get_by_label("Access-Control-Allow-Credentials", exact=True)).to_be_checked()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Not saved: the configuration was refused")).to_be_visible()
    origins = page.get_by_label("Access-Control-Allow-Origin", exact=True)
    expect(origins).to_have_accessible_description(re.compile(r"gravicors\.E023 \*: '\*' origin with allow_credentials"))
    expect(origins).to_have_value(re.compile(r"\n\*$"))  # what was typed is still there
    assert demo.versions() == before


def test_every_control_has_a_label_and_works_with_the_keyboard(browser_page: Any, demo: Demo) -> None:
    from playwright.sync_api import expect

    page = browser_page
    log_in(page, demo)
    open_cors_tab(page, demo)
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll("input:not([type=hidden]), textarea, select, button")]
            .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                            && !(el.type === "submit" && el.value) && !el.textContent.trim())
            .map((el) => el.outerHTML)"""
    )
    assert unnamed == []
    # "Enable CORS" off, from the keyboard: the other fields are greyed out and
    # skipped by Tab; on again, they are back.
    enabled = page.get_by_label("Enable CORS", exact=True)
    enabled.focus()
    page.keyboard.press("Space")
    expect(enabled).not_to_be_checked()
    expect(page.locator("#cors-fields")).to_have_class(re.compile(r"\boff\b"))
    page.keyboard.press("Tab")
    # Try it's fields stay in use: it explains the form as it is, CORS off included.
    expect(page.get_by_label("Origin", exact=True)).to_be_focused()
    enabled.focus()
    page.keyboard.press("Space")
    expect(enabled).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Access-Control-Allow-Origin", exact=True)).to_be_focused()
    # The methods, one Space each; "Advanced" opens with Enter.
    patch = page.get_by_label("PATCH", exact=True)
    patch.focus()
    page.keyboard.press("Space")
    expect(patch).to_be_checked()
    page.get_by_text("Advanced", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Access-Control-Allow-Private-Network", exact=True)).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Access-Control-Allow-Private-Network", exact=True)).to_be_focused()


def test_try_it(browser_page: Any, demo: Demo, tmp_path: Path) -> None:
    """Try it explains the form as typed, unsaved edits included, and saves nothing;
    Enter in its fields tries, never saves."""
    from playwright.sync_api import expect

    page = browser_page
    log_in(page, demo)
    open_cors_tab(page, demo)
    before = demo.versions()
    origin = page.get_by_label("Origin", exact=True)
    origin.fill("https://try.example")
    page.get_by_label("Method", exact=True).fill("PATCH")
    origin.press("Enter")
    verdict = page.locator("#try-verdict")
    expect(verdict).to_have_text("Blocked: the script gets a network error")
    expect(page).to_have_url(re.compile(r".*/cors/try#try-result$"))
    changes = page.locator("ul.try-changes > li > code")
    expect(changes).to_have_text(
        ['apis[0].cors.allow_origin += ["https://try.example"]', 'apis[0].cors.allow_methods += ["PATCH"]']
    )
    taken = [tmp_path / "try-it.png"]
    page.locator("#try-it").screenshot(path=str(taken[0]))
    keep_screenshots(taken, ["try-it"])
    # The proposed change made in the form, not saved: Try it again allows it.
    origins = page.get_by_label("Access-Control-Allow-Origin", exact=True)
    origins.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nhttps://try.example")
    page.get_by_label("PATCH", exact=True).check()
    page.get_by_role("button", name="Try it", exact=True).click()
    expect(verdict).to_have_text("Allowed: the script reads the response")
    expect(page.get_by_role("row", name=re.compile(r"^method pass"))).to_be_visible()
    # What was typed is kept, and nothing was saved.
    expect(origins).to_have_value(re.compile(r"\nhttps://try\.example$"))
    expect(page.get_by_label("PATCH", exact=True)).to_be_checked()
    expect(origin).to_have_value("https://try.example")
    assert demo.versions() == before


def every_worker(port: int, path: str, headers: dict[str, str]) -> list[tuple[int, dict[str, str]]]:
    """The answer of each of the 4 sync workers to the same request: three
    connections with an unfinished request hold three workers, the next request is
    served by the fourth, then the three are finished (see test_ratelimit_gunicorn)."""
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    held = []
    try:
        for _ in range(WORKERS - 1):
            sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
            sock.sendall(head.encode())
            held.append(sock)
        time.sleep(0.2)  # each held connection accepted by a worker
        answers = [_finish(socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT), head)]
        answers += [_finish(sock, None) for sock in held]
        return answers
    finally:
        for sock in held:
            sock.close()


def _finish(sock: socket.socket, head: str | None) -> tuple[int, dict[str, str]]:
    with sock:
        sock.sendall(((head or "") + "Connection: close\r\n\r\n").encode())
        response = http.client.HTTPResponse(sock)
        response.begin()
        response.read()
        return response.status, dict(response.getheaders())


def test_logout_ends_the_session_on_every_worker(browser_page: Any, demo: Demo) -> None:
    page = browser_page
    log_in(page, demo, VIEWER, VIEWER_PASSWORD)
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "gravicors_console"]
    assert (
        cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/gravicors" and cookie["value"].startswith("s.")
    )
    saved = {"Cookie": f"gravicors_console={cookie['value']}", "Accept": "text/html"}
    assert [status for status, _ in every_worker(demo.api_port, "/gravicors/apis", saved)] == [200] * WORKERS
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r".*/gravicors/login$"))
    answers = every_worker(demo.api_port, "/gravicors/apis", saved)
    assert [(status, headers["Location"]) for status, headers in answers] == [
        (302, "/gravicors/login?next=/gravicors/apis")
    ] * WORKERS
