"""What a browser does: the Fetch standard's own rules, in one place.

No Flask import. These rules are the browser's, not flask_gravicors's: which
requests need a preflight (CORS-safelisted methods and request headers), which
names a script can never set or read (forbidden methods, request and response
headers), and the browser's side of the CORS protocol: the CORS check of a
response, the checks of a preflight's answer, and which response headers a
script reads. The config checks (:mod:`.checks`), ``flask gravicors explain``
(:mod:`.explain`) and the test kit (:mod:`.testing`) read them here.

Headers are given as ``(name, value)`` pairs, as WSGI and werkzeug's
``Headers.items()`` hold them (a name may come more than once).
"""

from __future__ import annotations

from typing import Iterable, Mapping, NamedTuple, Sequence

ACAO = "access-control-allow-origin"
ACAC = "access-control-allow-credentials"
ACAM = "access-control-allow-methods"
ACAH = "access-control-allow-headers"
ACEH = "access-control-expose-headers"
ACAPN = "access-control-allow-private-network"

#: Fetch, "CORS-safelisted method": never preflighted.
SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})

#: Fetch, "normalize a method": browsers upper-case these (compared
#: case-insensitively) and send every other method exactly as the script wrote it.
NORMALIZED_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})

#: Fetch, "forbidden method": a script cannot send these (compared case-insensitively).
FORBIDDEN_METHODS = frozenset({"CONNECT", "TRACE", "TRACK"})

#: Fetch, "CORS-safelisted request-header" names (``Content-Type`` only with one
#: of :data:`SAFELISTED_CONTENT_TYPES`, and every value within the limits below).
SAFELISTED_REQUEST_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})
SAFELISTED_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
#: A safelisted header's value longer than this many bytes is not safelisted.
MAX_SAFELISTED_VALUE = 128

