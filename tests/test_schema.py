"""Loading configs: names, defaults, files, and one ConfigError naming every problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import PolicyPlugin
from flask_gravicors import ConfigError
from flask_gravicors.plugins import collect_policies, make_plugin_manager
from flask_gravicors.schema import load_config

POLICIES = collect_policies(make_plugin_manager([PolicyPlugin()], entry_points=False))

GRAVITEE_BLOCK = {
    "enabled": True,
    "allowOrigin": ["https://shop.example.com"],
    "allowMethods": ["GET", "POST"],
    "allowHeaders": ["content-type"],
    "allowCredentials": True,
    "maxAge": 600,
    "exposeHeaders": ["x-request-id"],
    "runPolicies": True,
    "allowPrivateNetwork": True,
}
SNAKE_BLOCK = {
    "enabled": True,
    "allow_origin": ["https://shop.example.com"],
    "allow_methods": ["GET", "POST"],
    "allow_headers": ["content-type"],
    "allow_credentials": True,
    "max_age": 600,
    "expose_headers": ["x-request-id"],
    "run_policies": True,
    "allow_private_network": True,
}


def load(*apis: dict[str, Any]) -> dict[str, Any]:
    return load_config({"apis": list(apis)}, POLICIES)


def test_gravitee_names_load_like_ours() -> None:
    theirs = load({"name": "a", "context_path": "/a", "cors": GRAVITEE_BLOCK})
    ours = load({"name": "a", "context_path": "/a", "cors": SNAKE_BLOCK})
    assert theirs == ours
    cors = theirs["apis"][0]["cors"]
    assert {k: cors[k] for k in SNAKE_BLOCK} == SNAKE_BLOCK


def test_defaults_are_gravitee_defaults() -> None:
    api = load({"name": "a", "context_path": "/a"})["apis"][0]
    assert api["entrypoints"] == ["http-proxy"]
    assert (api["plans"], api["flows"], api["response_templates"]) == ([], [], {})
    assert api["cors"] == {
        "enabled": False,
        "allow_origin": [],
        "allow_methods": [],
        "allow_headers": [],
        "allow_credentials": False,
        "max_age": -1,
        "expose_headers": [],
        "run_policies": False,
        "allow_private_network": False,
        "dynamic_origins": False,
    } | {k: v for k, v in api["cors"].items() if k.startswith("dangerously_")}


def test_a_single_string_is_a_one_item_list() -> None:
    cors = load({"name": "a", "context_path": "/a", "cors": {"allow_origin": "*"}})["apis"][0]["cors"]
    assert cors["allow_origin"] == ["*"]


def test_legacy_policies_load_as_one_flow_over_everything() -> None:
    api = load({"name": "a", "context_path": "/a", "policies": [{"name": "answer", "config": {"status": 429}}, {"name": "record"}]})
    (flow,) = api["apis"][0]["flows"]
    assert flow == {
        "name": "policies",
        "enabled": True,
        "selectors": [],
        "request": [
            {"name": "answer", "policy": "answer", "enabled": True, "configuration": {"status": 429}, "legacy_index": 0},
            {"name": "record", "policy": "record", "enabled": True, "configuration": {"label": ""}, "legacy_index": 1},
        ],
        "response": [],
    }
    assert "policies" not in api["apis"][0]


def test_json_file(tmp_path: Path) -> None:
    path = tmp_path / "gravicors.json"
    path.write_text(json.dumps({"apis": [{"name": "a", "context_path": "/a", "cors": GRAVITEE_BLOCK}]}))
    assert load_config(str(path), POLICIES) == load_config(path, POLICIES) == load({"name": "a", "context_path": "/a", "cors": GRAVITEE_BLOCK})


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_bad_json_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_config(path, POLICIES)
    assert caught.value.ids == {"gravicors.E004"}


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="E004"):
        load_config("/nonexistent/gravicors.json", POLICIES)


# (config, {path: id} expected: every problem, nothing more)
BAD = [
    ({"apis": [{"context_path": "/a"}]}, {"apis[0].name": "gravicors.E002"}),
    ({"apis": [{"name": "a", "context_path": "/a", "colour": "red"}]}, {"apis[0].colour": "gravicors.E001"}),
    ({"apis": [{"name": "a"}]}, {"apis[0]": "gravicors.E011"}),
    ({"apis": [{"name": "a", "context_path": "/a", "blueprint": "b"}]}, {"apis[0]": "gravicors.E011"}),
    ({"apis": [{"name": "a", "context_path": "a"}]}, {"apis[0].context_path": "gravicors.E012"}),
    ({"apis": [{"name": "a", "context_path": "/a/../b"}]}, {"apis[0].context_path": "gravicors.E012"}),
    ({"apis": [{"name": "a", "context_path": "/a", "entrypoints": ["http", "sse"]}]}, {"apis[0].entrypoints[0]": "gravicors.E003"}),
    # Gravitee's names: every problem is reported under the name the user wrote.
    ({"apis": [{"name": "a", "context_path": "/a", "cors": {"maxAge": "ten"}}]}, {"apis[0].cors.maxAge": "gravicors.E003"}),
    ({"apis": [{"name": "a", "context_path": "/a", "cors": {"allowOrigin": ["https://a.test", "b"], "allowCredentials": "maybe"}}]},
     {"apis[0].cors.allowOrigin[1]": "gravicors.E020", "apis[0].cors.allowCredentials": "gravicors.E003"}),
    ({"apis": [{"name": "a", "context_path": "/a", "cors": {"allowOrigin": ["*"], "allowCredentials": True, "max_age": -2}}]},
     {"apis[0].cors.allowOrigin[0]": "gravicors.E023", "apis[0].cors.max_age": "gravicors.E040"}),
    ({"apis": [{"name": "a", "context_path": "/a", "cors": {"enabled": "perhaps"}}]}, {"apis[0].cors.enabled": "gravicors.E003"}),
    ({"apis": [{"name": "a", "context_path": "/a", "cors": {"allow_origin": ["https://a.test", "https://b.test/x"]}}]},
     {"apis[0].cors.allow_origin[1]": "gravicors.E020"}),
    ({"apis": [{"name": "a", "context_path": "/a", "cors": {"allow_origin": ["https://(a|b.test"]}}]},
     {"apis[0].cors.allow_origin[0]": "gravicors.E021"}),
    ({"apis": [{"name": "a", "context_path": "/a", "cors": {"allow_origin": ["https://a*.test"]}}]},
     {"apis[0].cors.allow_origin[0]": "gravicors.E022"}),
    ({"apis": [{"name": "a", "context_path": "/a", "cors": {"allowOrigin": ["*"], "allow_origin": ["*"]}}]},
     {"apis[0].cors.allowOrigin": "gravicors.E005"}),
    ({"apis": [{"name": "a", "context_path": "/a", "policies": [{"name": "nope"}]}]}, {"apis[0].policies[0].name": "gravicors.E014"}),
    ({"apis": [{"name": "a", "context_path": "/a", "policies": [{"name": "answer", "config": {"status": "x"}}]}]},
     {"apis[0].policies[0].config.status": "gravicors.E003"}),
    ({"apis": [{"name": "a", "context_path": "/a"}, {"name": "a", "context_path": "/a"}]},
     {"apis[1].name": "gravicors.E010", "apis[1].context_path": "gravicors.E013"}),
    ({"apis": "everything"}, {"apis": "gravicors.E003"}),
    ({"routes": []}, {"routes": "gravicors.E001"}),
]


@pytest.mark.parametrize(("config", "expected"), BAD)
def test_refused(config: dict[str, Any], expected: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(config, POLICIES)
    assert {p.path: p.id for p in caught.value.problems} == expected


def test_every_problem_at_once_with_paths_in_str() -> None:
    config = {
        "apis": [
            {"name": "a", "context_path": "/a", "cors": {"allow_origin": ["ok", "https://x.test/"], "max_age": 10**6}},
            {"name": "b", "blueprint": "b", "entrypoints": ["ftp"], "policies": [{"name": "nope"}]},
        ]
    }
    with pytest.raises(ConfigError) as caught:
        load_config(config, POLICIES)
    err = caught.value
    text = str(err)
    for path in (
        "apis[0].cors.allow_origin[0]",
        "apis[0].cors.allow_origin[1]",
        "apis[0].cors.max_age",
        "apis[1].entrypoints[0]",
        "apis[1].policies[0].name",
    ):
        assert f"\n  {path}: " in text
    assert len(err.problems) == 5
    assert "installed policies: answer, record" in text
    # marshmallow's nested messages are kept
    assert set(err.messages["apis"][0]["cors"]) == {"allow_origin", "max_age"}


# --- Issue 12: fuzzing. Whatever load_config is given, only ConfigError comes out ---

import datetime  # noqa: E402
import math  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from flask_gravicors.checks import GRAVITEE_NAMES  # noqa: E402
from flask_gravicors.core import CompiledApi, Runtime  # noqa: E402
from flask_gravicors.schema import CorsSchema  # noqa: E402


def _deep(depth: int, make: Any) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = make(value)
    return value


#: Values that broke a rule or the loader before (issue 12), and their relatives.
ODD = [
    10**5000, -(10**5000), 2**63, 1e308, math.inf, -math.inf, math.nan, 1.0, 0.0, 1, 0, True, False, None,
    b"https://shop.example.com", b"\xff", bytearray(b"x"), "\udcff", "/\udcff", "https://\ud800.example.com", "\ufffd", "/\ufffd",
    "", "*", "null", "https://a{99999999999}", "https://" + "(" * 1000 + "a" + ")" * 1000, r"https://([a-z0-9]+)*\.example\.com",
    r"(a)\1", "a(?=b)", "$ORIGIN", "${ORIGIN}", "https://[fe80::1%25eth0]", "http://127.1", "https://xn--f.example",
    "x" * 70_000, {"*"}, frozenset({"GET"}), ("GET", "PUT"), (b"x",), [b"x", 1.5, None], {1: "x"}, {("a",): 1}, {None: None},
    _deep(100, lambda v: [v]), _deep(5000, lambda v: {"k": v}), _deep(100_000, lambda v: [v]), datetime.date(2026, 1, 1),
    object(), Ellipsis, complex(1, 2),
]
leaves = st.one_of(
    # By index: hypothesis describes a sampled_from strategy with repr() of its
    # values, and repr() of a 5 000-digit integer raises.
    st.integers(0, len(ODD) - 1).map(lambda i: ODD[i]),
    st.none(), st.booleans(), st.integers(), st.floats(), st.binary(max_size=8),
    st.text(max_size=12),
    st.text(st.sampled_from("ahtps:/.*[](){}\\^$|?+-,@#%\r\n \x00\udcff\ufffd\u212aé0123"), max_size=24),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.sets(st.text(max_size=4), max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from([1, None, b"k", "\udcff", "a\nb"])), inner, max_size=4),
    ),
    max_leaves=12,
)
CORS_FIELDS = [*CorsSchema().fields, *GRAVITEE_NAMES]
cors_blocks = st.one_of(values, st.dictionaries(st.sampled_from(CORS_FIELDS), values, max_size=6))
policy_refs = st.one_of(
    values,
    st.fixed_dictionaries({"name": st.sampled_from(["answer", "record", "nope"]) | values}, optional={"config": values}),
)
apis = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=6) | values,
        "context_path": st.sampled_from(["/a", "/b", "/", "/a/b", "/\ufffd", "/\udcff"]) | values,
        "blueprint": values,
        "entrypoints": values,
        "cors": cors_blocks,
        "policies": st.lists(policy_refs, max_size=3) | values,
        "description": values,
        "extra": values,
    },
)
configs = st.one_of(values, st.fixed_dictionaries({"apis": st.lists(apis, max_size=3) | values}), st.fixed_dictionaries({"apis": st.lists(apis, max_size=3)}))


@settings(
    max_examples=400,
    # A functional bound, far above the few milliseconds one example takes: a value
    # that made the loader slow (a regex taking hours, a walk of a 100 000-deep
    # structure) would exceed it. Not a measurement.
    deadline=datetime.timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(raw=configs)
def test_fuzzed_configs_raise_only_config_error_quickly(raw: Any) -> None:
    try:
        config = load_config(raw, POLICIES)
    except ConfigError as err:
        assert err.problems and str(err).encode("utf-8")  # every problem prints on any terminal
        return
    # What loads compiles: the config that runs is the config the rules judged.
    Runtime([CompiledApi(api, []) for api in config["apis"]], None)


@settings(max_examples=150, deadline=datetime.timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=200), st.builds(json.dumps, values.filter(lambda v: _jsonable(v)))))
def test_fuzzed_config_files_raise_only_config_error(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "gravicors.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_config(str(path), POLICIES)
    except ConfigError:
        pass


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        return False
    return True
