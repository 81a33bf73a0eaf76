"""Origins decided at run time: the ``gravicors_origin_allowed`` hook behind a cache.

No Flask import here. An API whose cors block says ``"dynamic_origins": true``
asks the hook about an origin its static ``allow_origin`` does not allow (never
about ``null`` or a value no browser sends: :func:`~.origins.sendable`). Each
decision, allowed or not, is kept per origin for ``ttl`` seconds, in at most
:data:`DECISION_CACHE_SIZE` entries (emptied when full, as the other caches are),
so a flood of made-up origins costs one hook call each and bounded memory. An
exception in the hook counts as "not allowed" and is logged once per decision,
that is once per (API, origin) until it expires.

The WSGI layer's memo of actual requests (``Runtime.seen``) keeps a decision
made here only until it expires (:meth:`Runtime.remember` takes the expiry), so a
cached decision costs what a static one does, and a changed answer is seen
within ``ttl`` seconds.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

log = logging.getLogger("flask_gravicors")

DEFAULT_TTL = 60.0
DECISION_CACHE_SIZE = 4096

#: ``ask(api_name, origin)``: the hook's answer, ``None`` for no opinion.
Ask = Callable[[str, str], "bool | None"]


class DynamicOrigins:
    """One API's run-time origin decisions and their cache."""

    __slots__ = ("api_name", "ask", "ttl", "clock", "_cache")

    def __init__(self, api_name: str, ask: Ask, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic):
        self.api_name = api_name
        self.ask = ask
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[str, tuple[bool, float]] = {}

    def decide(self, origin: str) -> tuple[bool, float]:
        """``(allowed, expires)``: the cached decision while it lasts, else the
        hook's (an exception or no answer is "not allowed"), cached until ``expires``
        (on this object's clock)."""
        now = self.clock()
        cached = self._cache.get(origin)
        if cached is not None and cached[1] > now:
            return cached
        try:
            allowed = self.ask(self.api_name, origin) is True
        except Exception:  # noqa: BLE001 - a plugin's failure refuses the origin, never fails the request
            from .wsgi import for_log

            log.exception(
                "gravicors_origin_allowed failed for API %s, origin %s: refused for %ss",
                for_log(self.api_name),
                for_log(origin),
                self.ttl,
            )
            allowed = False
        decision = (allowed, now + self.ttl)
        if len(self._cache) >= DECISION_CACHE_SIZE:
            self._cache.clear()
        self._cache[origin] = decision
        return decision
