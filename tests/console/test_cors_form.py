"""flask_gravicors.console.cors_form: stored block <-> form values, a save that
replaces only what was changed, problems placed next to their fields, and the
values shown after a conflict."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from flask_gravicors.console import cors_form
from flask_gravicors.errors import ConfigError, Problem
from flask_gravicors.schema import load_config

DEFAULTS = cors_form.stored_values({})


def test_the_tabs_fields_are_the_seeds() -> None:
    assert cors_form.METHODS == ("GET", "DELETE", "PATCH", "POST", "PUT", "OPTIONS", "TRACE", "HEAD")
    loaded = load_config({"apis": [{"name": "a", "context_path": "/a"}]}, {})["apis"][0]["cors"]
    # Every field of the tab is a field of the cors block, with the schema's default
    # (fields the tab does not show, if any, are kept as written by every save).
    assert set(cors_form.FIELDS) <= set(loaded) and DEFAULTS == {name: loaded[name] for name in cors_form.FIELDS}


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ({}, {}),
        ({"enabled": True, "allow_origin": "*"}, {"enabled": True, "allow_origin": ["*"]}),
        (
            {"allowOrigin": ["https://a.example"], "maxAge": 600, "allowCredentials": True},
            {"allow_origin": ["https://a.example"], "max_age": 600, "allow_credentials": True},
        ),
        (
            {"runPolicies": True, "allowPrivateNetwork": True, "dangerously_allow_null_origin": True},
            {"run_policies": True, "allow_private_network": True, "dangerously_allow_null_origin": True},
        ),
        (
            {"allow_methods": ["GET", "patch"], "expose_headers": ["x-a", "x-b"]},
            {"allow_methods": ["GET", "patch"], "expose_headers": ["x-a", "x-b"]},
        ),
        (None, {}),
    ],
)
def test_stored_values(stored: Any, expected: dict[str, Any]) -> None:
    assert cors_form.stored_values(stored) == {**DEFAULTS, **expected}


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({}, {}),
        (
            {"enabled": True, "allow_origin": " https://a.example \r\n\r\n*\n", "allow_methods": ["GET", "PUT"]},
            {"enabled": True, "allow_origin": ["https://a.example", "*"], "allow_methods": ["GET", "PUT"]},
        ),
        ({"max_age": "600"}, {"max_age": 600}),
        ({"max_age": " -1 "}, {"max_age": -1}),
        ({"max_age": ""}, {"max_age": -1}),
        ({"max_age": "ten"}, {"max_age": "ten"}),  # left to the config's checks (E003)
        ({"max_age": "1e3"}, {"max_age": "1e3"}),
        (
            {"allow_headers": "content-type\nx-api-key", "expose_headers": "x-request-id"},
            {"allow_headers": ["content-type", "x-api-key"], "expose_headers": ["x-request-id"]},
        ),
        (
            {"dangerously_allow_insecure_origins": True, "run_policies": True},
            {"dangerously_allow_insecure_origins": True, "run_policies": True},
        ),
    ],
)
def test_submitted_values(form: dict[str, Any], expected: dict[str, Any]) -> None:
    assert cors_form.submitted_values(form) == {**DEFAULTS, **expected}


def test_form_data_round_trips() -> None:
    values = {**DEFAULTS, "enabled": True, "allow_origin": ["https://a.example", "*"], "max_age": 30, "allow_methods": ["GET"]}
    shown = cors_form.form_data(values)
    assert shown["allow_origin"] == "https://a.example\n*" and shown["max_age"] == "30"
    assert cors_form.submitted_values(shown) == values


CONFIG: dict[str, Any] = {
    "flows": [{"name": "platform", "steps": []}],  # fields the console does not know stay as they are
    "apis": [
        {"name": "other", "context_path": "/other", "cors": {"allowOrigin": ["https://o.example"]}},
        {
            "name": "orders",
            "context_path": "/orders",
            "plans": [{"name": "keyless", "security": {"type": "key-less"}}],
            "flows": [{"path": "/", "request": [{"policy": "rate-limit"}]}],
            "policies": [{"name": "api-key", "config": {"keys": ["k"]}}],
            "cors": {"enabled": True, "allowOrigin": "https://a.example", "maxAge": 600, "dynamic_origins": {"x": 1}},
        },
    ],
}


def test_a_save_replaces_only_the_fields_that_changed() -> None:
    before = copy.deepcopy(CONFIG)
    values = cors_form.stored_values(CONFIG["apis"][1]["cors"])
    assert cors_form.with_cors(CONFIG, "orders", values) == CONFIG  # nothing changed: the same config
    values["allow_origin"] = ["https://a.example", "https://b.example"]
    new = cors_form.with_cors(CONFIG, "orders", values)
    assert CONFIG == before  # the input is not touched
    assert new["flows"] == CONFIG["flows"] and new["apis"][0] == CONFIG["apis"][0]
    api = new["apis"][1]
    assert {k: v for k, v in api.items() if k != "cors"} == {k: v for k, v in CONFIG["apis"][1].items() if k != "cors"}
    # The changed field under our name (Gravitee's spelling dropped: both would be E005);
    # unchanged fields keep the form they were written in, unknown keys stay.
    assert api["cors"] == {
        "enabled": True,
        "maxAge": 600,
        "dynamic_origins": {"x": 1},
        "allow_origin": ["https://a.example", "https://b.example"],
    }


def test_a_save_of_an_api_without_cors_block() -> None:
    config = {"apis": [{"name": "a", "context_path": "/a"}]}
    values = {**DEFAULTS, "enabled": True, "allow_origin": ["https://a.example"]}
    assert cors_form.with_cors(config, "a", values)["apis"][0]["cors"] == {"enabled": True, "allow_origin": ["https://a.example"]}
    with pytest.raises(KeyError):
        cors_form.with_cors(config, "missing", values)


def problems_of(config: dict[str, Any]) -> tuple[Problem, ...]:
    with pytest.raises(ConfigError) as err:
        load_config(config, {})
    return err.value.problems


def test_problems_are_placed_next_to_their_fields() -> None:
    values = {
        **DEFAULTS,
        "enabled": True,
        "allow_origin": ["https://ok.example", "*", "null"],
        "allow_credentials": True,
        "allow_methods": ["GET", "CONNECT"],
        "max_age": "ten",
        "allow_private_network": True,
    }
    config = cors_form.with_cors(
        {"apis": [{"name": "z", "context_path": "/z"}, {"name": "a", "context_path": "/a/"}]}, "a", values
    )
    placed = cors_form.place(problems_of(config), 1, values)
    found = {name: sorted((p.problem.id, p.entry) for p in items) for name, items in placed.fields.items()}
    assert found == {
        "allow_origin": [("gravicors.E023", "*"), ("gravicors.E024", "null")],
        "allow_methods": [("gravicors.E032", "CONNECT")],
        "max_age": [("gravicors.E003", None)],
        "allow_private_network": [("gravicors.E050", None)],
    }
    # Outside the tab's fields (the API's context path): listed apart.
    assert [(p.path, p.id) for p in placed.others] == [("apis[1].context_path", "gravicors.E012")]
    assert bool(placed) and not cors_form.place([], 1, values)


def test_problems_of_another_api_are_not_placed_on_this_one() -> None:
    problem = Problem("apis[0].cors.allow_origin[0]", "gravicors.E020", "gravicors.E020: ...")
    assert cors_form.place([problem], 1, DEFAULTS).others == [problem]
    camel = Problem("apis[1].cors.allowOrigin[0]", "gravicors.E020", "gravicors.E020: ...")
    placed = cors_form.place([camel], 1, {**DEFAULTS, "allow_origin": ["x"]})
    assert [(p.problem, p.entry) for p in placed.fields["allow_origin"]] == [(camel, "x")]


@pytest.mark.parametrize(
    ("mine", "theirs", "shown", "both"),
    [
        # I added an origin, they changed max age: both kept.
        ({"allow_origin": ["a", "b"]}, {"max_age": 60}, {"allow_origin": ["a", "b"], "max_age": 60}, set()),
        # We both changed the origins differently: mine is shown, theirs reported.
        ({"allow_origin": ["a", "b"]}, {"allow_origin": ["a", "c"]}, {"allow_origin": ["a", "b"]}, {"allow_origin"}),
        # The same change on both sides is no clash.
        ({"allow_origin": ["a", "b"]}, {"allow_origin": ["a", "b"]}, {"allow_origin": ["a", "b"]}, set()),
        # I changed nothing: theirs is shown.
        ({}, {"enabled": False, "allow_credentials": True}, {"enabled": False, "allow_credentials": True}, set()),
    ],
)
def test_merge_after_a_conflict(mine: dict[str, Any], theirs: dict[str, Any], shown: dict[str, Any], both: set[str]) -> None:
    base = {**DEFAULTS, "enabled": True, "allow_origin": ["a"]}
    merged, clashed = cors_form.merge(base, {**base, **mine}, {**base, **theirs})
    assert merged == {**base, **shown} and clashed == both
