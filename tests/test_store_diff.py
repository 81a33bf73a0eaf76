"""What changed between two configs (flask_gravicors.store.diff): per API and field."""

from __future__ import annotations

from typing import Any

import pytest

from flask_gravicors.store.diff import MISSING, Change, changed_apis, diff_configs, printable


def api(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "context_path": f"/{name}", **fields}


CORS = {"enabled": True, "allow_origin": ["https://a.example"], "max_age": 600}

# (old, new, the changes as printed, the APIs changed)
ROWS: list[tuple[dict[str, Any], dict[str, Any], list[str], list[str]]] = [
    ({"apis": [api("orders")]}, {"apis": [api("orders")]}, [], []),
    (
        {"apis": [api("orders", cors=CORS)]},
        {"apis": [api("orders", cors={**CORS, "allow_origin": ["https://a.example", "https://b.example"]})]},
        ['api orders: cors.allow_origin: ["https://a.example"] -> ["https://a.example", "https://b.example"]'],
        ["orders"],
    ),
    (
        {"apis": [api("orders", cors=CORS)]},
        {"apis": [api("orders", cors={"enabled": True, "allow_origin": ["https://a.example"], "run_policies": True})]},
        ["api orders: cors.max_age: removed (was 600)", "api orders: cors.run_policies: added true"],
        ["orders"],
    ),
    (
        {"apis": [api("orders"), api("chat")]},
        {"apis": [api("public"), api("orders")]},
        ["api public: added", "api chat: removed"],
        ["public", "chat"],
    ),
    (
        {"apis": [api("orders", policies=[{"name": "api-key", "config": {"keys": ["k1"]}}])]},
        {"apis": [api("orders", policies=[{"name": "api-key", "config": {"keys": ["k2"]}}])]},
        [
            'api orders: policies: [{"name": "api-key", "config": {"keys": ["k1"]}}] -> [{"name": "api-key", "config": {"keys": ["k2"]}}]'
        ],
        ["orders"],
    ),
    # The type matters: 1 is not true.
    (
        {"apis": [api("o", cors={"enabled": 1})]},
        {"apis": [api("o", cors={"enabled": True})]},
        ["api o: cors.enabled: 1 -> true"],
        ["o"],
    ),
    ({}, {"apis": [api("orders")]}, ["api orders: added"], ["orders"]),
    ({"apis": [], "extra": 1}, {"apis": []}, ["(config): extra: removed (was 1)"], []),
    # Names and values that could break a terminal line are escaped.
    ({"apis": []}, {"apis": [api("evil\r\nX")]}, ["api evil\\r\\nX: added"], ["evil\r\nX"]),
    (
        {"apis": [api("o", description="a")]},
        {"apis": [api("o", description="\x1b[31mred")]},
        ['api o: description: "a" -> "\\u001b[31mred"'],
        ["o"],
    ),
]


@pytest.mark.parametrize(("old", "new", "printed", "changed"), ROWS)
def test_diff(old: dict[str, Any], new: dict[str, Any], printed: list[str], changed: list[str]) -> None:
    assert [str(c) for c in diff_configs(old, new)] == printed
    assert changed_apis(old, new) == changed


def test_change_fields() -> None:
    (change,) = diff_configs({"apis": [api("o", cors=CORS)]}, {"apis": [api("o", cors={**CORS, "max_age": 60})]})
    assert change == Change("o", "cors.max_age", 600, 60)
    assert change.kind == "changed"
    (added,) = diff_configs({"apis": []}, {"apis": [api("o")]})
    assert (added.api, added.field, added.old, added.new, added.kind) == ("o", "", MISSING, api("o"), "added")


@pytest.mark.parametrize(
    ("text", "shown"), [("plain text", "plain text"), ("a\nb", "a\\nb"), ("\x1b[2J", "\\x1b[2J"), ("café", "café")]
)
def test_printable(text: str, shown: str) -> None:
    assert printable(text) == shown
