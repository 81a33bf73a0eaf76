"""Semantic refusal rules, each with a stable id from :data:`errors.RULES`.

Pure functions over the raw (type-unchecked) input: marshmallow reports wrong
types; these report values that are well-typed but wrong or unsafe. Each returns
marshmallow-shaped messages (``{"allow_origin": {2: ["gravicors.E020: ..."]}}``)
so paths keep the indices the user wrote, and every rule runs even when others
fail: a ConfigError names every problem at once.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from .core import TOKEN_RE
from .errors import problem
from .origins import is_regex, parse_origin, wildcard_key

Messages = dict[Any, Any]

#: Gravitee's field names in an API definition's ``cors`` block -> ours.
GRAVITEE_NAMES = {
    "allowOrigin": "allow_origin",
    "allowMethods": "allow_methods",
    "allowHeaders": "allow_headers",
    "allowCredentials": "allow_credentials",
    "maxAge": "max_age",
    "exposeHeaders": "expose_headers",
    "runPolicies": "run_policies",
    "allowPrivateNetwork": "allow_private_network",
}

MAX_AGE_LIMIT = 86400

_CONTEXT_PATH_RE = re.compile(r"/|(/[^/\s?#]+)+")


def _add(found: Messages, path: tuple[Any, ...], message: str) -> None:
    node = found
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node.setdefault(path[-1], []).append(message)


def gravitee_renamed(cors: Mapping[str, Any]) -> dict[str, Any]:
    """``cors`` with Gravitee's camelCase names turned into ours.

    When both spellings are given ours wins here and :func:`check_cors` reports it.
    """
    out = dict(cors)
    for theirs, ours in GRAVITEE_NAMES.items():
        if theirs in out:
            value = out.pop(theirs)
            out.setdefault(ours, value)
    return out


def _items(value: Any) -> list[tuple[int, str]]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]


def check_origin(entry: str) -> list[str]:
    """Problems with one ``allow_origin`` entry."""
    if entry in ("*", "null"):
        return []
    if is_regex(entry):
        try:
            re.compile(entry)
        except re.error as err:
            return [problem("gravicors.E021", f"{entry!r}: {err}")]
        return []
    parsed = parse_origin(entry)
    if parsed is None:
        if "*" in entry:
            return [problem("gravicors.E022", repr(entry))]
        return [problem("gravicors.E020", repr(entry))]
    if "*" in parsed.host and wildcard_key(parsed) is None:
        return [problem("gravicors.E022", repr(entry))]
    return []


def check_cors(raw: Mapping[str, Any]) -> Messages:
    """Every rule over one ``cors`` block (either naming style)."""
    found: Messages = {}
    for theirs, ours in GRAVITEE_NAMES.items():
        if theirs in raw and ours in raw:
            _add(found, (theirs,), problem("gravicors.E005", f"{theirs!r} and {ours!r}"))
    cors = gravitee_renamed(raw)

    for i, entry in _items(cors.get("allow_origin")):
        for message in check_origin(entry):
            _add(found, ("allow_origin", i), message)
    for i, method in _items(cors.get("allow_methods")):
        if method != "*" and TOKEN_RE.fullmatch(method) is None:
            _add(found, ("allow_methods", i), problem("gravicors.E030", repr(method)))
    for field in ("allow_headers", "expose_headers"):
        for i, name in _items(cors.get(field)):
            if name != "*" and TOKEN_RE.fullmatch(name) is None:
                _add(found, (field, i), problem("gravicors.E031", repr(name)))

    max_age = cors.get("max_age")
    if isinstance(max_age, int) and not isinstance(max_age, bool) and not -1 <= max_age <= MAX_AGE_LIMIT:
        _add(found, ("max_age",), problem("gravicors.E040", str(max_age)))
    return found


def check_binding(api: Mapping[str, Any]) -> Messages:
    """An API is bound to exactly one context path or blueprint."""
    found: Messages = {}
    path = api.get("context_path")
    blueprint = api.get("blueprint")
    if (path is None) == (blueprint is None):
        _add(found, ("_schema",), problem("gravicors.E011", "give context_path or blueprint"))
    if isinstance(path, str):
        segments = path.split("/")
        if _CONTEXT_PATH_RE.fullmatch(path) is None or "." in segments or ".." in segments:
            _add(found, ("context_path",), problem("gravicors.E012", repr(path)))
    return found


def check_unique_apis(apis: Any) -> Messages:
    """API names, context paths and blueprints are each used once."""
    found: Messages = {}
    if not isinstance(apis, (list, tuple)):
        return found
    seen: dict[tuple[str, Any], int] = {}
    for i, api in enumerate(apis):
        if not isinstance(api, Mapping):
            continue
        for field, rule in (("name", "gravicors.E010"), ("context_path", "gravicors.E013"), ("blueprint", "gravicors.E013")):
            value = api.get(field)
            if not isinstance(value, str):
                continue
            first = seen.setdefault((field, value), i)
            if first != i:
                _add(found, (i, field), problem(rule, f"{value!r} is also used by apis[{first}]"))
    return {"apis": found} if found else found


def config_warnings(config: Mapping[str, Any], debug: bool) -> list[str]:
    """Warnings for a loaded config: logged when it takes effect, never refused."""
    from .core import CORS_ENTRYPOINTS

    out: list[str] = []
    for api in config.get("apis", ()):
        cors = api["cors"]
        if not cors["enabled"]:
            continue
        where = f"API {api['name']!r}"
        if CORS_ENTRYPOINTS.isdisjoint(api["entrypoints"]):
            out.append(problem("gravicors.W001", f"{where} has entrypoints {api['entrypoints']}"))
            continue
        if "*" in cors["allow_origin"] and not debug:
            out.append(problem("gravicors.W002", where))
        if "TRACE" in cors["allow_methods"]:
            out.append(problem("gravicors.W003", where))
        if cors["max_age"] > 7200:
            out.append(problem("gravicors.W004", f"{where}: {cors['max_age']}"))
    return out
