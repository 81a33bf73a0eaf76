"""Sphinx directives that generate reference pages from the code, so they cannot drift:

* ``.. gravicors-config::`` every marshmallow schema of :mod:`flask_gravicors.schema`,
  walked from ``ConfigSchema`` through its nested schemas, in lists and in objects'
  values (then any schema of the module not reached), one section per schema and
  one row per field: name, Gravitee's name, type, default, constraints, and the
  field's ``#:`` comment;
* ``.. gravicors-policies::`` the config schema of every policy installed through
  the ``flask_gravicors`` entry-point group when the docs are built;
* ``.. gravicors-rules:: E`` (or ``W``) the refusal rules (or warnings) of
  :data:`flask_gravicors.errors.RULES`, each a target of the ``:rule:`` role
  (``:rule:`gravicors.E023```);
* ``.. gravicors-cli::`` the help of every ``flask gravicors`` command.

Each directive writes reStructuredText and parses it in place. A field without a
``#:`` comment (or a ``description`` in its metadata) is a warning, so the build,
run with warnings as errors, fails until the field says what it means.
"""

from __future__ import annotations

import importlib
import json
import re
from importlib.metadata import entry_points
from typing import Any, Callable, Iterator

import click
from docutils import nodes  # type: ignore[import-untyped]
from docutils.statemachine import StringList  # type: ignore[import-untyped]
from marshmallow import RAISE, Schema, fields, missing, validate
from sphinx.application import Sphinx
from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

log = logging.getLogger(__name__)

#: Per schema class name: where its other accepted field names come from
#: ("module:attribute", a dict of other name -> field name). Other schemas name
#: them in a ``CAMEL`` class attribute of the same shape.
ALIASES = {"CorsSchema": "flask_gravicors.checks:GRAVITEE_NAMES"}


def _load(spec: str) -> Any:
    module, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _escape(text: str) -> str:
    """Plain text made safe for a reStructuredText table cell."""
    return re.sub(r"([\\`*_|])", r"\\\1", text)


def field_docs(schema: type[Schema]) -> dict[str, str]:
    """Field name -> the ``#:`` comment above it (in the class or a base class)."""
    out: dict[str, str] = {}
    for klass in reversed(schema.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, Schema)) or klass.__module__.startswith("marshmallow"):
            continue
        try:
            docs = ModuleAnalyzer.for_module(klass.__module__).find_attr_docs()
        except Exception:  # a class defined outside a readable module: no comments
            continue
        for (owner, name), lines in docs.items():
            if owner == klass.__qualname__:
                out[name] = " ".join(line.strip() for line in lines if line.strip())
    return out


def gravitee_names(schema: type[Schema]) -> dict[str, str]:
    """Field name -> the name Gravitee gives it, where the schema loads both."""
    spec = ALIASES.get(schema.__name__)
    camel = _load(spec) if spec else getattr(schema, "CAMEL", None) or {}
    return {ours: theirs for theirs, ours in camel.items()}


def _nested_schema(field: fields.Field) -> type[Schema] | None:
    """The schema a field's items or values are loaded by (through lists and
    objects' values), or ``None``."""
    if isinstance(field, fields.Nested):
        nested = field.nested
        if isinstance(nested, Schema):
            return type(nested)
        if isinstance(nested, type) and issubclass(nested, Schema):
            return nested
        return None
    if isinstance(field, fields.List):
        return _nested_schema(field.inner)
    if isinstance(field, fields.Dict) and field.value_field is not None:
        return _nested_schema(field.value_field)
    return None


def _where(field: fields.Field) -> str:
    """What follows a field's name in the path of the schema it nests: ``[]`` per
    list, ``.*`` per object key."""
    if isinstance(field, fields.List):
        return "[]" + _where(field.inner)
    if isinstance(field, fields.Dict) and field.value_field is not None:
        return ".*" + _where(field.value_field)
    return ""


def describe_type(field: fields.Field, link: Callable[[type[Schema]], str]) -> str:
    nested = _nested_schema(field)
    if isinstance(field, fields.List):
        if nested is not None:
            return f"list of {link(nested)} objects"
        inner = describe_type(field.inner, link)
        one = " (or one string)" if type(field).__name__ == "StringList" else ""
        return f"list of {inner}s{one}"
    if isinstance(field, fields.Dict) and field.value_field is not None:
        return f"object of {describe_type(field.value_field, link)}"
    if nested is not None:
        return f"{link(nested)} object"
    names = {
        fields.Boolean: "boolean",
        fields.Integer: "integer",
        fields.Float: "number",
        fields.String: "string",
        fields.Dict: "object",
        fields.Raw: "any",
    }
    for klass, name in names.items():
        if isinstance(field, klass):
            return name
    return type(field).__name__


def describe_default(field: fields.Field) -> str:
    if field.required:
        return "required"
    default = field.load_default
    if default is missing:
        return "–"
    if callable(default):
        default = default()
    if default is None:
        return "–"
    if isinstance(field, fields.Nested) and isinstance(default, dict):
        return "its defaults"
    return f"``{json.dumps(default)}``"


