"""What changed between two configs, per API and field (pure: no Flask, no SQL).

Configs are compared as saved (as their authors wrote them). APIs are matched by
name; inside an API, objects are compared field by field (``cors.allow_origin``)
and anything else (lists, numbers, strings) as a whole value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from ..errors import printable

#: A field absent on one side of a :class:`Change`.
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()


def _value(value: Any) -> str:
    # ensure_ascii escapes control characters too: one safe line.
    return json.dumps(value, ensure_ascii=True, separators=(", ", ": "))


@dataclass(frozen=True)
class Change:
    """One difference. ``api`` is the API's name (``None``: a field outside
    ``apis``); ``field`` the dotted path inside it (``""``: the whole API was
    added or removed); ``old``/``new`` are :data:`MISSING` on the side that lacks it."""

    api: str | None
    field: str
    old: Any = MISSING
    new: Any = MISSING

    @property
    def kind(self) -> str:
        if self.old is MISSING:
            return "added"
        if self.new is MISSING:
            return "removed"
        return "changed"

    def __str__(self) -> str:
        where = "(config)" if self.api is None else f"api {printable(self.api)}"
        if not self.field:
            return f"{where}: {self.kind}"
        head = f"{where}: {printable(self.field)}:"
        if self.kind == "added":
            return f"{head} added {_value(self.new)}"
        if self.kind == "removed":
            return f"{head} removed (was {_value(self.old)})"
        return f"{head} {_value(self.old)} -> {_value(self.new)}"


def _apis(config: Mapping[str, Any]) -> dict[str, Any]:
    """The APIs of ``config`` by name (an API without a string name: by position)."""
    apis = config.get("apis")
    if not isinstance(apis, list):
        return {}
    out: dict[str, Any] = {}
    for index, api in enumerate(apis):
        name = api.get("name") if isinstance(api, Mapping) else None
        out[name if isinstance(name, str) else f"apis[{index}]"] = api
    return out


def _fields(api: str | None, path: str, old: Any, new: Any) -> Iterator[Change]:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in [*old, *(k for k in new if k not in old)]:
            sub = f"{path}.{key}" if path else str(key)
            yield from _fields(api, sub, old.get(key, MISSING), new.get(key, MISSING))
    elif old != new or type(old) is not type(new):
        yield Change(api, path, old, new)


def diff_configs(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every difference from ``old`` to ``new``: fields outside ``apis`` first, then
    APIs in ``new``'s order (changed or added), then the removed ones."""
    changes = list(
        _fields(None, "", {k: v for k, v in old.items() if k != "apis"}, {k: v for k, v in new.items() if k != "apis"})
    )
    before, after = _apis(old), _apis(new)
    for name, api in after.items():
        if name not in before:
            changes.append(Change(name, "", MISSING, api))
        else:
            changes.extend(_fields(name, "", before[name], api))
    changes.extend(Change(name, "", api, MISSING) for name, api in before.items() if name not in after)
    return changes


def changed_apis(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The names of the APIs that differ from ``old`` to ``new``, once each."""
    return list(dict.fromkeys(c.api for c in diff_configs(old, new) if c.api is not None))


__all__ = ["Change", "MISSING", "diff_configs", "changed_apis", "printable"]
