"""The Cors tab's values, between a stored ``cors`` block and the form (pure: no Flask).

The console edits only the fields of the Cors tab. A save takes the config of the
version the form was opened on, replaces those fields of the API's ``cors`` block
(under our names, dropping Gravitee's camelCase spelling of the same field) and
keeps everything else as it was: other APIs, the API's other fields (plans,
flows, policies, fields this console does not know), other keys of the block.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ..checks import DANGEROUS_OPTIONS, GRAVITEE_NAMES, gravitee_renamed
from ..errors import Problem

#: The methods Gravitee's Cors tab offers, in its order (the seed's list).
METHODS = ("GET", "DELETE", "PATCH", "POST", "PUT", "OPTIONS", "TRACE", "HEAD")
#: Fields entered one per line.
LINES = ("allow_origin", "allow_headers", "expose_headers")
#: On/off fields; the last four sit under "Advanced".
FLAGS = ("enabled", "allow_credentials", "run_policies", "allow_private_network", *DANGEROUS_OPTIONS)
ADVANCED = ("allow_private_network", *DANGEROUS_OPTIONS)
#: Every field of the tab, in the page's order.
FIELDS = (
    "enabled",
    "allow_origin",
    "allow_methods",
    "allow_headers",
    "allow_credentials",
    "max_age",
    "expose_headers",
    "run_policies",
    *ADVANCED,
)
_CAMEL = {ours: theirs for theirs, ours in GRAVITEE_NAMES.items()}
_INTEGER = re.compile(r"[+-]?\d{1,18}")
_PATH = re.compile(r"apis\[(\d+)\]\.cors(?:\.(\w+)(?:\[(\d+)\])?)?")

Values = dict[str, Any]


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    return []


def stored_values(cors: Any) -> Values:
    """The tab's values of a stored ``cors`` block (as written: either spelling, a
    single string for a list), with the schema's defaults for absent fields."""
    block = gravitee_renamed(cors) if isinstance(cors, Mapping) else {}
    values: Values = {}
    for name in FIELDS:
        value = block.get(name)
        if name in FLAGS:
            values[name] = value is True
        elif name == "max_age":
            values[name] = value if isinstance(value, int) and not isinstance(value, bool) else -1
        else:
            values[name] = [item for item in _as_list(value) if isinstance(item, str)]
    return values


def lines(text: str | None) -> list[str]:
    """One entry per line, each trimmed; empty lines ignored."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def max_age_value(text: str | None) -> Any:
    """An integer when the text is one; empty: -1 (disabled); anything else stays
    text, and the config's own check refuses it (gravicors.E003) next to the field."""
    text = (text or "").strip()
    if not text:
        return -1
    return int(text) if _INTEGER.fullmatch(text) else text


def submitted_values(form: Mapping[str, Any]) -> Values:
    """The tab's values from a submitted form's data (WTForms ``form.data``)."""
    values: Values = {}
    for name in FIELDS:
        if name in FLAGS:
            values[name] = bool(form.get(name))
        elif name == "max_age":
            values[name] = max_age_value(form.get(name))
        elif name == "allow_methods":
            values[name] = [m for m in (form.get(name) or []) if isinstance(m, str)]
        else:
            values[name] = lines(form.get(name))
    return values


def form_data(values: Values) -> dict[str, Any]:
    """``values`` as the form shows them (lists as lines of text)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in LINES:
            out[name] = "\n".join(value)
        elif name == "max_age":
            out[name] = str(value)
        else:
            out[name] = value
    return out


def find_api(config: Mapping[str, Any], name: str) -> tuple[int, Mapping[str, Any]] | None:
    """(index, API) of the API called ``name`` in ``config``."""
    apis = config.get("apis")
    for index, api in enumerate(apis if isinstance(apis, list) else ()):
        if isinstance(api, Mapping) and api.get("name") == name:
            return index, api
    return None


def with_cors(config: Mapping[str, Any], name: str, values: Values) -> dict[str, Any]:
    """A copy of ``config`` whose API ``name`` has the tab's fields set to ``values``.

    Only the fields whose value differs from the stored one are written (under our
    name; Gravitee's spelling of the same field is dropped); everything else keeps
    its stored form. ``KeyError`` when there is no such API."""
    found = find_api(config, name)
    if found is None:
        raise KeyError(name)
    index, api = found
    before = stored_values(api.get("cors"))
    new = copy.deepcopy(dict(config))
    written = new["apis"][index]
    block = dict(written["cors"]) if isinstance(written.get("cors"), Mapping) else {}
    for field_name in changed(before, values):
        block.pop(_CAMEL.get(field_name, ""), None)
        block[field_name] = copy.deepcopy(values[field_name])
    written["cors"] = block
    return new


def changed(before: Values, after: Values) -> set[str]:
    return {name for name in FIELDS if before.get(name) != after.get(name)}


def merge(base: Values, mine: Values, theirs: Values) -> tuple[Values, set[str]]:
    """The values to show after a conflict: each field I changed keeps what I typed,
    each field only they changed takes theirs. Returns them and the fields we both
    changed (to differing values), where mine is kept and theirs is to be shown."""
    mine_changed, theirs_changed = changed(base, mine), changed(base, theirs)
    merged = {name: (mine if name in mine_changed or name not in theirs_changed else theirs)[name] for name in FIELDS}
    both = {name for name in mine_changed & theirs_changed if mine[name] != theirs[name]}
    return merged, both


@dataclass
class FieldProblem:
    """A problem shown next to a field; ``entry`` the value of the list item it is about."""

    problem: Problem
    entry: str | None = None


@dataclass
class Placed:
    """A save's problems, by field of the tab; the rest in ``others``."""

    fields: dict[str, list[FieldProblem]] = field(default_factory=dict)
    others: list[Problem] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.others)


def place(problems: Sequence[Problem], index: int, values: Values) -> Placed:
    """Map each problem's path (``apis[3].cors.allow_origin[2]``) to the field of the
    tab it is about, when it is about API ``index``'s ``cors`` block."""
    placed = Placed()
    for problem in problems:
        found = _PATH.fullmatch(problem.path)
        name = found.group(2) if found and int(found.group(1)) == index else None
        name = GRAVITEE_NAMES.get(name or "", name)
        if found is None or int(found.group(1)) != index or (name is not None and name not in FIELDS):
            placed.others.append(problem)
            continue
        entry = None
        if name is not None and found.group(3) is not None:
            items = values.get(name)
            item = int(found.group(3))
            if isinstance(items, list) and item < len(items):
                entry = str(items[item])
        placed.fields.setdefault(name or "_block", []).append(FieldProblem(problem, entry))
    return placed


__all__ = [
    "METHODS",
    "FIELDS",
    "FLAGS",
    "ADVANCED",
    "LINES",
    "stored_values",
    "submitted_values",
    "form_data",
    "find_api",
    "with_cors",
    "merge",
    "place",
    "Placed",
    "FieldProblem",
]
