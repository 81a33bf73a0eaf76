"""The Flask glue: :class:`GraviCORS`, its request hooks and ``reconfigure``."""

from __future__ import annotations

import logging
import os
import sys
import weakref
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from flask import Flask, Response, current_app, has_app_context, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import MapAdapter

from . import checks, settings
from .core import Builder, Runtime, compile_runtime
from .dynamic import DEFAULT_TTL
from .errors import ConfigError, plugin_failure, problem
from .flows import CompiledFlow
from .plugins import collect_policies, collect_security_types, make_plugin_manager
from .policy import Policy
from .schema import load_config, read_config
from .security import SecurityType, select_plan
from .templates import Failure, render
from .wsgi import ACTUAL, FAILED_PREFLIGHT, REQUEST_KEY, CorsMiddleware, RequestState

if TYPE_CHECKING:
    from .explain import BrowserRequest, Report
    from .metrics import Metrics
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
        try:
            adapter = _url_adapter(app, environ)
        except HTTPException:
            # A Host werkzeug cannot bind (BadHost): Flask answers 400 and no view,
            # the blueprint's included, runs.
            return None
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


def _answer(status: int, headers: list[tuple[str, str]], body: bytes) -> Response:
    """A Flask response from :func:`~.templates.render`'s parts (werkzeug sets
    Content-Length itself)."""
    return Response(body, status=status, headers=[(n, v) for n, v in headers if n.lower() != "content-length"])


def _counted(state: RequestState, policy: str, answer: Any) -> Any:
    """``answer`` (a step's or a plan's) as a response, counted in
    ``gravicors_policy_answers_total`` when metrics are on (Flask would make the
    same response from it after the hook)."""
    metrics = state.api.metrics
    if metrics is None:
        return answer
    response = current_app.make_response(answer)
    metrics.policy_answer(state.api.name, policy, response.status_code)
    return response


def _enter(state: RequestState, flows: tuple[CompiledFlow, ...], req: Any, platform: bool = False) -> Any:
    """Run the request steps of ``flows`` in order; the first answer stops them (a
    Failure is written through the API's response templates). A flow with work on
    the way out is recorded, with how many of its request steps ran, in
    ``state.platform`` or ``state.entered``."""
    for flow in flows:
        entry: list[Any] | None = None
        if flow.on_the_way_out:
            entry = [flow, 0]
            if platform:
                state.platform.append(entry)
            else:
                state.entered.append(entry)
        for policy in flow.request:
            if entry is not None:
                entry[1] += 1
            answer = policy.on_request(req)
            if answer is not None:
                state.answered = True
                if isinstance(answer, Failure):
                    answer = _answer(*render(answer, state.api.templates, req.headers.get("Accept")))
                return _counted(state, getattr(policy, "name", type(policy).__name__), answer)
    return None


def _before_request() -> Any:
    """The request phase, in Gravitee's order: platform flows, plan security, plan
    flows, API flows; on a valid preflight only platform flows and, with
    ``run_policies`` on, API flows, then an empty 200 standing in for the view; on
    a failed preflight only platform flows, then the refusal."""
    # The request object itself, not the ``request`` proxy: each attribute read
    # through the proxy costs a context lookup (about 0.7 µs), here and in policies.
    req = request._get_current_object()  # type: ignore[attr-defined]
    state: RequestState | None = req.environ.get(REQUEST_KEY)
    if state is None:
        return None
    api = state.api
    # The path relative to the context path, only when some selector reads it.
    rel = api.relative_path(req.path) if api.selects_by_path else "/"
    method = req.method
    if api.platform:
        answer = _enter(state, api.platform.select(rel, method), req, platform=True)
        if answer is not None:
            return answer
    kind = state.kind
    if kind == FAILED_PREFLIGHT:
        state.answered = True
        return _answer(*state.refusal)  # type: ignore[misc]
    if kind == ACTUAL:
        if api.plans:
            plan, failure = select_plan(api.plans, req)
            if failure is not None:
                state.answered = True
                return _counted(state, "security", _answer(*render(failure, api.templates, req.headers.get("Accept"))))
            if plan is not None and plan.flows:
                answer = _enter(state, plan.flows.select(rel, method), req)
                if answer is not None:
                    return answer
        return _enter(state, api.flows.select(rel, method), req) if api.flows else None
    # A valid preflight: never plan security nor plan flows (Gravitee skips security
    # on preflights: a browser sends no credentials there; its tracker's #825).
    if api.cors.run_policies and api.flows:
        answer = _enter(state, api.flows.select(rel, method), req)
        if answer is not None:
            return answer
    # Gravitee stands an empty 200 in for the backend; the view never runs.
    return Response(status=200)


