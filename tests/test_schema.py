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
            {"name": "answer", "policy": "answer", "enabled": True, "configuration": {"status": 429}},
            {"name": "record", "policy": "record", "enabled": True, "configuration": {"label": ""}},
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
