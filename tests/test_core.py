"""The decision core without Flask: preflight decisions, actual headers, routing."""

from __future__ import annotations

from typing import Any

import pytest

from flask_gravicors import Policy
from flask_gravicors.core import (
    MAX_REQUEST_HEADERS_ITEMS,
    MAX_REQUEST_HEADERS_LENGTH,
    ORIGIN_CACHE_KEY_LENGTH,
    ORIGIN_CACHE_SIZE,
    SEEN_CACHE_SIZE,
    Builder,
    CompiledApi,
    CorsRules,
    Runtime,
    parse_request_headers,
)

O = "https://shop.example.com"
BASE = {
    "enabled": True,
    "allow_origin": [O],
    "allow_methods": ["GET", "POST", "PUT"],
    "allow_headers": ["content-type", "authorization"],
    "allow_credentials": True,
    "max_age": 600,
    "expose_headers": ["x-request-id"],
}


def rules(**changes: Any) -> CorsRules:
    return CorsRules({**BASE, **changes}, ["http-proxy"])


# (cors changes, origin, method, request headers, private-network, expected failure or headers)
PREFLIGHTS = [
    ({}, O, "PUT", "content-type", None, {
        "Access-Control-Allow-Origin": O,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "GET, POST, PUT",
        "Access-Control-Allow-Headers": "content-type, authorization",
        "Access-Control-Max-Age": "600",
    }),
    ({}, "https://evil.test", "PUT", None, None, "origin"),
    # checks run in Gravitee's order: a bad origin is reported even with a bad method
    ({}, "https://evil.test", "PATCH", "x-evil", None, "origin"),
    ({}, O, "PATCH", None, None, "method"),
    ({}, O, "put", None, None, "method"),  # methods are case-sensitive
    ({"allow_methods": ["PATCH"]}, O, "patch", None, None, "method"),
    ({}, O, "PUT", "x-custom", None, "headers"),
    ({}, O, "PUT", "Content-Type, AUTHORIZATION", None, {"Access-Control-Allow-Methods": "GET, POST, PUT"}),
    ({}, O, "PUT", " content-type ,, ,authorization,", None, {"Access-Control-Allow-Origin": O}),
    ({"allow_headers": []}, O, "PUT", "content-type", None, "headers"),
    # empty allow_headers: no Allow-Headers header at all (never an empty one)
    ({"allow_headers": []}, O, "PUT", None, None, {"Access-Control-Allow-Headers": None}),
    ({"allow_headers": ["*"]}, O, "PUT", "authorization,x-a", None, {"Access-Control-Allow-Headers": "authorization, x-a"}),
    ({"allow_headers": ["*"]}, O, "PUT", "bad header", None, "headers"),
    ({"allow_headers": ["*"]}, O, "PUT", None, None, {"Access-Control-Allow-Headers": None}),
    ({"allow_methods": ["*"]}, O, "PATCH", None, None, {"Access-Control-Allow-Methods": "PATCH"}),
    ({"allow_methods": ["*"]}, O, "PA TCH", None, None, "method"),
    ({"max_age": -1}, O, "GET", None, None, {"Access-Control-Max-Age": None}),
    ({"max_age": 0}, O, "GET", None, None, {"Access-Control-Max-Age": "0"}),
    ({"allow_credentials": False}, O, "GET", None, None, {"Access-Control-Allow-Credentials": None}),
    # "*" is sent literally only without credentials; with them the origin is echoed
    ({"allow_origin": ["*"], "allow_credentials": False}, O, "GET", None, None, {"Access-Control-Allow-Origin": "*"}),
    ({"allow_origin": ["*"]}, O, "GET", None, None, {"Access-Control-Allow-Origin": O}),
    # issue 12: "*" anywhere in the list, without credentials, is the literal "*" (the
    # other entries add nothing); before, this row echoed the origin
    ({"allow_origin": ["*", O], "allow_credentials": False}, O, "GET", None, None, {"Access-Control-Allow-Origin": "*"}),
    # preflights keep their rules under "*": null only when listed
    ({"allow_origin": ["*"], "allow_credentials": False}, "null", "GET", None, None, "origin"),
    # Private Network Access: only when configured and asked
    ({"allow_private_network": True}, O, "GET", None, "true", {"Access-Control-Allow-Private-Network": "true"}),
    ({"allow_private_network": True}, O, "GET", None, None, {"Access-Control-Allow-Private-Network": None}),
    ({}, O, "GET", None, "true", {"Access-Control-Allow-Private-Network": None}),
    # no Expose-Headers on preflights
    ({}, O, "GET", None, None, {"Access-Control-Expose-Headers": None}),
]


