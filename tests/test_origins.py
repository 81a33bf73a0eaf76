"""OriginMatcher: configured entries x request origin -> allowed?"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from flask_gravicors.origins import (
    REGEX_CACHE_SIZE,
    OriginMatcher,
    compile_regex,
    is_regex,
    literal_tail,
    regex_problem,
    split_origin,
    wildcard_key,
)

SHOP = "https://shop.example.com"

# (configured entries, request Origin, allowed)
CASES = [
    # exact: scheme and host compare case-insensitively, everything else exactly
    ([SHOP], SHOP, True),
    ([SHOP], "HTTPS://Shop.Example.COM", True),
    (["https://Shop.Example.com"], SHOP, True),
    ([SHOP], "http://shop.example.com", False),
    ([SHOP], "https://shop.example.com:8443", False),
    (["https://shop.example.com:8443"], "https://shop.example.com:8443", True),
    ([SHOP], "https://shop.example.com.evil.net", False),
    ([SHOP], "https://evilshop.example.com", False),
    ([SHOP], "https://shop.example.com@evil.net", False),
    ([SHOP], "https://shop.example.com/", False),
    # * allows any well-formed origin, not garbage
    (["*"], "https://anything.test", True),
    (["*"], "null", False),  # null only when listed, even with *
    (["*", "null"], "null", True),
    (["*"], "https://a.test\r\nX-Evil: 1", False),
    (["*"], "", False),
    # null only when listed (Fetch: opaque origins are forgeable)
    ([SHOP], "null", False),
    (["null"], "null", True),
    # subdomain wildcard: one or more labels, never the apex or look-alikes
    (["https://*.example.com"], "https://a.example.com", True),
    (["https://*.example.com"], "https://a.b.example.com", True),
    (["https://*.example.com"], "https://A.Example.com", True),
    (["https://*.example.com"], "https://example.com", False),
    (["https://*.example.com"], "https://.example.com", False),
    (["https://*.example.com"], "https://a..example.com", False),
    (["https://*.example.com"], "https://evilexample.com", False),
    (["https://*.example.com"], "https://example.com.evil.net", False),
    (["https://*.example.com"], "https://a.example.com.evil.net", False),
    (["https://*.example.com"], "http://a.example.com", False),
    (["https://*.example.com"], "https://a.example.com:8443", False),
    (["https://*.example.com:8443"], "https://a.example.com:8443", True),
    (["https://*.example.com:8443"], "https://a.example.com", False),
    # regexes are matched against the whole origin (flask-cors used re.match)
    ([r"https://[a-z]+\.example\.com"], "https://api.example.com", True),
    ([r"https://[a-z]+\.example\.com"], "https://api.example.com.evil.net", False),
    ([r"https://[a-z]+\.example\.com"], "https://x-api.example.com", False),
    ([r"^https://(a|b)\.test$"], "https://b.test", True),
    ([r"^https://(a|b)\.test$"], "https://c.test", False),
    # two exact origins never combine (jub0bs/cors GHSA-vhxv-fg4m-p2w8)
    (["https://foo.com", "https://bar.com"], "https://barfoo.com", False),
    (["https://foo.com", "https://bar.com"], "https://foobar.com", False),
    # what no browser sends is never allowed
    ([SHOP], "https://shop.example.com, https://shop.example.com", False),
    ([SHOP], "https://shöp.example.com", False),
    ([SHOP], "https://" + "a" * 600 + ".com", False),
]


@pytest.mark.parametrize(("entries", "origin", "allowed"), CASES)
def test_matcher(entries: list[str], origin: str, allowed: bool) -> None:
    assert OriginMatcher(entries).allows(origin) is allowed


def test_regex_decisions_are_cached_per_origin() -> None:
    matcher = OriginMatcher([r"https://[a-z]+\.example\.com"])
    assert matcher.allows("https://api.example.com")
    assert matcher._cache == {"https://api.example.com": True}


@pytest.mark.parametrize("entry", [r"https://[a-z0-9]+\.example\.com", "https://*.example.com"])
def test_pattern_decisions_cache_is_bounded(entry: str) -> None:
    # A flood of made-up origins that reach the patterns keeps the decision cache at
    # most REGEX_CACHE_SIZE entries; every answer stays what the pattern says.
    matcher = OriginMatcher([entry])
    for i in range(3 * REGEX_CACHE_SIZE):
        assert matcher.allows(f"https://o{i}.example.com") is True
        assert matcher.allows(f"http://o{i}.example.com") is False
        assert len(matcher._cache) <= REGEX_CACHE_SIZE


def test_wildcard_probe_count_is_bounded_by_configured_suffix() -> None:
    # A host of 200 labels is probed only over the suffixes as long as the longest
    # configured wildcard, not once per label.
    matcher = OriginMatcher(["https://*.example.com"])
    probes = []

    class Counting(frozenset):  # type: ignore[type-arg]
        def __contains__(self, key: object) -> bool:
            probes.append(key)
            return super().__contains__(key)

    matcher.wildcards = Counting(matcher.wildcards)
    counts = []
    for labels in (2, 20, 200):
        probes.clear()
        assert not matcher.allows("https://" + "a." * labels + "test.org")
        counts.append(len(probes))
    assert counts[0] == counts[1] == counts[2] <= 3


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ("https://*.example.com", "https://.example.com:"),
        ("https://*.Example.com:8443", "https://.example.com:8443"),
        ("https://a.example.com", None),
        ("https://*foo.example.com", None),
        ("https://*.*.example.com", None),
        ("https://*.example.com/path", None),
        ("https://u@*.example.com", None),
    ],
)
def test_wildcard_key(entry: str, key: str | None) -> None:
    parsed = split_origin(entry)
    assert parsed is not None
    assert wildcard_key(parsed) == key


# --- issue 12, item 5: RE2 decides; the buckets by literal ending change no answer ---

# Pieces of RE2 syntax with a text each matches, the odd ones included: a tail read
# wrongly would skip a pattern that matches, and the answers below would differ.
PIECES = [
    ("https://", "https://"), ("http://", "http://"), ("a", "a"), ("b", "b"), ("k", "k"), ("-", "-"), (".", "z"),
    (r"\.", "."), (r"\-", "-"), ("[a-z]", "q"), ("[a-z0-9-]+", "ab-9"), ("[^.]", "w"), ("[.]", "."), ("[]a]", "]"),
    ("(a|b)", "b"), ("(?:ab)", "ab"), ("(?i)", ""), ("(?-i:a)", "a"), ("x*", "xx"), ("x?", ""), ("x+", "x"),
    ("x{2}", "xx"), ("x{1,3}", "xxx"), ("$", ""), ("^", ""), (r"\z", ""), (r"\d", "7"), (r"\w", "_"),
    (r"\Q.c\E", ".c"), (r"\x61", "a"), (r"\x{62}", "b"), ("[[:alpha:]]", "m"), (r"\pL", "p"), ("\u212a", "k"),
    ("example", "example"), ("com", "com"), (":8443", ":8443"), (r"\141", "a"), (r"[\]c]", "c"),
]
branches = st.lists(st.sampled_from(PIECES), min_size=1, max_size=6)
EDITS = ["", "", "a", ".", "x", "m", "-"]


@st.composite
def pattern_and_origin(draw: st.DrawFn) -> tuple[str, str]:
    """A pattern (one branch, or two joined by a top-level "|") and an origin made
    of the texts of one branch's pieces, sometimes edited at its end."""
    parts = draw(st.lists(branches, min_size=1, max_size=2))
    pattern = "|".join("".join(regex for regex, _ in part) for part in parts)
    origin = "".join(text for _, text in draw(st.sampled_from(parts)))
    edit = draw(st.sampled_from(EDITS))
    origin = origin[: -1 if draw(st.booleans()) else len(origin)] + edit
    return pattern, origin


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(first=pattern_and_origin(), second=pattern_and_origin())
def test_bucketed_regex_decisions_equal_re2_on_every_pattern(first: tuple[str, str], second: tuple[str, str]) -> None:
    entries = [first[0], second[0]]
    assume(all(is_regex(e) and regex_problem(e) is None for e in entries))
    matcher = OriginMatcher(entries)
    for origin in (first[1], second[1]):
        matcher._cache.clear()
        sendable = 0 < len(origin) <= 512 and origin.isascii() and origin.isprintable() and "," not in origin
        reference = sendable and any(compile_regex(e).fullmatch(origin.lower()) is not None for e in entries)
        assert matcher.allows(origin) is reference, (origin, [literal_tail(e) for e in entries])


