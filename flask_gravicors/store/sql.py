"""The store in SQL (SQLAlchemy 2 Core): versions, the worker registry, schema steps.

One :class:`SqlStore` per app and process; no Flask here. Every write is one
transaction (``engine.begin()``); on SQLite it starts with ``BEGIN IMMEDIATE``, so
writers queue for the database's single write lock instead of failing half-way,
and the file runs in WAL mode, so the watchers' reads never wait for a writer.
On PostgreSQL a save also sends ``NOTIFY gravicors_versions``: watchers that
``LISTEN`` apply it at once instead of at their next poll.

Times are the database's clock (seconds since the epoch), so workers on several
hosts are compared on one clock.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping, Sequence

from sqlalchemy import (
    ColumnElement,
    Connection,
    Double,
    Engine,
    Row,
    create_engine,
    delete,
    event,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..checks import check_limits
from ..errors import ConfigError, problem
from ..schema import read_config
from . import (
    LIVE_SECONDS,
    MAX_AUTHOR,
    MAX_COMMENT,
    MAX_VERSION,
    SOURCES,
    SchemaError,
    StoreError,
    Version,
    VersionConflict,
    VersionNotFound,
    Worker,
)
from .diff import changed_apis
from .tables import STEPS, schema_steps, versions, workers

#: The PostgreSQL channel a save notifies (payload: the new version number).
CHANNEL = "gravicors_versions"
#: pg_advisory_xact_lock key held while schema steps run ("grav" in ASCII).
MIGRATION_LOCK = 0x67726176
#: Saves without an expected version retry this many times when another save
#: took the same number first; each retry reads the newest number again.
SAVE_ATTEMPTS = 5
#: Rows of workers not seen for this long are deleted when a worker registers.
FORGET_WORKERS_AFTER = 86400.0

#: Seconds a new SQLite connection keeps trying to switch the file to WAL.
SQLITE_WAL_WAIT = 10.0

_NOW_SQL = {
    # julianday('now') has millisecond precision; 2440587.5 is the Unix epoch's.
    "sqlite": "(julianday('now') - 2440587.5) * 86400.0",
    # clock_timestamp(), not now(): the time of the statement, not of the transaction.
    "postgresql": "extract(epoch from clock_timestamp())::float8",
}


def canonical(config: Any) -> dict[str, Any]:
    """``config`` (a dict, or the path of a JSON file) as the JSON object the store
    keeps: what is validated is exactly what is written and read back."""
    raw = read_config(config)
    if raw is None:
        raw = {}
    # The size bounds before json.dumps reads it: nesting too deep for its
    # recursion is gravicors.E006, as load_config says, not a RecursionError.
    oversized = check_limits(raw)
    if oversized:
        raise ConfigError(oversized)
    try:
        data = json.loads(json.dumps(raw, ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError) as err:
        raise ConfigError(problem("gravicors.E004", f"not JSON: {err}")) from None
    if not isinstance(data, dict):
        raise ConfigError(problem("gravicors.E004", f"expected an object, got {type(data).__name__}"))
    return data


def _dump(config: Mapping[str, Any]) -> str:
    return json.dumps(config, ensure_ascii=False, separators=(",", ":"))


def _check_text(name: str, value: str, limit: int, *, single_line: bool) -> None:
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(f"{name} must be a string of at most {limit} characters")
    if single_line and any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"{name} must not hold control characters (CR, LF, ...)")


class PgListener:
    """A connection that ``LISTEN``s to :data:`CHANNEL` (PostgreSQL only)."""

    def __init__(self, engine: Engine):
        self._conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            self._conn.exec_driver_sql(f"LISTEN {CHANNEL}")
        except BaseException:
            self.close()
            raise

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a notification; True when one came."""
        driver = self._conn.connection.driver_connection
        for _ in driver.notifies(timeout=timeout, stop_after=1):  # type: ignore[union-attr]
            return True
        return False

    def close(self) -> None:
        try:
            self._conn.invalidate()
            self._conn.close()
        except Exception:
            pass


