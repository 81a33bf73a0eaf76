"""The console: Gravitee's console steps (log in, APIs, the API, Edit API,
Entrypoints, Cors, Save) as server-rendered pages over the config store.

``app.config["GRAVICORS_CONSOLE"] = True`` mounts it at ``GRAVICORS_CONSOLE_PREFIX``
(default ``/gravicors``). Shaped like Flask's tutorial app: :func:`create_console`
is the app factory, with a blueprint per area (:mod:`.auth`, :mod:`.apis`,
:mod:`.history`, :mod:`.users`), templates under ``templates/gravicors_console/``
and a little static CSS and JavaScript.

The console is a small Flask app of its own, dispatched by path in front of the
CORS layer (:class:`ConsoleDispatcher`), not a blueprint of the host app, so that

* its pages never reach the CORS layer or the policy hooks, whatever the APIs'
  context paths (``/`` included): they never carry CORS headers;
* its session (server-side, in the store), its Flask-Login manager and its CSRF
  protection are its own: the host app's session cookie, ``login_manager`` and
  hooks are left alone, and the host's ``before_request`` hooks do not run on it.

Settings (read at ``init_app``):

``GRAVICORS_CONSOLE_PREFIX``
    where it is mounted (a context path other than ``/``; no API may lie inside).
``GRAVICORS_CONSOLE_LIMITS_STORAGE``
    where failed logins are counted: a ``limits`` storage URI, ``memory://``
    (default: per process) or ``redis://...`` (shared by every worker).
``GRAVICORS_CONSOLE_LOGIN_ATTEMPTS`` / ``GRAVICORS_CONSOLE_LOGIN_WINDOW``
    failed logins allowed per user name and per client address within the window
    (default 5 in 900 seconds); then every attempt gets 429 until the window passes.
``GRAVICORS_CONSOLE_SESSION_LIFETIME``
    seconds a login lasts (default 43200: 12 hours).

This module imports none of the ``console`` extra's packages until the console is
mounted, so the core works without them.
"""

from __future__ import annotations

import importlib
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .. import checks

if TYPE_CHECKING:
    from flask import Flask

    from ..extension import GraviCORS
    from ..store.app import AppStore

#: The packages of the ``console`` extra (module names).
EXTRA_MODULES = ("flask_login", "flask_wtf", "wtforms", "limits")

DEFAULT_PREFIX = "/gravicors"
DEFAULT_LIMITS_STORAGE = "memory://"
DEFAULT_LOGIN_ATTEMPTS = 5
DEFAULT_LOGIN_WINDOW = 15 * 60
DEFAULT_SESSION_LIFETIME = 12 * 3600

#: Key of the console's state in the console app's ``extensions``.
STATE_KEY = "gravicors_console"


class ConsoleError(RuntimeError):
    """The console cannot be mounted: its extra, a store or ``SECRET_KEY`` is missing,
    or a setting is invalid."""


