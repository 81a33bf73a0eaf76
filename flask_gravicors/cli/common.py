"""Helpers shared by the ``flask gravicors`` commands."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

import click
from flask import Flask, current_app, has_app_context
from flask.cli import NoAppException, ScriptInfo

from ..errors import ConfigError
from ..store import StoreError, VersionConflict, VersionNotFound
from . import EXIT_CONFLICT, EXIT_INVALID, EXIT_UNAVAILABLE

if TYPE_CHECKING:
    from ..extension import GraviCORS


def optional_app() -> Flask | None:
    """The app ``--app`` / ``FLASK_APP`` names, or ``None`` when there is none.

    For commands that work without an app (``with_appcontext=False``) but use
    the app's plugins when one is given.
    """
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]
    info = click.get_current_context().ensure_object(ScriptInfo)
    # The app is loaded here, not by Flask before the command: an app whose own
    # config or store fails at init_app is exactly what these commands diagnose,
    # so that is an exit status and its problems, never a traceback.
    try:
        return info.load_app()
    except NoAppException:
        return None
    except ConfigError as err:
        click.echo("error: the app did not start: its config is invalid", err=True)
        echo_problems(err)
        sys.exit(EXIT_INVALID)
    except StoreError as err:
        click.echo(f"error: the app did not start: {err}", err=True)
        sys.exit(EXIT_UNAVAILABLE)


def extension_of(app: Flask) -> GraviCORS:
    """The app's GraviCORS, or a usage error naming what is missing."""
    ext = app.extensions.get("gravicors")
    if ext is None:
        raise click.UsageError(f"the app {app.name!r} does not use flask_gravicors (no GraviCORS(app) / init_app)")
    return ext  # type: ignore[no-any-return]


def echo_problems(err: ConfigError) -> None:
    """Every problem of ``err`` on stderr, one per line: path, rule id, message and hint."""
    for item in err.problems:
        click.echo(str(item), err=True)


def default_extension() -> GraviCORS:
    """A GraviCORS holding the installed plugins (entry-point group
    ``flask_gravicors``), for commands run without an app."""
    from ..extension import GraviCORS

    return GraviCORS()


def plugins_of(app: Flask | None) -> GraviCORS:
    """The app's GraviCORS when it has one, else :func:`default_extension`: whose
    plugins (policies, security types) a config is checked against."""
    if app is not None and "gravicors" in app.extensions:
        return extension_of(app)
    return default_extension()


def load_app() -> Flask:
    """The app ``--app`` / ``FLASK_APP`` names (loaded here, inside the caller's
    error handling, rather than by ``with_appcontext`` before it)."""
    app = optional_app()
    if app is None:
        raise click.UsageError("no app: give --app (or set FLASK_APP)")
    return app


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """A plain table on stdout, as ``flask routes`` prints one: a header, a rule,
    one line per row, columns as wide as their widest cell (cells must be
    printable: see :func:`~flask_gravicors.store.diff.printable`)."""
    lines = [list(header), *(list(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    lines.insert(1, ["-" * w for w in widths])
    for line in lines:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


@contextmanager
def outcomes() -> Iterator[None]:
    """The exit statuses: 1 invalid config (its problems on stderr), 2 conflict or
    not found, 4 store unreachable; a bad option value is a usage error."""
    try:
        yield
    except ConfigError as err:
        echo_problems(err)
        sys.exit(EXIT_INVALID)
    except (VersionConflict, VersionNotFound) as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(EXIT_CONFLICT)
    except StoreError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(EXIT_UNAVAILABLE)
    except ValueError as err:  # author, comment
        raise click.UsageError(str(err)) from None
