"""Origin entries: classifying configured values and matching request origins.

Pure Python, no Flask. Configured entries come in four kinds:

* ``*``: any origin.
* regular expressions: any entry holding one of ``( [ { \\ ^ $ |``. Gravitee compiles
  such entries as regexes and matches the *whole* origin; we do the same, with
  RE2 (the ``google-re2`` package), whose matching time is linear in the length
  of the origin whatever the pattern: Python's ``re`` backtracks, and
  ``https://([a-z0-9]+)*\\.example\\.com`` took hours on one 40-character origin.
  Matches are anchored at both ends (flask-cors used ``re.match`` and accepted
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

import re2  # type: ignore[import-untyped]

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


# --- Host forms browsers send (WHATWG URL standard, "host parsing") -------------


def ends_in_number(host: str) -> bool:
    """WHATWG "ends in a number": the last label is all digits or ``0x`` + hex digits.

    A browser reads such a host as an IPv4 address (``http://1:6060`` is
    ``http://0.0.0.1:6060``, ``http://127.1`` is ``http://127.0.0.1``), never as a
    domain name.
    """
    last = host.rpartition(".")[2]
    if last.isascii() and last.isdigit():
        return True
    return last[:2].lower() == "0x" and all(c in "0123456789abcdefABCDEF" for c in last[2:])


def ipv4_serialized(host: str) -> str | None:
    """The dotted-decimal form a browser gives ``host`` (WHATWG "IPv4 parser":
    decimal, ``0x`` hex and ``0`` octal parts, 1 to 4 of them), or ``None``
    when a browser refuses it as a host."""
    parts = host.split(".")
    if len(parts) > 4:
        return None
    numbers = []
    for part in parts:
        base, digits = 10, part
        if part[:2].lower() == "0x":
            base, digits = 16, part[2:]
        elif len(part) > 1 and part[0] == "0":
            base, digits = 8, part[1:]
        if not part or not digits.isascii() or (digits and not digits.isalnum()):
            return None
        try:
            numbers.append(int(digits, base) if digits else 0)
        except ValueError:
            return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    address = last + sum(n * 256 ** (3 - i) for i, n in enumerate(head))
    return str(ipaddress.IPv4Address(address))


def ipv6_serialized(address: ipaddress.IPv6Address) -> str:
    """The IPv6 host as browsers serialise it, brackets excluded (WHATWG "IPv6
    serializer"): eight lower-case hex pieces, the first longest run of two or
    more zero pieces written ``::``, never a dotted IPv4 tail. Written out here
    rather than taken from ``str()``: Python 3.13 prints IPv4-mapped addresses
    dotted (``::ffff:127.127.127.127``) where browsers send ``::ffff:7f7f:7f7f``."""
    value = int(address)
    pieces = [(value >> (16 * (7 - i))) & 0xFFFF for i in range(8)]
    best_start, best_len, run_start = -1, 1, -1
    for i, piece in enumerate([*pieces, 1]):
        if piece == 0 and i < 8:
            if run_start < 0:
                run_start = i
        elif run_start >= 0:
            if i - run_start > best_len:
                best_start, best_len = run_start, i - run_start
            run_start = -1
    hexed = [f"{piece:x}" for piece in pieces]
    if best_start < 0:
        return ":".join(hexed)
    return ":".join(hexed[:best_start]) + "::" + ":".join(hexed[best_start + best_len :])


def punycode_problem(label: str) -> str | None:
    """Why a label starting ``xn--`` is not one a browser sends, or ``None``.

    Its rest must be punycode that decodes to printable text holding something
    other than ASCII and encodes back to itself (``xn--f`` decodes to nothing,
    ``xn--a`` to a control character, ``xn--abc-`` to plain ``abc``).
    """
    encoded = label[4:].lower()
    try:
        decoded = encoded.encode("ascii").decode("punycode")
    except UnicodeError:
        return "is not valid punycode"
    if not decoded or decoded.isascii():
        return "decodes to plain ASCII (write that instead)" if decoded else "is empty punycode"
    if not decoded.isprintable():
        return "decodes to control or unassigned characters"
    if decoded.encode("punycode").decode("ascii") != encoded:
        return "is not how punycode writes its label"
    return None


# --- Regular expressions: RE2 ---------------------------------------------------


def _re2_options() -> Any:
    options = re2.Options()
    options.case_sensitive = False  # scheme and host are case-insensitive (Fetch, "origin")
    options.never_capture = True  # only whether the whole origin matches counts
    options.log_errors = False  # a refused pattern is a ConfigError, not a line on stderr
    return options


RE2_OPTIONS = _re2_options()


def compile_regex(pattern: str) -> Any:
    """``pattern`` compiled by RE2 as origin regexes run (raises ``re2.error``)."""
    return re2.compile(pattern, RE2_OPTIONS)


#: Longest literal ending used to bucket a regex (longer ones are cut to it).
MAX_TAIL = 64

# A repetition as RE2 reads it after "{": {n}, {n,} or {n,m}, numbers of at most
# nine digits without leading zeros. RE2 reads any other "{" as a literal brace.
_REPEAT_RE = re.compile(r"\{(?:0|[1-9][0-9]{0,8})(?:,(?:0|[1-9][0-9]{0,8})?)?\}")


@dataclass(frozen=True)
class RegexShape:
    """What :func:`regex_shape` reads from a pattern in RE2's syntax."""

    #: The lower-case ASCII text every match ends with, ``""`` when unknown.
    tail: str
    #: Index of the first "{" or "}" RE2 reads as a literal character, or None.
    stray_brace: int | None


def _escape_end(pattern: str, i: int) -> tuple[int, str | None, bool]:
    """The escape at ``pattern[i]`` (a backslash): (index after it, the one literal
    character it stands for, ``""`` for ``\\z`` or None for anything else, whether
    its form is too rare to read a tail across)."""
    nxt = pattern[i + 1 : i + 2]
    if not nxt:
        return len(pattern), None, True
    if nxt == "Q":  # \Q...\E: literal text
        end = pattern.find("\\E", i + 2)
        return (len(pattern) if end == -1 else end + 2), None, True
    if nxt in "xpP":  # \x41, \x{41}, \pL, \p{Greek}
        if pattern[i + 2 : i + 3] == "{":
            close = pattern.find("}", i + 3)
            return (len(pattern) if close == -1 else close + 1), None, True
        return i + (4 if nxt == "x" else 3), None, True
    if nxt.isdigit():  # octal \0, \012 (RE2 refuses the backreferences \1-\9)
        j = i + 2
        while j < min(len(pattern), i + 4) and pattern[j] in "01234567":
            j += 1
        return j, None, True
    if nxt == "z":
        return i + 2, "", False
    if nxt.isascii() and not nxt.isalnum():
        return i + 2, nxt, False  # escaped punctuation is that character
    return i + 2, None, False  # \d, \b, \A, \n...: no one fixed character


def _class_end(pattern: str, i: int) -> tuple[int, bool]:
    """Index after the class opening at ``pattern[i]`` ("["), and whether it holds
    an escape or a POSIX name (then no tail is read across it)."""
    j = i + 1
    if pattern[j : j + 1] == "^":
        j += 1
    if pattern[j : j + 1] == "]":  # a "]" first is a member
        j += 1
    rare = False
    while j < len(pattern):
        c = pattern[j]
        if c == "\\":
            rare = True
            j += 2
        elif c == "[" and pattern[j + 1 : j + 2] == ":" and pattern.find(":]", j + 2) != -1:
            rare = True
            j = pattern.find(":]", j + 2) + 2
        elif c == "]":
            return j + 1, rare
        else:
            j += 1
    return len(pattern), rare


def regex_shape(pattern: str) -> RegexShape:
    """The literal ending of ``pattern`` and any stray brace, read in RE2's syntax.

    The tail is the run of literal characters that ends the top-level sequence
    (``$`` and ``\\z`` at the very end skipped): a top-level ``|``, a group, a class,
    a repeated atom or any escape but escaped punctuation ends it, and a pattern
    using ``\\Q``, ``\\x``, ``\\p``, octal escapes or escapes inside a class has none.
    Only ASCII is kept, lower-cased: request origins reaching the regexes are
    lower-case ASCII (and under case folding some non-ASCII characters match ASCII
    ones, the Kelvin sign ``k``), so an origin without this ending cannot match. Any
    doubt gives ``""``: the pattern is then tried on every new origin.
    """
    atoms: list[str | None] = []  # top level: a character, "" (end anchor) or None
    depth = 0
    alternation = rare = False
    stray: int | None = None
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        atom: str | None = None
        if ch == "\\":
            i, atom, odd = _escape_end(pattern, i)
            rare = rare or odd
        elif ch == "[":
            i, odd = _class_end(pattern, i)
            rare = rare or odd
        elif ch == "(":
            if depth == 0:
                atoms.append(None)
            depth += 1
            i += 1
            continue
        elif ch == ")":
            depth = max(0, depth - 1)
            i += 1
            continue
        elif ch == "|":
            alternation = alternation or depth == 0
            i += 1
            continue
        elif ch in "*+?" or (ch == "{" and _REPEAT_RE.match(pattern, i)):
            # A repeat: the atom before it is no longer one fixed character.
            if depth == 0 and atoms:
                atoms[-1] = None
            found = _REPEAT_RE.match(pattern, i) if ch == "{" else None
            i = found.end() if found else i + 1
            continue
        else:
            if ch in "{}" and stray is None:
                stray = i
            atom = "" if ch == "$" else None if ch in ".^{}]" else ch
            i += 1
        if depth == 0:
            atoms.append(atom)
    chars: list[str] = []
    if not alternation and not rare:
        while atoms and atoms[-1] == "":
            atoms.pop()
        for atom in reversed(atoms):
            if not atom or not atom.isascii() or len(chars) == MAX_TAIL:
                break
            chars.append(atom.lower())
    return RegexShape("".join(reversed(chars)), stray)


def literal_tail(pattern: str) -> str:
    """The lower-case ASCII text every match of ``pattern`` ends with, or ``""``
    (see :func:`regex_shape`)."""
    return regex_shape(pattern).tail


# RE2's messages for what Perl, Java or Python regexes have and RE2 lacks, by the
# start of the text RE2 quotes: (start, what it is).
_RE2_LACKS = (
    ("(?=", "a lookahead"),
    ("(?!", "a lookahead"),
    ("(?<=", "a lookbehind"),
    ("(?<!", "a lookbehind"),
    ("(?>", "an atomic group"),
    ("\\k", "a backreference"),
    ("(?(", "a conditional"),
    ("(?#", "a comment group"),
    ("(?x", "verbose mode"),
    ("\\Z", "\\Z (RE2 writes it \\z)"),
    ("\\G", "\\G"),
    ("\\u", "\\uXXXX (RE2 writes it \\x{XXXX})"),
)


def regex_problem(pattern: str) -> tuple[str, str] | None:
    """Why ``pattern`` cannot be an origin regex, as (rule id, detail), or None.

    ``gravicors.E060`` for a feature RE2 lacks (backreferences, lookaround, ...),
    ``gravicors.E021`` for any other pattern RE2 refuses, and for a ``{`` or ``}``
    RE2 would read as a literal character (Python reads ``a{,3}`` as a repeat,
    RE2 as text; no origin holds a brace).
    """
    shown = repr(pattern)
    stray = regex_shape(pattern).stray_brace
    if stray is not None:
        return "gravicors.E021", (
            f"{shown}: RE2 reads the {pattern[stray]!r} at index {stray} as a literal character; write a repeat as "
            "{n}, {n,} or {n,m} (n, m up to 1000), or escape the brace"
        )
    try:
        compile_regex(pattern)
    except re2.error as err:
        message = err.args[0] if err.args else ""
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        message = str(message)
        quoted = message.partition(": ")[2]
        for start, what in _RE2_LACKS:
            if quoted.startswith(start):
                return "gravicors.E060", f"{shown} uses {what} ({message})"
        if quoted == "(?P" and "(?P=" in pattern:
            return "gravicors.E060", f"{shown} uses a backreference ({message})"
        if len(quoted) >= 2 and quoted[0] == "\\" and quoted[1] in "123456789":
            return "gravicors.E060", f"{shown} uses a backreference ({message})"
        if message.startswith("bad repetition operator") and quoted[-1:] == "+" and len(quoted) > 1:
            return "gravicors.E060", f"{shown} uses a possessive quantifier ({message})"
        return "gravicors.E021", f"{shown}: {message}"
    return None


def _sendable(origin: str) -> bool:
    """Whether a browser could send ``origin``: refuses overlong values, controls
    (CR/LF), non-ASCII (hosts are punycode), spaces and commas (two Origin headers
    joined by a server: gunicorn and werkzeug join them with a bare ","). :meth:`OriginMatcher.allows`
    refuses the rest at once."""
    return (
        0 < len(origin) <= MAX_ORIGIN_LENGTH
        and origin.isascii()
        and origin.isprintable()
        and " " not in origin
        and "," not in origin
    )


#: Public name for the other modules (dynamic origins ask only about such values).
sendable = _sendable


class OriginMatcher:
    """Decides whether a request's ``Origin`` is allowed. Immutable once built,
    except for the regex decision cache, which only ever memoises answers."""

    __slots__ = ("any", "exact", "wildcards", "max_suffix", "regexes", "_cache", "_plain", "_tails", "_untailed")

    def __init__(self, entries: Iterable[str]):
        exact: set[str] = set()
        wildcards: set[str] = set()
        regexes: list[tuple[str, Any]] = []
        self.any = False
        for entry in entries:
            if entry == "*":
                self.any = True
            elif is_regex(entry):
                # Validated before we get here (checks.regex_problem); RE2 compiles once.
                regexes.append((entry, compile_regex(entry)))
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
        self.regexes = tuple(compiled for _, compiled in regexes)
        #: Decisions on origins that are not exact entries (wildcards and regexes).
        self._cache: dict[str, bool] = {}
        # Exact entries exactly as a browser sends them (lower-case, and passing
        # every check in allows): a request origin found here is allowed at once.
        self._plain = frozenset(e for e in self.exact if _sendable(e))
        # Regexes bucketed by the literal text every match ends with: a new origin
        # value tries only the patterns whose ending it has, not the whole list.
        tails: dict[int, dict[str, list[Any]]] = {}
        untailed: list[Any] = []
        for entry, pattern in regexes:
            tail = literal_tail(entry)
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
        patterns with no literal ending. ``origin`` is ASCII (:func:`_sendable`): RE2
        reads it as bytes, which spares its wrapper the character offsets."""
        size = len(origin)
        data = origin.encode("ascii")
        for length, by_tail in self._tails:
            if length > size:
                break
            found = by_tail.get(origin[-length:])
            if found is not None and any(p.fullmatch(data) is not None for p in found):
                return True
        return any(p.fullmatch(data) is not None for p in self._untailed)

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
