"""The Sphinx site under docs/: it builds with warnings as errors, its code samples
run (the doctest builder), and its reference pages are generated from the code: every
field of every schema, every rule id, every command, the request diagram rendered.

Nothing is fetched at build time (no intersphinx); Graphviz's ``dot`` renders the
diagram (scripts/test.sh installs Debian's graphviz when it is missing).
"""

from __future__ import annotations

import html
import re
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from flask_gravicors import GraviCORS
from flask_gravicors.cli import gravicors
from flask_gravicors.errors import RULES
from flask_gravicors.schema import ConfigSchema

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
from gravicors_docs import gravitee_names, missing_meanings, walk_schemas  # noqa: E402


def sphinx(builder: str, source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", builder, "-W", "--keep-going", "-q", "-E", str(source), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html")
    built = sphinx("html", DOCS, out)
    assert built.returncode == 0, built.stdout + built.stderr
    assert built.stderr == "", built.stderr  # -q: anything on stderr is a warning
    return out


def text_of(site: Path, page: str) -> str:
    raw = (site / page).read_text()
    body = raw[raw.index("<article") : raw.index("</article>")] if "<article" in raw else raw
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def test_nothing_is_fetched_at_build_time() -> None:
    conf = runpy.run_path(str(DOCS / "conf.py"))
    assert "sphinx.ext.intersphinx" not in conf["extensions"] and "intersphinx_mapping" not in conf
    assert conf["graphviz_output_format"] == "svg"  # rendered here, by dot


def test_config_reference_has_every_field_of_every_schema(site: Path) -> None:
    page = text_of(site, "config.html")
    schemas = [schema for schema, _ in walk_schemas(ConfigSchema, "flask_gravicors.schema")]
    assert {s.__name__ for s in schemas} >= {
        "ConfigSchema",
        "ApiSchema",
        "CorsSchema",
        "PolicyRefSchema",
        "PlanSchema",
        "FlowSchema",
        "SelectorSchema",
        "StepSchema",
        "TemplateSchema",  # reached through response_templates' values
    }
    for schema in schemas:
        assert f"{schema.__module__}.{schema.__qualname__}" in page
        for name, field in schema._declared_fields.items():
            assert f" {field.data_key or name} " in page, (schema.__name__, name)
    for name in ("dangerously_allow_any_origin_with_credentials", "dangerously_allow_null_origin", "allowOrigin"):
        assert f" {name} " in page
    # A field's meaning is its #: comment in schema.py.
    assert "Lift refusal gravicors.E024 : allow listing the null origin." in page
    # Gravitee's spelling of a field is shown beside ours.
    assert " path_operator pathOperator " in page and " response_templates responseTemplates " in page
    assert " apis[].response_templates.*.* " in page


def generated_schemas() -> list[type]:
    """Every schema a page of the docs generates a table from: the config's, and the
    configuration schemas of every installed policy and plan security type."""
    extension = GraviCORS()
    classes: list[Any] = [*extension.policies.values(), *extension.security_types.values()]
    plugins = [cls.config_schema for cls in classes]
    return [schema for schema, _ in walk_schemas(ConfigSchema, "flask_gravicors.schema")] + plugins


def test_every_field_of_a_generated_schema_has_a_meaning() -> None:
    # Without one the directive warns, which fails the -W build; this says which.
    schemas = generated_schemas()
    assert {s.__name__ for s in schemas} >= {"JwtConfigSchema", "ApiKeyPlanSchema", "RateLimitConfigSchema"}
    assert {f"{s.__module__}.{s.__qualname__}": missing_meanings(s) for s in schemas if missing_meanings(s)} == {}


def test_a_field_without_a_meaning_fails_the_build(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "mute_schema.py").write_text(
        "from marshmallow import Schema, fields\n\nclass RootSchema(Schema):\n    silent = fields.String()\n"
    )
    (source / "conf.py").write_text(
        f"import sys\nsys.path[:0] = [{str(source)!r}, {str(DOCS / '_ext')!r}]\nextensions = ['gravicors_docs']\n"
    )
    (source / "index.rst").write_text("Reference\n=========\n\n.. gravicors-config::\n   :root: mute_schema:RootSchema\n")
    built = sphinx("html", source, tmp_path / "out")
    assert built.returncode != 0
    assert "RootSchema.silent has no meaning" in built.stderr


