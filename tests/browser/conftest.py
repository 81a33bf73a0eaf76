"""Fixtures of the browser suite: Debian's Chromium driven by Playwright (one
launch, fresh profile), two page servers (two origins) and the API server, each
started once for the suite's one module and stopped by the fixture that started
it, so nothing outlives the browser tests.

Outside CI a missing browser skips the suite with the reason; with ``CI=true`` it
fails it (a CI run that skipped the browser would prove nothing).
"""

from __future__ import annotations

import copy
import os
from typing import Any, Callable, Iterator, Mapping, Sequence

import pytest

from .scenarios import APPS, DYNAMIC_TTL, SCENARIOS, Origins, Scenario, api_config
from .servers import RequestLog, ServerThread, make_api_app, page_app

CHROMIUM = "/usr/bin/chromium"
# Issue 3's flags. Playwright gives every launch a fresh temporary profile.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason}; CI=true, so the browser suite fails instead of skipping", pytrace=False)
    pytest.skip(f"{reason} (install it with: apt-get install -y chromium; CI=true makes this a failure)")


# Module scope, and the suite is one module: one browser launch per test session,
# and Playwright is gone before the next module runs (while it runs, its event loop
# counts as running in this thread, so a later asyncio.run() would fail).
@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} not found: Debian's chromium package is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:
        unavailable(f"the playwright Python package is not installed ({err})")
    # Never Playwright's own browser download: Debian's binary, by path.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def origins() -> Iterator[Origins]:
    """The main page origin and a second, disallowed one: two servers, two ports."""
    page = ServerThread(page_app).start()
    other = ServerThread(page_app).start()
    try:
        yield Origins(page.port, other.port)
    finally:
        page.stop()
        other.stop()


class ApiServer:
    """An API origin: one Flask app holding the APIs of the given scenarios."""

    def __init__(self, origins: Origins, scenarios: Sequence[Scenario]):
        self.origins = origins
        self.apis = [api_config(s, origins) for s in scenarios if s.cors is not None]
        blueprints = [s.id for s in scenarios if s.blueprint]
        app, self.gravicors, self.hook = make_api_app(copy.deepcopy(self.apis), blueprints, DYNAMIC_TTL)
        for scenario in scenarios:
            self.set_hook(scenario, scenario.hook)
        self.log = RequestLog(app.wsgi_app)
        app.wsgi_app = self.log  # type: ignore[method-assign]
        self.server = ServerThread(app)
        self.base = f"http://127.0.0.1:{self.server.port}"

    def prefix(self, scenario: Scenario) -> str:
        area = "b" if scenario.blueprint else "s" if scenario.cors is not None else "outside"
        return f"/{area}/{scenario.id}"

    def url(self, scenario: Scenario) -> str:
        return self.base + self.prefix(scenario) + scenario.path

    def reconfigure(
        self, scenario: Scenario, cors: Mapping[str, Any], policies: Sequence[Mapping[str, Any]] | None = None
    ) -> None:
        """Swap in the whole config with this scenario's cors block (and policies) replaced."""
        new = [api_config(scenario, self.origins, cors, policies) if a["name"] == scenario.id else a for a in self.apis]
        self.gravicors.reconfigure({"apis": copy.deepcopy(new)})

    def set_hook(self, scenario: Scenario, answers: Mapping[str, bool] | None) -> None:
        """What the gravicors_origin_allowed hook answers for this row's API."""
        for origin, allowed in (answers or {}).items():
            self.hook.answers[scenario.id, self.origins.fill(origin)] = allowed

    def restore(self) -> None:
        self.gravicors.reconfigure({"apis": copy.deepcopy(self.apis)})


@pytest.fixture(scope="module")
def api_servers(origins: Origins) -> Iterator[dict[str, ApiServer]]:
    """One API server per ``Scenario.app``: "shared" holds most rows; "policy-free"
    is an app whose config starts without any policy (so the extension installs no
    policy hook at init_app) for rows that add policies with reconfigure()."""
    servers = {app: ApiServer(origins, [s for s in SCENARIOS if s.app == app]) for app in APPS}
    for api in servers.values():
        api.server.start()
    try:
        yield servers
    finally:
        for api in servers.values():
            api.server.stop()


@pytest.fixture
def open_page(chromium: Any, api_servers: dict[str, ApiServer], origins: Origins) -> Iterator[Callable[[str], Any]]:
    """Opens the probe page at a page origin (a template) in a fresh browser context:
    own cookie jar, HTTP cache and preflight cache. The API origin holds the cookie
    ``session=s1`` (cookies ignore ports: every API server gets it) so credentialed
    requests can be told from the others."""
    context = chromium.new_context()
    context.add_cookies([{"name": "session", "value": "s1", "url": api_servers["shared"].base + "/"}])

    def open_at(origin: str) -> Any:
        page = context.new_page()
        page.goto(origins.fill(origin) + "/probe")
        return page

    try:
        yield open_at
    finally:
        context.close()