class SqlStore:
    """Versions of one app's config in the database at ``url``.

    ``validate`` is called with each config before it is written and raises
    :class:`~flask_gravicors.errors.ConfigError` when it is invalid (the app's
    ``load_config`` with its policies: the same check ``init_app`` makes).
    Database errors are raised as :class:`~flask_gravicors.store.StoreError`.
    ``timeout`` bounds connecting and each statement (seconds).
    """

    def __init__(self, url: str, validate: Callable[[Any], Any], *, timeout: float = 5.0, connect_timeout: float = 2.0):
        parsed = make_url(url)
        if parsed.drivername == "postgresql":
            # The driver the ``store`` extra installs (SQLAlchemy's default is psycopg2).
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.url = parsed
        self.dialect = parsed.get_backend_name()
        #: The URL with its password hidden: the only form that is ever logged.
        self.url_text = parsed.render_as_string(hide_password=True)
        if self.dialect == "sqlite" and parsed.database in (None, "", ":memory:"):
            raise StoreError("an in-memory SQLite store is private to one connection: give a file, sqlite:////path/to/file.db")
        #: Raises ConfigError for an invalid config (the app's load_config).
        self.validate = validate
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._pid = os.getpid()
        self._engine = self._create_engine()
        #: Engines inherited across a fork: kept, never used nor closed (see engine).
        self._inherited: list[Engine] = []
        #: Tests only: called inside a save's transaction between reading the
        #: newest number and inserting the next one.
        self._before_insert: Callable[[], None] | None = None

    # -- engine -------------------------------------------------------------------

    def _create_engine(self) -> Engine:
        if self.dialect == "sqlite":
            engine = create_engine(self.url, connect_args={"timeout": self._timeout})
            event.listen(engine, "do_connect", self._create_sqlite_file)
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        connect_args: dict[str, Any] = {}
        if self.dialect == "postgresql":
            given = self.url.query
            defaults = {
                "connect_timeout": max(1, round(self._connect_timeout)),
                "application_name": "flask_gravicors",
                # Server side: no statement or lock wait longer than the timeout.
                "options": f"-c statement_timeout={int(self._timeout * 1000)} -c lock_timeout={int(self._timeout * 1000)}",
                # Client side: a dead peer is noticed (unacknowledged data, idle keepalives).
                "tcp_user_timeout": int(self._timeout * 1000),
                "keepalives": 1,
                "keepalives_idle": 5,
                "keepalives_interval": 1,
                "keepalives_count": 3,
            }
            connect_args = {k: v for k, v in defaults.items() if k not in given}
        return create_engine(
            self.url,
            connect_args=connect_args,
            pool_size=3,
            max_overflow=5,
            pool_timeout=self._timeout,
            pool_pre_ping=True,
            pool_recycle=1800,
        )

    @property
    def engine(self) -> Engine:
        """This process's engine. After a fork the child gets a new one: the
        parent's connections must be neither used nor closed there (closing a
        PostgreSQL connection ends the parent's session; SQLite forbids using a
        connection across fork), so they are kept, untouched."""
        if self._pid != os.getpid():
            self._inherited.append(self._engine)
            self._engine = self._create_engine()
            self._pid = os.getpid()
        return self._engine

    def dispose(self) -> None:
        """Close this process's connections."""
        if self._pid == os.getpid():
            self._engine.dispose()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Database errors as :class:`StoreError` (integrity errors pass: saves handle them)."""
        try:
            yield
        except IntegrityError:
            raise
        except SQLAlchemyError as err:
            detail = str(getattr(err, "orig", None) or err).strip().splitlines()
            raise StoreError(f"store {self.url_text}: {detail[0] if detail else type(err).__name__}") from err

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._errors(), self.engine.connect() as conn:
            conn.execution_options(gravicors_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._errors(), self.engine.connect() as conn:
            yield conn

    def _now(self) -> ColumnElement[float]:
        sql = _NOW_SQL.get(self.dialect)
        if sql is None:
            return literal(time.time(), Double)
        return literal_column(sql, Double)

    def _create_sqlite_file(self, *args: Any) -> None:
        """Before each new SQLite connection: create the file when it is missing.
        At connection time, not when the store is opened: a directory that is not
        there yet (a volume mounted later) is an outage the app starts through and
        the watcher retries, as any other."""
        path = self.url.database
        if path and not os.path.exists(path):
            # The config may hold secrets (API keys): only its owner reads the file
            # (SQLite gives the -wal and -shm files the same mode).
            try:
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError as err:
                raise StoreError(f"store {self.url_text}: cannot create the file: {err}") from None

    @property
    def can_listen(self) -> bool:
        return self.dialect == "postgresql"

    def listener(self) -> PgListener:
        with self._errors():
            return PgListener(self.engine)

    # -- schema -------------------------------------------------------------------

    def migrate(self) -> None:
        """Create or upgrade the tables: apply the steps of :data:`~.tables.STEPS`
        this database lacks, once, whichever process gets there first."""
        known = {step.number for step in STEPS}
        with self._write() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            schema_steps.create(conn, checkfirst=True)
            applied = set(conn.scalars(select(schema_steps.c.step)))
            unknown = sorted(applied - known)
            if unknown:
                raise SchemaError(
                    f"store {self.url_text} has schema step(s) {unknown} that this flask_gravicors does not know: "
                    "a newer flask_gravicors upgraded it; upgrade this one too"
                )
            for step in STEPS:
                if step.number not in applied:
                    step.upgrade(conn)
                    conn.execute(insert(schema_steps).values(step=step.number, name=step.name, applied_at=self._now()))

    def schema_steps(self) -> list[int]:
        """The schema steps this database has applied."""
        with self._read() as conn:
            return sorted(conn.scalars(select(schema_steps.c.step)))

    # -- versions -----------------------------------------------------------------

    def _checked(self, config: Any) -> dict[str, Any]:
        raw = canonical(config)
        self.validate(raw)
        return raw

    def latest_number(self) -> int | None:
        with self._read() as conn:
            return conn.scalar(select(func.max(versions.c.number)))

    def _rows(self, conn: Connection, upto: int | None, count: int) -> Sequence[Row[Any]]:
        query = select(versions).order_by(versions.c.number.desc()).limit(count)
        if upto is not None:
            query = query.where(versions.c.number <= upto)
        return conn.execute(query).all()

    @staticmethod
    def _version(row: Row[Any], before: Row[Any] | None) -> Version:
        config = json.loads(row.config)
        previous = json.loads(before.config) if before is not None else {}
        return Version(
            number=row.number,
            config=config,
            author=row.author,
            created_at=row.created_at,
            comment=row.comment,
            source=row.source,
            changed=tuple(changed_apis(previous, config)),
        )

    def _versions(self, rows: Sequence[Row[Any]], count: int) -> list[Version]:
        """Versions of ``rows`` (newest first), each compared with the row after it;
        ``count`` of them (one more row may have been read to compare the last)."""
        return [self._version(row, rows[i + 1] if i + 1 < len(rows) else None) for i, row in enumerate(rows[:count])]

    def get(self, number: int) -> Version:
        """Version ``number``, or :class:`VersionNotFound` (any number outside
        1..MAX_VERSION included)."""
        if not 1 <= number <= MAX_VERSION:
            raise VersionNotFound(number)
        with self._read() as conn:
            rows = self._rows(conn, number, 2)
        if not rows or rows[0].number != number:
            raise VersionNotFound(number)
        return self._versions(rows, 1)[0]

    def before(self, number: int) -> Version | None:
        """The newest version older than ``number`` (gaps left by hand skipped), or ``None``."""
        if number <= 1:
            return None
        with self._read() as conn:
            rows = self._rows(conn, min(number, MAX_VERSION + 1) - 1, 2)
        return self._versions(rows, 1)[0] if rows else None

    def current(self) -> Version | None:
        """The newest version (``None``: the store is empty)."""
        with self._read() as conn:
            rows = self._rows(conn, None, 2)
        return self._versions(rows, 1)[0] if rows else None

    def history(self, limit: int | None = None) -> list[Version]:
        """Versions, newest first (``limit`` of them, at least 1, or all)."""
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValueError(f"limit must be a whole number from 1, or None for all; got {limit!r}")
        with self._read() as conn:
            if limit is None or limit > MAX_VERSION:  # no more versions than that
                rows = conn.execute(select(versions).order_by(versions.c.number.desc())).all()
                return self._versions(rows, len(rows))
            return self._versions(self._rows(conn, None, limit + 1), limit)

    def save(
        self,
        config: Any,
        *,
        author: str,
        expected_version: int | None = None,
        comment: str = "",
        source: str = "api",
    ) -> Version:
        """Validate ``config`` and write it as the next version.

        ``expected_version``: the version the change was based on (0: an empty
        store). When the newest version is another, nothing is written and
        :class:`VersionConflict` is raised; of two saves expecting the same version
        exactly one succeeds. ``None`` saves on top of whatever is newest.
        Raises :class:`~flask_gravicors.errors.ConfigError` (nothing written) for an
        invalid config, ``ValueError`` for a bad author, comment or source.
        """
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}")
        _check_text("author", author, MAX_AUTHOR, single_line=True)
        if not author.strip():
            raise ValueError("author must not be empty")
        _check_text("comment", comment, MAX_COMMENT, single_line=False)
        raw = self._checked(config)
        body = _dump(raw)
        for _ in range(SAVE_ATTEMPTS):
            try:
                with self._write() as conn:
                    newest = self._rows(conn, None, 1)
                    latest = newest[0].number if newest else 0
                    if expected_version is not None and latest != expected_version:
                        found = self._versions(self._rows(conn, None, 2), 1)[0] if newest else None
                        raise VersionConflict(expected_version, found)
                    if self._before_insert is not None:
                        self._before_insert()
                    created: float = conn.execute(select(self._now())).scalar_one()
                    number = latest + 1
                    conn.execute(
                        insert(versions).values(
                            number=number, config=body, author=author, created_at=created, comment=comment, source=source
                        )
                    )
                    if self.dialect == "postgresql":
                        conn.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": str(number)})
                previous = json.loads(newest[0].config) if newest else {}
                return Version(number, raw, author, created, comment, source, tuple(changed_apis(previous, raw)))
            except IntegrityError:
                # Another save took this number between our read and our insert.
                if expected_version is not None:
                    raise VersionConflict(expected_version, self.current()) from None
        raise StoreError(f"store {self.url_text}: {SAVE_ATTEMPTS} concurrent saves took the next number first; try again")

    def seed(self, config: Any) -> tuple[Version, bool]:
        """Write ``config`` as version 1 (source ``init``) when the store is empty.

        Returns the newest version and whether this call wrote it. Of several
        processes seeding an empty store at once, exactly one writes; ``config`` is
        validated only when it is written.
        """
        current = self.current()
        if current is not None:
            return current, False
        try:
            return self.save(config, author="init", expected_version=0, source="init"), True
        except VersionConflict as conflict:
            assert conflict.latest is not None
            return conflict.latest, False

    # -- workers ------------------------------------------------------------------

    def heartbeat(
        self,
        host: str,
        pid: int,
        *,
        version: int | None,
        applied_now: bool,
        refused_version: int | None = None,
        refused_error: str | None = None,
    ) -> None:
        """Record that worker (host, pid) is alive and runs ``version``
        (``applied_now``: it has just applied it)."""
        values: dict[str, Any] = {
            "seen_at": self._now(),
            "version": version,
            "refused_version": refused_version,
            "refused_error": None if refused_error is None else refused_error[:500],
        }
        if applied_now:
            values["applied_at"] = self._now()
        with self._write() as conn:
            key = (workers.c.host == host) & (workers.c.pid == pid)
            if conn.execute(update(workers).where(key).values(values)).rowcount == 0:
                conn.execute(delete(workers).where(workers.c.seen_at < self._now() - FORGET_WORKERS_AFTER))
                conn.execute(insert(workers).values(host=host, pid=pid, started_at=self._now(), **values))

    def deregister(self, host: str, pid: int) -> None:
        with self._write() as conn:
            conn.execute(delete(workers).where((workers.c.host == host) & (workers.c.pid == pid)))

    def workers(self, max_age: float = LIVE_SECONDS) -> list[Worker]:
        """Workers seen within the last ``max_age`` seconds, by host and pid."""
        with self._read() as conn:
            rows = conn.execute(
                select(workers).where(workers.c.seen_at > self._now() - max_age).order_by(workers.c.host, workers.c.pid)
            ).all()
        return [Worker(**row._mapping) for row in rows]


def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    # SQLAlchemy's recipe for SQLite transactions: the driver's own implicit BEGIN
    # is off and _sqlite_begin emits it (so DDL is transactional too).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # WAL: readers never wait for the writer (the watchers poll while saves run).
        # It is kept in the file; switching needs the file to itself, and SQLite
        # answers "locked" at once (no busy wait) while another connection uses it,
        # as when several workers open a new store together: try again a while.
        deadline = time.monotonic() + SQLITE_WAL_WAIT
        while cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the write lock at BEGIN, so a transaction that read the newest
    # number inserts before anyone else can: saves queue instead of failing midway.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("gravicors_write") else "BEGIN")


__all__ = ["SqlStore", "PgListener", "canonical", "CHANNEL"]