def test_gravitee_names_of_plugin_schemas() -> None:
    extension = GraviCORS()
    jwt = gravitee_names(extension.security_types["jwt"].config_schema)
    assert jwt["public_key_resolver"] == "publicKeyResolver"
    assert gravitee_names(extension.security_types["api-key"].config_schema) == {"propagate_api_key": "propagateApiKey"}


def test_installed_policies_configs(site: Path) -> None:
    page = text_of(site, "policies.html")
    extension = GraviCORS()
    assert extension.policies, "the shipped plugins are installed by scripts/test.sh"
    assert set(extension.security_types) >= {"keyless", "api-key", "jwt"}
    installed: list[tuple[str, Any]] = [*extension.policies.items(), *extension.security_types.items()]
    for name, cls in installed:
        assert f" {name} " in page
        for field_name in cls.config_schema._declared_fields:
            assert f" {field_name} " in page, (name, field_name)


def test_rules_page_has_every_rule(site: Path) -> None:
    page = text_of(site, "rules.html")

    def squeezed(text: str) -> str:  # no spaces (links and literals add some), plain quotes
        return re.sub(r"\s+", "", text).replace("‘", "'").replace("’", "'")

    for rule_id, (title, hint) in RULES.items():
        assert f" {rule_id} " in page
        assert squeezed(f"{rule_id}{title}{hint}") in squeezed(page), rule_id
    # Each id is a link target for the :rule: role.
    raw = (site / "rules.html").read_text()
    assert all(f'id="std-rule-{rule_id}"' in raw for rule_id in RULES)
    assert 'href="rules.html#std-rule-gravicors.E023"' in (site / "migrating.html").read_text()


def test_every_rule_id_the_docs_name_exists() -> None:
    # A :rule: link to an id that does not exist renders as plain text, silently.
    pages = [*DOCS.glob("*.rst"), *DOCS.glob("*.md"), ROOT / "README.md", ROOT / "SECURITY.md", ROOT / "CHANGELOG.md"]
    pages += ROOT.glob("plugins/*/README.md")
    named = {(page.name, f"gravicors.{rid}") for page in pages for rid in re.findall(r"\b([EW]\d{3})\b", page.read_text())}
    assert {(page, rid) for page, rid in named if rid not in RULES} == set()
    assert len(named) > 50


def test_config_page_names_every_app_setting() -> None:
    """Every GRAVICORS_* key the code reads is in the config reference's App settings."""
    read = {key for path in (ROOT / "flask_gravicors").rglob("*.py") for key in re.findall(r"GRAVICORS_[A-Z_]+", path.read_text())}
    section = (DOCS / "config.rst").read_text().split("App settings")[1].split("Regular expressions")[0]
    assert len(read) > 10
    assert {key for key in read if f"``{key}``" not in section} == set()


def test_cli_page_has_every_command(site: Path) -> None:
    page = text_of(site, "cli.html")
    for name in gravicors.commands:
        assert f"flask gravicors {name}" in page


def test_request_diagram_is_rendered(site: Path) -> None:
    raw = (site / "request.html").read_text()
    images = re.findall(r"_images/(graphviz-[0-9a-f]+\.svg)", raw)
    assert images
    svg = (site / "_images" / images[0]).read_text()
    assert "<svg" in svg and "before_request" in svg
    # Where the console's layer and the metrics path sit.
    assert "GRAVICORS_CONSOLE_PREFIX" in svg and "GRAVICORS_METRICS_PATH" in svg


def test_api_reference(site: Path) -> None:
    page = text_of(site, "api.html")
    for name in (
        "GraviCORS",
        "init_app",
        "reconfigure",
        "ConfigError",
        "Problem",
        "Policy",
        "on_request",
        "on_response",
        "gravicors_register_policies",
        "gravicors_config_loaded",
        "Outcome",
        "assert_allowed",
        "make_app",
        "fetch",
        "RULES",
        "Report",
        "Refusal",
        "preflight_reasons",
        "Metrics",
        "SecurityType",
        "can_handle",
        "Failure",
        "gravicors_register_security_types",
        "gravicors_origin_allowed",
        "load_definition",
        "dump_definition",
        "AppStore",
        "VersionConflict",
        "compiled",
        "plan",
        "flow",
        "step",
    ):
        assert name in page, name
    # Only the members a directive lists (autodoc's "members" default would add them all).
    assert "forked_children" not in page