def _number(config: Any, key: str, default: float, low: float, high: float) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ConsoleError(f"{key} must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class ConsoleSettings:
    """The console's settings, checked."""

    prefix: str = DEFAULT_PREFIX
    limits_storage: str = DEFAULT_LIMITS_STORAGE
    login_attempts: int = DEFAULT_LOGIN_ATTEMPTS
    login_window: float = DEFAULT_LOGIN_WINDOW
    session_lifetime: float = DEFAULT_SESSION_LIFETIME

    @classmethod
    def from_app(cls, app: Flask) -> ConsoleSettings:
        """The settings of ``app``, or :class:`ConsoleError` naming what is missing."""
        missing = []
        for name in EXTRA_MODULES:
            try:
                importlib.import_module(name)
            except ImportError:
                missing.append(name)
        if missing:
            raise ConsoleError(
                f"GRAVICORS_CONSOLE is set but the console's dependencies are missing ({', '.join(missing)}): "
                "pip install 'flask-gravicors[console]'"
            )
        config = app.config
        if not config.get("GRAVICORS_STORE"):
            raise ConsoleError(
                "GRAVICORS_CONSOLE needs a config store: set GRAVICORS_STORE (a SQLAlchemy URL, e.g. sqlite:////path/gravicors.db)"
            )
        if not config.get("SECRET_KEY"):
            raise ConsoleError(
                "GRAVICORS_CONSOLE needs SECRET_KEY (it signs the console's CSRF tokens and cookies): "
                "set it to a long random value, the same in every worker"
            )
        prefix = config.get("GRAVICORS_CONSOLE_PREFIX", DEFAULT_PREFIX)
        if not checks.is_mount_prefix(prefix):
            raise ConsoleError(
                f"GRAVICORS_CONSOLE_PREFIX must be an absolute path other than '/', like /gravicors; got {prefix!r}"
            )
        storage = config.get("GRAVICORS_CONSOLE_LIMITS_STORAGE", DEFAULT_LIMITS_STORAGE)
        if not isinstance(storage, str) or "://" not in storage:
            raise ConsoleError(
                f"GRAVICORS_CONSOLE_LIMITS_STORAGE must be a limits storage URI (memory:// or redis://...), got {storage!r}"
            )
        return cls(
            prefix=prefix,
            limits_storage=storage,
            login_attempts=int(_number(config, "GRAVICORS_CONSOLE_LOGIN_ATTEMPTS", DEFAULT_LOGIN_ATTEMPTS, 1, 1000)),
            login_window=_number(config, "GRAVICORS_CONSOLE_LOGIN_WINDOW", DEFAULT_LOGIN_WINDOW, 1, 86400),
            session_lifetime=_number(config, "GRAVICORS_CONSOLE_SESSION_LIFETIME", DEFAULT_SESSION_LIFETIME, 60, 30 * 86400),
        )


StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class ConsoleDispatcher:
    """The host app's outermost WSGI layer when the console is mounted: a request
    whose path is the prefix or lies under it (at a ``/`` boundary) goes to the
    console, with the prefix moved from ``PATH_INFO`` to ``SCRIPT_NAME``; anything
    else to ``app`` (the CORS layer and the host app) untouched.

    The path is compared as werkzeug routes it (leading slashes folded, as in
    :meth:`~flask_gravicors.core.Runtime.resolve_path`), so ``//gravicors/apis``
    is the console's too.
    """

    __slots__ = ("app", "console", "prefix", "_length")

    def __init__(self, app: WSGIApp, console: WSGIApp, prefix: str):
        self.app = app
        self.console = console
        self.prefix = prefix
        self._length = len(prefix)

    def owns(self, path: str) -> bool:
        return self.covers(self.prefix, path)

    @staticmethod
    def covers(prefix: str, path: str) -> bool:
        """Whether ``path`` is ``prefix`` or lies under it (at a ``/`` boundary),
        leading slashes folded as werkzeug folds them."""
        if path[:2] == "//":
            path = "/" + path.lstrip("/")
        return path.startswith(prefix) and path[len(prefix) : len(prefix) + 1] in ("", "/")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or ""
        if not path.startswith(self.prefix) and path[:2] != "//":
            return self.app(environ, start_response)
        if not self.owns(path):
            return self.app(environ, start_response)
        path = "/" + path.lstrip("/")
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "").rstrip("/") + self.prefix
        environ["PATH_INFO"] = path[self._length :] or "/"
        return self.console(environ, start_response)


class ConsoleState:
    """What the console's views reach through ``current_app.extensions[STATE_KEY]``."""

    def __init__(self, host: Flask, ext: GraviCORS, settings: ConsoleSettings):
        self._host = weakref.ref(host)
        self.ext = ext
        self.settings = settings
        from .throttle import LoginThrottle

        self.throttle = LoginThrottle(settings.limits_storage, settings.login_attempts, settings.login_window)

    @property
    def host(self) -> Flask:
        host = self._host()
        if host is None:
            raise RuntimeError("the app this console belongs to is gone")
        return host

    @property
    def store(self) -> AppStore:
        store = self.ext.store_for(self.host)
        if store is None:  # init_app refuses a console without a store
            raise RuntimeError("the console's app has no config store")
        return store


def create_console(host: Flask, ext: GraviCORS, settings: ConsoleSettings) -> Flask:
    """The console app of ``host`` (flaskr's ``create_app``): its blueprints, the
    server-side session in ``host``'s store, Flask-Login, CSRF protection and the
    security headers of every page."""
    from flask import Flask

    from . import apis, auth, history, users
    from .pages import install_pages

    console = Flask(__name__, static_folder="static", static_url_path="/static")
    console.config.update(
        SECRET_KEY=host.config["SECRET_KEY"],
        # A token stays valid as long as the session it belongs to: a form left
        # open for an hour still saves.
        WTF_CSRF_TIME_LIMIT=None,
        PREFERRED_URL_SCHEME=host.config.get("PREFERRED_URL_SCHEME", "http"),
        MAX_CONTENT_LENGTH=1024 * 1024,
        # Templates are read once; a console is no place for edits in production.
        TEMPLATES_AUTO_RELOAD=False,
    )
    console.extensions[STATE_KEY] = ConsoleState(host, ext, settings)
    # Order matters: the login check runs before the CSRF check, so a request
    # without a session is sent to the login page (or gets 401) whatever it is.
    auth.install(console)
    install_pages(console)
    for blueprint in (auth.bp, apis.bp, history.bp, users.bp):
        console.register_blueprint(blueprint)
    console.add_url_rule("/", endpoint="index", view_func=apis.root)
    return console


def mount(host: Flask, console: Flask) -> ConsoleDispatcher:
    """Mount ``console`` (made by :func:`create_console`) in front of ``host``'s WSGI
    stack: called by ``init_app`` once everything else is in place."""
    prefix = console.extensions[STATE_KEY].settings.prefix
    dispatcher = ConsoleDispatcher(host.wsgi_app, console, prefix)
    host.wsgi_app = dispatcher.__call__  # type: ignore[method-assign]
    host.extensions[STATE_KEY] = console
    return dispatcher


__all__ = ["ConsoleError", "ConsoleSettings", "ConsoleDispatcher", "create_console", "mount"]
