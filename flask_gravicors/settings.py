"""The app's own settings (``app.config["GRAVICORS_*"]`` keys other than the config),
read strictly: a wrong type is ``gravicors.E003`` naming the key, never read loosely
(``"no"`` is not false, ``"1"`` is not true) and never another exception out of
``init_app``. The rule is the config's (:mod:`flask_gravicors.strict`): booleans
are ``bool``, numbers are ``int`` or ``float`` and not ``bool``.
"""

from __future__ import annotations

from typing import Any, Mapping

from .errors import ConfigError, problem


def flag(config: Mapping[str, Any], key: str, default: bool | None = False) -> bool | None:
    """``config[key]``: True or False (``default`` when unset, which may be
    ``None`` for "not set, decide otherwise"); anything else is gravicors.E003."""
    value = config.get(key, default)
    if value is default or isinstance(value, bool):
        return value
    raise ConfigError({key: [problem("gravicors.E003", f"{value!r}: True or False")]})


def number(config: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    """``config[key]``: a number of seconds from ``low`` to ``high`` (``default``
    when unset); anything else is gravicors.E003."""
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ConfigError({key: [problem("gravicors.E003", f"{value!r}: a number of seconds, {low:g} to {high:g}")]})
    return float(value)


def text(config: Mapping[str, Any], key: str) -> str | None:
    """``config[key]``: a non-empty string, or ``None`` when unset or empty;
    anything else is gravicors.E003."""
    value = config.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError({key: [problem("gravicors.E003", f"{value!r}: a string")]})
    return value
