"""The store's commands: ``apply``, ``show``, ``history``, ``diff``, ``rollback``, ``status``.

Each loads the app (``--app``), whose ``GRAVICORS_STORE`` names the store, and
calls the app's :class:`~flask_gravicors.store.app.AppStore`: the same code the
console and the Python API use.
"""

from __future__ import annotations

import getpass
import json
import os
import sys

import click

from ..schema import read_config
from ..store import MAX_VERSION, VersionNotFound, time_text
from ..store.app import AppStore
from ..store.diff import printable
from . import EXIT_NOT_LIVE, gravicors
from .common import extension_of, load_app, outcomes, table


def default_author() -> str:
    """``$GRAVICORS_AUTHOR``, else the login name, else ``cli``."""
    try:
        return os.environ.get("GRAVICORS_AUTHOR") or getpass.getuser() or "cli"
    except (KeyError, OSError):  # no name for this uid
        return "cli"


def app_store() -> AppStore:
    """The store of the app ``--app`` names, or a usage error."""
    app = load_app()
    store = extension_of(app).store_for(app)
    if store is None:
        raise click.UsageError(f"the app {app.name!r} has no config store: set GRAVICORS_STORE (a SQLAlchemy URL)")
    return store


#: A version number: outside 1..MAX_VERSION, a usage error (exit 2, as "not found").
VERSION = click.IntRange(1, MAX_VERSION)

_author = click.option("--author", help="who makes the change (default: $GRAVICORS_AUTHOR, else your login name)")
_expect = click.option(
    "--expect-version",
    type=click.IntRange(0, MAX_VERSION),
    help="the version the change was based on: when the newest is another, nothing is saved (exit 2)",
)


@gravicors.command("apply", with_appcontext=False)
@click.argument("file", type=click.Path(dir_okay=False))
@_author
@click.option("--comment", default="", help="why (kept with the version)")
@_expect
def apply(file: str, author: str | None, comment: str, expect_version: int | None) -> None:
    """Validate FILE (a JSON config) and save it as the newest version.

    Prints the new version's number. Every worker applies it within a second
    (see `flask gravicors status`).
    """
    with outcomes():
        store = app_store()
        version = store.save(
            read_config(file), author=author or default_author(), expected_version=expect_version, comment=comment, source="cli"
        )
    click.echo(version.number)
    click.echo(f"saved version {version.number}", err=True)


@gravicors.command("show", with_appcontext=False)
@click.option("--version", "number", type=VERSION, help="a saved version (default: the newest)")
def show(number: int | None) -> None:
    """Print a config as JSON: the newest version, or --version N (without a
    store: the config the app runs)."""
    with outcomes():
        app = load_app()
        ext = extension_of(app)
        store = ext.store_for(app)
        if store is None:
            if number is not None:
                raise click.UsageError(f"the app {app.name!r} has no config store: --version needs GRAVICORS_STORE")
            config = ext.running_config(app)
        else:
            version = store.get(number) if number is not None else store.current()
            if version is None:
                raise VersionNotFound(0)
            config = version.config
    click.echo(json.dumps(config, indent=2, ensure_ascii=False))


@gravicors.command("history", with_appcontext=False)
@click.option("--limit", type=click.IntRange(min=1), help="the newest N versions only")
def history(limit: int | None) -> None:
    """A line per version, newest first: number, time (UTC), author, source, the
    APIs it changed, comment."""
    with outcomes():
        versions = app_store().history(limit)
    table(
        ("VERSION", "TIME", "AUTHOR", "SOURCE", "CHANGED", "COMMENT"),
        (
            (
                str(v.number),
                v.time_text,
                printable(v.author),
                v.source,
                printable(", ".join(v.changed)) or "-",
                printable(v.comment),
            )
            for v in versions
        ),
    )


@gravicors.command("diff", with_appcontext=False)
@click.argument("old", type=VERSION)
@click.argument("new", type=VERSION)
def diff(old: int, new: int) -> None:
    """What changed from version OLD to version NEW: a line per API and field."""
    with outcomes():
        changes = app_store().diff(old, new)
    for change in changes:
        click.echo(str(change))
    if not changes:
        click.echo(f"versions {old} and {new} hold the same config", err=True)


@gravicors.command("rollback", with_appcontext=False)
@click.argument("number", type=VERSION)
@_author
@click.option("--comment", default=None, help="why (default: 'rollback to version N')")
@_expect
def rollback(number: int, author: str | None, comment: str | None, expect_version: int | None) -> None:
    """Save version NUMBER's config again as the newest version; print its number."""
    with outcomes():
        version = app_store().rollback(
            number, author=author or default_author(), comment=comment, expected_version=expect_version, source="cli"
        )
    click.echo(version.number)
    click.echo(f"saved version {version.number}: the config of version {number}", err=True)


@gravicors.command("status", with_appcontext=False)
def status() -> None:
    """Every live worker (seen in the last 10 s): host, pid, the version it runs.

    Exit status 0 when every live worker runs the newest version, 3 otherwise
    (none live included).
    """
    with outcomes():
        store = app_store()
        latest = store.sql.latest_number()
        live = store.workers()
    table(
        ("HOST", "PID", "VERSION", "APPLIED", "NOTE"),
        (
            (
                printable(w.host),
                str(w.pid),
                "-" if w.version is None else str(w.version),
                time_text(w.applied_at),
                "" if w.refused_version is None else f"refused version {w.refused_version}: {printable(w.refused_error or '')}",
            )
            for w in live
        ),
    )
    running = sum(1 for w in live if latest is not None and w.version == latest)
    click.echo(f"newest version {latest}: {running} of {len(live)} live workers run it", err=True)
    if not live or running < len(live):
        sys.exit(EXIT_NOT_LIVE)