def describe_constraints(field: fields.Field) -> list[str]:
    out = []
    for v in field.validators:
        out += _describe_validator(v)
    if isinstance(field, fields.List):
        out += [f"each item: {text}" for v in field.inner.validators for text in _describe_validator(v)]
    if getattr(field, "strict", False):
        out.append("an integer, not a string or a float")
    return out


def _describe_validator(v: Any) -> list[str]:
    if isinstance(v, validate.OneOf):
        return ["one of " + ", ".join(f"``{c}``" for c in v.choices)]
    if isinstance(v, validate.Length):
        if v.min and v.max is None:
            return ["not empty" if v.min == 1 else f"at least {v.min} long"]
        return [f"length {v.min or 0}–{v.max}"] if v.max is not None else []
    if isinstance(v, validate.Range):
        low = "" if v.min is None else f"{v.min} {'≤' if v.min_inclusive else '<'} "
        high = "" if v.max is None else f" {'≤' if v.max_inclusive else '<'} {v.max}"
        return [f"{low}value{high}"]
    if isinstance(v, validate.Regexp):
        pattern = v.regex.pattern
        return [f"matches ``{pattern.decode() if isinstance(pattern, bytes) else pattern}``"]
    return []


def walk_schemas(root: type[Schema], module: str) -> Iterator[tuple[type[Schema], list[str]]]:
    """(schema, every place it sits in a config, shortest first) from ``root``
    through its nested schemas, in the order they are first reached (depth first,
    fields in order), then every other schema defined in ``module``."""
    places: dict[type[Schema], list[str]] = {}

    def visit(schema: type[Schema], where: str, above: tuple[type[Schema], ...]) -> None:
        places.setdefault(schema, []).append(where)
        if schema in above:  # a schema nested in itself: one level is enough
            return
        for name, field in schema._declared_fields.items():
            nested = _nested_schema(field)
            if nested is not None:
                key = f"{field.data_key or name}{_where(field)}"
                visit(nested, f"{where}.{key}" if where else key, (*above, schema))

    visit(root, "", ())
    mod = importlib.import_module(module)
    for value in vars(mod).values():
        if isinstance(value, type) and issubclass(value, Schema) and value.__module__ == module and value not in places:
            visit(value, "", ())
    for schema, wheres in places.items():
        yield schema, sorted(dict.fromkeys(wheres), key=lambda w: (w.count("."), len(w), w))


def schema_label(schema: type[Schema]) -> str:
    return f"config-{schema.__module__}-{schema.__qualname__}".lower().replace(".", "-").replace("_", "-")


def _meaning(docs: dict[str, str], name: str, field: fields.Field) -> str:
    """What a field means: its ``#:`` comment, else its metadata's ``description``."""
    return docs.get(name) or (field.metadata or {}).get("description", "")


def field_rows(schema: type[Schema], link: Callable[[type[Schema]], str]) -> list[tuple[str, str, str, str, str]]:
    """One row per field of ``schema``: its name, Gravitee's name (or ``""``), type,
    default and meaning (its ``#:`` comment, then its constraints)."""
    docs = field_docs(schema)
    aliases = gravitee_names(schema)
    rows = []
    for name, field in schema._declared_fields.items():
        meaning = _meaning(docs, name, field)
        extra = describe_constraints(field)
        if extra:
            meaning = (meaning + " " if meaning else "") + "(" + "; ".join(extra) + ")"
        alias = f"``{aliases[name]}``" if name in aliases else ""
        rows.append((f"``{field.data_key or name}``", alias, describe_type(field, link), describe_default(field), meaning))
    return rows


def missing_meanings(schema: type[Schema]) -> list[str]:
    """The fields of ``schema`` that say nothing of what they mean."""
    docs = field_docs(schema)
    return [name for name, field in schema._declared_fields.items() if not _meaning(docs, name, field)]


def schema_rst(schema: type[Schema], title: str, heading: str, intro: str = "") -> list[str]:
    """A labelled section with ``title``, ``intro``, the schema's docstring and one
    table row per field."""
    lines = [f".. _{schema_label(schema)}:", "", title, heading * len(title), ""]
    if intro:
        lines += [intro, ""]
    doc = (schema.__doc__ or "").strip()
    if doc and not doc.startswith("Base schema class"):
        lines += [" ".join(doc.split()), ""]
    # marshmallow's default (RAISE) included: a plugin's schema without a Meta refuses them too.
    refused = " Unknown fields are refused." if schema.opts.unknown == RAISE else ""
    lines += [f"Schema ``{schema.__module__}.{schema.__qualname__}``.{refused}", ""]
    if not schema._declared_fields:
        return [*lines, "No fields: any setting is refused.", ""]
    for name in missing_meanings(schema):
        log.warning("%s.%s has no meaning: write a #: comment above the field", schema.__qualname__, name)

    def link(nested: type[Schema]) -> str:
        return f":ref:`{nested.__name__} <{schema_label(nested)}>`"

    rows = field_rows(schema, link)
    has_aliases = any(row[1] for row in rows)
    header = ["field", *(["Gravitee name"] if has_aliases else []), "type", "default", "meaning"]
    lines += [".. list-table::", "   :header-rows: 1", "   :class: gravicors-config", ""]
    lines.append("   * - " + header[0])
    lines += [f"     - {h}" for h in header[1:]]
    for key, alias, kind, default, meaning in rows:
        cells = [alias] if has_aliases else []
        lines.append(f"   * - {key}")
        lines += [f"     - {cell}" for cell in [*cells, kind, default, meaning]]
    return [*lines, ""]