@pytest.mark.parametrize(("changes", "origin", "method", "req_headers", "pna", "expected"), PREFLIGHTS)
def test_preflight(changes: dict[str, Any], origin: str, method: str, req_headers: str | None, pna: str | None, expected: Any) -> None:
    failed, headers = rules(**changes).preflight(origin, method, req_headers, pna)
    if isinstance(expected, str):
        assert failed is not None and (failed.check, headers) == (expected, [])
        return
    assert failed is None
    got = dict(headers)
    assert len(got) == len(headers), "a header was sent twice"
    for name, value in expected.items():
        assert got.get(name) == value, name


@pytest.mark.parametrize(
    ("changes", "origin", "expected"),
    [
        ({}, O, [("Access-Control-Allow-Origin", O), ("Access-Control-Allow-Credentials", "true"), ("Access-Control-Expose-Headers", "x-request-id")]),
        ({}, "https://evil.test", []),
        ({}, None, []),
        ({"allow_credentials": False, "expose_headers": []}, O, [("Access-Control-Allow-Origin", O)]),
        ({"allow_origin": ["*"], "allow_credentials": False, "expose_headers": ["a", "b", "a"]}, O,
         [("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", "a, b")]),
        # issue 12: under a literal "*" every actual response gets the same headers,
        # Origin or not (before: none without an Origin, none for "null")
        ({"allow_origin": ["*"], "allow_credentials": False}, None, [("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", "x-request-id")]),
        ({"allow_origin": ["*"], "allow_credentials": False, "expose_headers": []}, "null", [("Access-Control-Allow-Origin", "*")]),
        ({"allow_origin": ["*"], "allow_credentials": False, "expose_headers": []}, "a\r\nb", [("Access-Control-Allow-Origin", "*")]),
        ({"allow_origin": ["*", O], "allow_credentials": False, "expose_headers": []}, O, [("Access-Control-Allow-Origin", "*")]),
    ],
)
def test_actual_headers(changes: dict[str, Any], origin: str | None, expected: list[tuple[str, str]]) -> None:
    assert rules(**changes).actual_headers(origin) == expected


@pytest.mark.parametrize(
    ("cors", "entrypoints", "active", "vary"),
    [
        ({"enabled": True, "allow_origin": [O]}, ["http-proxy"], True, True),
        ({"enabled": False, "allow_origin": [O]}, ["http-proxy"], False, True),
        ({"enabled": True, "allow_origin": [O]}, ["websocket"], False, True),
        ({"enabled": True, "allow_origin": [O]}, ["websocket", "sse"], True, True),
        ({"enabled": True, "allow_origin": ["*"]}, ["http-get"], True, False),
        ({"enabled": True, "allow_origin": ["*"], "allow_credentials": True}, ["http-post"], True, True),
        ({"enabled": True, "allow_origin": ["*", O]}, ["http-post"], True, False),
    ],
)
def test_active_and_vary(cors: dict[str, Any], entrypoints: list[str], active: bool, vary: bool) -> None:
    compiled = CorsRules(cors, entrypoints)
    assert (compiled.active, compiled.vary_origin) == (active, vary)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", frozenset()),
        ("a", {"a"}),
        ("A, b ,\tc", {"a", "b", "c"}),
        (",,a,,", {"a"}),
        ("a b", None),
        ("a\r\nb", None),
        ("x-é", None),
        (",".join(f"h{i}" for i in range(MAX_REQUEST_HEADERS_ITEMS)), {f"h{i}" for i in range(MAX_REQUEST_HEADERS_ITEMS)}),
        (",".join(f"h{i}" for i in range(MAX_REQUEST_HEADERS_ITEMS + 1)), None),
        ("a" * (MAX_REQUEST_HEADERS_LENGTH + 1), None),
        ("a," * 5000, None),
    ],
    ids=lambda v: v[:20] + f"..({len(v)})" if isinstance(v, str) and len(v) > 20 else None,
)
def test_parse_request_headers(value: str, expected: Any) -> None:
    assert parse_request_headers(value) == (frozenset(expected) if expected is not None else None)