def _after_request(response: Response) -> Response:
    """The response phase, in Gravitee's order: plan flows, API flows, then platform
    flows. A request step's on_response runs whenever its on_request ran; response
    steps of plan and API flows only when no step answered; platform flows'
    response steps always."""
    req = request._get_current_object()  # type: ignore[attr-defined]
    state: RequestState | None = req.environ.get(REQUEST_KEY)
    if state is None:
        return response
    for flow, ran in state.entered:
        response = _leave(flow, ran, not state.answered, req, response)
    for flow, ran in state.platform:
        response = _leave(flow, ran, True, req, response)
    return response


def _leave(flow: CompiledFlow, ran: int, response_steps: bool, req: Any, response: Response) -> Response:
    for index in flow.completions:
        if index < ran:
            replaced = flow.request[index].on_response(req, response)
            if replaced is not None:
                response = replaced
    if response_steps:
        for policy in flow.response:
            replaced = policy.on_response(req, response)
            if replaced is not None:
                response = replaced
    return response


def _install_hooks(app: Flask, runtime: Runtime) -> None:
    """Add the hooks ``runtime`` needs and ``app`` lacks (never removed).

    APIs with no plans and no flows pay nothing for them (each Flask hook costs a
    few µs per request, see ``benchmarks/``): the before hook is installed once an
    API has a plan or a flow (or there are platform flows), the after hook once a
    step acts on responses. The hooks run first among before_request hooks (the
    gateway runs its chain before the backend) and act last on the response. Lists
    are replaced, not changed in place, so a request iterating them meanwhile never
    sees a hook twice.
    """
    before = app.before_request_funcs.get(None, [])
    if any(api.chain for api in runtime.apis) and _before_request not in before:
        app.before_request_funcs[None] = [_before_request, *before]
    after = app.after_request_funcs.get(None, [])
    if any(api.acts_on_response for api in runtime.apis) and _after_request not in after:
        app.after_request_funcs[None] = [_after_request, *after]


