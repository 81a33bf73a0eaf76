"""The watcher: one daemon thread per app and serving process that applies new versions.

Requests never touch the database: they read the runtime the watcher last
swapped in (one reference, read once per request), so a slow or dead database
never fails nor delays one. The watcher polls the newest version number every
``poll_interval`` seconds (PostgreSQL: it also ``LISTEN``s, and a save's
``NOTIFY`` wakes it at once), applies a newer version with the extension's
compile-and-swap, and refreshes this worker's row in the registry every
``heartbeat_interval`` seconds and right after each change. Everything it does is
caught: an outage is logged once, the recovery once, and while it lasts the
store is tried every ``retry_interval`` seconds with bounded connect and
statement timeouts.

Pre-fork servers: threads do not survive ``fork()``. Plain ``gunicorn -w N
module:app`` loads the app in each worker, after the fork, so each starts its
own watcher. With ``--preload`` the app is loaded once in the master and the
workers are forked from it: the fork hooks below start a new watcher in every
child, and mark the parent as a master (it keeps its config current for the
workers it forks later, but never registers: it serves nothing).

uWSGI (without ``--lazy-apps``) also loads the app in the process that then forks
its workers (or, without ``--master``, becomes the first one), but its fork is
its own: it runs no ``os.register_at_fork`` hook before the fork, and the ones
after it only with ``--py-call-osafterfork``. A watcher started there could be in
the middle of a query at the fork, and the workers would never start their own.
So in that process no watcher starts, nothing registers, and uWSGI's
``post_fork_hook`` (which it calls in every worker, that first one included)
starts each worker's watcher; its first round applies any version saved since the
app was loaded.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from .app import one_line

if TYPE_CHECKING:
    from .app import AppStore
    from .sql import PgListener

log = logging.getLogger("flask_gravicors.store")

#: The stores with a watcher in this process.
_watched: weakref.WeakSet[AppStore] = weakref.WeakSet()
#: Locks taken before a fork, released after it (in parent and child).
_held: list[threading.Lock] = []
#: Longest wait of a fork for a watcher's round with the database (seconds; the
#: round is bounded by the store's connect and statement timeouts).
FORK_WAIT = 15.0
#: Watchers inherited across a fork: kept referenced, never collected, so the
#: parent's connections they hold are not returned to a pool (which would talk
#: on the parent's sockets) in the child.
_inherited: list[Any] = []


#: Stores of an app uWSGI loaded before it made its workers: each worker starts
#: their watchers from uWSGI's post-fork hook.
_after_uwsgi_fork: weakref.WeakSet[AppStore] = weakref.WeakSet()
_uwsgi_hooked = False


def start_watcher(store: AppStore) -> None:
    uwsgi = _uwsgi()
    if uwsgi is not None and uwsgi.worker_id() == 0:
        # Loaded by uWSGI before its workers exist (see above): they start it.
        _after_uwsgi_fork.add(store)
        _hook_uwsgi(uwsgi)
        return
    store.watcher = Watcher(store)
    _watched.add(store)
    store.watcher.start()


def _uwsgi() -> Any:
    """The ``uwsgi`` module when this process runs under uWSGI (it exists only
    there), else ``None``."""
    try:
        import uwsgi  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError:
        return None
    return uwsgi


def _hook_uwsgi(uwsgi: Any) -> None:
    """Chain a start of the deferred watchers onto ``uwsgi.post_fork_hook``: the
    hook already set (uwsgidecorators' ``@postfork`` chain, or the app's own)
    still runs first."""
    global _uwsgi_hooked
    if _uwsgi_hooked:
        return
    previous = getattr(uwsgi, "post_fork_hook", None)

    def post_fork() -> None:
        if previous is not None:
            previous()
        _start_after_uwsgi_fork()

    uwsgi.post_fork_hook = post_fork
    _uwsgi_hooked = True


def _start_after_uwsgi_fork() -> None:
    """In a uWSGI worker: start the watchers its master deferred (once)."""
    for store in list(_after_uwsgi_fork):
        _after_uwsgi_fork.discard(store)
        store.registered = False
        store.report_due = True
        # Before the first request: the version saved since the master loaded the
        # app (a worker uWSGI respawns hours later) runs from it on. Bounded by the
        # store's timeouts; when the store is down the watcher says so and retries.
        try:
            with store.io_lock:
                store.poll()
        except Exception:
            pass
        start_watcher(store)


class Watcher:
    """The thread applying ``store``'s new versions (it holds the store weakly:
    it ends when the app is gone, or on :meth:`stop`)."""

    def __init__(self, store: AppStore):
        self._store = weakref.ref(store)
        self._stop = threading.Event()
        self.listener: PgListener | None = None
        #: True while the store is unreachable (an outage is logged once).
        self.down = store.down_at_start
        self.thread = threading.Thread(target=self._run, name="gravicors-store-watcher", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout)
        self._close_listener()

    def _close_listener(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def _run(self) -> None:
        next_report = 0.0
        while not self._stop.is_set():
            store = self._store()
            if store is None:
                break
            wait = store.poll_interval
            try:
                with store.io_lock:
                    if self.listener is None and store.sql.can_listen:
                        # LISTEN before reading: a save committed in between is seen either way.
                        self.listener = store.sql.listener()
                    store.poll()
                    if store.report_due or time.monotonic() >= next_report:
                        store.report()
                        next_report = time.monotonic() + store.heartbeat_interval
                store.down_at_start = False
                if self.down:
                    self.down = False
                    log.warning("store %s reachable again; running version %s", store.sql.url_text, store.applied)
            except Exception as err:
                if not self.down:
                    self.down = True
                    running = "the app's own config" if store.applied is None else f"version {store.applied}"
                    log.error(
                        "store %s unreachable, keeps serving %s until it is back: %s", store.sql.url_text, running, one_line(err)
                    )
                self._close_listener()
                wait = store.retry_interval
            url = store.sql.url_text
            del store  # not held while waiting: the app may go meanwhile
            if self.listener is not None:
                try:
                    self.listener.wait(wait)
                except Exception as err:
                    # The next round reconnects, polls, and logs if the store is down.
                    log.debug("store %s: LISTEN connection lost: %s", url, one_line(err))
                    self._close_listener()
            else:
                self._stop.wait(wait)
        self._close_listener()


def _before_fork() -> None:
    # A fork waits for the watcher's round with the database to end (bounded by the
    # store's timeouts): forked in the middle, the child would inherit locks of
    # SQLAlchemy, of the driver or of SQLite itself held by a thread it does not
    # have, and hang on them. And no version is half applied in the child.
    for store in list(_watched):
        for lock in (store.io_lock, store.lock):
            if lock.acquire(timeout=FORK_WAIT):
                _held.append(lock)


def _release_held() -> None:
    for lock in _held:
        lock.release()
    _held.clear()


def _after_fork_parent() -> None:
    _release_held()
    for store in list(_watched):
        # This process forks workers (gunicorn --preload): it does not serve.
        store.forked_children = True
        store.report_due = True


def _after_fork_child() -> None:
    _release_held()
    for store in list(_watched):
        _inherited.append(store.watcher)
        store.forked_children = False
        store.registered = False
        store.report_due = True
        start_watcher(store)


def _leave() -> None:
    """At exit: this worker leaves the registry (else it drops out after 10 s)."""
    for store in list(_watched):
        if store.watcher is not None:
            store.watcher._stop.set()
        if store.registered:
            try:
                store.sql.deregister(store.host, os.getpid())
            except Exception:
                pass


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_parent, after_in_child=_after_fork_child)
atexit.register(_leave)

__all__ = ["Watcher", "start_watcher"]
