"""The config store: every version of an app's config, in SQL, shared by a fleet.

``app.config["GRAVICORS_STORE"]`` is a SQLAlchemy URL (``sqlite:///...`` on one
host, ``postgresql+psycopg://...`` for several). With it, ``init_app`` runs the
store's newest version (seeding an empty store from ``GRAVICORS`` first), and a
watcher thread in every serving process applies each newer version as it is
saved (:mod:`.watcher`). ``GraviCORS.store`` is the app's
:class:`~flask_gravicors.store.app.AppStore`: ``current()``, ``get(n)``,
``history()``, ``save(...)``, ``rollback(n, ...)``, ``workers()``, ``diff(a, b)``.

This module imports neither Flask nor SQLAlchemy: the core works without the
``store`` extra, which only :func:`open_store` (called when the setting is there)
needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from .sql import SqlStore

#: Where a version came from (the ``source`` column).
SOURCES = ("cli", "console", "api", "import", "init")

#: Longest author name and comment a version keeps (longer ones are refused).
MAX_AUTHOR = 200
MAX_COMMENT = 2000

#: The console's roles (:mod:`.accounts`), each allowed what the one before is and
#: more: a viewer reads everything; an editor also saves and rolls back; an admin
#: also manages users.
ROLES = ("viewer", "editor", "admin")

#: The highest version number: SQL's INTEGER, the number column's type (32 bits on
#: PostgreSQL, which refuses a larger parameter for it: "integer out of range").
#: A number outside 1..MAX_VERSION names no version wherever one is asked for
#: (store API, console URLs and forms, CLI options), rather than failing in the
#: database or its driver (SQLite's: OverflowError beyond 2**63 - 1).
MAX_VERSION = 2**31 - 1

#: A worker whose last heartbeat is older than this many seconds is not live.
LIVE_SECONDS = 10.0


class StoreError(RuntimeError):
    """The store cannot do what was asked: unreachable, missing extra, schema too new..."""


class SchemaError(StoreError):
    """The store's tables were made by a newer flask_gravicors (a schema step this
    one does not know): a deployment error, refused at start."""


class VersionConflict(StoreError):
    """A save expected ``expected`` to be the newest version, and it no longer is.

    Nothing was written. ``latest`` is the newest version now (``None`` when the
    store is empty): what someone else saved meanwhile.
    """

    def __init__(self, expected: int, latest: Version | None):
        self.expected = expected
        self.latest = latest
        if latest is None:
            found = "the store is empty"
        else:
            found = f"the latest is version {latest.number} (by {latest.author}, {latest.time_text}, source {latest.source})"
        super().__init__(f"conflict: the change was based on version {expected}, but {found}; nothing was saved")


class VersionNotFound(StoreError, LookupError):
    """No version ``number`` in the store."""

    def __init__(self, number: int):
        self.number = number
        super().__init__(f"version {number} not found")


def time_text(epoch: float | None) -> str:
    """A stored time (seconds since the epoch, database clock) as UTC ISO 8601."""
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Version:
    """One saved config. ``config`` is the JSON object as saved (as the user wrote
    it, before validation). ``changed`` names the APIs that differ from the
    version before (every API of version 1)."""

    number: int
    config: dict[str, Any]
    author: str
    created_at: float
    comment: str
    source: str
    changed: tuple[str, ...] = field(default=(), compare=False)

    @property
    def time_text(self) -> str:
        return time_text(self.created_at)


@dataclass(frozen=True)
class Worker:
    """One serving process as it last reported itself (times: database clock)."""

    host: str
    pid: int
    started_at: float
    seen_at: float
    #: The version it runs (``None``: the app's own config, no version applied yet).
    version: int | None
    applied_at: float | None
    #: A version it refused (invalid config written around the checks), and why.
    refused_version: int | None
    refused_error: str | None


def open_store(url: str, validate: Callable[[Any], Any], **options: Any) -> SqlStore:
    """A :class:`~flask_gravicors.store.sql.SqlStore` for ``url``, or a clear
    :class:`StoreError` when the ``store`` extra is not installed."""
    try:
        from .sql import SqlStore
    except ImportError as err:  # sqlalchemy (or its driver) missing
        raise StoreError(
            f"GRAVICORS_STORE is set but the store's dependencies are missing ({err}): pip install 'flask-gravicors[store]'"
        ) from None
    return SqlStore(url, validate, **options)


__all__ = [
    "SOURCES",
    "ROLES",
    "LIVE_SECONDS",
    "MAX_VERSION",
    "StoreError",
    "SchemaError",
    "VersionConflict",
    "VersionNotFound",
    "Version",
    "Worker",
    "open_store",
    "time_text",
]
