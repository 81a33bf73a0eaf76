"""Semantic refusal rules, each with a stable id from :data:`errors.RULES`.

The types are decided once, by the strict fields of :mod:`flask_gravicors.schema`
(a list is a JSON array of strings, a flag ``true`` or ``false``, a number an
integer); these rules then read what those fields loaded, so they judge exactly
the values that will run. A value of the wrong type is ``gravicors.E003`` and is
absent from what the rules see (an item of a list is ``None`` in its slot, so the
other items keep the indices the user wrote). :func:`check_limits` runs before
any of it, on the raw input, and bounds its size.

Each rule returns marshmallow-shaped messages (``{"allow_origin": {2:
["gravicors.E020: ..."]}}``), and every rule runs even when others fail: a
ConfigError names every problem at once.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from typing import Any, Iterable, Iterator, Mapping, Sequence

from .browser import (
    FORBIDDEN_METHODS,
    FORBIDDEN_RESPONSE_HEADERS,
    NORMALIZED_METHODS,
    is_forbidden_request_header,
)
from .core import TOKEN_RE
from .errors import problem
from .origins import (
    HOST_NAME_RE,
    default_port,
    ends_in_number,
    ipv4_serialized,
    ipv6_serialized,
    is_ip_literal,
    is_loopback_host,
    is_public_suffix,
    is_regex,
    punycode_problem,
    regex_problem,
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

# A context path: "/" or "/"-separated non-empty segments without "?", "#" or
# whitespace. U+FFFD is refused apart (check_binding).
_CONTEXT_PATH_RE = re.compile(r"/|(/[^/\s?#]+)+")

#: Bounds on a config, checked on the raw input before anything else reads it
#: (gravicors.E006): containers nested deeper than MAX_DEPTH, a list or object of
#: more than MAX_ITEMS items, a string longer than MAX_TEXT characters. A real
#: config nests about 8 levels; 100 000 origins load in a fraction of a second.
MAX_DEPTH = 32
MAX_ITEMS = 1_000_000
MAX_TEXT = 65_536


def _add(found: Messages, path: Sequence[Any], message: str) -> None:
    node = found
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node.setdefault(path[-1], []).append(message)


def check_limits(raw: Any) -> Messages:
    """Parts of ``raw`` (the config as given) over the size bounds.

    Walked without recursion, never below MAX_DEPTH, so a structure nested
    100 000 levels deep (or one holding itself) costs as little as a flat one.
    Only JSON's containers are entered (mappings, lists and tuples); anything else
    is left to the fields, which refuse what is not JSON.
    """
    found: Messages = {}
    if not isinstance(raw, (Mapping, list, tuple)):
        return found
    stack: list[tuple[tuple[Any, ...], Any]] = [((), raw)]
    while stack:
        path, value = stack.pop()
        where = path or ("_schema",)
        if len(value) > MAX_ITEMS:
            _add(found, where, problem("gravicors.E006", f"{len(value)} items (at most {MAX_ITEMS})"))
            continue
        if len(path) >= MAX_DEPTH:
            _add(found, where, problem("gravicors.E006", f"nested deeper than {MAX_DEPTH} levels"))
            continue
        for key, item in value.items() if isinstance(value, Mapping) else enumerate(value):
            if isinstance(item, str):
                if len(item) > MAX_TEXT:
                    _add(found, (*path, key), problem("gravicors.E006", f"{len(item)} characters (at most {MAX_TEXT})"))
            elif isinstance(item, (Mapping, list, tuple)):
                stack.append(((*path, key), item))
    return found


def describe(value: Any) -> str:
    """A value of the wrong type, for a message: short, one line, never failing
    (``repr`` of a 5 000-digit integer raises ValueError)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return repr(value) if abs(value) < 10**18 else f"an integer of {value.bit_length()} bits"
    if isinstance(value, (str, bytes, float)):
        text = repr(value)
        return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"
    return f"a {type(value).__name__}"


def strings(values: Any) -> Iterator[tuple[int, str]]:
    """The loaded items of a list field with their indices (failed items skipped)."""
    for i, value in enumerate(values or ()):
        if isinstance(value, str):
            yield i, value


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


#: The message marshmallow gives a field its schema does not have (RAISE).
UNKNOWN_FIELD = "Unknown field."


