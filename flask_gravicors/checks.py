"""Semantic refusal rules, each with a stable id from :data:`errors.RULES`.

Pure functions over the raw (type-unchecked) input: marshmallow reports wrong
types; these report values that are well-typed but wrong or unsafe. Each returns
marshmallow-shaped messages (``{"allow_origin": {2: ["gravicors.E020: ..."]}}``)
so paths keep the indices the user wrote, and every rule runs even when others
fail: a ConfigError names every problem at once.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Mapping

from marshmallow import fields

from .core import TOKEN_RE
from .errors import problem
from .origins import (
    HOST_NAME_RE,
    default_port,
    is_ip_literal,
    is_loopback_host,
    is_public_suffix,
    is_regex,
    split_origin,
)

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


def gravitee_renamed(cors: Mapping[str, Any], names: Mapping[str, str] = GRAVITEE_NAMES) -> dict[str, Any]:
    """``cors`` (or any block whose camelCase ``names`` map to ours) with
    Gravitee's camelCase names turned into ours.

    When both spellings are given ours wins here and :func:`check_cors` (or
    :func:`both_spellings`) reports it.
    """
    out = dict(cors)
    for theirs, ours in names.items():
        if theirs in out:
            value = out.pop(theirs)
            out.setdefault(ours, value)
    return out


def names_as_written(messages: Messages, cors: Mapping[str, Any], names: Mapping[str, str] = GRAVITEE_NAMES) -> Messages:
    """``messages`` about a ``cors`` block (or another block with camelCase
    ``names``) keyed by the names its author used: a field given only in
    Gravitee's spelling is reported under that spelling. Returns ``messages``
    itself when nothing is renamed."""
    theirs_of = {ours: theirs for theirs, ours in names.items() if theirs in cors and ours not in cors}
    if theirs_of.keys().isdisjoint(messages):
        return messages
    return {theirs_of.get(key, key): value for key, value in messages.items()}


def _items(value: Any) -> list[tuple[int, str]]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]


#: Fetch "forbidden method": browsers never send these (compared case-insensitively).
#: TRACE is forbidden too but stays selectable, as Gravitee lists it (warning W003).
FORBIDDEN_METHODS = frozenset({"CONNECT", "TRACK"})

#: Methods browsers upper-case before sending (Fetch "normalize a method").
NORMALIZED_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})

#: Fetch "forbidden request-header": a script cannot set them, so allowing one
#: means nothing (lower case; plus every name starting ``proxy-`` or ``sec-``).
FORBIDDEN_REQUEST_HEADERS = frozenset(
    {
        "accept-charset",
        "accept-encoding",
        "connection",
        "content-length",
        "cookie",
        "cookie2",
        "date",
        "dnt",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "referer",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
    }
)
FORBIDDEN_REQUEST_HEADER_PREFIXES = ("proxy-", "sec-")

#: Fetch "forbidden response-header name": never readable by scripts.
NEVER_EXPOSED = frozenset({"set-cookie", "set-cookie2"})

#: The explicit opt-ins that lift a refusal (jub0bs/cors' ``Dangerously...`` options).
DANGEROUS_OPTIONS = {
    "dangerously_allow_any_origin_with_credentials": "gravicors.E023",
    "dangerously_allow_null_origin": "gravicors.E024",
    "dangerously_allow_insecure_origins": "gravicors.E028",
}


def _flag(cors: Mapping[str, Any], name: str) -> bool:
    """A boolean field as marshmallow will load it; anything it refuses is false."""
    value = cors.get(name, False)
    if value is True:
        return True
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return value in fields.Boolean.truthy
    return False


def _punycode_hint(host: str) -> str:
    try:
        return f"; in punycode: {host.encode('idna').decode('ascii')}"
    except UnicodeError:
        return ""


# Python's \s on str is exactly str.isspace(), in one C call per entry (a
# 100 000-origin config checks in a fraction of the per-character loop's time).
_WHITESPACE = re.compile(r"\s")

# The shape of nearly every configured origin (lower-case https, a host name, no
# port) in one C match: large configs skip the full parse for it. A subset of
# what origin_problem accepts (checked in tests/test_checks.py).
_PLAIN_HTTPS = re.compile(r"https://[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")


def origin_problem(entry: str) -> tuple[str, str] | None:
    """The first reason why ``entry`` (not ``*``, ``null`` or a regex) is not a
    well-formed ``scheme://host[:port]`` origin, as ``(rule id, detail)``."""
    shown = repr(entry)
    if _WHITESPACE.search(entry) is not None:
        return "gravicors.E020", f"{shown} contains whitespace"
    if not entry.isprintable():
        return "gravicors.E020", f"{shown} contains control characters"
    parts = split_origin(entry)
    if parts is None:
        return "gravicors.E020", f"{shown} does not start with scheme://"
    if not parts.host.isascii():
        return "gravicors.E026", shown + _punycode_hint(parts.host)
    if parts.userinfo:
        return "gravicors.E020", f"{shown} has userinfo (user@)"
    if parts.tail:
        what = {"/": "a path", "?": "a query", "#": "a fragment"}[parts.tail[0]]
        if parts.tail == "/":
            what = "a trailing slash"
        return "gravicors.E020", f"{shown} has {what}"
    host, port = parts.host, parts.port
    if not host:
        return "gravicors.E020", f"{shown} has no host"
    if port is not None:
        if not (port.isdigit() and port.isascii()) or port != str(int(port)) or not 0 < int(port) <= 65535:
            return "gravicors.E027", f"{shown}: port {port!r}"
        if port == default_port(parts.scheme):
            return "gravicors.E025", f"{shown}: {port} is the default port of {parts.scheme}"
    if host.startswith("["):
        if not is_ip_literal(host):
            return "gravicors.E020", f"{shown}: {host!r} is not an IPv6 address"
        canonical = f"[{ipaddress.IPv6Address(host[1:-1])}]"
        if host.lower() != canonical:
            # Browsers serialise IPv6 hosts compressed (RFC 5952); others never match.
            return "gravicors.E020", f"{shown}: browsers send the host as {canonical}"
        return None
    if "*" in host:
        suffix = host[2:]
        if not host.startswith("*.") or "*" in suffix or HOST_NAME_RE.fullmatch(suffix) is None:
            return "gravicors.E022", shown
        if is_ip_literal(suffix):
            return "gravicors.E022", f"{shown}: {suffix!r} is an IP address"
        if is_public_suffix(suffix):
            return "gravicors.E029", f"{shown}: {suffix!r} is a public suffix"
        return None
    if host.endswith("."):
        return "gravicors.E020", f"{shown} has a trailing dot"
    if HOST_NAME_RE.fullmatch(host) is None:
        return "gravicors.E020", f"{shown}: {host!r} is not a host name"
    return None


