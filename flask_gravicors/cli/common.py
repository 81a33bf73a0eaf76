"""Helpers shared by the ``flask gravicors`` commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
from flask import Flask, current_app, has_app_context
from flask.cli import NoAppException, ScriptInfo

from ..errors import ConfigError

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
    try:
        return info.load_app()
    except NoAppException:
        return None


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


def default_policies() -> Any:
    """The installed policies (entry-point group ``flask_gravicors``), for commands run without an app."""
    return default_extension().policies