class GraviCORS:
    """Gravitee-style per-API CORS, plans and flows for a Flask app.

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
        self._security_types: dict[str, type[SecurityType]] | None = None
        # Middlewares of the apps this instance serves; weak, the app owns them.
        self._middlewares: weakref.WeakKeyDictionary[Flask, CorsMiddleware] = weakref.WeakKeyDictionary()
        # The raw config (as read, before validation) each app runs: what
        # ``running_config`` returns and ``flask gravicors check`` re-checks.
        self._raw: weakref.WeakKeyDictionary[Flask, Any] = weakref.WeakKeyDictionary()
        # The config store of each app that has one (GRAVICORS_STORE).
        self._stores: weakref.WeakKeyDictionary[Flask, AppStore] = weakref.WeakKeyDictionary()
        # The console's prefix of each app that mounts it: no API may lie inside.
        self._reserved: weakref.WeakKeyDictionary[Flask, str] = weakref.WeakKeyDictionary()
        # The metrics of each app that has them on (GRAVICORS_METRICS).
        self._metrics: weakref.WeakKeyDictionary[Flask, Metrics] = weakref.WeakKeyDictionary()
        if app is not None:
            self.init_app(app)

    @property
    def policies(self) -> Mapping[str, type[Policy]]:
        """Installed policy classes by name (plugins are loaded on first use)."""
        self._load_plugins()
        return self._policies  # type: ignore[return-value]

    @property
    def security_types(self) -> Mapping[str, type[SecurityType]]:
        """Installed plan security types by name, ``keyless`` included."""
        self._load_plugins()
        return self._security_types  # type: ignore[return-value]

    def _load_plugins(self) -> None:
        if self._pm is None:
            pm = make_plugin_manager(self._plugins, self._entry_points)
            self._policies = collect_policies(pm)
            self._security_types = collect_security_types(pm)
            self._pm = pm

    def init_app(self, app: Flask) -> None:
        """Validate the config, install the WSGI layer and the plan and flow hooks.

        Reads ``app.config["GRAVICORS"]``: ``{"apis": [...], "flows": [...]}`` or the
        path of a JSON file holding it (ignored when ``apis=`` was given to the
        constructor), and ``app.config["GRAVICORS_DYNAMIC_ORIGINS_TTL"]``: how many
        seconds a run-time origin decision is cached (default 60). Raises
        :class:`ConfigError` naming every problem; the app is left untouched.

        With ``app.config["GRAVICORS_STORE"]`` (a SQLAlchemy URL, see
        :mod:`flask_gravicors.store`) the store's newest version this app can run
        runs instead (an empty store is seeded with the config above; see
        :meth:`AppStore.startup <flask_gravicors.store.app.AppStore.startup>`), and
        in a serving process a watcher applies each new version. Also read then:
        ``GRAVICORS_STORE_WATCH`` (force the watcher on or off) and
        ``GRAVICORS_STORE_POLL_INTERVAL`` (seconds, default 0.25).

        With ``app.config["GRAVICORS_CONSOLE"] = True`` (and a store, and
        ``SECRET_KEY``) the console is mounted at ``GRAVICORS_CONSOLE_PREFIX``
        (default ``/gravicors``), in front of the CORS layer; it also reads
        ``GRAVICORS_CONSOLE_LIMITS_STORAGE``, ``GRAVICORS_CONSOLE_LOGIN_ATTEMPTS``,
        ``GRAVICORS_CONSOLE_LOGIN_WINDOW`` and ``GRAVICORS_CONSOLE_SESSION_LIFETIME``
        (see :mod:`flask_gravicors.console`). Raises
        :class:`~flask_gravicors.console.ConsoleError` when it cannot be mounted.

        ``GRAVICORS_DEBUG`` (default False): refusals are logged at WARNING with the
        refused value and the list that lacks it, and a refused preflight's 400 body
        names the value (warning :rule:`gravicors.W012` when ``app.debug`` is off).

        ``GRAVICORS_METRICS`` (default False, needs the ``metrics`` extra): Prometheus
        metrics of every CORS decision (:mod:`flask_gravicors.metrics`), served at
        ``GRAVICORS_METRICS_PATH`` (default ``/metrics``, outside every API), counted
        in ``GRAVICORS_METRICS_DIR`` (default: the environment's
        ``PROMETHEUS_MULTIPROC_DIR``, else a directory of this process's own).
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("flask_gravicors is already initialised on this app; call init_app once per app")
        # The app's settings first: a bad one refuses every config, so it must stop
        # the start before any version is judged (or seeded) by it.
        debug = _flag(app, "GRAVICORS_DEBUG")
        _dynamic_ttl(app)
        metrics = _metrics(app)
        if settings.text(app.config, "GRAVICORS_STORE") is not None:
            from .store.app import store_settings

            store_settings(app.config)
        raw = read_config({"apis": list(self._apis)} if self._apis is not None else app.config.get("GRAVICORS"))
        console = None
        if _flag(app, "GRAVICORS_CONSOLE"):
            from .console import ConsoleSettings, create_console

            # Before anything is opened: a console without its extra, a store or a
            # SECRET_KEY is refused with a clear error.
            console_settings = ConsoleSettings.from_app(app)
            if metrics is not None:
                _check_metrics_path(metrics.path, console_settings.prefix)
            console = create_console(app, self, console_settings)
        try:
            # What load() checks for this app from here on, every save included: no
            # API inside the console's prefix, none owning the metrics path.
            if console is not None:
                self._reserved[app] = console_settings.prefix
            if metrics is not None:
                self._metrics[app] = metrics
            store, runtime, raw = self._start(app, raw, metrics)
        except BaseException:
            self._reserved.pop(app, None)
            self._metrics.pop(app, None)
            raise
        if debug and not app.debug:
            log.warning("%s", problem("gravicors.W012", f"app {app.name!r}"))
        middleware = CorsMiddleware(app.wsgi_app, runtime, debug=debug, metrics=metrics)
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

    def _start(self, app: Flask, raw: Any, metrics: Metrics | None) -> tuple[AppStore | None, Runtime, Any]:
        """The store (``GRAVICORS_STORE``), the compiled runtime and the raw config
        ``app`` starts with: ``raw``, or the store's newest version this app can run
        (:meth:`AppStore.startup <flask_gravicors.store.app.AppStore.startup>`)."""
        if not app.config.get("GRAVICORS_STORE"):
            return None, self._compile(raw, app), raw
        from .store.app import AppStore

        store = AppStore.for_app(self, app)
        if metrics is not None:
            store.observer = metrics.config_reload
        try:
            raw = store.startup(raw)
            runtime = self._compile(raw, app)
        except BaseException:
            store.close()
            raise
        if metrics is not None and store.applied is not None:
            metrics.config_version(store.applied)
        return store, runtime, raw

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
        """Validate ``raw`` exactly as ``init_app`` and ``reconfigure`` do for
        ``app``, and return the loaded config. Raises :class:`ConfigError` naming
        every problem.

        This is the one definition of a valid config: every save to ``app``'s
        store (seeding included), ``flask gravicors check`` and the store's start-up
        call it. It checks the schemas with this instance's policies, then compiles
        the config on trial (nothing is applied, no hook is called): so a plugin
        whose class refuses its configuration (gravicors.E015) and, for ``app``, a
        bad ``GRAVICORS_DYNAMIC_ORIGINS_TTL`` (E003), an API inside the console's
        prefix (E090) or owning ``GRAVICORS_METRICS_PATH`` (E092) are refused here
        too, not first when a worker applies the config.
        """
        return self._build(read_config(raw), app)[0]

    def _build(self, raw: Any, app: Flask | None) -> tuple[dict[str, Any], Runtime]:
        """:meth:`load`'s checks; the loaded config and its compiled runtime."""
        # The paths this app keeps for itself, checked on the config as given so
        # that their problems come with the schema's, all at once.
        prefix = self._reserved.get(app) if app is not None else None
        reserved = checks.check_reserved_prefix(raw, prefix) if prefix is not None else {}
        metrics = self._metrics.get(app) if app is not None else None
        if metrics is not None:
            reserved = checks.merge_messages(reserved, checks.check_metrics_path(raw, metrics.path))
        try:
            config = load_config(raw, self.policies, self.security_types)
        except ConfigError as err:
            raise ConfigError(checks.merge_messages(err.messages, reserved) if reserved else err.messages) from None
        if reserved:
            raise ConfigError(reserved)
        return config, self._runtime(config, app)

    def metrics_for(self, app: Flask) -> Metrics | None:
        """The metrics of ``app``; ``None`` unless ``GRAVICORS_METRICS`` is on."""
        return self._metrics.get(app)

    def explain(self, request: BrowserRequest, *, config: Any = None, app: Flask | None = None) -> Report:
        """What a browser does with ``request`` (a
        :class:`~flask_gravicors.explain.BrowserRequest`), and why
        (:func:`flask_gravicors.explain.explain`), decided by the same code the
        request path runs: against the config ``app`` runs, or against ``config``
        (validated and compiled here, not applied: the console's *Try it* on a form
        not yet saved). Raises :class:`ConfigError` for a bad ``config``.
        """
        from .explain import explain

        app = self._app_for(app, "explain()")
        if config is None:
            raw, runtime = self._raw[app], self._middlewares[app].runtime
        else:
            raw = read_config(config)
            runtime = self._build(raw, app)[1]
        return explain(runtime, request, config=raw, validate=lambda changed: self.load(changed, app))

    def _runtime(self, config: Mapping[str, Any], app: Flask | None) -> Runtime:
        """A loaded config compiled for ``app`` (its plugins, its origin hook), or
        for no app in particular (default TTL, no blueprint routing)."""
        ttl = DEFAULT_TTL if app is None else _dynamic_ttl(app)
        hook = self._pm.hook.gravicors_origin_allowed
        builder = Builder(
            self.policies,
            self.security_types,
            lambda api_name, origin: hook(api_name=api_name, origin=origin),
            ttl,
        )
        return compile_runtime(config, builder, None if app is None else _blueprint_resolver(app))

    def _compile(self, raw: Any, app: Flask) -> Runtime:
        """``raw`` checked (:meth:`load`) and compiled for ``app``, ready to run: its
        APIs count in the app's metrics, and the plugins' hook was told."""
        config, runtime = self._build(read_config(raw), app)
        metrics = self._metrics.get(app)
        if metrics is not None:
            runtime.reserve(metrics.path)
            for api in runtime.apis:
                api.metrics = metrics
        try:
            self._pm.hook.gravicors_config_loaded(apis=runtime.apis)
        except Exception as err:
            # The hookspec lets an observer veto a config; only ConfigError leaves
            # init_app and reconfigure (SECURITY.md), so the veto is one.
            raise ConfigError({"plugins": [plugin_failure("hook", "gravicors_config_loaded", err)]}) from None
        hook = self._pm.hook.gravicors_origin_allowed
        warnings = checks.config_warnings(config, app.debug)
        if not hook.get_hookimpls():
            warnings += [
                problem("gravicors.W011", f"API {api['name']!r}") for api in config["apis"] if api["cors"]["dynamic_origins"]
            ]
        for warning in warnings:
            log.warning("%s", warning)
        return runtime


def _flag(app: Flask, key: str) -> bool:
    """A boolean app config key (default False); anything else is gravicors.E003."""
    return bool(settings.flag(app.config, key))


def _dynamic_ttl(app: Flask) -> float:
    """``GRAVICORS_DYNAMIC_ORIGINS_TTL`` (default 60), checked: gravicors.E003."""
    return settings.number(app.config, "GRAVICORS_DYNAMIC_ORIGINS_TTL", DEFAULT_TTL, 0, 86400)


def _check_metrics_path(path: str, prefix: str) -> None:
    """gravicors.E092 when the metrics path and the console's prefix (in front of
    the CORS layer, where the metrics are answered) lie one inside the other: the
    console would answer the metrics' requests (its login page), or share its
    namespace with them."""
    from .console import ConsoleDispatcher

    metrics_root = "/" + path.strip("/")
    if ConsoleDispatcher.covers(prefix, path) or ConsoleDispatcher.covers(metrics_root, prefix):
        raise ConfigError(
            {"GRAVICORS_METRICS_PATH": [problem("gravicors.E092", f"{path!r} and the console's prefix {prefix!r} overlap")]}
        )


def _metrics(app: Flask) -> Metrics | None:
    """The app's :class:`~flask_gravicors.metrics.Metrics` when ``GRAVICORS_METRICS``
    is on (its settings checked: gravicors.E003, E092, E093), else ``None``."""
    if not _flag(app, "GRAVICORS_METRICS"):
        return None
    path = app.config.get("GRAVICORS_METRICS_PATH", "/metrics")
    usable = isinstance(path, str) and path.startswith("/") and path.isascii() and path.isprintable()
    if not usable or any(c in path for c in " ?#"):
        raise ConfigError({"GRAVICORS_METRICS_PATH": [problem("gravicors.E092", f"{path!r}: an absolute path such as /metrics")]})
    directory = app.config.get("GRAVICORS_METRICS_DIR") or os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
    if directory is not None and (not isinstance(directory, str) or not os.path.isdir(directory)):
        raise ConfigError({"GRAVICORS_METRICS_DIR": [problem("gravicors.E003", f"{directory!r}: an existing directory")]})
    if not getattr(sys, "_is_gil_enabled", lambda: True)():
        # Counting relies on the GIL (metrics.Count).
        raise ConfigError({"GRAVICORS_METRICS": [problem("gravicors.E093", "this Python runs without the GIL")]})
    try:
        from .metrics import Metrics
    except ImportError as err:
        raise ConfigError({"GRAVICORS_METRICS": [problem("gravicors.E093", str(err))]}) from None
    if directory is None and "gunicorn.arbiter" in sys.modules:
        log.warning("%s", problem("gravicors.W013", f"app {app.name!r}"))
    return Metrics(directory, path)
