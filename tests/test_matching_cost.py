"""Origin matching does no per-request work proportional to the number of origins.

Not a timing (speed is measured only in ``benchmarks/``): the work of one decision
is counted as the Python bytecode instructions executed plus the calls into C
functions (``sys.settrace`` with opcode events, ``sys.setprofile``). A scan of the
configured list, in Python or through ``any()``/a generator, shows up in that count;
a set or dict lookup does not grow with the list. Each decision must cost the same
with 1, 100 and 10 000 configured origins.
"""

from __future__ import annotations

import gc
import sys
from types import FrameType
from typing import Any, Callable

import pytest

from flask_gravicors.core import CorsRules
from flask_gravicors.origins import OriginMatcher, literal_tail
from flask_gravicors.wsgi import _OWNED_ACTUAL, CorsMiddleware, rewrite_headers

SIZES = (1, 100, 10_000)


def work(fn: Callable[[], Any]) -> int:
    """Bytecode instructions executed plus C functions called while ``fn`` runs."""
    count = 0

    def on_opcode(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "opcode":
            count += 1
        return on_opcode

    def on_call(frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        return on_opcode

    def on_profile(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal count
        if event == "c_call":
            count += 1

    # A collection inside the counted call would run other objects' finalizers and
    # weakref callbacks (the apps earlier tests left behind), counting their work.
    gc.collect()
    gc.disable()
    old_trace, old_profile = sys.gettrace(), sys.getprofile()
    sys.settrace(on_call)
    sys.setprofile(on_profile)
    try:
        fn()
    finally:
        sys.settrace(old_trace)
        sys.setprofile(old_profile)
        gc.enable()
    return count


def exact(n: int) -> list[str]:
    # Fixed-width names: only the number of entries differs between sizes.
    return [f"https://app{i:05d}.example.com" for i in range(n)]


def wildcards(n: int) -> list[str]:
    return [f"https://*.tenant{i:05d}.example.com" for i in range(n)]


def regexes(n: int) -> list[str]:
    return [rf"https://[a-z]+\.re{i:05d}\.example\.com" for i in range(n)]


def same_work_at_every_size(
    build: Callable[[int], Any], decide: Callable[[Any, int], Any], warm: bool = False, sizes: tuple[int, ...] = SIZES
) -> None:
    counts = []
    for n in sizes:
        subject = build(n)
        if warm:
            decide(subject, n)
        counts.append(work(lambda subject=subject, n=n: decide(subject, n)))
    assert len(set(counts)) == 1, f"work at {sizes} origins: {counts}"


ORIGINS = {
    "allowed (last entry)": lambda n: f"https://app{n - 1:05d}.example.com",
    "allowed, mixed case": lambda n: f"HTTPS://App{n - 1:05d}.example.com",
    "disallowed": lambda n: "https://evil.example.net",
    "disallowed, look-alike": lambda n: "https://app99999.example.com",
    "null": lambda n: "null",
}


@pytest.mark.parametrize("origin", ORIGINS.values(), ids=list(ORIGINS))
def test_exact_origin_decisions_do_not_grow_with_the_list(origin: Callable[[int], str]) -> None:
    def decide(matcher: OriginMatcher, n: int) -> None:
        assert matcher.allows(origin(n)) is origin(n).lower().startswith("https://app0")

    same_work_at_every_size(lambda n: OriginMatcher(exact(n)), decide)


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://a.tenant00000.example.com", True),
        ("https://a.b.c.tenant00000.example.com", True),
        ("https://a.tenant99999.example.com", False),
        ("https://tenant00000.example.com", False),
    ],
)
def test_wildcard_decisions_do_not_grow_with_the_list(origin: str, allowed: bool) -> None:
    def decide(matcher: OriginMatcher, n: int) -> None:
        assert matcher.allows(origin) is allowed

    same_work_at_every_size(lambda n: OriginMatcher(wildcards(n)), decide)


@pytest.mark.parametrize(("origin", "allowed"), [("https://shop.re00000.example.com", True), ("https://evil.example.net", False)])
def test_repeated_regex_decisions_do_not_grow_with_the_list(origin: str, allowed: bool) -> None:
    # The first sight of an origin value may try the patterns; every later request
    # with that value is one lookup, whatever the number of patterns.
    def decide(matcher: OriginMatcher, n: int) -> None:
        assert matcher.allows(origin) is allowed

    # 1 000 patterns at most: compiling 10 000 would only slow the suite down.
    same_work_at_every_size(lambda n: OriginMatcher(regexes(n)), decide, warm=True, sizes=(1, 100, 1000))


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://shop.re00000.example.com", True),
        ("https://shop.re99999.example.com", False),
        ("https://evil.example.net", False),
    ],
)
def test_new_regex_decisions_try_only_the_patterns_with_that_ending(origin: str, allowed: bool) -> None:
    # A value never seen before (empty cache) tries the patterns whose literal
    # ending it has, not all of them: a flood of new origins costs no scan.
    def decide(matcher: OriginMatcher, n: int) -> None:
        matcher._cache.clear()
        assert matcher.allows(origin) is allowed

    same_work_at_every_size(lambda n: OriginMatcher(regexes(n)), decide, sizes=(1, 100, 1000))


