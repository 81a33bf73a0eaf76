"""``flask gravicors routes``: every URL rule with the API that owns it."""

from __future__ import annotations

from typing import Iterator

import click
from werkzeug.routing import Rule

from ..core import CompiledApi, Runtime
from ..store.diff import printable
from . import gravicors
from .common import extension_of, load_app, table


def owners(runtime: Runtime, rule: Rule) -> tuple[CompiledApi | None, list[CompiledApi]]:
    """The API that owns ``rule``'s URLs, and the other APIs that own some of them.

    By blueprint first (the endpoint's blueprint, then its parents), as a
    request is resolved; else by path: the API of the rule's fixed start, and
    every API whose context path that start can be followed by (``/<path:p>``
    reaches ``/orders``'s URLs too).
    """
    blueprint = str(rule.endpoint).rpartition(".")[0]
    while blueprint:
        api = runtime.by_blueprint.get(blueprint)
        if api is not None:
            return api, []
        blueprint = blueprint.rpartition(".")[0]
    static, variable, _ = rule.rule.partition("<")
    static = static.encode("utf-8").decode("latin-1")  # as PATH_INFO holds it (PEP 3333)
    main = runtime.resolve_path(static)
    others: list[CompiledApi] = []
    if variable:
        others = [api for path, api in runtime.by_path.items() if path.startswith(static) and api is not main]
    return main, others


def _rows(runtime: Runtime, rules: list[Rule]) -> Iterator[tuple[str, ...]]:
    for rule in rules:
        main, others = owners(runtime, rule)
        name = "-" if main is None else main.name
        if others:
            name += f" (some URLs: {', '.join(api.name for api in others)})"
        methods = ", ".join(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        if main is None:
            cors = policies = run = "-"
        else:
            cors = "on" if main.cors.active else "off"
            policies = ", ".join(getattr(p, "name", type(p).__name__) for p in main.policies) or "-"
            run = "on" if main.cors.run_policies else "off"
        yield (printable(rule.endpoint), methods, printable(rule.rule), printable(name), cors, printable(policies), run)


@gravicors.command("routes", with_appcontext=False)
def routes() -> None:
    """Every URL rule: the API that owns it (or -), its CORS on or off, its
    policies, and run_policies (policies on preflights) on or off. An API bound to
    a blueprint that has no rule in the app (misspelt, or registered under another
    name) is named on stderr: it covers nothing."""
    app = load_app()
    runtime = extension_of(app).runtime_for(app)
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, str(r.endpoint)))
    if not rules:
        click.echo("no routes", err=True)
        return
    table(("ENDPOINT", "METHODS", "RULE", "API", "CORS", "POLICIES", "RUN POLICIES"), _rows(runtime, rules))
    for api in unbound(runtime, rules):
        click.echo(
            f"API {printable(api.name)!r} is bound to blueprint {printable(str(api.blueprint))!r}, which has no URL "
            "rule in this app: it covers nothing (its name as registered, e.g. register_blueprint(bp, name=...)?)",
            err=True,
        )


def unbound(runtime: Runtime, rules: list[Rule]) -> list[CompiledApi]:
    """Blueprint-bound APIs whose blueprint (nor any blueprint nested in it) has a
    rule: misspelt, not registered, or registered under another name. Said here, not
    at init_app: an app may register its blueprints after init_app."""
    names: set[str] = set()
    for rule in rules:
        blueprint = str(rule.endpoint).rpartition(".")[0]
        while blueprint:
            names.add(blueprint)
            blueprint = blueprint.rpartition(".")[0]
    return [api for name, api in sorted(runtime.by_blueprint.items()) if name not in names]
