"""The hookspec module is the plugin author's contract: every hook typed and documented."""

from __future__ import annotations

import inspect

import pytest

from flask_gravicors import hookspecs

HOOKS = [f for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("gravicors_")]


def test_there_are_hooks() -> None:
    assert {f.__name__ for f in HOOKS} == {
        "gravicors_register_policies",
        "gravicors_register_security_types",
        "gravicors_origin_allowed",
        "gravicors_config_loaded",
    }


@pytest.mark.parametrize("hook", HOOKS, ids=lambda f: f.__name__)
def test_hook_is_an_empty_typed_documented_function(hook: object) -> None:
    doc = inspect.getdoc(hook) or ""
    assert "Called" in doc, "say when it is called"
    assert "None" in doc, "say what returning None means"
    assert "return" in doc.lower(), "say what it may return"
    signature = inspect.signature(hook)  # type: ignore[arg-type]
    assert signature.return_annotation is not inspect.Signature.empty
    assert all(p.annotation is not inspect.Parameter.empty for p in signature.parameters.values())
    source = inspect.getsource(hook)  # type: ignore[arg-type]
    body = source.split('"""')[-1].strip()
    assert body == "", "a hookspec has no body"
