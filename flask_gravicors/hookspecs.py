"""The plugin author's contract: the hooks flask_gravicors calls.

A plugin is any module or object with functions decorated by
:data:`flask_gravicors.hookimpl` whose names match the hooks below. It is found
through the setuptools entry-point group ``flask_gravicors`` or passed as
``GraviCORS(app, plugins=[...])``. Hook implementations are checked against these
specs when the plugin is loaded (``init_app``), never at the first request.

Why requests do not run through pluggy hooks: pluggy calls every implementation of
a hook in registration order, while an API's flows are ordered by its config and
each step carries its own config. So pluggy finds and registers policies and
security types, and each API runs its own compiled flows of
:class:`~flask_gravicors.policy.Policy` objects and plans of
:class:`~flask_gravicors.security.SecurityType` objects (whose methods are
documented there). The one per-request hook, :func:`gravicors_origin_allowed`,
is asked only on a cache miss.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import pluggy

if TYPE_CHECKING:
    from .policy import Policy
    from .security import SecurityType

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
def gravicors_register_security_types() -> Sequence[type[SecurityType]] | None:
    """Return the plan security types this plugin provides.

    Called once per :class:`~flask_gravicors.GraviCORS` instance, when its plugins
    are loaded at the first ``init_app``, before any config is validated (built-in
    ``keyless`` is registered through this hook too). Each class is a
    :class:`~flask_gravicors.security.SecurityType` subclass with a unique ``name``
    (what a plan's ``security`` says, e.g. ``"api-key"``), a marshmallow
    ``config_schema`` for the plan's ``configuration`` and an ``order`` in the
    security chain. Its ``can_handle`` and ``authenticate`` run on actual requests
    only, never on a preflight. Returning ``None`` (or an empty sequence)
    contributes no type. Two plugins giving the same name is a ``ConfigError``.
    """


@hookspec(firstresult=True)
def gravicors_origin_allowed(api_name: str, origin: str) -> bool | None:
    """Decide at run time whether ``origin`` may call the API named ``api_name``.

    Called only for APIs whose cors block has ``"dynamic_origins": true``, only for
    an origin their static ``allow_origin`` does not allow (never for ``null`` or a
    value no browser sends), and only when no decision for this (API, origin) is
    cached: decisions, allowed or not, are kept for the app config key
    ``GRAVICORS_DYNAMIC_ORIGINS_TTL`` seconds (default 60) in bounded memory, so a
    request from a known origin costs what a static decision does. Called in the
    request that needs the decision (actual or preflight), so keep it fast, e.g. a
    lookup in a table of tenants.

    Return ``True`` to allow, ``False`` to refuse; the first implementation that
    returns a non-``None`` value wins (``firstresult``). ``None`` means "no
    opinion": the next implementation is asked, and when all say ``None`` the
    origin is not allowed. An exception counts as not allowed and is logged once
    per (API, origin) until the decision expires.
    """


@hookspec
def gravicors_config_loaded(apis: Sequence[Any]) -> None:
    """Called after a config was validated and compiled, before it takes effect.

    ``apis`` are the compiled APIs (``name``, ``context_path``, ``blueprint``,
    ``entrypoints``, ``cors``, ``plans``, ``flows``, ``policies``: every step's
    policy object of the API's own flows), at ``init_app`` and at every
    successful ``reconfigure`` (not when a config is only checked). For observers (metrics, audit logs); the return
    value is ignored, so ``None`` is the only meaningful answer. An exception here
    aborts the (re)configuration: it becomes a ``ConfigError``
    (``gravicors.E015`` at ``plugins``) and the previous config stays. With a
    config store the version is already saved when a worker applies it, so a
    worker whose hook raises refuses that version (logged once, shown by
    ``flask gravicors status``) and keeps running the one before.
    """
