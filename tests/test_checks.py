"""Refusal rules: every refused config names the complete set of (path, rule id).

Each row is one config and the exact multiset of problems it must produce: nothing
missing, nothing extra. A second table holds configs that look risky but are
accepted, so a rule that grows too wide fails too.
"""

from __future__ import annotations

import ast
import ipaddress
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import example, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields, pre_load

from flask_gravicors import ConfigError, GraviCORS, Policy, checks, hookimpl
from flask_gravicors import errors as errors_module
from flask_gravicors.errors import RULES
from flask_gravicors.schema import load_config
from flask_gravicors.wsgi import CorsMiddleware

SHOP = "https://shop.example.com"


class _Keys(Schema):
    keys = fields.List(fields.String(), required=True)


class _KeyPolicy(Policy):
    name = "key"
    config_schema = _Keys


class _BreaksOnLoad(Schema):
    @pre_load
    def _boom(self, data: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a plugin bug")


class _BrokenPolicy(Policy):
    name = "broken"
    config_schema = _BreaksOnLoad


POLICIES = {"key": _KeyPolicy, "broken": _BrokenPolicy}


def nested(depth: int, leaf: Any = 0) -> Any:
    """``leaf`` inside ``depth`` lists, built without recursion."""
    for _ in range(depth):
        leaf = [leaf]
    return leaf


def cfg(cors: dict[str, Any] | None = None, **api: Any) -> dict[str, Any]:
    """A config of one API under /orders with ``cors`` (enabled unless said otherwise)."""
    one: dict[str, Any] = {"name": "orders", "context_path": "/orders", **api}
    if cors is not None:
        one["cors"] = {"enabled": True, **cors}
    return {"apis": [one]}


def origins(*entries: str, **cors: Any) -> dict[str, Any]:
    return cfg({"allow_origin": list(entries), **cors})


def C(field: str) -> str:
    """Path of a field of the first API's cors block."""
    return f"apis[0].cors.{field}"


CRED = {"allow_credentials": True}

# (row id, config, expected [(path, rule id), ...])
REFUSED: list[tuple[str, Any, list[tuple[str, str]]]] = [
    # --- '*' with credentials ---
    ("star-credentials", origins("*", **CRED), [(C("allow_origin[0]"), "gravicors.E023")]),
    ("star-credentials-gravitee-names", cfg({"allowOrigin": ["*"], "allowCredentials": True}), [(C("allowOrigin[0]"), "gravicors.E023")]),
    ("star-after-origin-credentials", origins(SHOP, "*", **CRED), [(C("allow_origin[1]"), "gravicors.E023")]),
    ("star-as-string-credentials", cfg({"allow_origin": "*", "allow_credentials": True}), [(C("allow_origin[0]"), "gravicors.E023")]),
    # --- null ---
    ("null", origins("null"), [(C("allow_origin[0]"), "gravicors.E024")]),
    ("null-upper", origins(SHOP, "NULL"), [(C("allow_origin[1]"), "gravicors.E024")]),
    ("null-other-opt-in-does-not-lift", origins("null", dangerously_allow_insecure_origins=True), [(C("allow_origin[0]"), "gravicors.E024")]),
    # --- not scheme://host[:port] ---
    ("path", origins("https://shop.example.com/app"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("trailing-slash", origins("https://shop.example.com/"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("query", origins("https://shop.example.com?x=1"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("fragment", origins("https://shop.example.com#top"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("userinfo", origins("https://user@shop.example.com"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("userinfo-password", origins("https://user:pw@shop.example.com"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("leading-space", origins(" https://shop.example.com"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("inner-space", origins("https://shop .example.com"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("trailing-newline", origins("https://shop.example.com\n"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("control-char", origins("https://shop.example.com\x00"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("no-scheme", origins("shop.example.com"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("no-host", origins("https://"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("trailing-dot", origins("https://shop.example.com."), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("empty-label", origins("https://shop..example.com"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("percent-in-host", origins("https://shop%2eexample.com"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("bad-ipv6", origins("https://[::g]"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("ipv6-not-compressed", origins("https://[2001:db8:0:0::1]"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("ipv6-char-class-is-no-regex", origins("https://[a-z]"), [(C("allow_origin[0]"), "gravicors.E020")]),
    # --- ports ---
    ("default-port-https", origins("https://shop.example.com:443"), [(C("allow_origin[0]"), "gravicors.E025")]),
    ("default-port-http", origins("http://shop.example.com:80"), [(C("allow_origin[0]"), "gravicors.E025")]),
    ("default-port-wildcard", origins("https://*.example.com:443"), [(C("allow_origin[0]"), "gravicors.E025")]),
    ("port-zero", origins("https://shop.example.com:0"), [(C("allow_origin[0]"), "gravicors.E027")]),
    ("port-too-big", origins("https://shop.example.com:65536"), [(C("allow_origin[0]"), "gravicors.E027")]),
    ("port-leading-zero", origins("https://shop.example.com:08443"), [(C("allow_origin[0]"), "gravicors.E027")]),
    ("port-empty", origins("https://shop.example.com:"), [(C("allow_origin[0]"), "gravicors.E027")]),
    ("port-not-number", origins("https://shop.example.com:https"), [(C("allow_origin[0]"), "gravicors.E027")]),
    ("port-unicode-digits", origins("https://shop.example.com:\u0661\u0662"), [(C("allow_origin[0]"), "gravicors.E027")]),
    ("non-ascii-path", origins("https://shop.example.com/é"), [(C("allow_origin[0]"), "gravicors.E020")]),
    # --- non-ASCII hosts ---
    ("idn", origins("https://bücher.example"), [(C("allow_origin[0]"), "gravicors.E026")]),
    ("idn-wildcard", origins("https://*.bücher.example"), [(C("allow_origin[0]"), "gravicors.E026")]),
    # --- wildcards ---
    ("wildcard-co-uk", origins("https://*.co.uk"), [(C("allow_origin[0]"), "gravicors.E029")]),
    ("wildcard-com", origins("https://*.com"), [(C("allow_origin[0]"), "gravicors.E029")]),
    ("wildcard-private-suffix", origins("https://*.github.io"), [(C("allow_origin[0]"), "gravicors.E029")]),
    ("wildcard-unknown-tld", origins("https://*.intranet"), [(C("allow_origin[0]"), "gravicors.E029")]),
    ("wildcard-partial-label", origins("https://*shop.example.com"), [(C("allow_origin[0]"), "gravicors.E022")]),
    ("wildcard-two", origins("https://*.*.example.com"), [(C("allow_origin[0]"), "gravicors.E022")]),
    ("wildcard-middle", origins("https://shop.*.example.com"), [(C("allow_origin[0]"), "gravicors.E022")]),
    ("wildcard-ip", origins("https://*.0.0.1"), [(C("allow_origin[0]"), "gravicors.E022")]),
    ("wildcard-alone", origins("https://*"), [(C("allow_origin[0]"), "gravicors.E022")]),
    ("bad-regex", origins(r"https://(shop\.example\.com"), [(C("allow_origin[0]"), "gravicors.E021")]),
    # --- http:// with credentials ---
    ("http-credentials", origins("http://shop.example.com", **CRED), [(C("allow_origin[0]"), "gravicors.E028")]),
    ("http-credentials-port", origins("http://shop.example.com:8080", **CRED), [(C("allow_origin[0]"), "gravicors.E028")]),
    ("http-wildcard-credentials", origins("http://*.example.com", **CRED), [(C("allow_origin[0]"), "gravicors.E028")]),
    ("http-private-ip-credentials", origins("http://192.168.1.10", **CRED), [(C("allow_origin[0]"), "gravicors.E028")]),
    ("http-localhost-lookalike", origins("http://localhost.evil.net", **CRED), [(C("allow_origin[0]"), "gravicors.E028")]),
    (
        "insecure-opt-in-keeps-shape-rules",
        origins("http://shop.example.com/", dangerously_allow_insecure_origins=True, **CRED),
        [(C("allow_origin[0]"), "gravicors.E020")],
    ),
    # --- methods ---
    ("connect", cfg({"allow_methods": ["GET", "CONNECT"]}), [(C("allow_methods[1]"), "gravicors.E032")]),
    ("track-any-case", cfg({"allow_methods": ["track"]}), [(C("allow_methods[0]"), "gravicors.E032")]),
    ("method-with-space", cfg({"allow_methods": ["GET POST"]}), [(C("allow_methods[0]"), "gravicors.E030")]),
    ("method-empty", cfg({"allow_methods": [""]}), [(C("allow_methods[0]"), "gravicors.E030")]),
    ("method-comma", cfg({"allowMethods": ["GET,POST"]}), [(C("allowMethods[0]"), "gravicors.E030")]),
    # --- request headers ---
    ("cookie", cfg({"allow_headers": ["content-type", "Cookie"]}), [(C("allow_headers[1]"), "gravicors.E033")]),
    ("host", cfg({"allow_headers": ["host"]}), [(C("allow_headers[0]"), "gravicors.E033")]),
    ("sec-prefix", cfg({"allow_headers": ["Sec-Fetch-Site"]}), [(C("allow_headers[0]"), "gravicors.E033")]),
    ("proxy-prefix", cfg({"allow_headers": ["Proxy-Authorization"]}), [(C("allow_headers[0]"), "gravicors.E033")]),
    ("origin-header", cfg({"allow_headers": ["Origin"]}), [(C("allow_headers[0]"), "gravicors.E033")]),
    ("acrh-header", cfg({"allow_headers": ["Access-Control-Request-Headers"]}), [(C("allow_headers[0]"), "gravicors.E034")]),
    ("acao-header", cfg({"allowHeaders": ["access-control-allow-origin"]}), [(C("allowHeaders[0]"), "gravicors.E034")]),
    ("header-space", cfg({"allow_headers": ["content type"]}), [(C("allow_headers[0]"), "gravicors.E031")]),
    # --- exposed headers ---
    ("expose-star-credentials", cfg({"expose_headers": ["*"], **CRED}), [(C("expose_headers[0]"), "gravicors.E035")]),
    ("expose-set-cookie", cfg({"expose_headers": ["x-request-id", "Set-Cookie"]}), [(C("expose_headers[1]"), "gravicors.E036")]),
    ("expose-set-cookie2", cfg({"exposeHeaders": ["set-cookie2"]}), [(C("exposeHeaders[0]"), "gravicors.E036")]),
    ("expose-not-token", cfg({"expose_headers": ["x:y"]}), [(C("expose_headers[0]"), "gravicors.E031")]),
    # --- max_age ---
    ("max-age-below", cfg({"max_age": -2}), [(C("max_age"), "gravicors.E040")]),
    ("max-age-above", cfg({"maxAge": 86401}), [(C("maxAge"), "gravicors.E040")]),
    ("max-age-string", cfg({"max_age": "600"}), [(C("max_age"), "gravicors.E003")]),
    # --- private network ---
    ("pna-star", origins("*", allow_private_network=True), [(C("allow_private_network"), "gravicors.E050")]),
    (
        "pna-star-any-origin-opt-in",
        origins("*", allow_private_network=True, dangerously_allow_any_origin_with_credentials=True, **CRED),
        [(C("allow_private_network"), "gravicors.E050")],
    ),
    # --- structure ---
    ("field-twice", cfg({"allowOrigin": [SHOP], "allow_origin": [SHOP]}), [(C("allowOrigin"), "gravicors.E005")]),
    ("unknown-cors-field", cfg({"allow_origins": [SHOP]}), [(C("allow_origins"), "gravicors.E001")]),
    ("opt-in-camel-case-unknown", cfg({"dangerouslyAllowNullOrigin": True}), [(C("dangerouslyAllowNullOrigin"), "gravicors.E001")]),
    ("bad-boolean", cfg({"allow_credentials": "maybe"}), [(C("allow_credentials"), "gravicors.E003")]),
    ("bad-opt-in-boolean", cfg({"dangerously_allow_null_origin": "perhaps"}), [(C("dangerously_allow_null_origin"), "gravicors.E003")]),
    ("missing-name", {"apis": [{"context_path": "/orders"}]}, [("apis[0].name", "gravicors.E002")]),
    ("no-binding", {"apis": [{"name": "orders"}]}, [("apis[0]", "gravicors.E011")]),
    ("two-bindings", {"apis": [{"name": "o", "context_path": "/o", "blueprint": "o"}]}, [("apis[0]", "gravicors.E011")]),
    ("context-path-dotdot", cfg(context_path="/api/../orders"), [("apis[0].context_path", "gravicors.E012")]),
    ("context-path-trailing-slash", cfg(context_path="/orders/"), [("apis[0].context_path", "gravicors.E012")]),
    ("unknown-policy", cfg(policies=[{"name": "nope"}]), [("apis[0].policies[0].name", "gravicors.E014")]),
    ("policy-config", cfg(policies=[{"name": "key", "config": {}}]), [("apis[0].policies[0].config.keys", "gravicors.E002")]),
    ("bad-entrypoint", cfg(entrypoints=["grpc"]), [("apis[0].entrypoints[0]", "gravicors.E003")]),
    # --- plans, flows, response templates ---
    ("unknown-security-type", cfg(plans=[{"name": "p", "security": "OAUTH2"}]), [("apis[0].plans[0].security", "gravicors.E019")]),
    (
        "duplicate-plan-name",
        cfg(plans=[{"name": "p", "security": "keyless"}, {"name": "p", "security": "KEY_LESS"}]),
        [("apis[0].plans[1].name", "gravicors.E016")],
    ),
    (
        "el-conditions",
        cfg(
            plans=[{"name": "p", "security": "keyless", "selectionRule": "#context.attributes['jwt'] != null"}],
            flows=[
                {
                    "selectors": [{"type": "http", "path": "/"}, {"type": "condition", "condition": "#request.method == 'GET'"}],
                    "request": [{"policy": "key", "configuration": {"keys": []}, "condition": "{#request.headers['x'] != null}"}],
                }
            ],
        ),
        [
            ("apis[0].plans[0].selectionRule", "gravicors.E017"),
            ("apis[0].flows[0].selectors[1].condition", "gravicors.E017"),
            ("apis[0].flows[0].selectors[1].type", "gravicors.E017"),
            ("apis[0].flows[0].request[0].condition", "gravicors.E017"),
        ],
    ),
    (
        "flow-path-and-policy",
        cfg(flows=[{"selectors": [{"path": "orders", "pathOperator": "LIKE"}], "response": [{"policy": "nope"}]}]),
        [
            ("apis[0].flows[0].selectors[0].path", "gravicors.E018"),
            ("apis[0].flows[0].selectors[0].pathOperator", "gravicors.E003"),
            ("apis[0].flows[0].response[0].policy", "gravicors.E014"),
        ],
    ),
    (
        "flow-path-escapes",
        cfg(flows=[{"selectors": [{"path": "/caf%E9"}]}, {"selectors": [{"path": "/a%0Ab"}]}, {"selectors": [{"path": "/a%2F%00"}]}]),
        [
            ("apis[0].flows[0].selectors[0].path", "gravicors.E018"),
            ("apis[0].flows[1].selectors[0].path", "gravicors.E018"),
            ("apis[0].flows[2].selectors[0].path", "gravicors.E018"),
        ],
    ),
    (
        "platform-flow-step-config",
        {"apis": [], "flows": [{"request": [{"policy": "key", "configuration": {}}]}]},
        [("flows[0].request[0].configuration.keys", "gravicors.E002")],
    ),
    (
        "response-templates",
        cfg(
            response_templates={
                "cors_failed": {"*/*": {"status": 412}},
                "CORS_PREFLIGHT_FAILED": {
                    "json": {"status": 412},
                    "*/*": {"status": 412, "headers": {"Access-Control-Allow-Origin": "*", "X-Ok": "a\r\nb"}},
                    "text/plain": {"status": 99, "body": "{#error.message}"},
                },
            }
        ),
        [
            ("apis[0].response_templates.cors_failed", "gravicors.E070"),
            ("apis[0].response_templates.CORS_PREFLIGHT_FAILED.json", "gravicors.E071"),
            ("apis[0].response_templates.CORS_PREFLIGHT_FAILED.*/*.headers.Access-Control-Allow-Origin", "gravicors.E072"),
            ("apis[0].response_templates.CORS_PREFLIGHT_FAILED.*/*.headers.X-Ok", "gravicors.E072"),
            ("apis[0].response_templates.CORS_PREFLIGHT_FAILED.text/plain.status", "gravicors.E003"),
            ("apis[0].response_templates.CORS_PREFLIGHT_FAILED.text/plain.body", "gravicors.E017"),
        ],
    ),
    (
        "template-header-value-outside-latin-1",
        cfg(response_templates={"DEFAULT": {"*/*": {"status": 401, "headers": {"X-Why": "\u20acuro", "X-Ok": "caf\u00e9", "X-Emoji": "\U0001f600"}}}}),
        [
            ("apis[0].response_templates.DEFAULT.*/*.headers.X-Why", "gravicors.E072"),
            ("apis[0].response_templates.DEFAULT.*/*.headers.X-Emoji", "gravicors.E072"),
        ],
    ),
    # --- review finding 12: a problem's path is where the user wrote the field, never
    # marshmallow's "key"/"value" segments of an object's entries ---
    (
        "object-paths-a-bad-key-and-its-bad-value",
        cfg(response_templates={"bad": {"json": {"status": 99}, "text/plain": {"status": 200, "headers": {"X-A": 5}}}}),
        [
            ("apis[0].response_templates.bad", "gravicors.E070"),
            ("apis[0].response_templates.bad.json", "gravicors.E071"),
            ("apis[0].response_templates.bad.json.status", "gravicors.E003"),
            ("apis[0].response_templates.bad.text/plain.headers.X-A", "gravicors.E003"),
        ],
    ),
    (
        "object-paths-keys-named-key-and-value",
        cfg(response_templates={"key": {"*/*": {"status": 200}}, "value": {"*/*": {"status": 200, "headers": {"value": "a\x00"}}}}),
        [
            ("apis[0].response_templates.key", "gravicors.E070"),
            ("apis[0].response_templates.value", "gravicors.E070"),
            ("apis[0].response_templates.value.*/*.headers.value", "gravicors.E072"),
        ],
    ),
    (
        "object-paths-a-key-that-is-no-string",
        cfg(flows=[{"request": [{"policy": "key", "configuration": {1: "x"}}]}], response_templates={"DEFAULT": {5: {"status": 200}}}),
        [
            ("apis[0].flows[0].request[0].configuration[1]", "gravicors.E003"),
            ("apis[0].response_templates.DEFAULT[5]", "gravicors.E003"),
        ],
    ),
    (
        "duplicates",
        {"apis": [{"name": "a", "context_path": "/a"}, {"name": "a", "context_path": "/a"}]},
        [("apis[1].name", "gravicors.E010"), ("apis[1].context_path", "gravicors.E013")],
    ),
    ("not-an-object", ["apis"], [("", "gravicors.E004")]),
    # --- several rules at once: one ConfigError names them all ---
    (
        "everything-at-once",
        cfg(
            {
                "allow_origin": ["*", "null", "https://a.example.com:443", "http://b.example.com", "https://*.co.uk", "https://bücher.example", "https://c.example.com/"],
                "allow_credentials": True,
                "allow_methods": ["GET", "CONNECT", "get"],
                "allow_headers": ["Cookie", "Sec-Fetch-Mode", "access-control-allow-origin", "x-ok"],
                "expose_headers": ["*", "Set-Cookie"],
                "allow_private_network": True,
                "max_age": 100000,
            }
        ),
        [
            (C("allow_origin[0]"), "gravicors.E023"),
            (C("allow_origin[1]"), "gravicors.E024"),
            (C("allow_origin[2]"), "gravicors.E025"),
            (C("allow_origin[3]"), "gravicors.E028"),
            (C("allow_origin[4]"), "gravicors.E029"),
            (C("allow_origin[5]"), "gravicors.E026"),
            (C("allow_origin[6]"), "gravicors.E020"),
            (C("allow_private_network"), "gravicors.E050"),
            (C("allow_methods[1]"), "gravicors.E032"),
            (C("allow_headers[0]"), "gravicors.E033"),
            (C("allow_headers[1]"), "gravicors.E033"),
            (C("allow_headers[2]"), "gravicors.E034"),
            (C("expose_headers[0]"), "gravicors.E035"),
            (C("expose_headers[1]"), "gravicors.E036"),
            (C("max_age"), "gravicors.E040"),
        ],
    ),
    (
        "two-apis-both-bad",
        {
            "apis": [
                {"name": "a", "context_path": "/a", "cors": {"allow_origin": ["null"], "allow_methods": ["TRACK"]}},
                {"name": "b", "context_path": "/b", "cors": {"allow_origin": ["*"], "allow_credentials": True, "max_age": -5}},
            ]
        },
        [
            ("apis[0].cors.allow_origin[0]", "gravicors.E024"),
            ("apis[0].cors.allow_methods[0]", "gravicors.E032"),
            ("apis[1].cors.allow_origin[0]", "gravicors.E023"),
            ("apis[1].cors.max_age", "gravicors.E040"),
        ],
    ),
    # --- issue 12, item 1: types are decided once, before any rule; what the rules
    # judge is what runs (each row loaded before, and a rule was blind to it) ---
    ("origins-as-a-set-with-credentials", cfg({"allow_origin": {"*"}, **CRED}), [(C("allow_origin"), "gravicors.E003")]),
    ("credentials-as-float", cfg({"allow_origin": ["*"], "allow_credentials": 1.0}), [(C("allow_credentials"), "gravicors.E003")]),
    ("credentials-as-int", cfg({"allow_origin": ["*"], "allow_credentials": 1}), [(C("allow_credentials"), "gravicors.E003")]),
    ("credentials-as-string", cfg({"allow_origin": ["*"], "allow_credentials": "true"}), [(C("allow_credentials"), "gravicors.E003")]),
    (
        "opt-in-as-string-lifts-nothing",
        origins("null", dangerously_allow_null_origin="true"),
        [(C("dangerously_allow_null_origin"), "gravicors.E003"), (C("allow_origin[0]"), "gravicors.E024")],
    ),
    ("origin-as-bytes", cfg({"allow_origin": [b"https://shop.example.com/"]}), [(C("allow_origin[0]"), "gravicors.E003")]),
    ("regex-as-bytes", cfg({"allow_origin": [b"https://(shop"]}), [(C("allow_origin[0]"), "gravicors.E003")]),
    ("method-as-bytes", cfg({"allow_methods": [b"TRACK"]}), [(C("allow_methods[0]"), "gravicors.E003")]),
    ("expose-as-bytes", cfg({"expose_headers": [b"Set-Cookie"]}), [(C("expose_headers[0]"), "gravicors.E003")]),
    ("name-as-bytes", {"apis": [{"name": b"a", "context_path": "/a"}]}, [("apis[0].name", "gravicors.E003")]),
    ("context-path-as-bytes", {"apis": [{"name": "a", "context_path": b"/a/../b"}]}, [("apis[0].context_path", "gravicors.E003")]),
    ("max-age-as-bool", cfg({"max_age": True}), [(C("max_age"), "gravicors.E003")]),
    ("max-age-as-float", cfg({"maxAge": 600.0}), [(C("maxAge"), "gravicors.E003")]),
    ("max-age-huge", cfg({"max_age": 10**5000}), [(C("max_age"), "gravicors.E040")]),
    (
        "a-bad-item-keeps-the-other-items-judged",
        cfg({"allow_origin": ["*", 5, b"x"], **CRED}),
        [(C("allow_origin[0]"), "gravicors.E023"), (C("allow_origin[1]"), "gravicors.E003"), (C("allow_origin[2]"), "gravicors.E003")],
    ),
    ("lone-surrogate-origin", origins("https://\ud800.example.com"), [(C("allow_origin[0]"), "gravicors.E003")]),
    ("lone-surrogate-context-path", cfg(context_path="/\udcff"), [("apis[0].context_path", "gravicors.E003")]),
    ("policy-schema-raises", cfg(policies=[{"name": "broken"}]), [("apis[0].policies[0].config", "gravicors.E015")]),
    # --- item 2: bounded nesting, counts and lengths (E006), and regexes that raised ---
    ("nested-too-deep", cfg(description=nested(40)), [("apis[0].description" + "[0]" * 29, "gravicors.E006")]),
    ("list-too-long", cfg({"allow_origin": [SHOP] * (checks.MAX_ITEMS + 1)}), [(C("allow_origin"), "gravicors.E006")]),
    ("string-too-long", origins("https://" + "a" * checks.MAX_TEXT), [(C("allow_origin[0]"), "gravicors.E006")]),
    ("regex-repeat-overflow", origins("https://a{99999999999}"), [(C("allow_origin[0]"), "gravicors.E021")]),
    ("regex-repeat-over-1000", origins(r"https://a{1001}\.example\.com"), [(C("allow_origin[0]"), "gravicors.E021")]),
    ("regex-brace-re2-reads-literally", origins(r"https://a{,3}\.example\.com"), [(C("allow_origin[0]"), "gravicors.E021")]),
    # --- item 3: a context path werkzeug's decoding could reach from other bytes ---
    ("context-path-replacement-character", cfg(context_path="/\ufffd"), [("apis[0].context_path", "gravicors.E012")]),
    ("context-path-replacement-character-inside", cfg(context_path="/orders/a\ufffdb"), [("apis[0].context_path", "gravicors.E012")]),
    # --- item 5: what RE2 cannot run is refused with a hint (E060) ---
    ("regex-backreference", origins(r"https://(a+)\1\.example\.com"), [(C("allow_origin[0]"), "gravicors.E060")]),
    ("regex-named-backreference", origins(r"https://(?P<x>a+)(?P=x)\.example\.com"), [(C("allow_origin[0]"), "gravicors.E060")]),
    ("regex-lookahead", origins(r"https://(?!evil)[a-z]+\.example\.com"), [(C("allow_origin[0]"), "gravicors.E060")]),
    ("regex-lookbehind", origins(r"https://[a-z]+(?<!evil)\.example\.com"), [(C("allow_origin[0]"), "gravicors.E060")]),
    ("regex-atomic-group", origins(r"https://(?>[a-z]+)\.example\.com"), [(C("allow_origin[0]"), "gravicors.E060")]),
    ("regex-possessive", origins(r"https://[a-z]++\.example\.com"), [(C("allow_origin[0]"), "gravicors.E060")]),
    ("regex-backslash-Z", origins(r"https://[a-z]+\.example\.com\Z"), [(C("allow_origin[0]"), "gravicors.E060")]),
    # --- item 8: names no script reads are no exposed headers (E037) ---
    (
        "expose-request-and-preflight-headers",
        cfg({"expose_headers": ["x-ok", "Origin", "Access-Control-Request-Method", "access-control-request-headers",
                                "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age",
                                "Access-Control-Allow-Private-Network"]}),
        [(C(f"expose_headers[{i}]"), "gravicors.E037") for i in range(1, 8)],
    ),
    # --- item 9: origins no browser sends (E020 family) ---
    ("file-with-host", origins("file://localhost"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("numeric-host", origins("http://1:6060"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("short-ipv4", origins("http://127.1"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("hex-ipv4", origins("https://0x7f.0.0.1"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("octal-ipv4", origins("https://010.0.0.1"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("numeric-last-label-no-ipv4", origins("https://shop.1"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("ipv4-out-of-range", origins("https://256.0.0.1"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("ipv6-zone-id", origins("http://[fe80::1%25eth0]:8080"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("ipv6-zone-id-raw", origins("http://[fe80::1%eth0]"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("punycode-invalid", origins("https://xn--f.example.com"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("punycode-of-ascii", origins("https://xn--abc-.example.com"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("wildcard-punycode-invalid", origins("https://*.xn--f.example.com"), [(C("allow_origin[0]"), "gravicors.E020")]),
    ("wildcard-numeric-suffix", origins("https://*.example.123"), [(C("allow_origin[0]"), "gravicors.E022")]),
    # --- item 10: placeholders nobody substituted (E061) ---
    ("placeholder-env", origins("$ALLOWED_ORIGIN"), [(C("allow_origin[0]"), "gravicors.E061")]),
    ("placeholder-braces", origins("${ORIGIN}"), [(C("allow_origin[0]"), "gravicors.E061")]),
    ("placeholder-inside", origins("https://${TENANT}.example.com"), [(C("allow_origin[0]"), "gravicors.E061")]),
    ("placeholder-template", origins("{{ allowed_origin }}"), [(C("allow_origin[0]"), "gravicors.E061")]),
    ("placeholder-header", cfg({"allow_headers": ["content-type", "$EXTRA_HEADERS"]}), [(C("allow_headers[1]"), "gravicors.E061")]),
    ("placeholder-method", cfg({"allowMethods": ["%METHODS%"]}), [(C("allowMethods[0]"), "gravicors.E061")]),
    # --- item 12: IPv6 as browsers write it, never dotted ---
    ("ipv6-ipv4-mapped-dotted", origins("https://[::ffff:127.127.127.127]"), [(C("allow_origin[0]"), "gravicors.E020")]),
    (
        "disabled-cors-is-checked-too",
        {"apis": [{"name": "a", "context_path": "/a", "cors": {"enabled": False, "allow_origin": ["*"], "allow_credentials": True}}]},
        [("apis[0].cors.allow_origin[0]", "gravicors.E023")],
    ),
]

# Configs that look risky but are accepted (each a deliberate choice or an opt-in).
ACCEPTED: list[tuple[str, Any]] = [
    ("star-without-credentials", origins("*")),
    ("star-credentials-opt-in", origins("*", dangerously_allow_any_origin_with_credentials=True, **CRED)),
    ("null-opt-in", origins("null", dangerously_allow_null_origin=True)),
    ("http-without-credentials", origins("http://shop.example.com")),
    ("http-insecure-opt-in", origins("http://shop.example.com", dangerously_allow_insecure_origins=True, **CRED)),
    ("http-localhost-credentials", origins("http://localhost:3000", "http://app.localhost", **CRED)),
    ("http-loopback-credentials", origins("http://127.0.0.1:8080", "http://127.1.2.3", "http://[::1]:5000", **CRED)),
    ("http-localhost-wildcard-credentials", origins("http://*.localhost", **CRED)),
    ("wildcard-registrable", origins("https://*.example.co.uk", "https://*.example.com:8443", "https://*.user.github.io")),
    ("upper-case-origin", origins("HTTPS://Shop.Example.COM")),
    ("ipv6", origins("https://[2001:db8::1]:8443")),
    ("underscore-host", origins("https://my_app.example.com")),
    ("port-on-other-scheme", origins("http://shop.example.com:443", "https://shop.example.com:80")),
    ("other-scheme", origins("chrome-extension://abcdefghijklmnop", "app://local")),
    ("regex", origins(r"https://[a-z0-9-]+\.example\.com", r"^https://(a|b)\.example\.org$")),
    ("trace-is-a-warning", cfg({"allow_methods": ["GET", "TRACE"]})),
    ("star-everywhere-without-credentials", cfg({"allow_origin": "*", "allow_methods": "*", "allow_headers": "*", "expose_headers": "*"})),
    ("star-headers-with-credentials", cfg({"allow_origin": [SHOP], "allow_headers": ["*"], "allow_methods": ["*"], **CRED})),
    ("safe-headers", cfg({"allow_headers": ["content-type", "authorization", "x-requested-with"], "expose_headers": ["x-request-id", "content-length"]})),
    ("max-age-bounds", {"apis": [{"name": "a", "context_path": "/a", "cors": {"max_age": -1}}, {"name": "b", "context_path": "/b", "cors": {"max_age": 86400}}]}),
    ("pna-explicit-origin", origins(SHOP, allow_private_network=True)),
    ("disabled-empty", cfg({"enabled": False})),
    # issue 12
    ("tuples-are-lists", cfg({"allow_origin": (SHOP,), "allow_methods": ("GET", "PUT")}, entrypoints=("http-get",))),
    ("regex-nested-1000-levels", origins("https://" + "(" * 1000 + "a" + ")" * 1000)),
    ("regex-redos-shaped-runs-on-re2", origins(r"https://([a-z0-9]+)*\.example\.com")),
    ("regex-re2-syntax", origins(r"https://[[:alnum:]]+\.example\.com", r"https://\pL+\.example\.org", r"https://a{2,5}\.example\.net")),
    ("punycode-valid", origins("https://xn--bcher-kva.example", "https://*.xn--bcher-kva.example")),
    ("ipv6-ipv4-mapped-browser-form", origins("https://[::ffff:7f7f:7f7f]")),
    ("numeric-looking-domains", origins("https://0xford.example", "https://1password.com", "https://a.b1")),
    ("expose-response-cors-headers", cfg({"expose_headers": ["Access-Control-Allow-Origin", "x-request-id"]})),
    ("dollar-regex-end", origins(r"^https://(a|b)\.example\.com$")),
    ("template-header-values-in-latin-1", cfg(response_templates={"DEFAULT": {"*/*": {"status": 401, "headers": {"X-Why": "caf\u00e9 \u00ff \u00a3"}}}})),
    ("flow-paths-written-raw", cfg(flows=[{"selectors": [{"path": p}]} for p in ("/caf%C3%A9", "/100%", "/a%20b/:id", "/%3Aid")])),
]


def problems_of(raw: Any) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        load_config(raw, POLICIES)
    return sorted((p.path, p.id) for p in caught.value.problems)


@pytest.mark.parametrize(("config", "expected"), [pytest.param(c, e, id=i) for i, c, e in REFUSED])
def test_refused_config_names_every_problem_and_nothing_else(config: Any, expected: list[tuple[str, str]]) -> None:
    assert problems_of(config) == sorted(expected)


@pytest.mark.parametrize("config", [pytest.param(c, id=i) for i, c in ACCEPTED])
def test_accepted_config(config: Any) -> None:
    load_config(config, POLICIES)


def test_table_is_large_and_its_row_ids_unique() -> None:
    assert len(REFUSED) >= 50
    names = [row[0] for row in REFUSED] + [row[0] for row in ACCEPTED]
    assert len(names) == len(set(names))


def test_every_error_rule_is_exercised_by_the_table() -> None:
    fired = {rule for _, _, expected in REFUSED for _, rule in expected}
    # E004 for an unreadable file is shown below; E080 (a Gravitee definition that
    # cannot be translated) in tests/test_gravitee.py; E090 needs a mounted console
    # (its table is below, the console's tests mount one); E092 and E093 (app
    # settings, not the config) in tests/test_extension.py; every other error id has a row.
    errors = {rule for rule in RULES if ".E" in rule} - {"gravicors.E080", "gravicors.E090", "gravicors.E092", "gravicors.E093"}
    assert errors - fired == set()
    assert fired <= set(RULES)


def test_rule_ids_are_unique_well_formed_and_have_a_hint() -> None:
    # RULES is a dict literal: a repeated key would silently replace the first, so
    # read the source to see every key as written.
    tree = ast.parse(Path(errors_module.__file__).read_text(encoding="utf-8"))
    (rules_node,) = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "RULES"
    ]
    assert isinstance(rules_node, ast.Dict)
    keys = [ast.literal_eval(k) for k in rules_node.keys if k is not None]
    assert len(keys) == len(set(keys)) == len(RULES)
    for rule, (title, hint) in RULES.items():
        assert re.fullmatch(r"gravicors\.[EW]\d{3}", rule)
        assert title.strip() and hint.strip(), rule


def test_ids_of_released_rules_keep_their_meaning() -> None:
    # Ids are public (users grep logs and silence warnings by id): never renumbered.
    assert RULES["gravicors.E020"][0] == "origin is not scheme://host[:port]"
    assert RULES["gravicors.E023"][0] == "'*' origin with allow_credentials"
    assert RULES["gravicors.E024"][0] == "'null' origin"
    assert RULES["gravicors.E029"][0] == "wildcard covers a whole public suffix"
    assert RULES["gravicors.E050"][0] == "allow_private_network with a '*' origin"


def test_unreadable_config_file(tmp_path: Path) -> None:
    assert problems_of(str(tmp_path / "missing.json")) == [("", "gravicors.E004")]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert problems_of(str(bad)) == [("", "gravicors.E004")]


def test_config_file_gets_the_same_checks(tmp_path: Path) -> None:
    path = tmp_path / "gravicors.json"
    path.write_text(json.dumps(origins("*", **CRED)), encoding="utf-8")
    assert problems_of(str(path)) == [(C("allow_origin[0]"), "gravicors.E023")]


def test_message_carries_path_id_detail_and_hint() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(origins(SHOP, "https://shop.example.com:443"), POLICIES)
    text = str(caught.value)
    assert "apis[0].cors.allow_origin[1]: gravicors.E025" in text
    assert "'https://shop.example.com:443'" in text
    assert RULES["gravicors.E025"][1] in text


def test_idn_message_suggests_the_punycode() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(origins("https://bücher.example"), POLICIES)
    assert "xn--bcher-kva.example" in str(caught.value)


def test_opt_ins_are_loaded_and_default_to_false() -> None:
    loaded = load_config(origins(SHOP), POLICIES)["apis"][0]["cors"]
    for option in (
        "dangerously_allow_any_origin_with_credentials",
        "dangerously_allow_null_origin",
        "dangerously_allow_insecure_origins",
    ):
        assert loaded[option] is False
    opted = load_config(origins("null", dangerously_allow_null_origin=True), POLICIES)["apis"][0]["cors"]
    assert opted["dangerously_allow_null_origin"] is True


# --- Through the extension: the app does not start; reconfigure keeps the old config ---


class _Plugin:
    @hookimpl
    def gravicors_register_policies(self) -> list[type[Policy]]:
        return [_KeyPolicy]


def _app() -> Flask:
    app = Flask(__name__)

    @app.get("/orders")
    def orders() -> str:
        return "ok"

    return app


def test_init_app_refuses_and_leaves_the_app_untouched() -> None:
    app = _app()
    app.config["GRAVICORS"] = origins("*", "null", **CRED)
    original = app.wsgi_app
    with pytest.raises(ConfigError) as caught:
        GraviCORS(app, plugins=[_Plugin()], entry_points=False)
    assert caught.value.ids == {"gravicors.E023", "gravicors.E024"}
    assert app.wsgi_app == original and not isinstance(getattr(app.wsgi_app, "__self__", None), CorsMiddleware)
    assert "gravicors" not in app.extensions


class _RaisesOnSetup(Policy):
    name = "raises"

    def __init__(self, config: Any, api_name: str) -> None:
        raise ValueError("Invalid value for 'socket_timeout' in connection URL.")


class _RaisingPlugin:
    @hookimpl
    def gravicors_register_policies(self) -> list[type[Policy]]:
        return [_KeyPolicy, _RaisesOnSetup]


def test_a_policy_that_raises_when_set_up_is_a_config_error() -> None:
    # Issue 12: init_app let the policy's exception through (the rate-limit plugin's
    # ValueError for "?socket_timeout=abc"); it is E015 at its path, with the others.
    app = _app()
    app.config["GRAVICORS"] = cfg({"allow_origin": ["null"]}, policies=[{"name": "key", "config": {"keys": ["k"]}}, {"name": "raises"}])
    with pytest.raises(ConfigError) as caught:
        GraviCORS(app, plugins=[_RaisingPlugin()], entry_points=False)
    assert sorted((p.path, p.id) for p in caught.value.problems) == [(C("allow_origin[0]"), "gravicors.E024")]
    app.config["GRAVICORS"] = cfg(policies=[{"name": "key", "config": {"keys": ["k"]}}, {"name": "raises"}, {"name": "raises"}])
    with pytest.raises(ConfigError) as caught:
        GraviCORS(app, plugins=[_RaisingPlugin()], entry_points=False)
    assert sorted((p.path, p.id) for p in caught.value.problems) == [
        ("apis[0].policies[1]", "gravicors.E015"),
        ("apis[0].policies[2]", "gravicors.E015"),
    ]
    assert "ValueError" in str(caught.value) and "socket_timeout" in str(caught.value)
    assert "gravicors" not in app.extensions


def test_reconfigure_refuses_and_the_old_config_stays() -> None:
    app = _app()
    app.config["GRAVICORS"] = origins(SHOP)
    ext = GraviCORS(app, plugins=[_Plugin()], entry_points=False)
    with pytest.raises(ConfigError) as caught:
        ext.reconfigure(origins("https://*.com", **CRED, allow_methods=["CONNECT"]), app=app)
    assert caught.value.ids == {"gravicors.E029", "gravicors.E032"}
    client = app.test_client()
    assert client.get("/orders", headers={"Origin": SHOP}).headers["Access-Control-Allow-Origin"] == SHOP
    assert "Access-Control-Allow-Origin" not in client.get("/orders", headers={"Origin": "https://evil.com"}).headers


# --- Warnings: logged once when the config takes effect, never refused ---


@pytest.mark.parametrize(
    ("cors", "entrypoints", "debug", "ids"),
    [
        ({"allow_origin": ["*"]}, None, False, ["gravicors.W002"]),
        ({"allow_origin": ["*"]}, None, True, []),
        ({"allow_origin": [SHOP]}, ["websocket"], False, ["gravicors.W001"]),
        ({"allow_origin": [SHOP], "allow_methods": ["GET", "trace"]}, None, False, ["gravicors.W003"]),
        ({"allow_origin": [SHOP], "max_age": 7201}, None, False, ["gravicors.W004"]),
        ({"allow_origin": [SHOP], "max_age": 7200}, None, False, []),
        ({"allow_origin": ["null"], "dangerously_allow_null_origin": True}, None, False, ["gravicors.W005"]),
        (
            {"allow_origin": ["*"], "allow_credentials": True, "dangerously_allow_any_origin_with_credentials": True},
            None,
            True,
            ["gravicors.W005"],
        ),
        ({"allow_origin": [SHOP], "allow_methods": ["get", "PATCH", "patch", "Post"]}, None, False, ["gravicors.W006"]),
        ({"allow_origin": [SHOP], "allow_methods": ["GET", "POST"]}, None, False, []),
        # issue 12, item 11: a flask-cors habit, header names written as regexes
        ({"allow_origin": [SHOP], "allow_headers": ["content-type", "x-company-.*"]}, None, False, ["gravicors.W007"]),
        ({"allow_origin": [SHOP], "expose_headers": ["^x-trace"]}, None, False, ["gravicors.W007"]),
        ({"allow_origin": [SHOP], "allow_headers": ["*", "x-a.b", "x-plus+1"], "expose_headers": ["x.y"]}, None, False, []),
        # origins listed, "enabled" forgotten (the default is off, as Gravitee's)
        ({"enabled": False, "allow_origin": [SHOP]}, None, False, ["gravicors.W014"]),
        ({"enabled": False}, None, False, []),
    ],
)
def test_warnings_are_logged_once_at_start(
    cors: dict[str, Any], entrypoints: list[str] | None, debug: bool, ids: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    app = _app()
    app.debug = debug
    extra = {"entrypoints": entrypoints} if entrypoints else {}
    app.config["GRAVICORS"] = cfg(cors, **extra)
    with caplog.at_level(logging.WARNING, logger="flask_gravicors"):
        GraviCORS(app, plugins=[_Plugin()], entry_points=False)
        client = app.test_client()
        for _ in range(3):
            client.get("/orders", headers={"Origin": SHOP})
    logged = [r.getMessage().split(":")[0] for r in caplog.records if r.name == "flask_gravicors" and r.levelno >= logging.WARNING]
    assert logged == ids


@settings(max_examples=300, deadline=None)
@example(entry="https://shop.example.com")
@example(entry="https://a_b-.0.9")
@example(entry="https://a.1")
@example(entry="https://0xab")
@example(entry="https://xn--f.example")
@example(entry="https://a.xn--f")
@given(entry=st.text(alphabet="hts:/.-_aAz09*@#?[] é\n", max_size=30).map(lambda s: "https://" + s))
def test_plain_https_fast_path_refuses_nothing_the_full_check_would(entry: str) -> None:
    # checks._PLAIN_HTTPS lets large configs skip the full parse; it must only ever
    # accept what origin_problem accepts too.
    from flask_gravicors import checks

    if checks._PLAIN_HTTPS.fullmatch(entry) is not None:
        assert checks.origin_problem(entry) is None and checks.check_origin(entry) == []


# --- issue 12, item 12: the canonical IPv6 form is the browser's, whatever str() prints ---


def _dotted_ipv4_mapped(self: ipaddress.IPv6Address) -> str:
    """``str()`` as Python 3.13 writes an IPv4-mapped address: with a dotted tail."""
    if self.ipv4_mapped is not None:
        return f"::ffff:{self.ipv4_mapped}"
    return _ORIGINAL_IPV6_STR(self)


_ORIGINAL_IPV6_STR = ipaddress.IPv6Address.__str__


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("https://[::ffff:7f7f:7f7f]", []),
        ("http://[::ffff:c0a8:1]:8080", []),
        ("https://[::ffff:127.127.127.127]", [(C("allow_origin[0]"), "gravicors.E020")]),
        ("https://[2001:db8::1]", []),
        ("https://[2001:DB8::1]", []),
        ("https://[2001:db8:0:0:1:0:0:1]", [(C("allow_origin[0]"), "gravicors.E020")]),
        ("https://[2001:db8::1:0:0:1]", []),
    ],
)
def test_ipv6_canonical_form_does_not_depend_on_str(monkeypatch: pytest.MonkeyPatch, entry: str, expected: list[tuple[str, str]]) -> None:
    # Browsers send [::ffff:7f7f:7f7f] (WHATWG IPv6 serializer: hex pieces only);
    # Python 3.13's str() writes ::ffff:127.127.127.127. Run with 3.13's str().
    monkeypatch.setattr(ipaddress.IPv6Address, "__str__", _dotted_ipv4_mapped)
    assert str(ipaddress.IPv6Address("::ffff:7f7f:7f7f")) == "::ffff:127.127.127.127"
    config = origins(entry)
    if expected:
        assert problems_of(config) == expected
    else:
        load_config(config, POLICIES)


def test_size_limits_are_the_ones_the_hint_gives() -> None:
    hint = RULES["gravicors.E006"][1]
    for number in (checks.MAX_DEPTH, checks.MAX_ITEMS, checks.MAX_TEXT):
        assert f"{number:,}" in hint
    from flask_gravicors.schema import MAX_FILE_BYTES

    assert f"{MAX_FILE_BYTES // 2**20} MiB" in hint


def test_re2_refusals_name_the_feature_and_hint_at_rewrites() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(origins(r"https://(?!evil)[a-z]+\.example\.com", r"https://x\.example\.com\Z"), POLICIES)
    text = str(caught.value)
    assert "uses a lookahead" in text and "RE2 writes it \\z" in text
    assert RULES["gravicors.E060"][1] in text


def test_placeholder_refusal_asks_about_the_environment() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(origins("$ALLOWED_ORIGIN"), POLICIES)
    assert "environment variable not substituted?" in str(caught.value)
    assert "'$ALLOWED_ORIGIN'" in str(caught.value)


# -- the console's prefix ----------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "ok"),
    [("/gravicors", True), ("/ops/console", True), ("/", False), ("", False), ("gravicors", False), ("/gravicors/", False),
     ("/a//b", False), ("/a/../b", False), ("/a/./b", False), ("/a b", False), ("/a?b", False), ("/\ufffd", False), (None, False)],
)
def test_is_mount_prefix(prefix: Any, ok: bool) -> None:
    assert checks.is_mount_prefix(prefix) is ok


@pytest.mark.parametrize(
    ("paths", "inside"),
    [
        (["/gravicors"], [0]),
        (["/gravicors/x", "/orders", "/gravicors/a/b"], [0, 2]),
        (["/", "/gravicorsx", "/gravi", "/x/gravicors", "/Gravicors"], []),
        ([None, 3, "/gravicors"], [2]),
    ],
)
def test_check_reserved_prefix(paths: list[Any], inside: list[int]) -> None:
    raw = {"apis": [{"name": f"a{i}", "context_path": p} for i, p in enumerate(paths)]}
    found = checks.check_reserved_prefix(raw, "/gravicors")
    assert sorted(found.get("apis", {})) == inside
    assert all(m["context_path"][0].startswith("gravicors.E090: ") for m in found.get("apis", {}).values())
    assert checks.check_reserved_prefix({"apis": "nope"}, "/gravicors") == {} and checks.check_reserved_prefix([], "/g") == {}


def test_merge_messages() -> None:
    first = {"apis": {0: {"cors": {"allow_origin": {0: ["a"]}}}, 1: {"context_path": ["b"]}}, "_schema": ["s"]}
    second = {"apis": {1: {"context_path": ["c"]}, 2: {"context_path": ["d"]}}}
    assert checks.merge_messages(first, second) == {
        "apis": {0: {"cors": {"allow_origin": {0: ["a"]}}}, 1: {"context_path": ["b", "c"]}, 2: {"context_path": ["d"]}},
        "_schema": ["s"],
    }
    assert checks.merge_messages(["x"], {"apis": {0: {"context_path": ["d"]}}}) == {"_schema": ["x"], "apis": {0: {"context_path": ["d"]}}}
    assert checks.merge_messages({"apis": ["not a list"]}, {"apis": {0: {"context_path": ["d"]}}}) == {
        "apis": {"_schema": ["not a list"], 0: {"context_path": ["d"]}}
    }


# (id, config with a misspelt field, where, what the problem says)
MISSPELT = [
    ("cors field", cfg({"enabled": True, "allow_origins": ["https://a.example"]}), "apis[0].cors.allow_origins",
     "did you mean 'allow_origin'?"),
    ("cors field, Gravitee's spelling", cfg({"enabled": True, "allowCredential": True}), "apis[0].cors.allowCredential",
     "did you mean 'allowCredentials'?"),
    ("API field", {"apis": [{"name": "orders", "contextPath": "/orders"}]}, "apis[0].contextPath",
     "did you mean 'context_path'?"),
    ("plan field", cfg(plans=[{"name": "p", "securty": "keyless"}]), "apis[0].plans[0].securty", "did you mean 'security'?"),
    ("flow field", cfg(flows=[{"requst": []}]), "apis[0].flows[0].requst", "did you mean 'request'?"),
    ("top level", {"apis": [], "flow": []}, "flow", "did you mean 'flows'?"),
    ("nothing close", cfg({"enabled": True, "zzzz": 1}), "apis[0].cors.zzzz", "unknown field (hint: remove it"),
]  # fmt: skip


@pytest.mark.parametrize(("config", "path", "says"), [pytest.param(*r[1:], id=r[0]) for r in MISSPELT])
def test_an_unknown_field_names_the_closest_known_one(config: dict[str, Any], path: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(config, {})
    (found,) = [p for p in refused.value.problems if p.path == path]
    assert found.id == "gravicors.E001" and says in found.message, found.message
    assert "(hint: " in found.message