@pytest.mark.parametrize(
    ("pattern", "tail"),
    [
        (r"https://[a-z0-9-]+\.tenant5\.example\.com", ".tenant5.example.com"),
        (r"^https://A\.com$", "https://a.com"),
        (r"https://(a|b)\.com", ".com"),
        (r"a|b\.com", ""),
        (r"https://x\.(com|net)", ""),
        (r"https://.*", ""),
        (r"https://x\.(?-i:COM)", ""),
        ("https://x\\.\u212a", ""),
    ],
)
def test_literal_tail(pattern: str, tail: str) -> None:
    assert literal_tail(pattern) == tail


def rules(n: int) -> CorsRules:
    return CorsRules(
        {
            "enabled": True,
            "allow_origin": exact(n) + wildcards(n),
            "allow_methods": ["GET", "PUT"],
            "allow_headers": ["content-type"],
            "allow_credentials": True,
        },
        ["http-proxy"],
    )


@pytest.mark.parametrize("origin", ORIGINS.values(), ids=list(ORIGINS))
def test_preflight_and_actual_decisions_do_not_grow_with_the_list(origin: Callable[[int], str]) -> None:
    same_work_at_every_size(rules, lambda r, n: r.preflight(origin(n), "PUT", "content-type", None))
    same_work_at_every_size(rules, lambda r, n: r.actual_headers(origin(n)))


class CountingMatcher:
    """Stands in for an OriginMatcher and counts the decisions asked of it."""

    def __init__(self, inner: OriginMatcher):
        self.inner = inner
        self.calls = 0

    def allows(self, origin: str) -> bool:
        self.calls += 1
        return self.inner.allows(origin)


def test_the_wsgi_layer_asks_at_most_one_origin_decision_per_request() -> None:
    from flask_gravicors.core import CompiledApi, Runtime

    api = CompiledApi(
        {"name": "a", "context_path": "/a", "cors": {"enabled": True, "allow_origin": exact(100), "allow_methods": ["PUT"]}}
    )
    counting = CountingMatcher(api.cors.origins)
    api.cors.origins = counting  # type: ignore[assignment]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    middleware = CorsMiddleware(app, Runtime([api], None))
    requests = [
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/a/1", "HTTP_ORIGIN": "https://app00042.example.com"},
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/a/1", "HTTP_ORIGIN": "https://evil.example.net"},
        {
            "REQUEST_METHOD": "OPTIONS",
            "PATH_INFO": "/a",
            "HTTP_ORIGIN": "https://app00042.example.com",
            "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT",
        },
        {
            "REQUEST_METHOD": "OPTIONS",
            "PATH_INFO": "/a",
            "HTTP_ORIGIN": "https://evil.example.net",
            "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT",
        },
    ]
    for environ in requests * 3:
        before = counting.calls
        b"".join(middleware(dict(environ), lambda status, headers, exc_info=None: None))
        assert counting.calls - before <= 1, environ


# The caches that keep decisions constant-time must not change them: a request
# answered from the caches (an origin value seen before) gets exactly the headers
# the first request with that value got, whatever headers the view set.
CACHE_CONFIGS = [
    {
        "allow_origin": ["https://a.example.com", "https://*.b.example.com", r"https://x\d\.c\.example\.com"],
        "allow_credentials": True,
        "expose_headers": ["x-id"],
    },
    {"allow_origin": ["*"]},
    {"allow_origin": ["*"], "allow_credentials": True},
]
CACHE_ORIGINS = [
    None,
    "https://a.example.com",
    "HTTPS://A.example.com",
    "https://z.b.example.com",
    "https://x1.c.example.com",
    "https://evil.example.net",
    "null",
    "",
]
VIEW_HEADERS = [
    [("Content-Type", "application/json"), ("Content-Length", "2")],
    [("Content-Type", "text/plain"), ("X-Id", "7")],
    [("Vary", "Accept-Encoding"), ("Content-Type", "text/plain")],
    [("vary", "origin, Cookie"), ("access-control-allow-origin", "https://evil.example.net")],
    [("Access-Control-Expose-Headers", "x-secret"), ("Access-Control-Allow-Credentials", "true"), ("Set-Cookie", "a=b")],
    [],
]


@pytest.mark.parametrize("cors", CACHE_CONFIGS)
@pytest.mark.parametrize("origin", CACHE_ORIGINS)
def test_cached_answers_equal_first_answers(cors: dict[str, Any], origin: str | None) -> None:
    from flask_gravicors.core import CompiledApi, Runtime

    for view_headers in VIEW_HEADERS:
        api = CompiledApi({"name": "a", "context_path": "/a", "cors": {"enabled": True, **cors}})
        seen: list[list[tuple[str, str]]] = []

        def app(environ: dict[str, Any], start_response: Callable[..., Any], view_headers: Any = view_headers) -> list[bytes]:
            start_response("200 OK", list(view_headers))
            return [b""]

        middleware = CorsMiddleware(app, Runtime([api], None))
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/a/1"}
        if origin is not None:
            environ["HTTP_ORIGIN"] = origin
        for _ in range(3):
            middleware(dict(environ), lambda status, headers, exc_info=None, seen=seen: seen.append(headers))
        # ... and both are what rewrite_headers makes of the view's headers.
        vary = "Origin" if api.cors.vary_origin else None
        expected = rewrite_headers(list(view_headers), _OWNED_ACTUAL, vary, api.cors.actual_headers(origin))
        assert seen[0] == seen[1] == seen[2] == expected, (view_headers, seen)
