"""A test kit for policy plugins and apps that use flask_gravicors.

Installed with flask-gravicors and registered as a pytest plugin (the ``pytest11``
entry point ``gravicors``), so its fixtures exist in every test suite of a project
that has flask-gravicors installed, without an import:

* :func:`gravicors_app` (fixture): :func:`make_app`, a factory of throwaway Flask
  apps serving the given APIs with the given plugins.

and its helpers are imported from here::

    from flask_gravicors.testing import api, cors, fetch, flow, step

    def test_limit(gravicors_app):
        app = gravicors_app([api("public", "/public", cors=cors(allow_origin=["https://app.example"]),
                                 flows=[flow(step("rate-limit", limit=1))])])
        fetch(app, "GET", "/public/x", origin="https://app.example").assert_allowed(status=200)
        fetch(app, "GET", "/public/x", origin="https://app.example").assert_allowed(status=429)

:func:`api`, :func:`cors`, :func:`plan`, :func:`flow` and :func:`step` write the
config's own shape (the dicts ``app.config["GRAVICORS"]`` holds, validated by the
same schemas), so what a test builds is what a user would write.
:func:`preflight`, :func:`actual` and :func:`fetch` send a request in one call and
return an :class:`Outcome`: what the browser makes of the answer (allowed or blocked,
and why; which response headers a script can read), so a test states the CORS
outcome instead of spelling out headers. The browser's side is Fetch's own checks
(the CORS check, the CORS-preflight fetch, the CORS-safelisted names), which decide
what a script sees whatever the server meant; the server's side is the app's own
answer, decided by flask_gravicors itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import pytest
from flask import Blueprint, Flask, request

from . import browser
from .extension import GraviCORS
from .flows import STARTS_WITH
from .wsgi import refused_check

if TYPE_CHECKING:
    from werkzeug.test import TestResponse

    from .core import CompiledApi

#: The page origin the helpers send when none is given.
ORIGIN = "https://app.example.com"

#: Methods a view of :func:`make_app` answers (Flask adds HEAD and OPTIONS).
VIEW_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# --- Configs: the config's own shape --------------------------------------------


def cors(**fields: Any) -> dict[str, Any]:
    """A ``cors`` block, enabled unless ``enabled=False`` is given."""
    return {"enabled": True, **fields}


def step(policy: str, **configuration: Any) -> dict[str, Any]:
    """One step of a flow: ``step("rate-limit", limit=5)`` runs the installed policy
    ``rate-limit`` with that ``configuration``."""
    return {"policy": policy, "configuration": configuration}


def flow(
    *steps: Mapping[str, Any],
    response: Sequence[Mapping[str, Any]] = (),
    path: str = "/",
    path_operator: str = STARTS_WITH,
    methods: Iterable[str] = (),
    name: str = "",
) -> dict[str, Any]:
    """A flow: ``steps`` (:func:`step`) run on the request, each also acting on the
    response when its policy does, then the ``response`` steps; selected by ``path``
    (relative to the API's context path), ``path_operator`` (``STARTS_WITH`` or
    ``EQUALS``) and ``methods`` (none: every method). The default selects every
    request: ``flow(step("rate-limit", limit=5))``."""
    out: dict[str, Any] = {"name": name, "request": [dict(s) for s in steps], "response": [dict(s) for s in response]}
    methods = list(methods)
    if path != "/" or path_operator != STARTS_WITH or methods:
        out["selectors"] = [{"type": "http", "path": path, "path_operator": path_operator, "methods": methods}]
    return out


def plan(
    name: str, security: str = "keyless", *, flows: Sequence[Mapping[str, Any]] = (), **configuration: Any
) -> dict[str, Any]:
    """A plan: ``plan("Gold", "api-key", keys=["k1"])``; ``configuration`` goes to
    the security type's schema, ``flows`` run only when this plan was chosen."""
    out: dict[str, Any] = {"name": name, "security": security, "configuration": configuration}
    if flows:
        out["flows"] = [dict(f) for f in flows]
    return out


def policy(name: str, **config: Any) -> dict[str, Any]:
    """One entry of an API's legacy ``policies`` list: ``policy("rate-limit",
    limit=5)``, loaded as a step of one flow over every request. New tests write
    ``flows=[flow(step(...))]``."""
    return {"name": name, "config": config}


