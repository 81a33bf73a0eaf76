"""Origin entries: classifying configured values and matching request origins.

Pure Python, no Flask. Configured entries come in four kinds:

* ``*``: any origin.
* regular expressions: any entry holding one of ``( [ { \\ ^ $ |``. Gravitee compiles
  such entries as regexes and matches the *whole* origin; we do the same with
  ``re.fullmatch`` (flask-cors used ``re.match`` and accepted
  ``https://a.example.com.evil.net``).
* subdomain wildcards ``scheme://*.example.com[:port]``: one or more labels in front
  of the suffix. Gravitee reads these as a regex that never matches; we give them
  the meaning users expect.
* exact origins (``null`` included): compared case-insensitively, since scheme and
  host are (Fetch standard, "origin"). Browsers send them lower-cased.

An origin exactly as listed is one set lookup. Otherwise the request origin is
lower-cased once, then looked up in a set (exact) and, for wildcards and regexes,
a bounded cache of decisions per origin value; a value not seen before probes a
set of ``scheme://.suffix:port`` keys (wildcards, one probe per label of the
request host) and tries only the regexes whose literal ending it has (and any
with no literal ending). No step scans the configured list, so the cost does
not grow with the number of origins (``tests/test_matching_cost.py`` counts it).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Iterable

try:  # the regex parser, to read the literal ending of configured patterns
    from re import _constants as _re_constants  # type: ignore[attr-defined]
    from re import _parser as _re_parser  # type: ignore[attr-defined]
except ImportError:  # Python 3.10
    import sre_constants as _re_constants  # type: ignore[no-redef]
    import sre_parse as _re_parser  # type: ignore[no-redef]

_LITERAL = _re_constants.LITERAL
_AT = _re_constants.AT

REGEX_CHARS = frozenset("([{\\^$|")

#: Longest request ``Origin`` value considered at all. A real origin is at most
#: scheme + "://" + a 253-byte host + ":65535"; anything longer is refused unread.
MAX_ORIGIN_LENGTH = 512

#: Regex decisions remembered per origin value before the cache is emptied.
REGEX_CACHE_SIZE = 4096

_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


# An origin whose host is a bracketed IP literal (``https://[::1]:8443``): its
# brackets are not a character class. Anything else inside them is refused by the
# config checks rather than silently read as a one-character regex.
_IP_LITERAL_ORIGIN_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\[[^\]\[()\\{}^$|]*\](?::[0-9]*)?")


def is_regex(entry: str) -> bool:
    """Whether a configured entry is a regular expression (holds ``( [ { \\ ^ $ |``),
    an origin with an IPv6 host excepted."""
    return not REGEX_CHARS.isdisjoint(entry) and _IP_LITERAL_ORIGIN_RE.fullmatch(entry) is None


def default_port(scheme: str) -> str | None:
    return _DEFAULT_PORTS.get(scheme.lower())


def wildcard_key(parsed: OriginParts) -> str | None:
    """For ``scheme://*.suffix[:port]`` (as :func:`split_origin` splits it) the
    lookup key ``scheme://.suffix:port``; ``None`` for anything else."""
    if parsed.tail or parsed.userinfo:
        return None
    host = parsed.host
    if not host.startswith("*.") or "*" in host[1:] or len(host) < 3:
        return None
    return f"{parsed.scheme.lower()}://{host[1:].lower()}:{parsed.port or ''}"


# --- Config-time analysis of an origin entry (used by :mod:`.checks`) -------------

#: A host name as browsers serialise it: ASCII letters, digits, ``-`` and ``_`` in
#: non-empty dot-separated labels, no trailing dot (IDNs arrive as punycode).
HOST_NAME_RE = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")


@dataclass(frozen=True)
class OriginParts:
    """An entry split without judging it: ``scheme://host[:port]`` plus the rest."""

    scheme: str
    host: str
    #: ``None`` when there is no ``:``; otherwise the text after it (maybe empty).
    port: str | None
    #: Whatever follows the authority (path, query, fragment), ``""`` if nothing.
    tail: str
    userinfo: bool


def split_origin(value: str) -> OriginParts | None:
    """Split ``scheme://authority[tail]``; ``None`` when there is no ``scheme://``."""
    scheme, sep, rest = value.partition("://")
    if not sep or SCHEME_RE.fullmatch(scheme) is None:
        return None
    cut = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i != -1), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    userinfo, at, hostport = authority.rpartition("@")
    if hostport.startswith("["):
        close = hostport.find("]")
        if close == -1:
            return OriginParts(scheme, hostport, None, tail, bool(at))
        host, after = hostport[: close + 1], hostport[close + 1 :]
        if after and not after.startswith(":"):
            return OriginParts(scheme, hostport, None, tail, bool(at))
        port = after[1:] if after else None
    else:
        host, colon, port_text = hostport.partition(":")
        port = port_text if colon else None
    return OriginParts(scheme, host, port, tail, bool(at))


def is_ip_literal(host: str) -> bool:
    """An IPv4 address (dotted, all numeric labels) or a bracketed IPv6 address."""
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    labels = host.split(".")
    return all(label.isdigit() and label.isascii() for label in labels)


def is_loopback_host(host: str) -> bool:
    """``localhost``, ``*.localhost``, 127.0.0.0/8 or ``[::1]``: potentially
    trustworthy even over http (Secure Contexts, "potentially trustworthy origin")."""
    host = host.lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    if host.startswith("["):
        return host == "[::1]"
    try:
        return ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        return False


@functools.lru_cache(maxsize=1)
def _public_suffix_list() -> Any:
    # The list shipped inside the publicsuffixlist package (updated with its
    # releases); nothing is downloaded at run time.
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def is_public_suffix(domain: str) -> bool:
    """True when ``domain`` is a public suffix (``com``, ``co.uk``, ``github.io``),
    ICANN or private section, unknown single labels included. ``localhost`` is not:
    ``*.localhost`` only reaches this machine."""
    domain = domain.lower()
    if domain == "localhost":
        return False
    return bool(_public_suffix_list().is_public(domain))


#: Longest literal ending used to bucket a regex (longer ones are cut to it).
MAX_TAIL = 64


def literal_tail(pattern: str) -> str:
    """The lower-case ASCII text every fullmatch of ``pattern`` ends with, or ``""``.

    Read from the parsed pattern: the literal characters that end its top-level
    sequence (zero-width assertions such as ``$`` skipped). A top-level ``|``, a
    group, a class or a repeat at the end gives ``""``. Only ASCII characters are kept
    (under IGNORECASE some non-ASCII ones match ASCII, e.g. the Kelvin sign ``k``),
    and request origins reaching the regexes are lower-case ASCII, so an origin
    without this ending cannot match. Any doubt gives ``""``: the pattern is then
    tried on every new origin, as without buckets.
    """
    try:
        items = list(_re_parser.parse(pattern, re.IGNORECASE))
    except Exception:  # noqa: BLE001 - private parser: no bucket rather than an error
        return ""
    chars: list[str] = []
    for op, arg in reversed(items):
        if op is _LITERAL and isinstance(arg, int) and arg < 128:
            chars.append(chr(arg).lower())
        elif op is _AT and not chars:
            continue
        else:
            break
        if len(chars) == MAX_TAIL:
            break
    return "".join(reversed(chars))


def _sendable(origin: str) -> bool:
    """Whether a browser could send ``origin``: refuses overlong values, controls
    (CR/LF), spaces (two Origin headers joined by a server) and non-ASCII (hosts
    are punycode). :meth:`OriginMatcher.allows` refuses the rest at once."""
    return 0 < len(origin) <= MAX_ORIGIN_LENGTH and origin.isascii() and origin.isprintable() and " " not in origin


#: Public name for the other modules (dynamic origins ask only about such values).
sendable = _sendable


class OriginMatcher:
    """Decides whether a request's ``Origin`` is allowed. Immutable once built,
    except for the regex decision cache, which only ever memoises answers."""

    __slots__ = ("any", "exact", "wildcards", "max_suffix", "regexes", "_cache", "_plain", "_tails", "_untailed")

    def __init__(self, entries: Iterable[str]):
        exact: set[str] = set()
        wildcards: set[str] = set()
        regexes: list[re.Pattern[str]] = []
        self.any = False
        for entry in entries:
            if entry == "*":
                self.any = True
            elif is_regex(entry):
                regexes.append(re.compile(entry, re.IGNORECASE))
            elif "*" not in entry:
                # No wildcard: null or an exact origin (validated before we get here).
                exact.add(entry.lower())
            else:
                parsed = split_origin(entry)
                key = wildcard_key(parsed) if parsed is not None else None
                if key is not None:
                    wildcards.add(key)
                else:
                    # null, and exact origins (validated before we get here).
                    exact.add(entry.lower())
        self.exact = frozenset(exact)
        self.wildcards = frozenset(wildcards)
        self.max_suffix = max((len(k) for k in wildcards), default=0)
        self.regexes = tuple(regexes)
        #: Decisions on origins that are not exact entries (wildcards and regexes).
        self._cache: dict[str, bool] = {}
        # Exact entries exactly as a browser sends them (lower-case, and passing
        # every check in allows): a request origin found here is allowed at once.
        self._plain = frozenset(e for e in self.exact if _sendable(e))
        # Regexes bucketed by the literal text every match ends with: a new origin
        # value tries only the patterns whose ending it has, not the whole list.
        tails: dict[int, dict[str, list[re.Pattern[str]]]] = {}
        untailed: list[re.Pattern[str]] = []
        for pattern in self.regexes:
            tail = literal_tail(pattern.pattern)
            if tail:
                tails.setdefault(len(tail), {}).setdefault(tail, []).append(pattern)
            else:
                untailed.append(pattern)
        self._tails = tuple(
            (length, {tail: tuple(found) for tail, found in by_tail.items()}) for length, by_tail in sorted(tails.items())
        )
        self._untailed = tuple(untailed)

    def allows(self, origin: str) -> bool:
        if origin in self._plain:
            return True
        if not _sendable(origin):
            return False
        if self.any:
            # "null" is an opaque origin any page can produce: never covered by
            # "*" (listed "null" was found in _plain above).
            return origin != "null"
        lowered = origin.lower()
        if lowered in self.exact:
            return True
        if self.wildcards or self.regexes:
            return self._patterns(lowered)
        return False

    def _patterns(self, origin: str) -> bool:
        """Wildcards then regexes, the decision memoised per origin value."""
        cached = self._cache.get(origin)
        if cached is not None:
            return cached
        decision = bool(self.wildcards) and self._wildcard(origin)
        if not decision and self.regexes:
            decision = self._regex(origin)
        if len(self._cache) >= REGEX_CACHE_SIZE:
            # Clearing (not LRU bookkeeping) keeps hits at one dict lookup; a flood of
            # distinct origins costs one scan each, as it would without a cache.
            self._cache.clear()
        self._cache[origin] = decision
        return decision

    def _regex(self, origin: str) -> bool:
        """Whether a regex fullmatches: only those whose literal ending ``origin`` has
        (one probe per distinct ending length, at most :data:`MAX_TAIL`), then the
        patterns with no literal ending."""
        size = len(origin)
        for length, by_tail in self._tails:
            if length > size:
                break
            found = by_tail.get(origin[-length:])
            if found is not None and any(p.fullmatch(origin) is not None for p in found):
                return True
        return any(p.fullmatch(origin) is not None for p in self._untailed)

    def _wildcard(self, origin: str) -> bool:
        sep = origin.find("://")
        if sep <= 0:
            return False
        scheme = origin[:sep]
        rest = origin[sep + 3 :]
        host, colon, port = rest.rpartition(":")
        if not colon or not port.isdigit():
            host, port = rest, ""
        # A host name of non-empty labels: ".example.com", "a..example.com" and
        # non-hosts such as "evil.com#.example.com" or "a:b.example.com" never match.
        if HOST_NAME_RE.fullmatch(host) is None:
            return False
        prefix = f"{scheme}://"
        suffix_port = f":{port}"
        # Only suffixes as long as the longest configured one can match, which bounds
        # the probes whatever the length of the request host.
        longest = self.max_suffix - len(prefix) - len(suffix_port)
        start = max(1, len(host) - longest)
        dot = host.find(".", start)
        while dot != -1:
            if f"{prefix}{host[dot:]}{suffix_port}" in self.wildcards:
                return True
            dot = host.find(".", dot + 1)
        return False
