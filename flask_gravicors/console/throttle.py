"""Failed logins, counted with ``limits``: after N failures (default 5) for one user
name or one client address within the window (default 15 minutes), every further
attempt, right password or wrong, is refused with 429 until the window has passed.

A moving window: the (N+1)th attempt is allowed once the oldest of the N
failures is older than the window. Nothing resets the count early, a successful
login included (an attacker with an account of their own could otherwise reset
the count of their address between guesses).

An attempt holds a lock of its user name and one of its address from the check
to the count (:meth:`LoginThrottle.attempt`): concurrent attempts in one process
are judged one after the other, so a burst sent at once is not checked against
the password before any of its failures is counted.

Counted per process with ``memory://`` (each gunicorn worker keeps its own
counts: with 4 workers an attacker gets at most 4×N guesses per window), across
workers and hosts with a Redis URL (attempts that reach several processes at the
same instant may each pass the check before the others count: at most one more
guess per other process). When Redis cannot be reached, failures are
counted in this process meanwhile (logged once, and the recovery once) and an
attempt is refused when either count says so: an outage never unlocks a name
that is throttled here, and never makes logging in fail.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger("flask_gravicors.console")

#: Seconds Redis gets to answer (connect, then each command) before the attempt
#: is counted in this process instead.
REDIS_TIMEOUT = 0.5
#: Locks an attempt holds, chosen by its keys' hashes: bounded, whatever names
#: clients send (two keys sharing a stripe only wait for each other).
STRIPES = 64


def _keys(user_name: str, address: str | None) -> list[tuple[str, str]]:
    # Hashed: any text a client sends becomes a fixed-size key. Names compare
    # case-folded, so "Admin" and "admin" share one count.
    name = hashlib.sha256(user_name.casefold().encode("utf-8", "surrogatepass")).hexdigest()
    return [("user", name), ("address", address or "-")]


class LoginThrottle:
    """Counts failed logins per user name and per client address."""

    namespace = "gravicors-console-login"

    def __init__(self, storage_uri: str, attempts: int, window: float):
        self.item = RateLimitItemPerSecond(attempts, max(1, round(window)))
        self.local = MovingWindowRateLimiter(MemoryStorage())
        self.shared: MovingWindowRateLimiter | None = None
        if not storage_uri.startswith("memory://"):
            from . import ConsoleError

            try:
                options: dict[str, Any] = {}
                if storage_uri.startswith(("redis://", "rediss://", "redis+")):
                    options = {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT}
                self.shared = MovingWindowRateLimiter(storage_from_string(storage_uri, **options))
            except Exception as err:  # limits: unknown scheme, missing driver
                raise ConsoleError(f"GRAVICORS_CONSOLE_LIMITS_STORAGE: {err}") from None
        self._lock = threading.Lock()
        self._down = False
        self._stripes = [threading.Lock() for _ in range(STRIPES)]

    @contextmanager
    def attempt(self, user_name: str, address: str | None) -> Iterator[None]:
        """Held from :meth:`blocked` to :meth:`failed` of one attempt: the locks of
        its user name and its address (taken in one order: no deadlock)."""
        stripes = sorted({hash(key) % STRIPES for key in _keys(user_name, address)})
        for i in stripes:
            self._stripes[i].acquire()
        try:
            yield
        finally:
            for i in reversed(stripes):
                self._stripes[i].release()

    def _shared_failed(self, err: BaseException) -> None:
        with self._lock:
            if not self._down:
                self._down = True
                log.error(
                    "failed logins: the limits storage is unreachable, counting in this process until it is back: %s",
                    " ".join(str(err).split())[:200] or type(err).__name__,
                )

    def _shared_ok(self) -> None:
        if self._down:
            with self._lock:
                if self._down:
                    self._down = False
                    log.warning("failed logins: the limits storage is back, counting there again")

    def blocked(self, user_name: str, address: str | None) -> bool:
        """Whether an attempt for ``user_name`` from ``address`` is refused (429)."""
        keys = _keys(user_name, address)
        if any(not self.local.test(self.item, self.namespace, *key) for key in keys):
            return True
        if self.shared is None:
            return False
        try:
            refused = any(not self.shared.test(self.item, self.namespace, *key) for key in keys)
        except Exception as err:  # noqa: BLE001 - any storage error: count here instead
            self._shared_failed(err)
            return False
        self._shared_ok()
        return refused

    def failed(self, user_name: str, address: str | None) -> None:
        """Count a failed attempt."""
        keys = _keys(user_name, address)
        if self.shared is not None:
            try:
                for key in keys:
                    self.shared.hit(self.item, self.namespace, *key)
            except Exception as err:  # noqa: BLE001
                self._shared_failed(err)
            else:
                self._shared_ok()
                return
        for key in keys:
            self.local.hit(self.item, self.namespace, *key)

    def retry_after(self, user_name: str, address: str | None) -> int:
        """Seconds until an attempt may be allowed again (for ``Retry-After``)."""
        latest = 0.0
        for limiter in (self.local, self.shared):
            if limiter is None:
                continue
            for key in _keys(user_name, address):
                try:
                    stats = limiter.get_window_stats(self.item, self.namespace, *key)
                except Exception:  # noqa: BLE001
                    continue
                if stats.remaining == 0:
                    latest = max(latest, stats.reset_time - time.time())
        return max(1, int(latest + 0.999))


__all__ = ["LoginThrottle"]