def api(
    name: str = "api",
    context_path: str | None = "/api",
    *,
    cors: Mapping[str, Any] | None = None,
    plans: Sequence[Mapping[str, Any]] = (),
    flows: Sequence[Mapping[str, Any]] = (),
    policies: Sequence[Mapping[str, Any]] = (),
    **fields: Any,
) -> dict[str, Any]:
    """One API: bound to ``context_path`` (or ``blueprint=NAME`` with
    ``context_path=None``), with an optional ``cors`` block, ``plans``
    (:func:`plan`), ``flows`` (:func:`flow`), legacy ``policies`` (:func:`policy`)
    and any other API field (``response_templates=``, ``entrypoints=``...)."""
    out: dict[str, Any] = {"name": name, **fields}
    if context_path is not None:
        out["context_path"] = context_path
    if cors is not None:
        out["cors"] = dict(cors)
    for key, items in (("plans", plans), ("flows", flows), ("policies", policies)):
        if items:
            out[key] = [dict(item) for item in items]
    return out


# --- A throwaway app --------------------------------------------------------------


def make_app(
    apis: Iterable[Mapping[str, Any]],
    *,
    flows: Sequence[Mapping[str, Any]] = (),
    plugins: Iterable[Any] = (),
    entry_points: bool = True,
    debug: bool = False,
) -> Flask:
    """A Flask app with ``GraviCORS`` serving ``apis``, and a view on every path.

    One catch-all view answers every path and :data:`VIEW_METHODS` with
    ``{"path": <request path>}``; an API bound to a blueprint (``"blueprint":
    "shop"``, or ``"shop.admin"`` for a nested one) gets a blueprint of that name
    mounted at ``/shop`` (``/shop/admin``) with the same view. ``app.view_calls``
    lists the paths the view served, in order: a policy that answered leaves no
    entry. ``flows`` are platform flows (every API, every request, before its
    plan). ``plugins`` and ``entry_points`` are given to :class:`GraviCORS`
    (installed plugins are found through their entry points unless
    ``entry_points=False``). Raises :class:`~flask_gravicors.ConfigError` as
    ``init_app`` does.
    """
    app = Flask("gravicors_test_app")
    app.debug = debug
    apis = [dict(a) for a in apis]
    app.config["GRAVICORS"] = {"apis": apis, **({"flows": [dict(f) for f in flows]} if flows else {})}
    calls: list[str] = []
    app.view_calls = calls  # type: ignore[attr-defined]

    def view(path: str = "") -> Any:
        calls.append(request.path)
        return {"path": request.path}

    def route(target: Flask | Blueprint, root: str) -> None:
        target.add_url_rule(root, "any_root", view, methods=VIEW_METHODS)
        target.add_url_rule("/<path:path>", "any", view, methods=VIEW_METHODS)

    route(app, "/")
    made: dict[str, Blueprint] = {}
    for name in sorted({a["blueprint"] for a in apis if isinstance(a.get("blueprint"), str) and a["blueprint"]}):
        parent: Blueprint | None = None
        for depth, part in enumerate(name.split(".")):
            full = ".".join(name.split(".")[: depth + 1])
            if full not in made:
                made[full] = Blueprint(part, __name__, url_prefix="/" + part)
                route(made[full], "")
                if parent is not None:
                    parent.register_blueprint(made[full])
            parent = made[full]
    for full, blueprint in made.items():
        if "." not in full:
            app.register_blueprint(blueprint)
    GraviCORS(app, plugins=plugins, entry_points=entry_points)
    return app


@pytest.fixture
def gravicors_app() -> Callable[..., Flask]:
    """:func:`make_app`: ``gravicors_app([api(...)], plugins=[...])`` gives a new app."""
    return make_app


def compiled(app: Flask, name: str) -> CompiledApi:
    """The API called ``name`` as ``app`` runs it now: its ``plans`` (each with its
    ``security`` object), ``flows``, and ``policies`` (every step's policy object
    of its own flows), the instances your plugin's classes were given their
    configuration in."""
    for compiled_api in app.extensions["gravicors"].runtime_for(app).apis:
        if compiled_api.name == name:
            return compiled_api  # type: ignore[no-any-return]
    raise KeyError(f"no API named {name!r}")


# --- The browser's side: Fetch's checks -------------------------------------------


def _pairs(response: TestResponse) -> list[tuple[str, str]]:
    return list(response.headers.items())