def suggest_fields(messages: Messages, known: Sequence[str]) -> Messages:
    """``messages`` of one schema with each unknown field's message naming the
    closest field of ``known`` (gravicors.E001 "did you mean 'allow_origin'?"), when
    one is close. Returns ``messages`` itself when nothing is suggested."""
    out: Messages | None = None
    for key, value in messages.items():
        if isinstance(key, str) and value == [UNKNOWN_FIELD]:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            if close:
                out = dict(messages) if out is None else out
                out[key] = [problem("gravicors.E001", f"did you mean {close[0]!r}?")]
    return messages if out is None else out


def known_fields(schema: Any, *others: Iterable[str]) -> list[str]:
    """The names ``schema`` loads (its fields' ``data_key`` or names), and ``others``."""
    names = [field.data_key or name for name, field in schema.load_fields.items()]
    for more in others:
        names.extend(more)
    return names


#: Fetch "forbidden method" that the config refuses: browsers never send them.
#: TRACE is forbidden too but stays selectable, as Gravitee lists it (warning W003).
REFUSED_METHODS = FORBIDDEN_METHODS - {"TRACE"}


#: Names ``expose_headers`` refuses besides Set-Cookie (gravicors.E037): request
#: headers, and headers that only answer preflights, which scripts never see.
NEVER_READ_BY_SCRIPTS = frozenset(
    {
        "origin",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-max-age",
        "access-control-allow-private-network",
    }
)

#: The explicit opt-ins that lift a refusal (jub0bs/cors' ``Dangerously...`` options).
DANGEROUS_OPTIONS = {
    "dangerously_allow_any_origin_with_credentials": "gravicors.E023",
    "dangerously_allow_null_origin": "gravicors.E024",
    "dangerously_allow_insecure_origins": "gravicors.E028",
}

# What an unsubstituted placeholder looks like (gravicors.E061): $NAME, ${NAME...},
# {{ name }} (Jinja, Helm) and %NAME% (Windows). No origin, regex for one,
# method or header name holds these.
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\{\{.*?\}\}|%[A-Za-z_][A-Za-z0-9_]*%")


def placeholder_problem(entry: str) -> str | None:
    """``gravicors.E061`` when ``entry`` holds what looks like a placeholder that was
    never substituted (``$ALLOWED_ORIGIN``, ``${ORIGIN}``): as an origin it would be
    compiled into a regex that matches nothing."""
    found = _PLACEHOLDER.search(entry)
    return problem("gravicors.E061", f"{entry!r} holds {found.group()!r}") if found else None


def looks_like_a_pattern(name: str) -> bool:
    """A header-name entry written as a pattern (``x-company-.*``, ``^x-``): legal
    token characters, but names are compared as they are (gravicors.W007)."""
    return name != "*" and ("*" in name or "^" in name or "|" in name or ".+" in name or name.endswith("$"))


def _punycode_hint(host: str) -> str:
    try:
        return f"; in punycode: {host.encode('idna').decode('ascii')}"
    except UnicodeError:
        return ""


# Python's \s on str is exactly str.isspace(), in one C call per entry (a
# 100 000-origin config checks in a fraction of the per-character loop's time).
_WHITESPACE = re.compile(r"\s")

# The shape of nearly every configured origin (lower-case https, a host name
# whose last label is no number and no label punycode, no port) in one C match:
# large configs skip the full parse for it. A subset of what origin_problem
# accepts (checked in tests/test_checks.py).
_PLAIN_HTTPS = re.compile(r"https://(?:(?!xn--)[a-z0-9_-]+\.)*(?!xn--|0x)[a-z0-9_-]*[a-z_-][a-z0-9_-]*")


def _host_problem(shown_entry: str, host: str) -> str | None:
    """Why a host name (a wildcard's suffix included) is not one browsers send."""
    for label in host.split("."):
        if label[:4].lower() == "xn--":
            reason = punycode_problem(label)
            if reason is not None:
                return f"{shown_entry}: the label {label!r} {reason}"
    if ends_in_number(host):
        # WHATWG URL: a host ending in a number is an IPv4 address, in the form below.
        address = ipv4_serialized(host)
        if address is None:
            return f"{shown_entry}: {host!r} ends in a number but is no IPv4 address, so browsers refuse it"
        if address != host:
            return f"{shown_entry}: browsers send the host {host!r} as {address}"
    return None


