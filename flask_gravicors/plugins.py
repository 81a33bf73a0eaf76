"""Discovering plugins and collecting the policies they register."""

from __future__ import annotations

from typing import Any, Iterable

import pluggy

from . import hookspecs
from .errors import ConfigError
from .policy import Policy

ENTRY_POINT_GROUP = "flask_gravicors"


def make_plugin_manager(plugins: Iterable[Any] = (), entry_points: bool = True) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    if entry_points:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in plugins:
        if not pm.is_registered(plugin):
            pm.register(plugin)
    # Catch hook implementations with no matching spec now, not at a request.
    pm.check_pending()
    return pm


def collect_policies(pm: pluggy.PluginManager) -> dict[str, type[Policy]]:
    """name -> policy class, from every plugin's ``gravicors_register_policies``."""
    found: dict[str, type[Policy]] = {}
    problems: list[str] = []
    for batch in pm.hook.gravicors_register_policies():
        for policy in batch or ():
            name = getattr(policy, "name", None)
            if not (isinstance(policy, type) and issubclass(policy, Policy)) or not isinstance(name, str):
                problems.append(f"gravicors.E003: {policy!r} is not a Policy subclass with a name")
            elif name in found and found[name] is not policy:
                problems.append(f"gravicors.E003: two plugins register the policy name {name!r}")
            else:
                found[name] = policy
    if problems:
        raise ConfigError({"plugins": problems})
    return found