def cors_check(response: TestResponse, origin: str, credentials: bool) -> str | None:
    """Fetch's CORS check of a response to a request from ``origin``: ``None`` when
    it passes, else why not. ``credentials``: the request's credentials mode is
    ``include`` (:func:`flask_gravicors.browser.cors_check`)."""
    blocked = browser.cors_check(_pairs(response), origin, credentials)
    return None if blocked is None else blocked.reason


def unsafe_request_headers(headers: Mapping[str, str]) -> list[str]:
    """The names a browser lists in ``Access-Control-Request-Headers`` for a request
    with ``headers`` (Fetch, "CORS-unsafe request-header names"): lower-cased,
    sorted, the safelisted ones left out."""
    return browser.unsafe_request_headers(headers)


def preflight_check(
    response: TestResponse, origin: str, method: str, header_names: Sequence[str], credentials: bool, private_network: bool
) -> str | None:
    """Fetch's CORS-preflight fetch, the browser's side: ``None`` when the browser
    goes on with the actual request, else why it does not."""
    blocked = browser.preflight_check(
        response.status_code, _pairs(response), origin, method, header_names, credentials, private_network
    )
    return None if blocked is None else blocked.reason


def readable_headers(response: TestResponse, credentials: bool) -> frozenset[str]:
    """Lower-cased names of the response headers a script can read (``headers.get``)
    once the CORS check passed: the safelisted ones and those exposed."""
    return browser.readable_headers(_pairs(response), credentials)


# --- Requests in one call -----------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a browser makes of an answer: :attr:`allowed` or blocked and why.

    For an actual request (:func:`actual`, :func:`fetch`): whether the script
    reads the response. For :func:`preflight`: whether the browser would go on to
    send the actual request.
    """

    #: ``"PUT /api/x"``: what was asked.
    request: str
    origin: str
    credentials: bool
    #: The answer the outcome is about: the actual response, or the preflight's
    #: when only a preflight was sent or it failed.
    response: TestResponse
    #: The preflight's answer, when one was sent.
    preflight: TestResponse | None
    #: Why the browser blocks it (``None`` when allowed).
    reason: str | None

    @property
    def allowed(self) -> bool:
        return self.reason is None

    @property
    def status(self) -> int:
        """The server's status (a blocked script never sees it)."""
        return self.response.status_code

    @property
    def refused_by(self) -> str | None:
        """``"origin"``, ``"method"`` or ``"headers"`` when flask_gravicors itself
        refused the preflight (its 400), else ``None``."""
        answer = self.preflight
        if answer is None or answer.status_code != 400:
            return None
        return refused_check(answer.get_data())

    @property
    def readable(self) -> frozenset[str]:
        """Lower-cased names of the headers a script can read; empty when blocked."""
        if not self.allowed or self.response is self.preflight:
            return frozenset()
        return readable_headers(self.response, self.credentials)

    def can_read(self, name: str) -> bool:
        return name.lower() in self.readable

    def header(self, name: str) -> str | None:
        """The value a script reads with ``response.headers.get(name)``."""
        return self.response.headers.get(name) if self.can_read(name) else None

    def __str__(self) -> str:
        verdict = "allowed" if self.allowed else f"blocked: {self.reason}"
        parts = [f"{self.request} from {self.origin}" + (" with credentials" if self.credentials else "")]
        if self.preflight is not None:
            refused = f" (refused: {self.refused_by})" if self.refused_by else ""
            parts.append(f"preflight {self.preflight.status_code}{refused}")
        if self.response is not self.preflight:
            parts.append(f"response {self.status}")
        return f"{', '.join(parts)}: {verdict}"

    def _explain(self) -> str:
        lines = [str(self)]
        for label, answer in (("preflight", self.preflight), ("response", self.response)):
            if answer is not None and not (label == "response" and answer is self.preflight):
                lines.append(f"  {label} headers: {list(answer.headers.items())}")
        return "\n".join(lines)

    def assert_allowed(self, *, status: int | None = None, readable: Iterable[str] = ()) -> Outcome:
        """Fail unless the browser allows it, with ``status`` (when given) and every
        name of ``readable`` readable by the script. Returns the outcome."""
        if not self.allowed:
            raise AssertionError(f"expected allowed:\n{self._explain()}")
        if status is not None and self.status != status:
            raise AssertionError(f"expected status {status}:\n{self._explain()}")
        missing = [name for name in readable if not self.can_read(name)]
        if missing:
            raise AssertionError(f"expected {missing} readable (readable: {sorted(self.readable)}):\n{self._explain()}")
        return self

    def assert_blocked(self, *, refused_by: str | None = None, reason: str | None = None) -> Outcome:
        """Fail unless the browser blocks it; ``refused_by`` (``"origin"``,
        ``"method"``, ``"headers"``) requires flask_gravicors's own preflight
        refusal, ``reason`` a text within the browser's reason. Returns the outcome."""
        if self.allowed:
            raise AssertionError(f"expected blocked:\n{self._explain()}")
        if refused_by is not None and self.refused_by != refused_by:
            raise AssertionError(f"expected the preflight refused by the {refused_by} check:\n{self._explain()}")
        if reason is not None and reason not in (self.reason or ""):
            raise AssertionError(f"expected a reason containing {reason!r}:\n{self._explain()}")
        return self