@pytest.mark.parametrize(
    ("pattern", "origin", "allowed"),
    [
        # RE2 syntax that Python's re reads otherwise
        (r"https://[[:alpha:]]+\.example\.com", "https://shop.example.com", True),
        (r"https://\pL+\.example\.com", "https://shop.example.com", True),
        (r"https://a{2}\.example\.com", "https://aa.example.com", True),
        # the pattern that took Python's re hours, decided at once (issue 12)
        (r"https://([a-z0-9]+)*\.example\.com", "https://" + "a" * 40 + "!.example.com", False),
        (r"https://([a-z0-9]+)*\.example\.com", "https://" + "a" * 40 + ".example.com", True),
    ],
)
def test_re2_matches_the_whole_origin(pattern: str, origin: str, allowed: bool) -> None:
    assert OriginMatcher([pattern]).allows(origin) is allowed


@pytest.mark.parametrize(
    "origin",
    ["https://a.example.com,https://b.example.com", "https://a.example.com, https://b.example.com", "https://a.example.com,"],
)
def test_joined_origin_headers_are_never_allowed_even_by_a_regex_that_matches_them(origin: str) -> None:
    # gunicorn and werkzeug join two Origin headers with a bare ","; ".*" matches it.
    pattern = r"https://.*\.example\.com,?.*"
    assert compile_regex(pattern).fullmatch(origin) is not None
    assert OriginMatcher([pattern, "*"]).allows(origin) is False