class _Generated(SphinxDirective):
    def parse(self, lines: list[str]) -> list[nodes.Node]:
        container = nodes.section()
        container.document = self.state.document
        source = f"<generated by {self.name}>"
        nested_parse_with_titles(self.state, StringList(lines, source=source), container)
        return list(container.children)


class ConfigDirective(_Generated):
    """Every schema of a module, from its root schema: ``.. gravicors-config::``."""

    option_spec = {"root": str, "heading": str}

    def run(self) -> list[nodes.Node]:
        root = _load(self.options.get("root", "flask_gravicors.schema:ConfigSchema"))
        heading = self.options.get("heading", "-")
        lines: list[str] = []
        for schema, wheres in walk_schemas(root, root.__module__):
            where, *others = wheres
            title = f"``{where}``" if where else ("Top level" if schema is root else schema.__name__)
            also = "Also at " + ", ".join(f"``{other}``" for other in others) + "." if others else ""
            lines += schema_rst(schema, title, heading, also)
        self.env.note_dependency(importlib.import_module(root.__module__).__file__ or "")
        return self.parse(lines)


class PoliciesDirective(_Generated):
    """The config schema of every installed policy (``.. gravicors-policies::``) or
    plan security type (``.. gravicors-policies:: security``)."""

    option_spec = {"heading": str}
    optional_arguments = 1

    def run(self) -> list[nodes.Node]:
        from flask_gravicors import GraviCORS
        from flask_gravicors.plugins import ENTRY_POINT_GROUP

        heading = self.options.get("heading", "-")
        dists = {ep.value.partition(":")[0]: ep.dist.name for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.dist}
        security = bool(self.arguments) and self.arguments[0] == "security"
        installed = GraviCORS().security_types if security else GraviCORS().policies
        if not installed:
            return self.parse(["No such plugin was installed when these pages were built.", ""])
        lines: list[str] = []
        for name in sorted(installed):
            cls = installed[name]
            dist = dists.get(cls.__module__)
            origin = f" ({dist})" if dist else " (built in)" if cls.__module__.startswith("flask_gravicors") else ""
            # "plan" or "policy" in the title: a plugin may give both under one name (api-key).
            title = f"``{name}`` {'plan' if security else 'policy'}{origin}"
            lines += schema_rst(cls.config_schema, title, heading)
        return self.parse(lines)


class RulesDirective(_Generated):
    """The rules (``E``) or warnings (``W``) of ``errors.RULES``: ``.. gravicors-rules:: E``."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        from flask_gravicors.errors import RULES

        kind = self.arguments[0]
        rows = [(rid, title, hint) for rid, (title, hint) in sorted(RULES.items()) if rid.startswith(f"gravicors.{kind}")]
        if not rows:
            raise self.error(f"no rule id starts with gravicors.{kind}")
        lines = [".. list-table::", "   :header-rows: 1", "   :widths: 15 35 50", ""]
        lines += ["   * - id", "     - " + ("refused" if kind == "E" else "warning"), "     - how to fix"]
        for rid, title, hint in rows:
            # A target per id, so any page can link it: :rule:`gravicors.E023`.
            lines += [f"   * - .. rule:: {rid}", "", f"       ``{rid}``", f"     - {_escape(title)}", f"     - {_escape(hint)}"]
        return self.parse([*lines, ""])


class CliDirective(_Generated):
    """Every command of the ``flask gravicors`` group, with its help: ``.. gravicors-cli::``."""

    option_spec = {"heading": str}

    def run(self) -> list[nodes.Node]:
        from flask_gravicors.cli import gravicors

        heading = self.options.get("heading", "-")
        lines: list[str] = []
        parent = click.Context(gravicors, info_name="flask gravicors")
        for name in sorted(gravicors.list_commands(parent)):
            command = gravicors.get_command(parent, name)
            assert command is not None
            title = f"``flask gravicors {name}``"
            ctx = click.Context(command, info_name=name, parent=parent)
            help_text = command.get_help(ctx)
            lines += [f".. _cli-{name}:", "", title, heading * len(title), "", "::", ""]
            lines += ["   " + line if line else "" for line in help_text.splitlines()]
            lines.append("")
        return self.parse(lines)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("gravicors-config", ConfigDirective)
    app.add_directive("gravicors-policies", PoliciesDirective)
    app.add_directive("gravicors-rules", RulesDirective)
    app.add_directive("gravicors-cli", CliDirective)
    # ``.. rule:: gravicors.E023`` marks a rule's row; ``:rule:`gravicors.E023``` links to it.
    app.add_crossref_type("rule", "rule")
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