def _send(app: Flask, method: str, path: str, headers: Mapping[str, str], **kwargs: Any) -> TestResponse:
    return app.test_client().open(path, method=method, headers=dict(headers), **kwargs)


def preflight(
    app: Flask,
    path: str,
    *,
    method: str = "PUT",
    origin: str = ORIGIN,
    headers: Sequence[str] = (),
    credentials: bool = False,
    private_network: bool = False,
    **kwargs: Any,
) -> Outcome:
    """Send the preflight a browser sends before ``method`` on ``path`` with the
    request headers named in ``headers``; the outcome says whether the browser
    would go on. ``kwargs`` go to Flask's test client (``environ_base=`` ...)."""
    sent = {"Origin": origin, "Access-Control-Request-Method": method}
    names = sorted({h.lower() for h in headers})
    if names:
        sent["Access-Control-Request-Headers"] = ",".join(names)
    if private_network:
        sent["Access-Control-Request-Private-Network"] = "true"
    response = _send(app, "OPTIONS", path, sent, **kwargs)
    reason = preflight_check(response, origin, method, names, credentials, private_network)
    return Outcome(f"preflight of {method} {path}", origin, credentials, response, response, reason)


def actual(
    app: Flask,
    method: str,
    path: str,
    *,
    origin: str = ORIGIN,
    headers: Mapping[str, str] | None = None,
    credentials: bool = False,
    **kwargs: Any,
) -> Outcome:
    """Send ``method`` ``path`` with ``Origin`` (and ``headers``), no preflight; the
    outcome is the browser's CORS check of the response. ``kwargs`` go to Flask's
    test client (``json=``, ``query_string=``, ``environ_base=`` ...)."""
    response = _send(app, method, path, {**(headers or {}), "Origin": origin}, **kwargs)
    return Outcome(f"{method} {path}", origin, credentials, response, None, cors_check(response, origin, credentials))


def fetch(
    app: Flask,
    method: str,
    path: str,
    *,
    origin: str = ORIGIN,
    headers: Mapping[str, str] | None = None,
    credentials: bool = False,
    private_network: bool = False,
    **kwargs: Any,
) -> Outcome:
    """What a page's ``fetch(path, {method, headers, credentials})`` does: the
    method normalised as browsers do (``delete`` is sent as ``DELETE``), a preflight
    first when the method or a header is not CORS-safelisted (or, with
    ``private_network``, always: Private Network Access), the actual request only
    when the preflight passed, and the CORS check of its response."""
    headers = dict(headers or {})
    method = browser.normalize_method(method)
    if not browser.preflight_reasons(method, headers, private_network):
        return actual(app, method, path, origin=origin, headers=headers, credentials=credentials, **kwargs)
    names = unsafe_request_headers(headers)
    first = preflight(
        app,
        path,
        method=method,
        origin=origin,
        headers=names,
        credentials=credentials,
        private_network=private_network,
        **kwargs,
    )
    if not first.allowed:
        return Outcome(f"{method} {path}", origin, credentials, first.response, first.response, f"preflight: {first.reason}")
    then = actual(app, method, path, origin=origin, headers=headers, credentials=credentials, **kwargs)
    return Outcome(then.request, origin, credentials, then.response, first.response, then.reason)


__all__ = [
    "ORIGIN",
    "Outcome",
    "actual",
    "api",
    "compiled",
    "cors",
    "cors_check",
    "fetch",
    "flow",
    "gravicors_app",
    "make_app",
    "plan",
    "policy",
    "preflight",
    "preflight_check",
    "readable_headers",
    "step",
    "unsafe_request_headers",
]
