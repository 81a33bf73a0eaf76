"""``flask gravicors import`` and ``flask gravicors export``: Gravitee definitions
in and out, through :mod:`flask_gravicors.gravitee`."""

from __future__ import annotations

import json
import sys
from typing import Any, Iterator

import click

from ..errors import ConfigError, printable
from ..gravitee import dump_definition, load_definition
from ..schema import read_config
from . import EXIT_CONFLICT, EXIT_INVALID, gravicors
from .common import echo_problems, extension_of, load_app, optional_app, plugins_of


def _parse_keys(values: tuple[str, ...]) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    for value in values:
        plan, sep, listed = value.partition("=")
        items = [k for k in listed.split(",") if k]
        if not sep or not plan or not items:
            raise click.BadParameter(f"{value!r}: write PLAN=KEY1,KEY2", param_hint="--keys")
        keys.setdefault(plan, []).extend(items)
    return keys


def _definitions(files: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    """(where, definition) of each FILE: its JSON object, or each item of its JSON
    list (what ``flask gravicors export`` prints for several APIs); a FILE that
    cannot be read gives its ConfigError instead."""
    for file in files:
        shown = printable(file)
        try:
            data = read_config(file)
        except ConfigError as err:
            yield shown, err
            continue
        if isinstance(data, list):
            yield from ((f"{shown}[{i}]", item) for i, item in enumerate(data))
        else:
            yield shown, data


@gravicors.command("import", with_appcontext=False)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--keys", "keys", multiple=True, metavar="PLAN=K1,K2", help="API keys of an api-key plan (repeatable).")
def import_definitions(files: tuple[str, ...], keys: tuple[str, ...]) -> None:
    """Translate Gravitee API definitions (v2, v4, or v4 exports) into a config.

    Prints ``{"apis": [...]}`` on stdout, one API per FILE (or per item of a FILE
    holding a JSON list, as ``export`` prints for several APIs), ready for
    ``GRAVICORS``; problems go to stderr (exit status 1). Gravitee keeps API keys
    in subscriptions, not in definitions: give them with --keys PLAN=K1,K2; an
    api-key plan without keys refuses every key, and this command says so on
    stderr. Needs no app; with one (--app), its plugins are the ones used.
    """
    given = _parse_keys(keys)
    plugins = plugins_of(optional_app())
    apis: list[dict[str, Any]] = []
    used: set[str] = set()
    failed = False
    for where, data in _definitions(files):
        try:
            if isinstance(data, ConfigError):
                raise data
            api = load_definition(data, given, gravicors=plugins, strict_keys=False)
        except ConfigError as err:
            click.echo(f"{where}:", err=True)
            echo_problems(err)
            failed = True
            continue
        for plan in api.get("plans", ()):
            if plan["security"] != "api-key":
                continue
            if plan["name"] in given:
                used.add(plan["name"])
            else:
                click.echo(
                    f"{where}: api-key plan {printable(plan['name'])!r} has no keys: it refuses every key "
                    f"(give them with --keys '{printable(plan['name'])}=K1,K2')",
                    err=True,
                )
        apis.append(api)
    for plan in sorted(set(given) - used):
        click.echo(f"--keys {plan}: no api-key plan of that name in {', '.join(files)}", err=True)
        failed = True
    if not failed:
        try:
            # Names and context paths must not clash across the files.
            plugins.load({"apis": apis})
        except ConfigError as err:
            echo_problems(err)
            failed = True
    if failed:
        sys.exit(EXIT_INVALID)
    click.echo(json.dumps({"apis": apis}, indent=2))


@gravicors.command("export", with_appcontext=False)
@click.option("--api", "names", multiple=True, metavar="NAME", help="Export this API only (repeatable).")
def export_definitions(names: tuple[str, ...]) -> None:
    """Print the running config's APIs as Gravitee v4 exports.

    One --api NAME prints that API's export object; otherwise a JSON list of them,
    one per API bound to a context path (blueprint-bound APIs have none for Gravitee
    to listen on and are left out, said on stderr). Exit status 2 for an unknown
    NAME. Exports hold no API keys (Gravitee keeps them in subscriptions).
    """
    app = load_app()
    ext = extension_of(app)
    config = read_config(ext.running_config(app)) or {}
    apis = {api.get("name"): api for api in config.get("apis", ())}
    missing = [name for name in names if name not in apis]
    if missing:
        click.echo(f"no API named {', '.join(map(repr, missing))}; the app has {', '.join(map(repr, apis))}", err=True)
        sys.exit(EXIT_CONFLICT)
    chosen = [apis[name] for name in names] if names else list(apis.values())
    exports = []
    for api in chosen:
        if api.get("blueprint") is not None and not names:
            click.echo(f"API {api['name']!r} is bound to a blueprint: left out", err=True)
            continue
        try:
            exports.append(dump_definition(api, gravicors=ext))
        except ConfigError as err:
            echo_problems(err)
            sys.exit(EXIT_INVALID)
    click.echo(json.dumps(exports[0] if len(names) == 1 else exports, indent=2))