def origin_problem(entry: str) -> tuple[str, str] | None:
    """The first reason why ``entry`` (not ``*``, ``null`` or a regex) is not a
    well-formed ``scheme://host[:port]`` origin as browsers send it, as ``(rule id,
    detail)``."""
    shown_entry = repr(entry)
    if _WHITESPACE.search(entry) is not None:
        return "gravicors.E020", f"{shown_entry} contains whitespace"
    if not entry.isprintable():
        return "gravicors.E020", f"{shown_entry} contains control characters"
    parts = split_origin(entry)
    if parts is None:
        if "*" in entry or entry.startswith("."):
            # flask-cors's habit: ".*example.com" is a regex there, here nothing.
            return "gravicors.E020", (
                f"{shown_entry} does not start with scheme://; for subdomains write a wildcard such as "
                "https://*.example.com, or a regular expression holding one of ( [ { \\ ^ $ | (matched whole)"
            )
        return "gravicors.E020", f"{shown_entry} does not start with scheme://"
    if not parts.host.isascii():
        return "gravicors.E026", shown_entry + _punycode_hint(parts.host)
    if parts.userinfo:
        return "gravicors.E020", f"{shown_entry} has userinfo (user@)"
    if parts.tail:
        what = {"/": "a path", "?": "a query", "#": "a fragment"}[parts.tail[0]]
        if parts.tail == "/":
            what = "a trailing slash"
        return "gravicors.E020", f"{shown_entry} has {what}"
    host, port = parts.host, parts.port
    if not host:
        return "gravicors.E020", f"{shown_entry} has no host"
    if parts.scheme.lower() == "file":
        return "gravicors.E020", f"{shown_entry}: browsers send Origin: null from file: pages, never a host"
    if port is not None:
        if not (port.isdigit() and port.isascii()) or port != str(int(port)) or not 0 < int(port) <= 65535:
            return "gravicors.E027", f"{shown_entry}: port {port!r}"
        if port == default_port(parts.scheme):
            return "gravicors.E025", f"{shown_entry}: {port} is the default port of {parts.scheme}"
    if host.startswith("["):
        if "%" in host:
            return "gravicors.E020", f"{shown_entry}: an IPv6 zone id ({host}) is never part of an origin"
        if not is_ip_literal(host):
            return "gravicors.E020", f"{shown_entry}: {host!r} is not an IPv6 address"
        canonical = f"[{ipv6_serialized(ipaddress.IPv6Address(host[1:-1]))}]"
        if host.lower() != canonical:
            # Browsers serialise IPv6 hosts compressed, without a dotted IPv4 tail
            # (WHATWG "IPv6 serializer"); other spellings never match.
            return "gravicors.E020", f"{shown_entry}: browsers send the host as {canonical}"
        return None
    if "*" in host:
        suffix = host[2:]
        if not host.startswith("*.") or "*" in suffix or HOST_NAME_RE.fullmatch(suffix) is None:
            return "gravicors.E022", shown_entry
        if is_ip_literal(suffix) or ends_in_number(suffix):
            return "gravicors.E022", f"{shown_entry}: {suffix!r} ends in a number: browsers read such hosts as IP addresses"
        reason = _host_problem(shown_entry, suffix)
        if reason is not None:
            return "gravicors.E020", reason
        if is_public_suffix(suffix):
            return "gravicors.E029", f"{shown_entry}: {suffix!r} is a public suffix"
        return None
    if host.endswith("."):
        return "gravicors.E020", f"{shown_entry} has a trailing dot"
    if HOST_NAME_RE.fullmatch(host) is None:
        return "gravicors.E020", f"{shown_entry}: {host!r} is not a host name"
    reason = _host_problem(shown_entry, host)
    return ("gravicors.E020", reason) if reason is not None else None


def check_origin(entry: str) -> list[str]:
    """Problems with the form of one ``allow_origin`` entry, whatever the rest of
    the config says (the combinations are :func:`check_cors`' business)."""
    if entry in ("*", "null"):
        return []
    placeholder = placeholder_problem(entry)
    if placeholder is not None:
        return [placeholder]
    found = regex_problem(entry) if is_regex(entry) else origin_problem(entry)
    return [problem(*found)] if found else []


