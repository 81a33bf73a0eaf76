"""The store's tables and the numbered steps that create them (the schema's versions).

``gravicors_schema`` records every step applied, one row each. At start-up
:meth:`SqlStore.migrate <flask_gravicors.store.sql.SqlStore.migrate>` applies the
missing steps in order, in one transaction, holding a lock (PostgreSQL: an
advisory lock; SQLite: ``BEGIN IMMEDIATE``), so workers starting together apply
each step once. A database holding a step this code does not know was upgraded
by a newer flask_gravicors, and is refused.

Adding a table is one step: define the :class:`~sqlalchemy.Table` on
:data:`metadata` and append ``Step(<next number>, "<what>", creating(<table>))``
to :data:`STEPS`. Never change or renumber a step that was released: a database
that applied it will not apply it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import Column, Connection, Double, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

#: One row per schema step applied.
schema_steps = Table(
    "gravicors_schema",
    metadata,
    Column("step", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", Double, nullable=False),
)

#: Every saved config. The primary key on ``number`` is what makes two saves of
#: the same next number impossible: the second insert fails, on SQLite and on
#: PostgreSQL alike, and its save becomes a conflict.
versions = Table(
    "gravicors_versions",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("config", Text, nullable=False),
    Column("author", String(200), nullable=False),
    Column("created_at", Double, nullable=False),
    Column("comment", Text, nullable=False),
    Column("source", String(16), nullable=False),
)

#: One row per serving process, refreshed by its watcher (its heartbeat).
workers = Table(
    "gravicors_workers",
    metadata,
    Column("host", String(255), primary_key=True),
    Column("pid", Integer, primary_key=True, autoincrement=False),
    Column("started_at", Double, nullable=False),
    Column("seen_at", Double, nullable=False),
    Column("version", Integer),
    Column("applied_at", Double),
    Column("refused_version", Integer),
    Column("refused_error", Text),
)


#: The console's users (:mod:`flask_gravicors.store.accounts`): a scrypt hash of
#: each password, never the password.
users = Table(
    "gravicors_users",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("updated_at", Double, nullable=False),
)

#: The console's server-side sessions. ``id`` is the SHA-256 of the token the
#: session cookie carries: someone who reads this table gets no usable cookie.
#: Logging out deletes the row, so a cookie saved before no longer works.
sessions = Table(
    "gravicors_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_name", String(200), nullable=False),
    Column("data", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("expires_at", Double, nullable=False),
    Index("gravicors_sessions_user", "user_name"),
)


@dataclass(frozen=True)
class Step:
    """One schema step: ``upgrade`` runs inside the migration's transaction."""

    number: int
    name: str
    upgrade: Callable[[Connection], None]


def creating(*tables: Table) -> Callable[[Connection], None]:
    """An upgrade that creates ``tables`` (in order)."""

    def upgrade(conn: Connection) -> None:
        for table in tables:
            table.create(conn)

    return upgrade


#: Every step, in order; numbers 1, 2, 3... without gaps.
STEPS: list[Step] = [
    Step(1, "versions and workers", creating(versions, workers)),
    Step(2, "console users and sessions", creating(users, sessions)),
]
