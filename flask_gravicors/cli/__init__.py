"""The ``flask gravicors`` command group.

Registered through Flask's ``flask.commands`` entry point (``setup.cfg``), so it
exists in every app's ``flask`` command, and without ``--app`` for the commands
that need no app. Commands that need the app load it as Flask's CLI does
(``--app`` / ``FLASK_APP``) and find the app's :class:`~flask_gravicors.GraviCORS`
in ``app.extensions["gravicors"]``.

Conventions, shared by every command (one module per area of commands):

* stdout carries the command's result only (JSON, a version number, a table);
  logs, warnings and problems go to stderr;
* exit status 0 ok, 1 invalid config (``explain``: the browser blocks the
  request), 2 conflict or not found, 3 (``status``) not every live worker runs
  the newest version, 4 the store is unreachable.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..store.app import CLI_MARK

#: Exit statuses shared by every command.
EXIT_OK = 0
EXIT_INVALID = 1
#: ``explain``: the browser does not let the script read the response.
EXIT_BLOCKED = 1
EXIT_CONFLICT = 2
EXIT_NOT_LIVE = 3
EXIT_UNAVAILABLE = 4


@click.pass_context
def _mark_cli(ctx: click.Context) -> None:
    # Runs before a subcommand loads the app: an app that init_app's in this
    # process sees the mark and starts no watcher (a command serves nothing and
    # never registers as a worker).
    ctx.meta[CLI_MARK] = True


gravicors = AppGroup(
    "gravicors",
    callback=_mark_cli,
    help=(
        "flask_gravicors: check, save and inspect configs; explain why a browser blocks a request; import and "
        "export Gravitee definitions; start a policy plugin."
    ),
)

# Each module adds its commands to the group (imported for that effect).
from . import config as _config  # noqa: E402,F401
from . import explain as _explain  # noqa: E402,F401
from . import gravitee as _gravitee  # noqa: E402,F401
from . import routes as _routes  # noqa: E402,F401
from . import scaffold as _scaffold  # noqa: E402,F401
from . import store as _store  # noqa: E402,F401
from . import users as _users  # noqa: E402,F401

__all__ = ["gravicors", "EXIT_OK", "EXIT_INVALID", "EXIT_BLOCKED", "EXIT_CONFLICT", "EXIT_NOT_LIVE", "EXIT_UNAVAILABLE"]