def check_origin(entry: str) -> list[str]:
    """Problems with the form of one ``allow_origin`` entry, whatever the rest of
    the config says (the combinations are :func:`check_cors`' business)."""
    if entry in ("*", "null"):
        return []
    if is_regex(entry):
        try:
            re.compile(entry)
        except re.error as err:
            return [problem("gravicors.E021", f"{entry!r}: {err}")]
        return []
    found = origin_problem(entry)
    return [problem(*found)] if found else []


def _check_origins(cors: Mapping[str, Any], found: Messages) -> None:
    credentials = _flag(cors, "allow_credentials")
    any_with_credentials = _flag(cors, "dangerously_allow_any_origin_with_credentials")
    allow_null = _flag(cors, "dangerously_allow_null_origin")
    allow_insecure = _flag(cors, "dangerously_allow_insecure_origins")
    for i, entry in _items(cors.get("allow_origin")):
        where = ("allow_origin", i)
        if entry == "*":
            if credentials and not any_with_credentials:
                _add(found, where, problem("gravicors.E023", "'*' would send every site's requests with the user's cookies"))
            continue
        if entry.lower() == "null":
            if not allow_null:
                _add(found, where, problem("gravicors.E024", repr(entry)))
            continue
        if _PLAIN_HTTPS.fullmatch(entry) is not None:
            continue  # well formed, secure, no port: no rule below can refuse it
        messages = check_origin(entry)
        for message in messages:
            _add(found, where, message)
        if messages or is_regex(entry) or not credentials or allow_insecure:
            continue
        parts = split_origin(entry)
        if parts is not None and parts.scheme.lower() == "http":
            host = parts.host[2:] if parts.host.startswith("*.") else parts.host
            if not is_loopback_host(host):
                _add(found, where, problem("gravicors.E028", repr(entry)))
    origins = cors.get("allow_origin")
    if _flag(cors, "allow_private_network") and (origins == "*" or (isinstance(origins, (list, tuple)) and "*" in origins)):
        _add(found, ("allow_private_network",), problem("gravicors.E050", "allow_origin holds '*'"))


