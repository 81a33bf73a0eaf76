"""Discovering plugins and collecting the policies and security types they register."""

from __future__ import annotations

from typing import Any, Iterable

import pluggy

from . import hookspecs, security
from .errors import ConfigError
from .policy import Policy
from .security import SecurityType

ENTRY_POINT_GROUP = "flask_gravicors"


def make_plugin_manager(plugins: Iterable[Any] = (), entry_points: bool = True) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    # Built-in parts (the keyless security type) come through the same hooks.
    pm.register(security)
    if entry_points:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in plugins:
        if not pm.is_registered(plugin):
            pm.register(plugin)
    # Catch hook implementations with no matching spec now, not at a request.
    pm.check_pending()
    return pm


def _collect(batches: Any, base: type, what: str) -> dict[str, Any]:
    """name -> class from a registration hook's answers; a ConfigError naming every
    class that is not a named ``base`` subclass and every name given twice."""
    found: dict[str, Any] = {}
    problems: list[str] = []
    for batch in batches:
        for cls in batch or ():
            name = getattr(cls, "name", None)
            if not (isinstance(cls, type) and issubclass(cls, base)) or not isinstance(name, str):
                problems.append(f"gravicors.E003: {cls!r} is not a {base.__name__} subclass with a name")
            elif name in found and found[name] is not cls:
                problems.append(f"gravicors.E003: two plugins register the {what} name {name!r}")
            else:
                found[name] = cls
    if problems:
        raise ConfigError({"plugins": problems})
    return found


def collect_policies(pm: pluggy.PluginManager) -> dict[str, type[Policy]]:
    """name -> policy class, from every plugin's ``gravicors_register_policies``."""
    return _collect(pm.hook.gravicors_register_policies(), Policy, "policy")


def collect_security_types(pm: pluggy.PluginManager) -> dict[str, type[SecurityType]]:
    """name -> security type class, from every ``gravicors_register_security_types``."""
    return _collect(pm.hook.gravicors_register_security_types(), SecurityType, "security type")
