"""The Flask glue: :class:`GraviCORS`, its request hooks and ``reconfigure``."""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from flask import Flask, Response, current_app, has_app_context, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import MapAdapter

from . import checks
from .core import CompiledApi, Runtime
from .errors import ConfigError
from .plugins import collect_policies, make_plugin_manager
from .policy import Policy
from .schema import load_config, policy_failure, read_config
from .wsgi import REQUEST_KEY, CorsMiddleware, RequestState

if TYPE_CHECKING:
    from .store import Version
    from .store.app import AppStore

log = logging.getLogger("flask_gravicors")

EXTENSION_KEY = "gravicors"


def _url_adapter(app: Flask, environ: dict[str, Any]) -> MapAdapter:
    """The adapter Flask's ``create_url_adapter`` would build for this request."""
    subdomain = None
    server_name = app.config["SERVER_NAME"]
    if app.url_map.host_matching:
        server_name = None
    elif not app.subdomain_matching:
        subdomain = app.url_map.default_subdomain or ""
    return app.url_map.bind_to_environ(environ, server_name=server_name, subdomain=subdomain)


def _blueprint_resolver(app: Flask) -> Any:
    app_ref = weakref.ref(app)

    def blueprint_of(environ: dict[str, Any]) -> str | None:
        # Route exactly as Flask will, so a blueprint-bound API covers every
        # request that reaches one of the blueprint's views.
        app = app_ref()
        if app is None:
            return None
        adapter = _url_adapter(app, environ)
        try:
            rule, _ = adapter.match(return_rule=True)
        except MethodNotAllowed as err:
            # The URL is the blueprint's even when the method is not: its 405 is the
            # API's answer (CORS headers: scripts can read it), as its preflight was.
            try:
                rule, _ = adapter.match(method=sorted(err.valid_methods or ("GET",))[0], return_rule=True)
            except HTTPException:
                return None
        except HTTPException:
            return None
        return str(rule.endpoint).rpartition(".")[0] or None

    return blueprint_of


def _before_request() -> Any:
    # The request object itself, not the ``request`` proxy: each attribute read
    # through the proxy costs a context lookup (about 0.7 µs), here and in policies.
    req = request._get_current_object()  # type: ignore[attr-defined]
    state: RequestState | None = req.environ.get(REQUEST_KEY)
    if state is None:
        return None
    for policy in state.api.policies:
        state.ran += 1
        answer = policy.on_request(req)
        if answer is not None:
            state.answered = True
            return answer
    if state.preflight is not None:
        # runPolicies on and every policy let the preflight through: Gravitee
        # stands an empty 200 in for the backend; the view never runs.
        return Response(status=200)
    return None


def _after_request(response: Response) -> Response:
    req = request._get_current_object()  # type: ignore[attr-defined]
    state: RequestState | None = req.environ.get(REQUEST_KEY)
    if state is None:
        return response
    for index, policy in state.api.response_policies:
        if index < state.ran:
            replaced = policy.on_response(req, response)
            if replaced is not None:
                response = replaced
    return response


def _install_hooks(app: Flask, runtime: Runtime) -> None:
    """Add the policy hooks ``runtime`` needs and ``app`` lacks (never removed).

    APIs with no policies pay nothing for the chain (each Flask hook costs a few µs
    per request, see ``benchmarks/``): the before hook is installed once an API has
    a policy, the after hook once a policy acts on responses. Policies run first
    among before_request hooks (the gateway runs them before the backend) and act
    last on the response. Lists are replaced, not changed in place, so a request
    iterating them meanwhile never sees a hook twice.
    """
    before = app.before_request_funcs.get(None, [])
    if any(api.policies for api in runtime.apis) and _before_request not in before:
        app.before_request_funcs[None] = [_before_request, *before]
    after = app.after_request_funcs.get(None, [])
    if any(api.response_policies for api in runtime.apis) and _after_request not in after:
        app.after_request_funcs[None] = [_after_request, *after]


def _policy_chains(config: Mapping[str, Any]) -> list[list[Policy]]:
    """Each API's policy objects, made from their loaded configs.

    A policy whose constructor raises (a plugin's bug, or a config its schema let
    through) is reported as gravicors.E015 at its path, all of them in one
    ConfigError: only a ConfigError leaves ``init_app`` and ``reconfigure``.
    """
    chains: list[list[Policy]] = []
    failed: dict[int, Any] = {}
    for i, api in enumerate(config["apis"]):
        chain = []
        for j, ref in enumerate(api["policies"]):
            try:
                chain.append(ref["policy"](ref["config"], api["name"]))
            except Exception as err:  # noqa: BLE001 - reported as a config problem
                failed.setdefault(i, {}).setdefault("policies", {})[j] = [policy_failure(ref["name"], err)]
        chains.append(chain)
    if failed:
        raise ConfigError({"apis": failed})
    return chains