def _check_origins(cors: Mapping[str, Any], found: Messages) -> None:
    credentials = cors.get("allow_credentials") is True
    any_with_credentials = cors.get("dangerously_allow_any_origin_with_credentials") is True
    allow_null = cors.get("dangerously_allow_null_origin") is True
    allow_insecure = cors.get("dangerously_allow_insecure_origins") is True
    star = False
    for i, entry in strings(cors.get("allow_origin")):
        where = ("allow_origin", i)
        if entry == "*":
            star = True
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
    if star and cors.get("allow_private_network") is True:
        _add(found, ("allow_private_network",), problem("gravicors.E050", "allow_origin holds '*'"))


def both_spellings(raw: Mapping[str, Any], names: Mapping[str, str] = GRAVITEE_NAMES) -> Messages:
    """gravicors.E005 for every field given under both of its spellings."""
    found: Messages = {}
    for theirs, ours in names.items():
        if theirs in raw and ours in raw:
            _add(found, (theirs,), problem("gravicors.E005", f"{theirs!r} and {ours!r}"))
    return found


def _header_problem(field: str, name: str, credentials: bool) -> str | None:
    """The refusal of one ``allow_headers`` or ``expose_headers`` entry, if any."""
    lower = name.lower()
    if name == "*":
        if field == "expose_headers" and credentials:
            return problem("gravicors.E035", "allow_credentials is on")
        return None
    if TOKEN_RE.fullmatch(name) is None:
        return problem("gravicors.E031", repr(name))
    if field == "allow_headers":
        if lower.startswith("access-control-"):
            return problem("gravicors.E034", repr(name))
        if is_forbidden_request_header(lower):
            return problem("gravicors.E033", repr(name))
        return None
    if lower in FORBIDDEN_RESPONSE_HEADERS:
        return problem("gravicors.E036", repr(name))
    if lower in NEVER_READ_BY_SCRIPTS or lower.startswith("access-control-request-"):
        return problem("gravicors.E037", repr(name))
    return None


def check_cors(cors: Mapping[str, Any], written: Mapping[str, Any]) -> Messages:
    """Every rule over one ``cors`` block: ``cors`` as the fields loaded it (our
    names), ``written`` as its author wrote it (either naming style)."""
    found = both_spellings(written)
    _check_origins(cors, found)
    credentials = cors.get("allow_credentials") is True
    for field in ("allow_methods", "allow_headers", "expose_headers"):
        for i, entry in strings(cors.get(field)):
            placeholder = placeholder_problem(entry)
            if placeholder is not None:
                _add(found, (field, i), placeholder)
                continue
            if field == "allow_methods":
                if entry != "*" and TOKEN_RE.fullmatch(entry) is None:
                    _add(found, (field, i), problem("gravicors.E030", repr(entry)))
                elif entry.upper() in REFUSED_METHODS:
                    _add(found, (field, i), problem("gravicors.E032", repr(entry)))
            else:
                message = _header_problem(field, entry, credentials)
                if message is not None:
                    _add(found, (field, i), message)
    max_age = cors.get("max_age")
    if isinstance(max_age, int) and not -1 <= max_age <= MAX_AGE_LIMIT:
        _add(found, ("max_age",), problem("gravicors.E040", describe(max_age)))
    return found


def check_binding(api: Mapping[str, Any], written: Mapping[str, Any]) -> Messages:
    """An API is bound to exactly one context path or blueprint (as ``written``),
    and a context path (as loaded in ``api``) is one werkzeug routes alike."""
    found: Messages = {}
    if sum(written.get(field) is not None for field in ("context_path", "blueprint")) != 1:
        _add(found, ("_schema",), problem("gravicors.E011", "give context_path or blueprint"))
    path = api.get("context_path")
    if isinstance(path, str):
        segments = path.split("/")
        if _CONTEXT_PATH_RE.fullmatch(path) is None or "." in segments or ".." in segments:
            _add(found, ("context_path",), problem("gravicors.E012", repr(path)))
        elif "\ufffd" in path:
            # werkzeug decodes PATH_INFO with errors="replace": "/%FF/x" reaches a view
            # under "/\ufffd" while these bytes are no "\ufffd" (EF BF BD) to the WSGI
            # layer, which would let that spelling skip the API's policies.
            _add(found, ("context_path",), problem("gravicors.E012", f"{path!r} holds U+FFFD"))
    return found


