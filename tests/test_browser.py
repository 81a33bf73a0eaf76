"""flask_gravicors.browser: Fetch's rules as tables (the browser's side of CORS).

Each row cites the rule it checks; the response-side checks (the CORS check, the
preflight's checks, readable headers) are also run against real answers in
tests/test_testing.py, through the test kit that wraps them.
"""

from __future__ import annotations

import pytest

from flask_gravicors.browser import (
    cors_check,
    exposed,
    is_forbidden_method,
    is_forbidden_request_header,
    is_safelisted_request_header,
    normalize_method,
    preflight_check,
    preflight_reasons,
    readable_headers,
    unsafe_request_headers,
)

O = "https://shop.example.com"


@pytest.mark.parametrize(
    ("method", "sent"),
    [
        ("get", "GET"),
        ("Delete", "DELETE"),
        ("options", "OPTIONS"),
        ("patch", "patch"),  # Fetch "normalize a method": only the six standard ones
        ("PATCH", "PATCH"),
        ("propfind", "propfind"),
    ],
)
def test_normalize_method(method: str, sent: str) -> None:
    assert normalize_method(method) == sent


@pytest.mark.parametrize(
    ("name", "value", "safelisted"),
    [
        ("Accept", "application/json", True),
        ("accept", "", True),
        ("Accept", "a" * 129, False),  # a value over 128 bytes is not safelisted
        ("Accept", 'text/"html"', False),  # a CORS-unsafe request-header byte
        ("Accept-Language", "fr-CH, fr;q=0.9", True),
        ("Content-Language", "de_DE", False),  # "_" is not allowed in a language value
        ("Content-Type", "text/plain;charset=UTF-8", True),
        ("Content-Type", "Multipart/Form-Data; boundary=x", True),
        ("Content-Type", "application/json", False),
        ("Content-Type", "", False),
        ("Content-Type", "text/plain; x=(y)", False),  # unsafe bytes anywhere in the value
        ("X-Trace", "t-1", False),
        ("Authorization", "Bearer t", False),
    ],
)
def test_safelisted_request_headers(name: str, value: str, safelisted: bool) -> None:
    assert is_safelisted_request_header(name, value) is safelisted


@pytest.mark.parametrize(
    ("method", "headers", "private_network", "reasons"),
    [
        ("GET", {}, False, []),
        ("post", {"Content-Type": "text/plain"}, False, []),
        ("HEAD", {"Accept": "*/*"}, False, []),
        ("PUT", {}, False, ["PUT is not a CORS-safelisted method (GET, HEAD, POST)"]),
        ("delete", {}, False, ["DELETE is not a CORS-safelisted method (GET, HEAD, POST)"]),
        ("POST", {"Content-Type": "application/json; charset=utf-8"}, False,
         ["Content-Type application/json is not one of application/x-www-form-urlencoded, multipart/form-data, text/plain"]),
        ("GET", {"X-B": "1", "x-a": "2"}, False,
         ["x-a is not a CORS-safelisted request header", "x-b is not a CORS-safelisted request header"]),
        ("GET", {}, True, ["the request goes to a more private network (Private Network Access)"]),
    ],
)
def test_preflight_reasons(method: str, headers: dict[str, str], private_network: bool, reasons: list[str]) -> None:
    assert preflight_reasons(method, headers, private_network) == reasons


def test_unsafe_request_headers_are_sorted_lower_case_names() -> None:
    assert unsafe_request_headers({"X-B": "1", "Accept": "x", "Content-Type": "application/json"}) == ["content-type", "x-b"]


@pytest.mark.parametrize(
    ("name", "forbidden"),
    [("Cookie", True), ("origin", True), ("Sec-Fetch-Mode", True), ("Proxy-Authorization", True),
     ("Access-Control-Request-Method", True), ("X-Trace", False), ("Authorization", False)],
)
def test_forbidden_request_headers(name: str, forbidden: bool) -> None:
    assert is_forbidden_request_header(name) is forbidden


def test_forbidden_methods() -> None:
    assert [m for m in ("CONNECT", "trace", "Track", "PATCH") if is_forbidden_method(m)] == ["CONNECT", "trace", "Track"]


# (answer headers, origin, credentials, failed check or None)
CORS_CHECKS = [
    ([("Access-Control-Allow-Origin", "*")], O, False, None),
    ([("Access-Control-Allow-Origin", "*")], O, True, "credentials"),
    ([("Access-Control-Allow-Origin", O)], O, True, "credentials"),
    ([("Access-Control-Allow-Origin", O), ("Access-Control-Allow-Credentials", "true")], O, True, None),
    ([("Access-Control-Allow-Origin", O.upper())], O, False, "allow-origin"),  # byte for byte
    ([("Access-Control-Allow-Origin", O), ("Access-Control-Allow-Origin", O)], O, False, "allow-origin"),
    ([], O, False, "allow-origin"),
]


@pytest.mark.parametrize(("headers", "origin", "credentials", "check"), CORS_CHECKS)
def test_cors_check(headers: list[tuple[str, str]], origin: str, credentials: bool, check: str | None) -> None:
    blocked = cors_check(headers, origin, credentials)
    assert (blocked.check if blocked else None) == check


def test_preflight_check_names_what_failed() -> None:
    ok = [("Access-Control-Allow-Origin", O), ("Access-Control-Allow-Methods", "PUT")]
    assert preflight_check(200, ok, O, "PUT", [], False, False) is None
    assert preflight_check(400, ok, O, "PUT", [], False, False).check == "status"  # type: ignore[union-attr]
    assert preflight_check(200, ok, O, "PATCH", [], False, False).check == "allow-methods"  # type: ignore[union-attr]
    assert preflight_check(200, ok, O, "PUT", ["x-a"], False, False).check == "allow-headers"  # type: ignore[union-attr]
    assert preflight_check(200, ok, O, "PUT", [], False, True).check == "private-network"  # type: ignore[union-attr]
    star = [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Headers", "*")]
    # "*" never covers Authorization
    assert preflight_check(200, star, O, "GET", ["authorization"], False, False).check == "allow-headers"  # type: ignore[union-attr]


def test_exposed_and_readable_headers() -> None:
    headers = [("Access-Control-Expose-Headers", "X-A, *"), ("X-A", "1"), ("X-B", "2"), ("Set-Cookie", "a=b"),
               ("Content-Type", "text/plain")]
    assert exposed(headers, credentials=False) is None
    assert readable_headers(headers, credentials=False) == {"access-control-expose-headers", "x-a", "x-b", "content-type"}
    # with credentials "*" is a literal name: only X-A is exposed
    assert exposed(headers, credentials=True) == {"x-a"}
    assert readable_headers(headers, credentials=True) == {"x-a", "content-type"}