def both_spellings(raw: Mapping[str, Any], names: Mapping[str, str] = GRAVITEE_NAMES) -> Messages:
    """gravicors.E005 for every field given under both of its spellings."""
    found: Messages = {}
    for theirs, ours in names.items():
        if theirs in raw and ours in raw:
            _add(found, (theirs,), problem("gravicors.E005", f"{theirs!r} and {ours!r}"))
    return found


def check_cors(raw: Mapping[str, Any]) -> Messages:
    """Every rule over one ``cors`` block (either naming style)."""
    found = both_spellings(raw)
    cors = gravitee_renamed(raw)

    _check_origins(cors, found)
    for i, method in _items(cors.get("allow_methods")):
        if method == "*":
            continue
        if TOKEN_RE.fullmatch(method) is None:
            _add(found, ("allow_methods", i), problem("gravicors.E030", repr(method)))
        elif method.upper() in FORBIDDEN_METHODS:
            _add(found, ("allow_methods", i), problem("gravicors.E032", repr(method)))
    for i, name in _items(cors.get("allow_headers")):
        lower = name.lower()
        if name == "*":
            continue
        if TOKEN_RE.fullmatch(name) is None:
            _add(found, ("allow_headers", i), problem("gravicors.E031", repr(name)))
        elif lower.startswith("access-control-"):
            _add(found, ("allow_headers", i), problem("gravicors.E034", repr(name)))
        elif lower in FORBIDDEN_REQUEST_HEADERS or lower.startswith(FORBIDDEN_REQUEST_HEADER_PREFIXES):
            _add(found, ("allow_headers", i), problem("gravicors.E033", repr(name)))
    credentials = _flag(cors, "allow_credentials")
    for i, name in _items(cors.get("expose_headers")):
        if name == "*":
            if credentials:
                _add(found, ("expose_headers", i), problem("gravicors.E035", "allow_credentials is on"))
        elif TOKEN_RE.fullmatch(name) is None:
            _add(found, ("expose_headers", i), problem("gravicors.E031", repr(name)))
        elif name.lower() in NEVER_EXPOSED:
            _add(found, ("expose_headers", i), problem("gravicors.E036", repr(name)))

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
        for plan in api.get("plans", ()):
            if "legacy_index" in plan:
                detail = f"API {api['name']!r}: policies[{plan['legacy_index']}] is plan {plan['name']!r}"
                out.append(problem("gravicors.W010", detail))
        cors = api["cors"]
        if not cors["enabled"]:
            continue
        where = f"API {api['name']!r}"
        if CORS_ENTRYPOINTS.isdisjoint(api["entrypoints"]):
            out.append(problem("gravicors.W001", f"{where} has entrypoints {api['entrypoints']}"))
            continue
        if "*" in cors["allow_origin"] and not debug:
            out.append(problem("gravicors.W002", where))
        if any(m.upper() == "TRACE" for m in cors["allow_methods"]):
            out.append(problem("gravicors.W003", where))
        if cors["max_age"] > 7200:
            out.append(problem("gravicors.W004", f"{where}: {cors['max_age']}"))
        for option in DANGEROUS_OPTIONS:
            if cors.get(option):
                out.append(problem("gravicors.W005", f"{where}: {option}"))
        lower = [m for m in cors["allow_methods"] if m != m.upper() and m.upper() in NORMALIZED_METHODS]
        if lower:
            out.append(problem("gravicors.W006", f"{where}: {', '.join(map(repr, lower))}"))
    return out
