"""Gravitee's rate-limit policy as a flask_gravicors policy: the worked example of
a *stateful* policy.

Counting and windows come from the `limits <https://limits.readthedocs.io>`_
library, with its **fixed window** strategy (Gravitee's rate-limit policy counts in
fixed windows too): the first hit of a key opens a window of ``period``; every hit
in it increments one counter; the counter and the window end together. One Redis
round trip counts (``limits``' atomic INCR+EXPIRE script) and one reads the window
end, so the headers of a request describe exactly its own hit. Counters live in
the process (``memory://``, one count per gunicorn worker) or in Redis
(``redis://host:port/db``, shared by every worker and host).

Every response of the API carries Gravitee's ``X-Rate-Limit-Limit``,
``X-Rate-Limit-Remaining`` and ``X-Rate-Limit-Reset`` (epoch milliseconds); a
request over the limit is answered 429 with a JSON body and ``Retry-After``, a
:class:`~flask_gravicors.Failure` keyed ``RATE_LIMIT_TOO_MANY_REQUESTS`` that the
API's response templates can rewrite. Gravitee's own configuration
(``{"rate": {"limit": 10, "periodTime": 1, "periodTimeUnit": "MINUTES"}}``) is
translated by :meth:`RateLimitPolicy.from_gravitee` when a Gravitee definition is
imported.

When the storage cannot be reached, or raises anything at all, the request is
let through (``on_storage_error: "allow"``, the default) or refused with 503
(``"deny"``), never a 500; the outage is logged once (the URL's password
hidden) and its end once. The storage URL's query options are checked with the
rest of the config: an unknown or malformed one is a config error, never a
failure at the first request. Every Redis socket operation (connect, send, read)
is bounded by ``timeout`` seconds with no retry, and a request stops talking to
the storage at its first failure, so an unreachable Redis costs a request at
most ``timeout``.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlsplit

from flask import Request, Response
from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerHour, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import FixedWindowRateLimiter
from marshmallow import Schema, ValidationError, validate

from flask_gravicors import Failure, Policy, hookimpl
from flask_gravicors.gravitee import EXTRA_KEY, with_extra
from flask_gravicors.security import CONSUMER, consumer_id
from flask_gravicors.strict import Flag, Int, Number, Text

__version__ = "0.1.0"

log = logging.getLogger("gravicors_ratelimit")

__all__ = ["RateLimitPolicy", "RateLimitConfigSchema", "parse_period", "redact_url", "gravicors_register_policies"]

HEADER_LIMIT = "X-Rate-Limit-Limit"
HEADER_REMAINING = "X-Rate-Limit-Remaining"
HEADER_RESET = "X-Rate-Limit-Reset"

#: Where ``key: "api-key"`` reads the key: as Gravitee's API-key plan (and gravicors-apikey).
API_KEY_HEADER = "X-Gravitee-Api-Key"
API_KEY_QUERY_PARAM = "api-key"

DEFAULT_TIMEOUT = 0.5
MAX_TIMEOUT = 30.0

# limits' key namespace for this plugin's counters.
NAMESPACE = "gravicors"

_PERIOD_RE = re.compile(r"^\s*([0-9]{1,6})\s*([a-z]+)\s*$")
_UNITS: dict[str, type[RateLimitItem]] = {}
for _names, _cls in (
    (("s", "sec", "second", "seconds"), RateLimitItemPerSecond),
    (("m", "min", "minute", "minutes"), RateLimitItemPerMinute),
    (("h", "hour", "hours"), RateLimitItemPerHour),
    (("d", "day", "days"), RateLimitItemPerDay),
):
    for _name in _names:
        _UNITS[_name] = _cls

_TOKEN_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def parse_period(period: str) -> tuple[int, type[RateLimitItem]]:
    """``"30s"``, ``"1m"``, ``"2h"``, ``"1d"`` (or ``"1 minute"``) -> (multiples, limits item class).

    Raises ``ValueError`` with a message fit for a config error.
    """
    match = _PERIOD_RE.match(period.lower()) if isinstance(period, str) else None
    if match is None or match.group(2) not in _UNITS or int(match.group(1)) < 1:
        raise ValueError("not a period: use <count><unit> with unit s, m, h or d, e.g. '1m' or '30s'")
    return int(match.group(1)), _UNITS[match.group(2)]


def redact_url(url: str) -> str:
    """The storage URL fit for a log line: its password (userinfo or ``?password=``) hidden."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.partition(":")[0]
            netloc = f"{user}:***@{hostport}"
        query = parts.query
        if query:
            query = "&".join(
                f"{k}={'***' if k.lower() == 'password' else v}" for k, v in parse_qsl(query, keep_blank_values=True)
            )
        return parts._replace(netloc=netloc, query=query).geturl()
    except ValueError:
        return "<unparsable storage URL>"


