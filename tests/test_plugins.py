"""Plugin discovery and policy registration; the Policy base class."""

from __future__ import annotations

from typing import Any

import pytest

from flask_gravicors import ConfigError, Policy, hookimpl
from flask_gravicors.plugins import collect_policies, make_plugin_manager


class Quiet(Policy):
    name = "quiet"


class Loud(Policy):
    name = "loud"

    def on_response(self, request: Any, response: Any) -> None:
        return None


def plugin(*policies: Any) -> object:
    class Plugin:
        @hookimpl
        def gravicors_register_policies(self) -> Any:
            return list(policies) if policies else None

    return Plugin()


@pytest.mark.parametrize(
    ("plugins", "expected"),
    [
        ([plugin(Quiet)], {"quiet"}),
        ([plugin(Quiet), plugin(Loud)], {"quiet", "loud"}),
        ([plugin()], set()),  # None contributes nothing
        ([plugin(Quiet), plugin(Quiet)], {"quiet"}),  # the same class twice is harmless
    ],
)
def test_collect(plugins: list[object], expected: set[str]) -> None:
    assert set(collect_policies(make_plugin_manager(plugins, entry_points=False))) == expected


@pytest.mark.parametrize("bad", [object, "quiet", type("NoName", (Policy,), {})])
def test_non_policies_are_refused(bad: Any) -> None:
    with pytest.raises(ConfigError, match="not a Policy subclass"):
        collect_policies(make_plugin_manager([plugin(bad)], entry_points=False))


def test_acts_on_response_only_when_overridden() -> None:
    assert not Quiet({}, "api").acts_on_response
    assert Loud({}, "api").acts_on_response


def test_base_policy_lets_everything_through() -> None:
    policy = Quiet({"a": 1}, "orders")
    assert (policy.config, policy.api_name) == ({"a": 1}, "orders")
    assert policy.on_request(None) is None  # type: ignore[arg-type]
    assert policy.on_response(None, None) is None  # type: ignore[arg-type]
