"""Chromium is the judge: every row of ``scenarios.SCENARIOS`` runs in the browser.

For each row a fresh page at the row's page origin runs the row's JavaScript
against the API server (a real HTTP server on another port), and the test compares
what script saw, and which requests reached the server, with the row's verdict.

Run only these tests with ``python3 -m pytest tests/browser -q`` (one scenario:
``-k <row id>``); ``CI=true`` turns a missing /usr/bin/chromium into a failure.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from typing import Any

import pytest

from flask_gravicors import ConfigError

from .conftest import ApiServer, Origins
from .scenarios import APPS, FAMILIES, REJECTED, RESOLVED, SCENARIOS, Scenario, Verdict


def run_in_page(page: Any, request: str, url: str) -> dict[str, Any]:
    return page.evaluate(f"(URL) => probe(() => {request})", url)


def report(scenario: Scenario, problems: list[str], seen: dict[str, Any], api: ApiServer, what: str = "") -> str:
    answers = "\n    ".join(
        f"{e['method']} {e['path']} -> {e['status']} {e['headers']}" for e in api.log.under(api.prefix(scenario))
    )
    return (
        f"{scenario.id}{what}: browser disagrees:\n  "
        + "\n  ".join(problems)
        + f"\nscript saw: {seen}\nthe API server answered:\n    {answers}"
    )


def _last(entries: list[dict[str, Any]], preflight: bool) -> dict[str, Any] | None:
    for entry in reversed(entries):
        if entry["preflight"] == preflight:
            return entry
    return None


def _sent(entry: dict[str, Any] | None, expected: dict[str, str | None], what: str) -> list[str]:
    problems = []
    if entry is None:
        return [f"no {what} reached the server"] if expected else []
    for name, value in expected.items():
        got = entry["headers"].get(name)
        if got != value:
            problems.append(f"{what} header {name}: sent {got!r}, expected {value!r}")
    return problems


def mismatches(expect: Verdict, seen: dict[str, Any], api: ApiServer, scenario: Scenario, origins: Origins) -> list[str]:
    """Every way the browser's verdict differs from the row's; empty when it agrees."""
    expect = dataclasses.replace(
        expect,
        body=origins.fill(expect.body, id=scenario.id),
        readable=origins.fill(expect.readable, id=scenario.id),
        preflight_sent=origins.fill(expect.preflight_sent, id=scenario.id),
        response_sent=origins.fill(expect.response_sent, id=scenario.id),
    )
    problems = []
    if seen.get("outcome") != expect.outcome:
        problems.append(f"outcome: script saw {seen.get('outcome')!r}, expected {expect.outcome!r}")
    if expect.outcome == RESOLVED and seen.get("status") != expect.status:
        problems.append(f"status: script saw {seen.get('status')!r}, expected {expect.status!r}")
    if expect.outcome == REJECTED and (seen.get("body") or seen.get("headers")):
        problems.append("a rejected request leaked a body or headers to script")
    if isinstance(expect.body, str) and expect.body not in (seen.get("body") or ""):
        problems.append(f"body: {expect.body!r} not in {seen.get('body')!r}")
    elif isinstance(expect.body, dict):
        try:
            body = json.loads(seen.get("body") or "")
        except ValueError:
            body = None
        if not isinstance(body, dict) or any(body.get(k, "<absent>") != v for k, v in expect.body.items()):
            problems.append(f"body: {seen.get('body')!r} does not hold {expect.body!r}")
    readable = seen.get("headers") or {}
    for name, value in expect.readable.items():
        if readable.get(name) != value:
            problems.append(f"header {name}: script read {readable.get(name)!r}, expected {value!r}")
    for name in expect.unreadable:
        if name in readable:
            problems.append(f"header {name} is readable by script (should be filtered)")
    if expect.messages is not None and tuple(seen.get("messages") or ()) != expect.messages:
        problems.append(f"messages: script got {seen.get('messages')!r}, expected {list(expect.messages)!r}")

    entries = api.log.under(api.prefix(scenario))
    if expect.server is not None:
        counts = Counter(e["method"] for e in entries)
        for method, count in expect.server.items():
            if counts[method] != count:
                problems.append(f"server saw {counts[method]} {method} request(s), expected {count} (all: {dict(counts)})")
    preflight = _last(entries, preflight=True)
    if expect.preflight_status is not None:
        got = preflight["status"] if preflight else None
        if got != expect.preflight_status:
            problems.append(f"preflight answered {got!r}, expected {expect.preflight_status!r}")
    problems += _sent(preflight, dict(expect.preflight_sent), "preflight")
    problems += _sent(_last(entries, preflight=False), dict(expect.response_sent), "response")
    return problems


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_browser_verdict(scenario: Scenario, open_page: Any, api_servers: dict[str, ApiServer], origins: Origins) -> None:
    api_server = api_servers[scenario.app]
    page = open_page(scenario.page)
    url = api_server.url(scenario)
    seen = run_in_page(page, scenario.request, url)
    problems = mismatches(scenario.expect, seen, api_server, scenario, origins)
    assert not problems, report(scenario, problems, seen, api_server)

    step = scenario.then
    if step is None:
        return
    try:
        if step.hook is not None:
            api_server.set_hook(scenario, step.hook)
        if step.wait:
            time.sleep(step.wait)  # a cached decision expires: a wait, not a timed assertion
        if step.reconfigure is not None:
            if step.reconfigure_fails:
                with pytest.raises(ConfigError):
                    api_server.reconfigure(scenario, step.reconfigure, step.policies)
            else:
                api_server.reconfigure(scenario, step.reconfigure, step.policies)
        if step.page is not None:
            page = open_page(step.page)
        seen = run_in_page(page, step.request, url)
        problems = mismatches(step.expect, seen, api_server, scenario, origins)
        assert not problems, report(scenario, problems, seen, api_server, " (second request)")
    finally:
        if step.reconfigure is not None and not step.reconfigure_fails:
            api_server.restore()


def test_table_is_complete() -> None:
    """At least 40 rows, unique ids, and every family with an allowed and a refused case."""
    assert len(SCENARIOS) >= 40
    assert len({s.id for s in SCENARIOS}) == len(SCENARIOS)
    for family in FAMILIES:
        outcomes = {s.expect.outcome for s in SCENARIOS if s.family == family}
        outcomes |= {s.then.expect.outcome for s in SCENARIOS if s.family == family and s.then}
        assert outcomes == {RESOLVED, REJECTED}, f"family {family!r} lacks an allowed or a refused case"
    assert {s.family for s in SCENARIOS} == set(FAMILIES)
    assert {s.app for s in SCENARIOS} == set(APPS)
    # The policy-free app must start without policies, or it tests nothing.
    assert not any(s.policies or s.plans or s.flows for s in SCENARIOS if s.app == "policy-free")