#: Fetch, "forbidden request-header": a script cannot set them (lower case; plus
#: every name starting with one of :data:`FORBIDDEN_REQUEST_HEADER_PREFIXES`).
FORBIDDEN_REQUEST_HEADERS = frozenset(
    {
        "accept-charset",
        "accept-encoding",
        "access-control-request-headers",
        "access-control-request-method",
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

#: Fetch, "CORS-safelisted response-header name": readable without Expose-Headers.
SAFELISTED_RESPONSE_HEADERS = frozenset(
    {"cache-control", "content-language", "content-length", "content-type", "expires", "last-modified", "pragma"}
)
#: Fetch, "forbidden response-header name": never readable, whatever is exposed.
FORBIDDEN_RESPONSE_HEADERS = frozenset({"set-cookie", "set-cookie2"})

# Fetch, "CORS-unsafe request-header byte".
_UNSAFE_BYTES = frozenset(b'"():<>?@[\\]{}\x7f') | (frozenset(range(0x20)) - {0x09})
# Bytes allowed in Accept-Language and Content-Language values.
_LANGUAGE_BYTES = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz *,-.;=")

Headers = Sequence[tuple[str, str]]


class Blocked(NamedTuple):
    """Why the browser refuses an answer: ``check`` names what failed (``status``,
    ``allow-origin``, ``credentials``, ``private-network``, ``allow-methods``,
    ``allow-headers``), ``reason`` says it in a sentence."""

    check: str
    reason: str


def normalize_method(method: str) -> str:
    """The method a browser sends for a script's ``method``: the six standard ones
    upper-cased, any other as written (so ``patch`` stays ``patch``)."""
    upper = method.upper()
    return upper if upper in NORMALIZED_METHODS else method


def is_forbidden_method(method: str) -> bool:
    return method.upper() in FORBIDDEN_METHODS


def is_forbidden_request_header(name: str) -> bool:
    """Whether a script may not set header ``name`` (the browser drops or refuses it)."""
    lower = name.lower()
    return lower in FORBIDDEN_REQUEST_HEADERS or lower.startswith(FORBIDDEN_REQUEST_HEADER_PREFIXES)


def _essence(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip(" \t").lower()


def is_safelisted_request_header(name: str, value: str) -> bool:
    """Fetch, "CORS-safelisted request-header": a name and value a script may send
    cross-origin without a preflight."""
    lower = name.lower()
    if lower not in SAFELISTED_REQUEST_HEADERS:
        return False
    raw = value.encode("utf-8", "surrogateescape")
    if len(raw) > MAX_SAFELISTED_VALUE:
        return False
    if lower == "accept":
        return _UNSAFE_BYTES.isdisjoint(raw)
    if lower in ("accept-language", "content-language"):
        return _LANGUAGE_BYTES.issuperset(raw)
    return _UNSAFE_BYTES.isdisjoint(raw) and _essence(value) in SAFELISTED_CONTENT_TYPES


def unsafe_request_headers(headers: Mapping[str, str]) -> list[str]:
    """The names a browser lists in ``Access-Control-Request-Headers`` for a request
    with ``headers`` (Fetch, "CORS-unsafe request-header names"): lower-cased,
    sorted, the safelisted ones left out."""
    return sorted({name.lower() for name, value in headers.items() if not is_safelisted_request_header(name, value)})


def preflight_reasons(method: str, headers: Mapping[str, str], private_network: bool = False) -> list[str]:
    """Why a browser sends a preflight before ``method`` with ``headers`` (as the
    script gives them: the method is normalised here); empty when it sends none."""
    reasons = []
    sent = normalize_method(method)
    if sent not in SAFELISTED_METHODS:
        reasons.append(f"{sent} is not a CORS-safelisted method (GET, HEAD, POST)")
    for name in unsafe_request_headers(headers):
        if name == "content-type":
            value = next(v for n, v in headers.items() if n.lower() == "content-type")
            shown = _essence(value) or "empty"
            reasons.append(
                f"Content-Type {shown} is not one of application/x-www-form-urlencoded, multipart/form-data, text/plain"
            )
        else:
            reasons.append(f"{name} is not a CORS-safelisted request header")
    if private_network:
        # Chromium's Private Network Access: every request to a more private
        # network is preflighted, with Access-Control-Request-Private-Network.
        reasons.append("the request goes to a more private network (Private Network Access)")
    return reasons


def values(headers: Headers, name: str) -> list[str]:
    """Every value of header ``name`` (case-insensitive), in order."""
    lower = name.lower()
    return [v for n, v in headers if n.lower() == lower]


def header(headers: Headers, name: str) -> str | None:
    """The value a script reads for ``name``: several values joined with ``", "``."""
    found = values(headers, name)
    return ", ".join(found) if found else None


def split_list(value: str | None) -> list[str]:
    """The items of a comma-separated header value, trimmed, empty ones dropped."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def cors_check(headers: Headers, origin: str, credentials: bool) -> Blocked | None:
    """Fetch's CORS check of a response to a request from ``origin``: ``None`` when
    it passes. ``credentials``: the request's credentials mode is ``include``."""
    value = header(headers, ACAO)
    if value is None:
        return Blocked("allow-origin", "no Access-Control-Allow-Origin")
    if value == "*" and not credentials:
        return None
    if value != origin:
        if value == "*":
            return Blocked("credentials", "Access-Control-Allow-Origin is '*' on a request with credentials")
        return Blocked("allow-origin", f"Access-Control-Allow-Origin is {value!r}, not the page's origin {origin!r}")
    if credentials and header(headers, ACAC) != "true":
        return Blocked("credentials", "Access-Control-Allow-Credentials is not 'true' on a request with credentials")
    return None


def preflight_check(
    status: int,
    headers: Headers,
    origin: str,
    method: str,
    header_names: Iterable[str],
    credentials: bool,
    private_network: bool,
) -> Blocked | None:
    """Fetch's CORS-preflight fetch, the browser's side: ``None`` when the browser
    goes on with the actual request (``method`` as sent, ``header_names`` as listed
    in ``Access-Control-Request-Headers``)."""
    if not 200 <= status <= 299:
        return Blocked("status", f"the preflight got {status}, not an ok status")
    failed = cors_check(headers, origin, credentials)
    if failed:
        return failed
    if private_network and header(headers, ACAPN) != "true":
        return Blocked("private-network", "Access-Control-Allow-Private-Network is not 'true'")
    methods = split_list(header(headers, ACAM))
    # "*" is a wildcard only without credentials; the safelisted methods always pass.
    if method not in methods and method not in SAFELISTED_METHODS and (credentials or "*" not in methods):
        return Blocked("allow-methods", f"{method} is not in Access-Control-Allow-Methods")
    allowed = {name.lower() for name in split_list(header(headers, ACAH))}
    for name in header_names:
        lower = name.lower()
        # "*" never covers Authorization (a CORS non-wildcard request-header name).
        wildcard = "*" in allowed and not credentials and lower != "authorization"
        if lower not in allowed and not wildcard:
            return Blocked("allow-headers", f"{lower} is not in Access-Control-Allow-Headers")
    return None


def exposed(headers: Headers, credentials: bool) -> frozenset[str] | None:
    """Lower-cased names ``Access-Control-Expose-Headers`` exposes beyond the
    safelisted ones; ``None`` when it exposes every header (``*`` without credentials)."""
    names = {name.lower() for name in split_list(header(headers, ACEH))}
    if "*" in names and not credentials:
        return None
    return frozenset(names - {"*"})


def readable_headers(headers: Headers, credentials: bool) -> frozenset[str]:
    """Lower-cased names of the response headers a script can read once the CORS
    check passed: the safelisted ones and those exposed, never Set-Cookie."""
    present = {name.lower() for name, _ in headers}
    names = exposed(headers, credentials)
    if names is None:
        return frozenset(present - FORBIDDEN_RESPONSE_HEADERS)
    return frozenset(present & (SAFELISTED_RESPONSE_HEADERS | names) - FORBIDDEN_RESPONSE_HEADERS)