def test_included_files(site: Path) -> None:
    assert "Threat model" in text_of(site, "security.html")
    assert "[Unreleased]" in text_of(site, "changelog.html") or "Unreleased" in text_of(site, "changelog.html")
    assert "25/25 in-process targets met" in text_of(site, "benchmarks.html")


def test_code_samples_run(tmp_path: Path) -> None:
    done = sphinx("doctest", DOCS, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = (tmp_path / "output.txt").read_text()
    tests = int(re.search(r"(\d+) tests\n", summary.split("Doctest summary")[1]).group(1))  # type: ignore[union-attr]
    assert tests >= 10 and "0 failures in tests" in summary, summary
    for page in ("index", "tutorial", "plugins", "migrating", "config", "rules"):
        assert f"Document: {page}\n" in summary, page


def test_a_failing_sample_fails_the_build(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "conf.py").write_text('extensions = ["sphinx.ext.doctest"]\n')
    (source / "index.rst").write_text("T\n=\n\n.. testcode::\n\n   print(1 + 1)\n\n.. testoutput::\n\n   3\n")
    assert sphinx("doctest", source, tmp_path / "out").returncode != 0


def test_new_schemas_and_fields_show_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What another schema module gets from the directive, without touching it: a
    new nested schema and fields appear, with their #: comments."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "fake_schema.py").write_text(
        textwrap.dedent(
            '''
            from marshmallow import Schema, fields, validate

            class FlowSchema(Schema):
                """A flow."""
                #: Where the flow applies.
                path = fields.String(load_default="/")
                #: Its methods.
                methods = fields.List(fields.String(validate=validate.OneOf(["GET", "PUT"])), load_default=list)

            class RootSchema(Schema):
                #: The flows, in order.
                flows = fields.List(fields.Nested(FlowSchema), load_default=list)

            class LonelySchema(Schema):
                #: Reached from no other schema.
                alone = fields.Integer(required=True)
            '''
        )
    )
    (source / "conf.py").write_text(
        f"import sys\nsys.path[:0] = [{str(source)!r}, {str(DOCS / '_ext')!r}]\nextensions = ['gravicors_docs']\n"
    )
    (source / "index.rst").write_text("Reference\n=========\n\n.. gravicors-config::\n   :root: fake_schema:RootSchema\n")
    built = sphinx("html", source, tmp_path / "out")
    assert built.returncode == 0, built.stdout + built.stderr
    page = text_of(tmp_path / "out", "index.html")
    for text in (
        "flows[]",
        "A flow.",
        "Where the flow applies.",
        "methods list of strings [] Its methods. (each item: one of GET , PUT )",
        "LonelySchema",
        "alone integer required Reached from no other schema.",
    ):
        assert text in page, text


def test_readme_samples_run() -> None:
    """The README's Python blocks: the minimal example builds its app, the kit's
    example test passes (its fixture given by hand, as pytest would)."""
    from flask_gravicors.testing import make_app

    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    example, fleet, kit_test = re.findall(r"```python\n(.*?)```", readme, re.S)
    # The fleet snippet only names config keys: each one is a key init_app reads.
    from flask_gravicors.extension import GraviCORS

    assert set(re.findall(r'app\.config\["(\w+)"\]', fleet)) == {"GRAVICORS_STORE"}
    assert "GRAVICORS_STORE" in (GraviCORS.init_app.__doc__ or "")
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(example, namespace)
    assert "gravicors" in namespace["app"].extensions  # type: ignore[attr-defined]
    namespace = {}
    exec(kit_test, namespace)
    namespace["test_limit"](make_app)  # type: ignore[operator]


def test_console_page_and_readme_show_the_walks_screenshots(site: Path) -> None:
    """The screenshots tests/browser/test_console.py takes are the console page's:
    the eight steps (the README's too) and Try it."""
    shots = sorted(p.name for p in (DOCS / "_static" / "console").glob("*.png"))
    steps = [name for name in shots if name[0].isdigit()]
    assert len(steps) == 8 and set(shots) - set(steps) == {"try-it.png"}
    page = (site / "console.html").read_text()
    readme = (ROOT / "README.md").read_text()
    for name in shots:
        assert (site / "_images" / name).exists() and f"_images/{name}" in page, name
    for name in steps:
        assert f"(docs/_static/console/{name})" in readme, name
    assert "console" in text_of(site, "index.html")
