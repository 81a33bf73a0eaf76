"""Configuration errors: one exception that carries every problem at once.

Every rule that can refuse a configuration has a stable id (``gravicors.E0xx``)
registered in :data:`RULES`, with a hint telling the user how to fix it, in the
manner of django-cors-headers' system checks. Validators produce message strings
through :func:`problem`; :class:`ConfigError` turns marshmallow's nested
``messages`` back into one flat list of :class:`Problem` with field paths such
as ``apis[0].cors.allow_origin[2]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

#: id -> (short title, hint). The single place where rule ids are defined.
RULES: dict[str, tuple[str, str]] = {
    # Structure (marshmallow's own messages are mapped onto these three).
    "gravicors.E001": ("unknown field", "remove it or check its spelling against the config reference"),
    "gravicors.E002": ("missing required field", "add the field"),
    "gravicors.E003": ("invalid value", "see the config reference for the accepted values"),
    # Config file / top level.
    "gravicors.E004": ("config cannot be read", "give a dict, or a path to a JSON file holding one"),
    "gravicors.E005": ("field given twice", "use either the snake_case or Gravitee's camelCase name, not both"),
    "gravicors.E006": (
        "config exceeds a size limit",
        "keep nesting within 32 levels, lists and objects within 1,000,000 items, strings within 65,536 characters "
        "and a config file within 64 MiB",
    ),
    # APIs.
    "gravicors.E010": ("duplicate API name", "give every API a unique name"),
    "gravicors.E011": ("API needs exactly one of context_path or blueprint", "set one of them"),
    "gravicors.E012": (
        "invalid context path",
        "use an absolute path like /orders: no trailing slash, no '//', '.', '..', '?', '#', whitespace or U+FFFD",
    ),
    "gravicors.E013": ("duplicate context path or blueprint", "bind each path or blueprint to one API"),
    "gravicors.E014": (
        "unknown policy",
        "fix the name, or install the plugin that provides it (rate-limit ships under plugins/)",
    ),
    "gravicors.E015": (
        "a plugin refused the config",
        "its plugin raised an error on this config (the policy, security type or hook is named in the message): "
        "fix the config, or report it to the plugin's authors",
    ),
    # Plans and flows.
    "gravicors.E016": ("duplicate plan name", "give every plan of an API a unique name"),
    "gravicors.E017": (
        "Gravitee Expression Language is not supported",
        "remove it: select flows by path and methods, and use one plan per way of identifying consumers",
    ),
    "gravicors.E018": (
        "invalid flow path",
        "write a path relative to the context path, starting with '/', such as /orders or /orders/:id",
    ),
    "gravicors.E019": (
        "unknown security type",
        "fix the name, or install the plugin that provides it (api-key and jwt ship under plugins/)",
    ),
    # Origins.
    "gravicors.E020": (
        "origin is not scheme://host[:port]",
        "write the origin as the browser sends it, e.g. https://shop.example.com",
    ),
    "gravicors.E021": ("invalid regular expression", "fix the pattern; it is matched against the whole origin"),
    "gravicors.E022": (
        "invalid wildcard origin",
        "a wildcard may only be the whole leftmost label of a domain name: https://*.example.com",
    ),
    "gravicors.E023": (
        "'*' origin with allow_credentials",
        "list the origins you trust, or set dangerously_allow_any_origin_with_credentials: true if every site may read "
        "this API with the user's cookies",
    ),
    "gravicors.E024": (
        "'null' origin",
        "remove it: any page can send Origin: null (sandboxed iframes, file: pages, redirects); or set "
        "dangerously_allow_null_origin: true",
    ),
    "gravicors.E025": (
        "origin holds its scheme's default port",
        "leave the port out: browsers send https://example.com, never https://example.com:443",
    ),
    "gravicors.E026": (
        "origin host is not ASCII",
        "write the host in punycode, as browsers send it: https://xn--bcher-kva.example",
    ),
    "gravicors.E027": ("invalid port", "use a port number from 1 to 65535 without leading zeros"),
    "gravicors.E028": (
        "http:// origin with allow_credentials",
        "use https://, or set dangerously_allow_insecure_origins: true (http://localhost and loopback addresses are "
        "always accepted)",
    ),
    "gravicors.E029": (
        "wildcard covers a whole public suffix",
        "put a domain you control after '*.': https://*.example.co.uk, not https://*.co.uk",
    ),
    # Methods and headers.
    "gravicors.E030": ("method is not an HTTP token", "use a method name such as GET or PATCH"),
    "gravicors.E031": ("header name is not an HTTP token", "use a header name such as content-type"),
    "gravicors.E032": ("forbidden method", "remove CONNECT and TRACK: browsers never send them (Fetch 'forbidden method')"),
    "gravicors.E033": (
        "forbidden request header in allow_headers",
        "remove it: scripts cannot set Cookie, Host, Origin, Sec-*, Proxy-* and the other forbidden request headers",
    ),
    "gravicors.E034": (
        "Access-Control-* name in allow_headers",
        "remove it: the browser sets Access-Control-Request-* itself and Access-Control-Allow-* are response headers",
    ),
    "gravicors.E035": (
        "'*' in expose_headers with allow_credentials",
        "name the headers to expose: '*' is no wildcard on credentialed responses",
    ),
    "gravicors.E036": ("Set-Cookie in expose_headers", "remove it: browsers never let scripts read Set-Cookie"),
    "gravicors.E037": (
        "name in expose_headers that no script reads",
        "remove it: Origin and Access-Control-Request-* are request headers, and Access-Control-Allow-Methods, "
        "-Allow-Headers, -Max-Age and -Allow-Private-Network only answer preflights, which scripts never see",
    ),
    # Numbers.
    "gravicors.E040": ("max_age out of range", "use -1 (disabled) or a number of seconds from 0 to 86400"),
    # Private Network Access.
    "gravicors.E050": ("allow_private_network with a '*' origin", "list the origins that may reach the private network"),
    # Regular expressions and placeholders.
    "gravicors.E060": (
        "regular expression uses a feature RE2 lacks",
        "origin regexes run on RE2, in time linear in the origin's length: no backreferences, lookahead or lookbehind, "
        "atomic groups or possessive quantifiers (write \\z for \\Z); list the origins, or use a wildcard such as "
        "https://*.example.com",
    ),
    "gravicors.E061": (
        "looks like an unsubstituted placeholder",
        "environment variable not substituted? give the value itself, or substitute it before the config is loaded",
    ),
    # Response templates.
    "gravicors.E070": (
        "invalid response template key",
        "use a Gravitee failure key such as CORS_PREFLIGHT_FAILED, API_KEY_INVALID or DEFAULT",
    ),
    "gravicors.E071": ("invalid media type", "use */*, or a type/subtype such as application/json"),
    "gravicors.E072": (
        "header not allowed in a response template",
        "remove it: Access-Control-*, Vary and Content-Length are set by flask_gravicors; values are one printable line "
        "of Latin-1 text (HTTP sends header values as bytes: WSGI servers refuse other characters)",
    ),
    # Gravitee definitions (flask_gravicors.gravitee).
    "gravicors.E080": (
        "cannot be translated from a Gravitee definition",
        "remove it from the definition, or configure the equivalent in flask_gravicors by hand",
    ),
    # The console (GRAVICORS_CONSOLE).
    "gravicors.E090": (
        "context path inside the console's prefix",
        "the console answers every path under GRAVICORS_CONSOLE_PREFIX: move the API, or mount the console elsewhere",
    ),
    # App settings (app.config keys besides GRAVICORS).
    "gravicors.E092": (
        "GRAVICORS_METRICS_PATH cannot serve the metrics",
        "give an absolute path, such as /metrics, outside the console's prefix and every API's context path (an "
        "API at '/' covers every path: bind it to a narrower one to serve metrics)",
    ),
    "gravicors.E093": (
        "GRAVICORS_METRICS is on but cannot count here",
        "install the metrics extra: pip install 'flask-gravicors[metrics]'; and run a Python with the GIL (counts "
        "are not locked: the free-threaded build could lose some)",
    ),
    # Warnings: logged once when a config takes effect, never refused.
    "gravicors.W001": (
        "CORS is enabled but never applied",
        "add an http-get, http-post, http-proxy or sse entrypoint, or disable cors",
    ),
    "gravicors.W002": ("'*' allows every origin", "list the origins that may call this API; '*' is not for production"),
    "gravicors.W003": ("TRACE is never sent cross-origin by browsers", "remove TRACE from allow_methods"),
    "gravicors.W004": ("max_age above 7200 s", "Chromium caps preflight caching at 7200 s"),
    "gravicors.W005": (
        "a dangerously_* option is on",
        "make sure this API is meant to be that open; remove the option otherwise",
    ),
    "gravicors.W006": (
        "lower-case standard method never matches",
        "write DELETE, GET, HEAD, OPTIONS, POST and PUT in upper case: browsers upper-case them before sending",
    ),
    "gravicors.W007": (
        "header name looks like a pattern",
        "allow_headers and expose_headers hold exact names, compared case-insensitively, not patterns: list each "
        "header, or use '*'",
    ),
    "gravicors.W010": (
        "a legacy api-key policy is loaded as an api-key plan",
        "write it as a plan: it now runs after platform flows and before the API's flows, and never on a preflight "
        "(a key check on a preflight is Gravitee's bug #825)",
    ),
    "gravicors.W011": (
        "dynamic_origins is on but no plugin decides origins",
        "register a plugin implementing gravicors_origin_allowed; until then only allow_origin applies",
    ),
    "gravicors.W012": (
        "GRAVICORS_DEBUG is on while app.debug is off",
        "turn it off in production: refused values go to the log and into refused preflights' answers",
    ),
    "gravicors.W013": (
        "GRAVICORS_METRICS under gunicorn without a shared metrics directory",
        "each worker counts alone and a scrape sees one of them: start the server with PROMETHEUS_MULTIPROC_DIR "
        "(or GRAVICORS_METRICS_DIR) naming an empty directory, e.g. PROMETHEUS_MULTIPROC_DIR=$(mktemp -d) gunicorn ...",
    ),
    "gravicors.W014": (
        "a cors block lists origins but CORS is not enabled",
        "set \"enabled\": true (Gravitee's Enable CORS) to apply it; until then no CORS header is sent for this API",
    ),
}

_ID_PREFIX = re.compile(r"^(gravicors\.[EW]\d{3}): ")

# marshmallow's built-in messages, mapped onto stable ids.
_MARSHMALLOW_IDS = {
    "Unknown field.": "gravicors.E001",
    "Missing data for required field.": "gravicors.E002",
    "Field may not be null.": "gravicors.E003",
}


def problem(rule_id: str, detail: str) -> str:
    """Format one refusal as a message string that marshmallow can carry.

    The id prefix survives marshmallow's message merging, so :class:`ConfigError`
    can recover it without a side channel.
    """
    title, hint = RULES[rule_id]
    return f"{rule_id}: {title}: {detail} (hint: {hint})"


def plugin_failure(kind: str, name: str, err: BaseException) -> str:
    """The gravicors.E015 problem of a plugin's class (``kind`` ``"policy"`` or
    ``"security type"``) or hook (``"hook"``) that raised ``err`` on its config:
    the type and a cut text."""
    return problem("gravicors.E015", f"{kind} {name!r} raised {type(err).__name__}: {str(err)[:200]!r}")


@dataclass(frozen=True)
class Problem:
    """One refused field: where it is, which rule refused it and why."""

    path: str
    id: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '<config>'}: {self.message}"


def _with_id(message: str) -> tuple[str, str]:
    found = _ID_PREFIX.match(message)
    if found:
        return found.group(1), message
    # marshmallow's own messages: with the rule's title and hint like every other.
    rule_id = _MARSHMALLOW_IDS.get(message)
    if rule_id in ("gravicors.E001", "gravicors.E002"):
        title, hint = RULES[rule_id]
        return rule_id, f"{rule_id}: {title} (hint: {hint})"
    if rule_id is not None:
        return rule_id, problem(rule_id, "null is not accepted here")
    return "gravicors.E003", problem("gravicors.E003", message.rstrip("."))


def printable(text: str) -> str:
    """``text`` safe for one line of a terminal or a log: control and other
    unprintable characters escaped (``\\n``, ``\\x1b``); printable text unchanged."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def _flatten(messages: Any, path: str, out: list[Problem]) -> None:
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if isinstance(key, int):
                sub = f"{path}[{key}]" if abs(key) < 10**18 else f"{path}[<an integer of {key.bit_length()} bits>]"
            elif key == "_schema":
                sub = path
            elif isinstance(key, str) and key.isprintable() and key:
                sub = f"{path}.{key}" if path else key
            else:
                # A key no JSON object has (a tuple, a control character, a lone
                # surrogate): shown escaped, so a problem prints on any terminal.
                sub = f"{path}[{key!r}]"
            _flatten(value, sub, out)
    elif isinstance(messages, (list, tuple)):
        for item in messages:
            _flatten(item, path, out)
    else:
        rule_id, text = _with_id(str(messages))
        # One problem, one line, whatever a message quotes (RE2's error text quotes
        # the pattern as written): no CR/LF or escape sequence reaches a terminal.
        out.append(Problem(path, rule_id, printable(text)))


class ConfigError(ValueError):
    """A configuration was refused. Raised once, naming every bad field.

    ``messages`` is marshmallow's nested structure (``{"apis": {0: {"cors": ...}}}``);
    ``problems`` is the same as a flat list of :class:`Problem`; ``ids`` the set of
    rule ids that fired. ``str()`` lists one problem per line.
    """

    def __init__(self, messages: Mapping[str, Any] | list[Any] | str):
        if isinstance(messages, str):
            messages = {"_schema": [messages]}
        self.messages = messages
        problems: list[Problem] = []
        _flatten(messages, "", problems)
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self.__str__())

    @property
    def ids(self) -> set[str]:
        return {p.id for p in self.problems}

    def __str__(self) -> str:
        lines = [f"invalid flask_gravicors config ({len(self.problems)} problem(s)):"]
        lines.extend(f"  {p}" for p in self.problems)
        return "\n".join(lines)