def check_unique_apis(apis: Any) -> Messages:
    """API names, context paths and blueprints are each used once (``apis`` as
    loaded: an API that failed to load is ``None`` or lacks its failed fields)."""
    found: Messages = {}
    seen: dict[tuple[str, Any], int] = {}
    for i, api in enumerate(apis or ()):
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
        where = f"API {api['name']!r}"
        if not cors["enabled"]:
            # The block's default is off, as Gravitee's: a block written without
            # "enabled" would otherwise do nothing, silently.
            if cors["allow_origin"]:
                out.append(problem("gravicors.W014", where))
            continue
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
        patterns = [h for h in (*cors["allow_headers"], *cors["expose_headers"]) if looks_like_a_pattern(h)]
        if patterns:
            out.append(problem("gravicors.W007", f"{where}: {', '.join(map(repr, patterns))}"))
    return out


# -- the console's prefix (GRAVICORS_CONSOLE_PREFIX) ----------------------------------


def is_mount_prefix(prefix: Any) -> bool:
    """Whether ``prefix`` can hold the console: a context path other than ``/``."""
    return (
        isinstance(prefix, str)
        and prefix != "/"
        and _CONTEXT_PATH_RE.fullmatch(prefix) is not None
        and not {".", ".."} & set(prefix.split("/"))
        and "\ufffd" not in prefix
    )


def check_reserved_prefix(raw: Any, prefix: str) -> Messages:
    """APIs of ``raw`` (the config as given) whose context path is ``prefix`` or lies
    under it: the console answers every path there, so the API would never see a
    request (and the console's pages must never carry an API's CORS headers)."""
    found: Messages = {}
    for i, _api, path in _context_paths(raw):
        if path == prefix or path.startswith(prefix + "/"):
            _add(found, ("apis", i, "context_path"), problem("gravicors.E090", f"{path!r} is inside {prefix!r}"))
    return found


def _context_paths(raw: Any) -> Iterator[tuple[int, Mapping[str, Any], str]]:
    """(index, API, context path) of each API of ``raw`` (the config as given) that
    has a string one: the app's reserved paths are checked against them before
    the schema has judged anything."""
    apis = raw.get("apis") if isinstance(raw, Mapping) else None
    if isinstance(apis, (list, tuple)):
        for i, api in enumerate(apis):
            path = api.get("context_path") if isinstance(api, Mapping) else None
            if isinstance(path, str):
                yield i, api, path


def check_metrics_path(raw: Any, path: str) -> Messages:
    """gravicors.E092 when an API of ``raw`` (the config as given) owns ``path``,
    the metrics' path: its context path is ``/``, ``path``, or a prefix of it ending
    at a ``/`` (the API that answers ``path`` otherwise: the longest, named). Checked
    on the config as given, so it comes with the schema's problems, not after."""
    owner: tuple[int, Any] | None = None
    for _, api, context in _context_paths(raw):
        owns = context == "/" or path == context or path.startswith(context + "/")
        if owns and (owner is None or len(context) > owner[0]):
            owner = (len(context), api.get("name"))
    if owner is None:
        return {}
    return {"GRAVICORS_METRICS_PATH": [problem("gravicors.E092", f"{path!r} belongs to API {owner[1]!r}")]}


def _as_messages(value: Any) -> Messages:
    return dict(value) if isinstance(value, Mapping) else {"_schema": value if isinstance(value, list) else [value]}


def merge_messages(first: Any, second: Messages) -> Messages:
    """Two sets of marshmallow-shaped messages as one (lists joined, objects merged)."""
    out = _as_messages(first)
    for key, value in second.items():
        mine = out.get(key)
        if mine is None:
            out[key] = value
        elif isinstance(mine, list) and isinstance(value, list):
            out[key] = [*mine, *value]
        else:
            out[key] = merge_messages(mine, _as_messages(value))
    return out
