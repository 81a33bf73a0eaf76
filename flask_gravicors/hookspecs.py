"""The plugin author's contract: the hooks flask_gravicors calls.

A plugin is any module or object with functions decorated by
:data:`flask_gravicors.hookimpl` whose names match the hooks below. It is found
through the setuptools entry-point group ``flask_gravicors`` or passed as
``GraviCORS(app, plugins=[...])``. Hook implementations are checked against these
specs when the plugin is loaded (``init_app``), never at the first request.

Why requests do not run through pluggy hooks: pluggy calls every implementation of
a hook in registration order, while an API's policy chain is ordered by its config
and each policy carries its own config. So pluggy finds and registers policies, and
each API runs its own ordered tuple of :class:`~flask_gravicors.policy.Policy`
objects (whose methods are documented there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import pluggy

if TYPE_CHECKING:
    from .policy import Policy

PROJECT_NAME = "flask_gravicors"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def gravicors_register_policies() -> Sequence[type[Policy]] | None:
    """Return the policy classes this plugin provides.

    Called once per :class:`~flask_gravicors.GraviCORS` instance, when its plugins
    are loaded at the first ``init_app``, before any config is validated. Each
    class is a :class:`~flask_gravicors.policy.Policy` subclass with a unique
    ``name`` and a marshmallow ``config_schema``. Returning ``None`` (or an empty
    sequence) contributes no policy. Two plugins giving the same name is a
    ``ConfigError``.
    """


@hookspec
def gravicors_config_loaded(apis: Sequence[Any]) -> None:
    """Called after a config was validated and compiled, before it takes effect.

    ``apis`` are the compiled APIs (``name``, ``context_path``, ``blueprint``,
    ``entrypoints``, ``cors``, ``policies``), at ``init_app`` and at every
    successful ``reconfigure``. For observers (metrics, audit logs); the return
    value is ignored, so ``None`` is the only meaningful answer. An exception here
    aborts the (re)configuration and the previous config stays.
    """
