"""Plans (flask_gravicors.security): the security chain that picks a plan.

A table of plans (made of test security types that accept a header's value) and
requests: which plan the chain picks, or which failure it answers. The rules are
Gravitee's security chain: plans in their type's order, the first whose security
can handle the request authenticates it, a present but wrong credential never
falls through to keyless, nothing that can handle the request is 401
GATEWAY_PLAN_UNRESOLVABLE.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Request
from werkzeug.test import EnvironBuilder

from flask_gravicors import Failure, SecurityType
from flask_gravicors.security import CompiledPlan, Keyless, select_plan, sort_plans


class HeaderToken(SecurityType):
    """Handles requests with header X-<name>; accepts the value in ``accept``."""

    name = "header-token"
    order = 500

    def can_handle(self, request: Request) -> bool:
        return f"X-{self.config['header']}" in request.headers

    def authenticate(self, request: Request) -> Failure | None:
        if request.headers[f"X-{self.config['header']}"] in self.config["accept"]:
            return None
        return Failure(401, f"{self.config['header'].upper()}_INVALID", "Unauthorized")


class EarlyToken(HeaderToken):
    order = 0


def plan(name: str, cls: type[SecurityType] = HeaderToken, **config: Any) -> CompiledPlan:
    return CompiledPlan(name, cls(config, "api", name), None)


JWT = plan("jwt", EarlyToken, header="Jwt", accept=["j1"])
GOLD = plan("gold", header="Key", accept=["k1"])
SILVER = plan("silver", header="Key", accept=["k2"])
FREE = plan("free", Keyless)

# (id, plans as written, request headers, chosen plan name or failure key)
ROWS = [
    ("keyless alone takes anything", [FREE], {}, "free"),
    ("no plan can handle it", [GOLD], {}, "GATEWAY_PLAN_UNRESOLVABLE"),
    ("right key", [GOLD, FREE], {"X-Key": "k1"}, "gold"),
    ("no key: keyless", [GOLD, FREE], {}, "free"),
    ("wrong key never falls through to keyless", [FREE, GOLD], {"X-Key": "zz"}, "KEY_INVALID"),
    ("a second plan of the same type is tried", [GOLD, SILVER, FREE], {"X-Key": "k2"}, "silver"),
    ("order, not position, decides (jwt before keys)", [GOLD, JWT], {"X-Key": "k1", "X-Jwt": "j1"}, "jwt"),
    ("a wrong jwt is refused even with a right key", [GOLD, JWT], {"X-Key": "k1", "X-Jwt": "bad"}, "gold"),
    ("the first failure is the answer", [JWT, GOLD, FREE], {"X-Key": "zz", "X-Jwt": "bad"}, "JWT_INVALID"),
    ("a credential for a type the API has no plan of: keyless", [GOLD, FREE], {"X-Jwt": "j1"}, "free"),
]


@pytest.mark.parametrize(("plans", "headers", "expected"), [pytest.param(*r[1:], id=r[0]) for r in ROWS])
def test_select_plan(plans: list[CompiledPlan], headers: dict[str, str], expected: str) -> None:
    request = Request(EnvironBuilder(headers=headers).get_environ())
    chosen, failure = select_plan(sort_plans(plans), request)
    assert (chosen.name if chosen is not None else failure.key) == expected  # type: ignore[union-attr]
    assert (chosen is None) is (failure is not None)


def test_sort_is_stable_within_an_order() -> None:
    assert [p.name for p in sort_plans([FREE, SILVER, JWT, GOLD])] == ["jwt", "silver", "gold", "free"]
