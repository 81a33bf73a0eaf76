"""``flask gravicors check``: validate a config the way ``init_app`` does."""

from __future__ import annotations

import sys

import click

from ..errors import ConfigError
from . import EXIT_INVALID, gravicors
from .common import echo_problems, extension_of, optional_app, outcomes, plugins_of


@gravicors.command("check", with_appcontext=False)
@click.argument("file", required=False, type=click.Path(dir_okay=False))
def check(file: str | None) -> None:
    """Validate FILE (a JSON config), or the running app's config.

    Every problem goes to stderr with its path, rule id and hint; exit status 1
    when there is any. With an app (--app), its plugins' policies and security
    types are the ones checked against; without, the installed ones. Without FILE,
    an app with a config store has its store's newest version checked.
    """
    app = optional_app()
    what = "config"
    if file is None:
        if app is None:
            raise click.UsageError("give FILE, or an app (--app) whose config to check")
        ext = extension_of(app)
        raw = ext.running_config(app)
        store = ext.store_for(app)
        if store is not None:
            with outcomes():
                newest = store.current()
            if newest is not None:
                raw, what = newest.config, f"version {newest.number}"
    else:
        raw = file
        # With the app: exactly its init_app's check (its plugins, its console's prefix).
        ext = plugins_of(app)
    try:
        ext.load(raw, app)
    except ConfigError as err:
        echo_problems(err)
        sys.exit(EXIT_INVALID)
    click.echo("ok" if what == "config" else f"{what}: ok", err=True)