def _password_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    for k, v in parse_qsl(parts.query):
        if k.lower() == "password" and v:
            return v
    return parts.password or None


def _validate_period(value: str) -> None:
    try:
        parse_period(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _validate_key(value: str) -> None:
    if value in ("ip", "api-key"):
        return
    if value.startswith("header:") and _TOKEN_RE.match(value[len("header:") :]):
        return
    raise ValidationError("must be 'ip', 'api-key' or 'header:<header name>', e.g. 'header:X-Client-Id'")


#: Query options a Redis storage URL may carry: name -> (accepted value, what it
#: should be). redis-py passes any other name to its connections as a keyword, so
#: a typo would fail every request; the socket timeouts and retries are not
#: among them because the policy sets them from ``timeout`` (a URL option would
#: override them and let an outage hold a request longer).
URL_OPTIONS: dict[str, tuple[re.Pattern[str], str]] = {
    "db": (re.compile(r"[0-9]{1,5}"), "a database number"),
    "username": (re.compile(r".+"), "a user name"),
    "password": (re.compile(r".+"), "a password"),
    "health_check_interval": (re.compile(r"[0-9]{1,5}"), "whole seconds"),
    "max_connections": (re.compile(r"[1-9][0-9]{0,5}"), "a number of connections"),
    "ssl_check_hostname": (re.compile(r"true|false", re.IGNORECASE), "true or false"),
    "protocol": (re.compile(r"[23]"), "2 or 3"),
}
_SET_BY_THE_POLICY = frozenset({"socket_timeout", "socket_connect_timeout", "timeout", "retry_on_timeout", "retry_on_error"})


def _validate_options(query: str, path_db: bool) -> None:
    """Each ``name=value`` of a storage URL's query is a known option with a valid
    value, given once. Messages name the option, never its value (a password)."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise ValidationError("not a Redis URL: the query must be name=value pairs joined by '&'") from None
    seen: set[str] = set()
    for name, value in pairs:
        if name in _SET_BY_THE_POLICY:
            raise ValidationError(f"the storage URL option {name!r} is set by the policy: use the config's 'timeout'")
        if name not in URL_OPTIONS:
            allowed = ", ".join(sorted(URL_OPTIONS))
            raise ValidationError(f"unknown storage URL option {name[:40]!r}; the options are {allowed}")
        if name in seen or (name == "db" and path_db):
            raise ValidationError(f"the storage URL option {name!r} is given twice")
        seen.add(name)
        pattern, what = URL_OPTIONS[name]
        if pattern.fullmatch(value) is None:
            raise ValidationError(f"the storage URL option {name!r} must be {what}")


def _validate_storage(value: str) -> None:
    # Messages never repeat the URL: it may hold a password.
    if value == "memory://":
        return
    if not value.isascii() or not value.isprintable():
        raise ValidationError("not a storage URL: write it in printable ASCII (percent-encode the password)")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValidationError("not a storage URL: the port must be a number from 1 to 65535") from None
    if parts.scheme not in ("redis", "rediss"):
        raise ValidationError("unsupported storage: use 'memory://' or 'redis://[:password@]host:port/db' (rediss:// for TLS)")
    if not parts.hostname:
        raise ValidationError("not a Redis URL: the host is missing, e.g. 'redis://127.0.0.1:6379/0'")
    if port == 0:
        raise ValidationError("not a storage URL: the port must be a number from 1 to 65535")
    db = parts.path.lstrip("/")
    if db and not (db.isdigit() and int(db) < 1 << 16):
        raise ValidationError("not a Redis URL: the path must be a database number, e.g. '/0'")
    if parts.fragment:
        raise ValidationError("not a Redis URL: remove the '#' fragment")
    if parts.query:
        _validate_options(parts.query, bool(db))


class RateLimitConfigSchema(Schema):
    """``{"limit": 100, "period": "1m", "key": "ip", "storage": "memory://",
    "on_storage_error": "allow", "timeout": 0.5}``. Types are strict
    (:mod:`flask_gravicors.strict`): ``"false"`` for ``add_headers`` or bytes for
    ``period`` are refused (gravicors.E003)."""

    #: Requests allowed per window per key.
    limit = Int(required=True, validate=validate.Range(min=1, max=10**9))
    #: Window length ``<count><unit>``, unit ``s``, ``m``, ``h`` or ``d`` (``"30s"``, ``"1h"``; ``"1 minute"`` also loads).
    period = Text(load_default="1m", validate=_validate_period)
    #: Who is counted: ``ip`` (``request.remote_addr``; put werkzeug's ``ProxyFix`` in front behind a proxy),
    #: ``api-key`` (``X-Gravitee-Api-Key`` or ``?api-key=``) or ``header:<name>``; requests without the key or
    #: header are counted by address; key values are stored hashed.
    key = Text(load_default="ip", validate=_validate_key)
    #: ``memory://`` (each process counts alone) or ``redis://[:password@]host:port/db`` (``rediss://`` for
    #: TLS), shared by every worker and host.
    storage = Text(load_default="memory://", validate=_validate_storage, secret=True)
    #: When the storage cannot be reached: ``allow`` lets requests through uncounted, ``deny`` answers 503
    #: with JSON; never a 500.
    on_storage_error = Text(load_default="allow", validate=validate.OneOf(("allow", "deny")))
    #: Seconds for each Redis connect and read, with no retry.
    timeout = Number(load_default=DEFAULT_TIMEOUT, validate=validate.Range(min=0, max=MAX_TIMEOUT, min_inclusive=False))
    #: Send ``X-Rate-Limit-Limit``, ``X-Rate-Limit-Remaining`` and ``X-Rate-Limit-Reset`` on the responses of
    #: the requests the step counts (Gravitee's ``addHeaders``).
    add_headers = Flag(load_default=True)


#: Gravitee's periodTimeUnit (java.util.concurrent.TimeUnit names) -> our period unit.
GRAVITEE_UNITS = {"SECONDS": "s", "MINUTES": "m", "HOURS": "h", "DAYS": "d"}


class _FixedWindow(FixedWindowRateLimiter):
    """``limits``' fixed window, with the count and window end of this very hit."""

    def hit_with_stats(self, item: RateLimitItem, *identifiers: str) -> tuple[int, float]:
        key = item.key_for(*identifiers)
        # Exactly what FixedWindowRateLimiter.hit does, keeping the count it returns.
        count = self.storage.incr(key, item.get_expiry())
        return count, self.storage.get_expiry(key)


def make_storage(url: str, timeout: float) -> Storage:
    """A ``limits`` storage for ``url``; Redis with bounded, retry-free sockets.

    Nothing connects here: an app starts while its Redis is down.
    """
    if url == "memory://":
        return MemoryStorage()
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    options: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        # redis-py retries 3 times with backoff by default: that would multiply
        # the wait. One attempt; the next request tries again.
        "retry": Retry(NoBackoff(), 0),
        "retry_on_timeout": False,
    }
    # wrap_exceptions: the client's errors arrive as limits' StorageError.
    return RedisStorage(url, wrap_exceptions=True, **options)