def _runtime(*paths: str) -> Runtime:
    apis = [CompiledApi({"name": p, "context_path": p}) for p in paths]
    return Runtime(apis, None)


# (context paths, PATH_INFO, resolved API name or None)
ROUTES = [
    (["/orders"], "/orders", "/orders"),
    (["/orders"], "/orders/", "/orders"),
    (["/orders"], "/orders/1", "/orders"),
    (["/orders"], "/ordersx", None),
    (["/orders"], "/Orders", None),  # case-sensitive (flask-cors CVE-2024-6866)
    (["/orders"], "/orders+x", None),  # "+" is not a space (CVE-2024-6844)
    # werkzeug routes "//orders" as "/orders" (leading slashes stripped), so must we
    (["/orders"], "//orders", "/orders"),
    (["/orders"], "///orders/1", "/orders"),
    (["/orders"], "/api/../orders", None),  # no normalisation (CVE-2020-25032)
    (["/orders"], "/%6Frders", None),  # PATH_INFO arrives decoded; this is a literal
    (["/orders", "/orders/admin"], "/orders/admin/x", "/orders/admin"),
    (["/orders", "/orders/admin"], "/orders/administrator", "/orders"),
    (["/", "/orders"], "/other", "/"),
    (["/", "/orders"], "/orders/1", "/orders"),
    (["/a/b/c"], "/a/b", None),
    (["/a/b/c"], "/a/b/c/" + "x/" * 1000, "/a/b/c"),
    (["/café"], "/café/1".encode().decode("latin-1"), "/café"),
    ([], "/orders", None),
]


@pytest.mark.parametrize(("paths", "path", "expected"), ROUTES)
def test_resolve_path(paths: list[str], path: str, expected: str | None) -> None:
    api = _runtime(*paths).resolve_path(path)
    assert (api.name if api else None) == expected


def test_resolve_by_blueprint_walks_parents_and_falls_back_to_paths() -> None:
    apis = [
        CompiledApi({"name": "shop", "blueprint": "shop"}),
        CompiledApi({"name": "admin", "blueprint": "shop.admin"}),
        CompiledApi({"name": "orders", "context_path": "/orders"}),
    ]
    seen = {"/x": "shop.admin.reports", "/y": "shop.cart", "/orders/1": None}
    runtime = Runtime(apis, lambda environ: seen[environ["PATH_INFO"]])
    names = [runtime.resolve({"PATH_INFO": p}).name for p in seen]  # type: ignore[union-attr]
    assert names == ["admin", "shop", "orders"]


@pytest.mark.parametrize(("paths", "path", "expected"), [r for r in ROUTES if r[1][:2] != "//"])
def test_the_memo_key_of_a_path_decides_its_api(paths: list[str], path: str, expected: str | None) -> None:
    # The WSGI layer's memo is keyed by PATH_INFO[:key_length]: every path that is
    # remembered (not starting with "//") resolves as its key does, and so does
    # every path with that key.
    runtime = _runtime(*paths)
    key = path[: runtime.key_length]
    assert runtime.resolve_path(key) is runtime.resolve_path(path)
    for tail in ("", "/", "x", "/x/y", "//", "%2F"):
        assert runtime.resolve_path(key + tail) is runtime.resolve_path(path + tail)


