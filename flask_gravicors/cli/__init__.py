"""The ``flask gravicors`` command group.

Registered through Flask's ``flask.commands`` entry point (``setup.cfg``), so it
exists in every app's ``flask`` command, and without ``--app`` for the commands
that need no app. Commands that need the app load it as Flask's CLI does
(``--app`` / ``FLASK_APP``) and find the app's :class:`~flask_gravicors.GraviCORS`
in ``app.extensions["gravicors"]``.

Conventions, shared by every command (one module per area of commands):

* stdout carries the command's result only (JSON, a version number, a table);
  logs, warnings and problems go to stderr;
* exit status 0 ok, 1 invalid config, 2 conflict or not found.
"""

from __future__ import annotations

from flask.cli import AppGroup

#: Exit statuses shared by every command.
EXIT_OK = 0
EXIT_INVALID = 1
EXIT_CONFLICT = 2

gravicors = AppGroup("gravicors", help="flask_gravicors: check and inspect configs; import and export Gravitee definitions.")

# Each module adds its commands to the group (imported for that effect).
from . import config as _config  # noqa: E402,F401
from . import gravitee as _gravitee  # noqa: E402,F401

__all__ = ["gravicors", "EXIT_OK", "EXIT_INVALID", "EXIT_CONFLICT"]