class _Outage:
    """Whether one storage URL is failing, shared by the policies of a process
    so that an outage is logged once, and its end once."""

    def __init__(self, url: str):
        self.url = url
        self.redacted = redact_url(url)
        self.password = _password_of(url)
        self.down = False
        self.lock = threading.Lock()

    def failed(self, exc: BaseException, api_name: str, action: str) -> None:
        with self.lock:
            if self.down:
                return
            self.down = True
        reason = f"{type(exc).__name__}: {exc}"
        if self.password:
            reason = reason.replace(self.password, "***")
        log.warning(
            "rate-limit storage %s unreachable (API %r, %s); %s requests until it is back",
            self.redacted,
            api_name,
            reason[:300],
            action,
        )

    def ok(self, api_name: str) -> None:
        with self.lock:
            if not self.down:
                return
            self.down = False
        log.warning("rate-limit storage %s reachable again (API %r); counting resumes", self.redacted, api_name)


_OUTAGES: dict[str, _Outage] = {}
_OUTAGES_LOCK = threading.Lock()


def _outage_for(url: str) -> _Outage:
    with _OUTAGES_LOCK:
        outage = _OUTAGES.get(url)
        if outage is None:
            outage = _OUTAGES[url] = _Outage(url)
        return outage


class RateLimitPolicy(Policy):
    """``rate-limit``: at most ``limit`` requests per ``period`` per key."""

    name = "rate-limit"
    config_schema = RateLimitConfigSchema

    @classmethod
    def from_gravitee(cls, configuration: Mapping[str, Any]) -> dict[str, Any]:
        """Gravitee's ``{"async": false, "addHeaders": true, "rate": {"limit": 10,
        "periodTime": 1, "periodTimeUnit": "MINUTES", "key": ""}}``: counted per
        client address (Gravitee counts per subscription; a keyless plan's is the
        address). A custom ``key`` or a ``dynamicLimit`` (Gravitee EL) has no
        translation; ``async`` is accepted and counts strictly. Settings of ours that
        Gravitee lacks come back from the ``gravicors`` object ``to_gravitee`` writes."""
        unknown = set(configuration) - {"async", "addHeaders", "rate", "key", EXTRA_KEY}
        rate = configuration.get("rate")
        if not isinstance(rate, Mapping):
            raise ValueError("rate-limit configuration needs a 'rate' object")
        known = {"limit", "periodTime", "periodTimeUnit", "key", "useKeyOnly", "dynamicLimit"}
        unknown |= {f"rate.{k}" for k in set(rate) - known}
        if unknown:
            raise ValueError(f"rate-limit configuration {sorted(unknown)} has no translation")
        problems = []
        if rate.get("dynamicLimit") or rate.get("key") or configuration.get("key"):
            problems.append("a custom key or dynamicLimit (Gravitee EL) has no translation")
        # A missing (or null) unit and time are Gravitee's defaults: SECONDS, 1.
        named = rate.get("periodTimeUnit")
        named = "SECONDS" if named is None else named
        unit = GRAVITEE_UNITS.get(named.upper()) if isinstance(named, str) else None
        if unit is None:
            shown = repr(named[:40]) if isinstance(named, str) else f"a {type(named).__name__}"
            problems.append(f"periodTimeUnit {shown}: use SECONDS, MINUTES, HOURS or DAYS")
        # Gravitee's periodTime is a whole number (a long); ours has up to 6 digits.
        multiples = rate.get("periodTime")
        multiples = 1 if multiples is None else multiples
        if isinstance(multiples, bool) or not isinstance(multiples, int) or not 1 <= multiples <= 999_999:
            problems.append("periodTime: use a whole number from 1 to 999999")
        if problems:
            raise ValueError("; ".join(problems))
        # Values go through as written, for the schema to judge (a null addHeaders
        # is false, as for Gravitee's primitive boolean).
        add_headers = configuration.get("addHeaders")
        out = {
            "limit": rate.get("limit"),
            "period": f"{multiples}{unit}",
            "add_headers": False if add_headers is None else add_headers,
        }
        return with_extra(out, configuration)

    @classmethod
    def to_gravitee(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        multiples, item_class = parse_period(config.get("period", "1m"))
        unit = next(u for u, ours in GRAVITEE_UNITS.items() if _UNITS[ours] is item_class)
        out: dict[str, Any] = {
            "async": False,
            "addHeaders": bool(config.get("add_headers", True)),
            "rate": {"limit": config["limit"], "periodTime": multiples, "periodTimeUnit": unit, "key": ""},
        }
        defaults = {"key": "ip", "storage": "memory://", "on_storage_error": "allow", "timeout": DEFAULT_TIMEOUT}
        extra = {k: config[k] for k, default in defaults.items() if k in config and config[k] != default}
        if extra:
            out[EXTRA_KEY] = extra
        return out

    def __init__(self, config: Mapping[str, Any], api_name: str) -> None:
        super().__init__(config, api_name)
        multiples, item_class = parse_period(config["period"])
        self.limit: int = config["limit"]
        self.period: str = config["period"]
        self.item = item_class(self.limit, multiples, namespace=NAMESPACE)
        self.storage_url: str = config["storage"]
        self.storage = make_storage(self.storage_url, config["timeout"])
        self.limiter = _FixedWindow(self.storage)
        self.deny_on_storage_error = config["on_storage_error"] == "deny"
        self._outage = _outage_for(self.storage_url)
        self._add_headers: bool = config.get("add_headers", True)
        key = config["key"]
        self._key_kind = key
        self._header = key[len("header:") :] if key.startswith("header:") else None
        # Per-request state lives in the WSGI environ, under a key of this instance.
        self._env_key = f"gravicors_ratelimit.{id(self)}"

    # -- keys --------------------------------------------------------------------

    def key_for(self, request: Request) -> str:
        """The identity this request is counted under.

        ``ip``: the client address as Flask sees it (``request.remote_addr``; put
        werkzeug's ProxyFix in front behind a proxy). ``api-key``: the
        ``X-Gravitee-Api-Key`` header or ``api-key`` query parameter.
        ``header:<name>``: that header's value. Keys and header values are
        stored hashed (they may be secrets); a request without the key or
        header is counted by its address.
        """
        value: str | None = None
        if self._key_kind == "api-key":
            # The api-key plan that accepted the request recorded its consumer (and
            # removed the key itself, unless propagate_api_key).
            consumer = request.environ.get(CONSUMER)
            if isinstance(consumer, str) and consumer.startswith("api-key:"):
                return consumer
            value = request.headers.get(API_KEY_HEADER) or request.args.get(API_KEY_QUERY_PARAM)
        elif self._header is not None:
            value = request.headers.get(self._header)
        if value:
            # BLAKE2s (consumer_id): CPython's own code, cheaper per request than OpenSSL's SHA-256.
            return consumer_id(self._key_kind, value)
        return f"ip:{request.remote_addr or 'unknown'}"

    # -- the chain ---------------------------------------------------------------

    def on_request(self, request: Request) -> Any:
        try:
            # Per step: two rate limits of one API (in two flows) never share a counter.
            count, reset = self.limiter.hit_with_stats(self.item, self.api_name, self.step, self.key_for(request))
        except Exception as exc:  # noqa: BLE001 - never a 500 because of the counter
            # Expected: limits' StorageError (it wraps the Redis client's errors,
            # wrap_exceptions=True) and OSError; anything else the storage raises
            # is treated the same and logged with its type.
            self._outage.failed(exc, self.api_name, "refusing (503)" if self.deny_on_storage_error else "allowing")
            if self.deny_on_storage_error:
                return {"message": "Service unavailable: the rate-limit storage cannot be reached"}, 503
            return None
        if self._outage.down:
            self._outage.ok(self.api_name)
        remaining = max(0, self.limit - count)
        request.environ[self._env_key] = (remaining, int(reset * 1000))
        if count > self.limit:
            retry_after = max(1, math.ceil(reset - time.time()))
            body = {
                "message": f"Rate limit exceeded: {self.limit} requests per {self.period}",
                "limit": self.limit,
                "period": self.period,
            }
            return Failure(
                429,
                "RATE_LIMIT_TOO_MANY_REQUESTS",
                json.dumps(body),
                headers={"Retry-After": str(retry_after)},
                content_type="application/json",
            )
        return None

    def on_response(self, request: Request, response: Response) -> Response | None:
        state = request.environ.get(self._env_key)
        if state is None or not self._add_headers:  # storage failed: the count is unknown, say nothing
            return None
        remaining, reset_ms = state
        current = response.headers.get(HEADER_REMAINING)
        if current is not None and current.isdigit() and int(current) <= remaining:
            return None  # another rate-limit policy of the chain is closer to its limit
        response.headers[HEADER_LIMIT] = str(self.limit)
        response.headers[HEADER_REMAINING] = str(remaining)
        response.headers[HEADER_RESET] = str(reset_ms)
        return None


@hookimpl
def gravicors_register_policies() -> list[type[Policy]]:
    return [RateLimitPolicy]
