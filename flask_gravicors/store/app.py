"""An app's store in one process: :class:`AppStore`, what ``GraviCORS.store`` returns.

It joins the shared versions (:class:`~flask_gravicors.store.sql.SqlStore`) to
this process: which version it runs, the one it refused, and (in a serving
process) the watcher that applies new versions and reports to the worker
registry (:mod:`.watcher`). Applying a version calls the extension's swap, the
same compile-and-swap ``reconfigure`` uses, without saving again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable

import click

from .. import settings
from ..errors import ConfigError, problem
from . import LIVE_SECONDS, SchemaError, StoreError, Version, Worker, open_store
from .diff import Change, diff_configs, printable

if TYPE_CHECKING:
    from flask import Flask

    from ..extension import GraviCORS
    from .accounts import Accounts
    from .sql import SqlStore
    from .watcher import Watcher

log = logging.getLogger("flask_gravicors.store")

#: Set in a click context's ``meta`` by the ``flask gravicors`` group: the process
#: runs a command, serves nothing, and never registers as a worker.
CLI_MARK = "flask_gravicors.cli"

#: Seconds between two polls of the newest version (on PostgreSQL a NOTIFY also
#: wakes the watcher at once): applied everywhere well within 1 s.
POLL_INTERVAL = 0.25
#: Seconds between two heartbeats of a worker (a worker unseen for 10 s is not live).
HEARTBEAT_INTERVAL = 2.0
#: Seconds between two attempts to reach the store while it is down.
RETRY_INTERVAL = 0.5


def command_process() -> bool:
    """Whether this process runs a ``flask gravicors`` command (it serves nothing)."""
    ctx = click.get_current_context(silent=True)
    return ctx is not None and bool(ctx.meta.get(CLI_MARK))


def serving_process(config: Any) -> bool:
    """Whether this process serves requests, so runs a watcher and registers.

    Not under the ``flask gravicors`` commands (whatever the setting); else
    ``GRAVICORS_STORE_WATCH`` when set; else yes, unless a ``flask`` command other
    than ``run`` is running (``flask shell``, ``flask routes``...): gunicorn,
    uwsgi, ``flask run`` and ``app.run()`` serve.
    """
    if command_process():
        return False
    ctx = click.get_current_context(silent=True)
    setting = settings.flag(config, "GRAVICORS_STORE_WATCH", None)
    if setting is not None:
        return setting
    return ctx is None or ctx.command.name == "run"


def store_settings(config: Any) -> tuple[str, float]:
    """The store's app settings, checked before anything is opened (gravicors.E003
    naming the key): ``GRAVICORS_STORE`` (a SQLAlchemy URL: SQLite or
    PostgreSQL), ``GRAVICORS_STORE_POLL_INTERVAL`` (0.01 to 60 seconds) and
    ``GRAVICORS_STORE_WATCH`` (True, False or unset); the URL and the interval."""
    url = settings.text(config, "GRAVICORS_STORE")
    if url is None:
        raise ConfigError({"GRAVICORS_STORE": [problem("gravicors.E003", "a SQLAlchemy URL, e.g. sqlite:////path/gravicors.db")]})
    try:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError
    except ImportError:
        pass  # open_store says which extra is missing
    else:
        try:
            backend = make_url(url).get_backend_name()
        except ArgumentError:
            backend = None
        if backend not in ("sqlite", "postgresql"):
            # Never the URL itself in the message: it may hold a password.
            raise ConfigError(
                {"GRAVICORS_STORE": [problem("gravicors.E003", "a SQLAlchemy URL of SQLite or PostgreSQL, e.g. sqlite:////path/gravicors.db")]}
            )
    poll_interval = settings.number(config, "GRAVICORS_STORE_POLL_INTERVAL", POLL_INTERVAL, 0.01, 60)
    settings.flag(config, "GRAVICORS_STORE_WATCH", None)
    return url, poll_interval


def one_line(err: BaseException) -> str:
    """An error as one printable line (a config's problems joined with '; ')."""
    if isinstance(err, ConfigError):
        return printable("; ".join(str(p) for p in err.problems))
    return printable(" ".join(str(err).split()) or type(err).__name__)


class AppStore:
    """The store of one app, seen from this process.

    Shared by the fleet: :meth:`current`, :meth:`get`, :meth:`history`,
    :meth:`save`, :meth:`rollback`, :meth:`workers`, :meth:`diff`. This process's:
    :attr:`applied` (the version it runs), :attr:`refused`.
    """

    def __init__(
        self,
        sql: SqlStore,
        swap: Callable[[dict[str, Any]], None],
        *,
        serving: bool,
        poll_interval: float = POLL_INTERVAL,
    ):
        self.sql = sql
        self._swap = swap
        #: This process serves requests: it watches the store and registers.
        self.serving = serving
        #: This process runs a ``flask gravicors`` command (it serves nothing).
        self.command = command_process()
        self.poll_interval = poll_interval
        self.heartbeat_interval = HEARTBEAT_INTERVAL
        self.retry_interval = RETRY_INTERVAL
        #: The version this process runs (None: the app's own config; no version).
        self.applied: int | None = None
        #: (number, reason) of the newest version this process refused to run.
        self.refused: tuple[int, str] | None = None
        #: Held while a version is applied (and across a fork, see .watcher).
        self.lock = threading.Lock()
        #: Held by the watcher while it talks to the database (and across a fork:
        #: a fork in the middle would leave the driver's locks held in the child).
        self.io_lock = threading.Lock()
        #: Set in a process that forked after loading the app (a pre-fork server's
        #: master, e.g. gunicorn --preload): its children serve, it does not register.
        self.forked_children = False
        self.registered = False
        #: A heartbeat is due now (something changed since the last one).
        self.report_due = True
        #: The version the registry last heard of from this process.
        self._reported: int | None = None
        #: The store was unreachable at start: the app's own config runs, and the
        #: watcher creates the tables and seeds (the ``GRAVICORS`` kept here) first.
        self.down_at_start = False
        self._pending_seed: tuple[Any] | None = None
        self.host = socket.gethostname()
        self.watcher: Watcher | None = None
        #: Told ``("applied" | "refused", version number)`` of every version this
        #: process applies or refuses (the metrics, when on); must not raise.
        self.observer: Callable[[str, int], None] | None = None

    @classmethod
    def for_app(cls, ext: GraviCORS, app: Flask) -> AppStore:
        """The store ``app.config["GRAVICORS_STORE"]`` names, validating with the
        app's policies and applying through ``ext``'s swap."""
        app_ref = weakref.ref(app)
        ext_ref = weakref.ref(ext)

        def validate(raw: Any) -> Any:
            live, live_app = ext_ref(), app_ref()
            if live is None or live_app is None:
                raise RuntimeError("the GraviCORS of this store is gone")
            # Exactly the check init_app makes for this app.
            return live.load(raw, live_app)

        def swap(raw: dict[str, Any]) -> None:
            live_app, live_ext = app_ref(), ext_ref()
            if live_app is None or live_ext is None:
                raise RuntimeError("the app of this store is gone")
            live_ext._swap(live_app, raw)

        url, poll_interval = store_settings(app.config)
        sql = open_store(url, validate)
        return cls(sql, swap, serving=serving_process(app.config), poll_interval=poll_interval)

    # -- start-up -------------------------------------------------------------------

    def startup(self, given: Any) -> Any:
        """At ``init_app``: create or upgrade the tables, seed an empty store with
        ``given`` (the app's ``GRAVICORS``, refused with a
        :class:`~flask_gravicors.errors.ConfigError` unless it passes the app's
        checks), and return the config to run: the newest version that passes them
        (``given`` when none does).

        A newer version that does not pass (written by hand, or saved where other
        settings or plugins apply) is refused: logged once and reported in the
        worker registry. The start fails only when nothing can run: no version
        passes and ``given`` does not either (or is ``None``); even then a ``flask
        gravicors`` command (which serves nothing) starts, running no config, so
        the store can be repaired with ``flask gravicors apply`` or ``rollback``.

        When the store cannot be reached, ``given`` runs meanwhile (refusing to
        start would be worse: a gunicorn worker that fails to boot stops the whole
        server), and the watcher does the rest as soon as it can; except in a
        ``flask gravicors`` command, which raises :class:`StoreError` (exit 4).
        """
        try:
            return self._startup(given)
        except SchemaError:
            raise  # not an outage: this code is older than the store's tables
        except StoreError as err:
            if self.command:
                # A `flask gravicors` command serves nothing: rather than report on
                # the app's own GRAVICORS as if the store ran it, it fails (exit 4).
                raise
            log.error(
                "store %s unreachable at start, serving the app's own GRAVICORS until it is back: %s",
                self.sql.url_text,
                one_line(err),
            )
            self.down_at_start = True
            self._pending_seed = (given,)
            return given

    def _startup(self, given: Any) -> Any:
        from .sql import canonical

        self.sql.migrate()
        current, seeded = self.sql.seed(given)
        version, refused = self._newest_valid(current)
        if version is None:
            assert refused is not None  # the store holds a version (seeded above)
            return self._fallback(given, *refused)
        self.applied = version.number
        if refused is not None:
            self._refuse(*refused)  # the newest refused, once
        if not seeded and given is not None and not self.command:
            # Said by the processes that serve (a command runs nothing to warn of).
            try:
                differs = canonical(given) != version.config
            except ConfigError:
                differs = True
            if differs:
                log.warning(
                    "GRAVICORS differs from the store's version %d, which is what runs (store %s): once the store "
                    "holds a version, GRAVICORS only seeds an empty store; change the config with `flask gravicors "
                    "apply`, the console or `rollback`",
                    version.number,
                    self.sql.url_text,
                )
        return version.config

    def _newest_valid(self, newest: Version) -> tuple[Version | None, tuple[int, ConfigError] | None]:
        """The newest version from ``newest`` down that passes the app's checks
        (``None``: none does), and the newest refused one with why."""
        version: Version | None = newest
        refused = None
        while version is not None:
            try:
                self.sql.validate(version.config)
                break
            except ConfigError as err:
                refused = refused or (version.number, err)
                version = self.sql.before(version.number)
        return version, refused

    def _fallback(self, given: Any, number: int, err: ConfigError) -> Any:
        """No version passes (version ``number``, the newest, failed with ``err``):
        the app's own ``given`` runs when it passes. Without one (the store alone
        configures the app), running nothing would drop every API's plans: the
        start fails, except in a ``flask gravicors`` command (it serves nothing),
        which runs no config so that the store can be repaired."""
        failure = err if given is None else None
        if given is not None:
            try:
                self.sql.validate(given)
            except ConfigError as given_err:
                failure = given_err
        if failure is None:
            self._refuse(number, err)
            return given
        why = "gives no GRAVICORS" if given is None else "has a GRAVICORS that does not pass either"
        self._refuse(number, err, running=f"no config (the app {why})")
        if not self.command:
            raise failure
        log.error(
            "this command runs no config: repair store %s with `flask gravicors apply` or `rollback` (GRAVICORS: %s)",
            self.sql.url_text,
            "none" if given is None else one_line(failure),
        )
        return {}

    def start(self) -> None:
        """Start this process's watcher (serving processes only)."""
        if self.serving:
            from .watcher import start_watcher

            start_watcher(self)

    def close(self) -> None:
        """Stop the watcher, leave the worker registry, close the connections."""
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        if self.registered:
            try:
                self.sql.deregister(self.host, os.getpid())
            except Exception:
                pass
            self.registered = False
        self.sql.dispose()

    # -- this process -------------------------------------------------------------

    def _refuse(self, number: int, err: BaseException, running: str | None = None) -> None:
        if self.refused is None or self.refused[0] != number:
            if running is None:
                running = "the app's own config" if self.applied is None else f"version {self.applied}"
            log.error("refused version %d of store %s, keeps running %s: %s", number, self.sql.url_text, running, one_line(err))
            if self.observer is not None:
                self.observer("refused", number)
        self.refused = (number, one_line(err)[:500])
        self.report_due = True

    def apply(self, version: Version, *, raise_errors: bool = False) -> bool:
        """Run ``version`` in this process unless it runs the same or a newer one.

        A version that fails to compile is refused: logged once, reported in the
        worker registry, and the running config stays. True when applied.
        """
        with self.lock:
            if self.applied is not None and version.number <= self.applied:
                return False
            if self.refused is not None and self.refused[0] == version.number and not raise_errors:
                return False
            try:
                self._swap(version.config)
            except Exception as err:
                self._refuse(version.number, err)
                if raise_errors:
                    raise
                return False
            self.applied = version.number
            if self.refused is not None and self.refused[0] < version.number:
                self.refused = None
            self.report_due = True
            if self.observer is not None:
                self.observer("applied", version.number)
        log.info("applied version %d (by %s, source %s)", version.number, printable(version.author), printable(version.source))
        return True

    def poll(self) -> None:
        """Apply the newest version if this process runs an older one (first
        finishing the start-up the store's outage interrupted)."""
        if self._pending_seed is not None:
            self.sql.migrate()
            self.sql.seed(self._pending_seed[0])
            self._pending_seed = None
        latest = self.sql.latest_number()
        if latest is None or (self.applied is not None and latest <= self.applied):
            return
        if self.refused is not None and self.refused[0] == latest:
            return
        self.apply(self.sql.get(latest))

    @property
    def registering(self) -> bool:
        return self.serving and not self.forked_children

    def report(self) -> None:
        """Heartbeat: this worker's row in the registry (or its removal, in a
        process that turned out to be a pre-fork master)."""
        if not self.registering:
            if self.registered:
                self.sql.deregister(self.host, os.getpid())
                self.registered = False
            return
        self.report_due = False
        version, refused = self.applied, self.refused
        try:
            self.sql.heartbeat(
                self.host,
                os.getpid(),
                version=version,
                applied_now=not self.registered or version != self._reported,
                refused_version=None if refused is None else refused[0],
                refused_error=None if refused is None else refused[1],
            )
        except BaseException:
            self.report_due = True
            raise
        self.registered = True
        self._reported = version

    # -- the fleet's ----------------------------------------------------------------

    def current(self) -> Version | None:
        """The newest version (``None``: the store is empty)."""
        return self.sql.current()

    def get(self, number: int) -> Version:
        """Version ``number``; :class:`~flask_gravicors.store.VersionNotFound` when there is none."""
        return self.sql.get(number)

    def history(self, limit: int | None = None) -> list[Version]:
        """Versions, newest first; each with ``changed``, the APIs it changed."""
        return self.sql.history(limit)

    def save(
        self,
        config: Any,
        *,
        author: str,
        expected_version: int | None = None,
        comment: str = "",
        source: str = "api",
    ) -> Version:
        """Validate ``config`` with the app's policies and save it as a new version.

        Raises :class:`~flask_gravicors.errors.ConfigError` (invalid: nothing
        saved) or :class:`~flask_gravicors.store.VersionConflict`
        (``expected_version`` is no longer the newest: nothing saved). Every
        serving process applies it within a second; this one at once.
        """
        version = self.sql.save(config, author=author, expected_version=expected_version, comment=comment, source=source)
        if self.serving:
            self.apply(version)
        return version

    def rollback(
        self,
        number: int,
        *,
        author: str,
        comment: str | None = None,
        expected_version: int | None = None,
        source: str = "api",
    ) -> Version:
        """Save version ``number``'s config again, as a new version."""
        old = self.sql.get(number)
        return self.save(
            old.config,
            author=author,
            expected_version=expected_version,
            comment=f"rollback to version {number}" if comment is None else comment,
            source=source,
        )

    @property
    def accounts(self) -> Accounts:
        """The console's users and sessions in this store."""
        from .accounts import Accounts

        return Accounts(self.sql)

    def workers(self, max_age: float = LIVE_SECONDS) -> list[Worker]:
        """The live workers: seen within ``max_age`` seconds."""
        return self.sql.workers(max_age)

    def running(self, number: int) -> tuple[int, int]:
        """(live workers running version ``number``, live workers)."""
        live = self.workers()
        return sum(1 for w in live if w.version == number), len(live)

    def diff(self, old: int, new: int) -> list[Change]:
        """What changed from version ``old`` to version ``new``."""
        return diff_configs(self.sql.get(old).config, self.sql.get(new).config)


__all__ = ["AppStore", "serving_process", "command_process", "CLI_MARK"]