# Runtime.remember, the WSGI layer's memo by (path key, Origin), where the key is the
# path's first key_length characters (8 here: "/orders" + 1): (APIs bound by,
# policies, key, origin, what the request got: "api" with ADDED, "api untouched"
# (its CORS is off) or "no api"; remembered or not). A blueprint-bound config never
# remembers: there the path alone does not decide the API (Flask's method and host
# matching do); nor does a key starting with "//" (resolve_path drops those slashes
# first, so the key does not decide). An API with policies is remembered so the
# layer can start its chain.
ADDED = [("Vary", "Origin")]
REMEMBER = [
    ("path", False, "/orders/", O, "api", True),
    ("path", False, "/orders/", None, "api", True),
    ("path", False, "/orders", O, "api", True),
    ("path", False, "", O, "api", True),
    ("path", True, "/orders/", O, "api", True),
    ("path", False, "/orders/", O, "api untouched", True),
    ("path", True, "/orders/", O, "api untouched", True),
    ("path", False, "/elsewhe", O, "no api", True),
    ("path", False, "/", O, "no api", True),
    ("path", False, "//orders", O, "api", False),
    ("path", False, "//elsewh", O, "no api", False),
    ("path", False, "/orders/", "https://" + "a" * ORIGIN_CACHE_KEY_LENGTH, "api", False),
    ("blueprint", False, "/orders/", O, "api", False),
    ("blueprint", False, "/elsewhe", O, "no api", False),
]


@pytest.mark.parametrize(("bound_by", "policies", "key", "origin", "got", "remembered"), REMEMBER)
def test_remember(bound_by: str, policies: bool, key: str, origin: str | None, got: str, remembered: bool) -> None:
    binding = {"context_path": "/orders"} if bound_by == "path" else {"blueprint": "shop"}
    flows = [{"request": [{"policy": "noop", "configuration": {}}]}] if policies else []
    api = CompiledApi({"name": "a", **binding, "flows": flows}, Builder({"noop": Policy}))
    runtime = Runtime([api], lambda environ: "shop")
    reached = None if got == "no api" else api
    added = ADDED if got == "api" else None
    runtime.remember(key, origin, reached, added)
    assert api.chain is policies
    chain = api if reached is not None and policies else None
    assert runtime.seen == ({(key, origin): (chain, added, None, None)} if remembered else {})


def test_remember_is_bounded() -> None:
    api = CompiledApi({"name": "a", "context_path": "/orders"})
    runtime = Runtime([api], None)
    for i in range(3 * SEEN_CACHE_SIZE):
        runtime.remember("/orders/", f"https://o{i}.example.com", api, ADDED)
        assert len(runtime.seen) <= SEEN_CACHE_SIZE
    assert runtime.seen["/orders/", f"https://o{3 * SEEN_CACHE_SIZE - 1}.example.com"] == (None, ADDED, None, None)


def test_actual_added_is_bounded() -> None:
    # A flood of made-up origins (each refused, each new) keeps the per-origin memo of
    # actual_added at most ORIGIN_CACHE_SIZE entries, and the answers unchanged.
    compiled = rules()
    expected = compiled.actual_added("https://o0.example.net")
    for i in range(3 * ORIGIN_CACHE_SIZE):
        assert compiled.actual_added(f"https://o{i}.example.net") == expected
        assert len(compiled._added) <= ORIGIN_CACHE_SIZE
    assert compiled.actual_added(O)[1:2] == [("Access-Control-Allow-Origin", O)]


def test_each_step_knows_where_it_sits() -> None:
    """Policy.step, set by the builder: a step's place in the config as written
    (disabled flows keep their index), for state kept outside the process."""
    from flask_gravicors.security import Keyless

    builder = Builder({"noop": Policy}, {"keyless": Keyless})

    def step() -> dict[str, Any]:
        return {"policy": "noop", "configuration": {}}

    flows = [{"request": [step()]}, {"enabled": False, "request": [step()]}, {"request": [step()], "response": [step(), step()]}]
    assert [p.step for p in builder.flows(flows, "a").policies()] == [
        "flows[0].request[0]",
        "flows[2].request[0]",
        "flows[2].response[0]",
        "flows[2].response[1]",
    ]
    plan = {"name": "Gold", "security": "keyless", "configuration": {}, "flows": [{"request": [step()]}]}
    (compiled,) = builder.plans([plan], "a")
    assert [p.step for p in compiled.flows.policies()] == ["plans[Gold].flows[0].request[0]"]