class GraviCORS:
    """Gravitee-style per-API CORS and policy chains for a Flask app.

    ``GraviCORS(app)``, or ``GraviCORS()`` then ``init_app(app)`` in an app factory.
    ``apis`` (a list of API objects) takes precedence over ``app.config["GRAVICORS"]``;
    ``plugins`` adds plugin objects or modules to those found through the
    ``flask_gravicors`` entry-point group (``entry_points=False`` skips that group).
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        apis: Sequence[Mapping[str, Any]] | None = None,
        plugins: Iterable[Any] = (),
        entry_points: bool = True,
    ):
        self._apis = apis
        self._plugins = list(plugins)
        self._entry_points = entry_points
        self._pm: Any = None
        self._policies: dict[str, type[Policy]] | None = None
        # Middlewares of the apps this instance serves; weak, the app owns them.
        self._middlewares: weakref.WeakKeyDictionary[Flask, CorsMiddleware] = weakref.WeakKeyDictionary()
        # The raw config (as read, before validation) each app runs: what
        # ``running_config`` returns and ``flask gravicors check`` re-checks.
        self._raw: weakref.WeakKeyDictionary[Flask, Any] = weakref.WeakKeyDictionary()
        # The config store of each app that has one (GRAVICORS_STORE).
        self._stores: weakref.WeakKeyDictionary[Flask, AppStore] = weakref.WeakKeyDictionary()
        # The console's prefix of each app that mounts it: no API may lie inside.
        self._reserved: weakref.WeakKeyDictionary[Flask, str] = weakref.WeakKeyDictionary()
        if app is not None:
            self.init_app(app)

    @property
    def policies(self) -> Mapping[str, type[Policy]]:
        """Installed policy classes by name (plugins are loaded on first use)."""
        if self._policies is None:
            self._pm = make_plugin_manager(self._plugins, self._entry_points)
            self._policies = collect_policies(self._pm)
        return self._policies

    def init_app(self, app: Flask) -> None:
        """Validate the config, install the WSGI layer and the policy hooks.

        Reads ``app.config["GRAVICORS"]``: ``{"apis": [...]}`` or the path of a JSON
        file holding it (ignored when ``apis=`` was given to the constructor).
        Raises :class:`ConfigError` naming every problem; the app is left untouched.

        With ``app.config["GRAVICORS_STORE"]`` (a SQLAlchemy URL, see
        :mod:`flask_gravicors.store`) the store's newest version runs instead (an
        empty store is seeded with the config above), and in a serving process a
        watcher applies each new version. Also read then:
        ``GRAVICORS_STORE_WATCH`` (force the watcher on or off) and
        ``GRAVICORS_STORE_POLL_INTERVAL`` (seconds, default 0.25).

        With ``app.config["GRAVICORS_CONSOLE"] = True`` (and a store, and
        ``SECRET_KEY``) the console is mounted at ``GRAVICORS_CONSOLE_PREFIX``
        (default ``/gravicors``), in front of the CORS layer; it also reads
        ``GRAVICORS_CONSOLE_LIMITS_STORAGE``, ``GRAVICORS_CONSOLE_LOGIN_ATTEMPTS``,
        ``GRAVICORS_CONSOLE_LOGIN_WINDOW`` and ``GRAVICORS_CONSOLE_SESSION_LIFETIME``
        (see :mod:`flask_gravicors.console`). Raises
        :class:`~flask_gravicors.console.ConsoleError` when it cannot be mounted.
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("flask_gravicors is already initialised on this app; call init_app once per app")
        raw = read_config({"apis": list(self._apis)} if self._apis is not None else app.config.get("GRAVICORS"))
        console = None
        if app.config.get("GRAVICORS_CONSOLE"):
            from .console import ConsoleSettings, create_console

            # Before anything is opened: a console without its extra, a store or a
            # SECRET_KEY is refused with a clear error, and no API may sit inside
            # its prefix (checked from here on by load(), every save included; an
            # init_app that fails leaves the entry, which checks nothing served).
            settings = ConsoleSettings.from_app(app)
            console = create_console(app, self, settings)
            self._reserved[app] = settings.prefix
        store = None
        if app.config.get("GRAVICORS_STORE"):
            from .store.app import AppStore

            store = AppStore.for_app(self, app)
            try:
                raw = store.startup(raw)
                runtime = self._compile(raw, app)
            except BaseException:
                store.close()
                raise
        else:
            runtime = self._compile(raw, app)
        middleware = CorsMiddleware(app.wsgi_app, runtime)
        # The bound method, not the instance: Flask calls app.wsgi_app on every
        # request, and calling an instance goes through type-slot dispatch (about
        # 0.5% of a GET, measured). The instance stays reachable as __self__.
        app.wsgi_app = middleware.__call__  # type: ignore[method-assign]
        app.extensions[EXTENSION_KEY] = self
        self._middlewares[app] = middleware
        self._raw[app] = raw
        _install_hooks(app, runtime)
        if store is not None:
            self._stores[app] = store
            store.start()
        if console is not None:
            from .console import mount

            # In front of the CORS layer: the console's pages never reach it.
            mount(app, console)

    def _app_for(self, app: Flask | None, what: str) -> Flask:
        """``app``, else the current app, else the only app this instance serves."""
        if app is None:
            if has_app_context():
                app = current_app._get_current_object()  # type: ignore[attr-defined]
            elif len(self._middlewares) == 1:
                app = next(iter(self._middlewares.keys()))
            else:
                raise RuntimeError(f"{what} needs app= when this GraviCORS serves several apps")
        if app not in self._middlewares:
            raise RuntimeError("flask_gravicors is not initialised on this app")
        return app  # type: ignore[return-value]

    def reconfigure(
        self,
        new_config: Any,
        app: Flask | None = None,
        *,
        author: str = "api",
        comment: str = "",
        expected_version: int | None = None,
        source: str = "api",
    ) -> Version | None:
        """Validate ``new_config`` and swap it in atomically for ``app``.

        ``app`` defaults to the current app, or to the only app this instance serves.
        A request sees the old or the new config, never a mix (one reference is
        swapped, and each request reads it once). A bad config raises
        :class:`ConfigError` and the old one stays.

        With a store, the config is saved as a new version first (``author``,
        ``comment``, ``expected_version`` and ``source`` as for
        :meth:`AppStore.save <flask_gravicors.store.app.AppStore.save>`), and
        returned; every worker applies it.
        """
        app = self._app_for(app, "reconfigure()")
        store = self._stores.get(app)
        if store is not None:
            version = store.save(new_config, author=author, comment=comment, expected_version=expected_version, source=source)
            store.apply(version, raise_errors=True)
            return version
        self._swap(app, read_config(new_config))
        return None

    def _swap(self, app: Flask, raw: Any) -> None:
        """Compile ``raw`` and swap it in for ``app`` (reconfigure, and the store's
        watcher applying a saved version)."""
        runtime = self._compile(raw, app)
        # Hooks first, then the swap: a request that sees the new config finds them.
        _install_hooks(app, runtime)
        self._middlewares[app].runtime = runtime
        self._raw[app] = raw

    @property
    def store(self) -> AppStore | None:
        """The config store of the current app (or of the only app this instance
        serves); ``None`` when it has no ``GRAVICORS_STORE``."""
        return self._stores.get(self._app_for(None, "store"))

    def store_for(self, app: Flask) -> AppStore | None:
        """The config store of ``app``; ``None`` when it has no ``GRAVICORS_STORE``."""
        return self._stores.get(app)

    def running_config(self, app: Flask) -> Any:
        """The config ``app`` runs, as it was given (read from its file when it
        was a path), before validation: what ``init_app`` or the last successful
        ``reconfigure`` applied."""
        try:
            return self._raw[app]
        except KeyError:
            raise RuntimeError("flask_gravicors is not initialised on this app") from None

    def runtime_for(self, app: Flask) -> Runtime:
        """The compiled snapshot ``app`` runs now (``flask gravicors routes`` reads it)."""
        return self._middlewares[app].runtime

    def load(self, raw: Any, app: Flask | None = None) -> dict[str, Any]:
        """Validate ``raw`` exactly as ``init_app`` does for ``app``, and return the
        loaded config: the schemas with this instance's policies and, when ``app``
        mounts the console, no API inside its prefix (gravicors.E090). Every save to
        ``app``'s store and ``flask gravicors check`` call this. Raises
        :class:`ConfigError` naming every problem."""
        prefix = self._reserved.get(app) if app is not None else None
        if prefix is None:
            return load_config(raw, self.policies)
        raw = read_config(raw)
        reserved = checks.check_reserved_prefix(raw, prefix)
        try:
            config = load_config(raw, self.policies)
        except ConfigError as err:
            raise ConfigError(checks.merge_messages(err.messages, reserved) if reserved else err.messages) from None
        if reserved:
            raise ConfigError(reserved)
        return config

    def _compile(self, raw: Any, app: Flask) -> Runtime:
        config = self.load(raw, app)
        apis = [CompiledApi(api, chain) for api, chain in zip(config["apis"], _policy_chains(config), strict=True)]
        runtime = Runtime(apis, _blueprint_resolver(app))
        self._pm.hook.gravicors_config_loaded(apis=runtime.apis)
        for warning in checks.config_warnings(config, app.debug):
            log.warning("%s", warning)
        return runtime
