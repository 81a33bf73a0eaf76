"""Logging in and out, who may do what, and the checks every request passes.

* Every page needs a logged-in user, except the login page and the static files:
  one check before every request (deny by default), before the CSRF check, so a
  request without a session is sent to the login page (HTML) or gets 401.
* Every POST carries a CSRF token (Flask-WTF's ``CSRFProtect``): 400 without.
* Roles: a viewer reads, an editor also saves and rolls back, an admin also
  manages users (:func:`role_required`).
* Failed logins are throttled (:mod:`.throttle`); the session is server-side
  once logged in, new at each login and ended by logout (:mod:`.sessions`).
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask.globals import request_ctx
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user  # type: ignore[import-untyped]
from flask_wtf.csrf import CSRFProtect  # type: ignore[import-untyped]

from ..store.accounts import User
from ..store.diff import printable
from .forms import LoginForm
from .sessions import ConsoleSession, ConsoleSessionInterface

log = logging.getLogger("flask_gravicors.console")

bp = Blueprint("auth", __name__)

#: Endpoints open without a session.
PUBLIC = frozenset({"auth.login", "static"})
#: Endpoints answering JSON: without a session they get 401, never a redirect.
JSON_ENDPOINTS = frozenset({"apis.status"})

F = TypeVar("F", bound=Callable[..., Any])


class ConsoleUser(UserMixin):  # type: ignore[misc]
    """The logged-in user, as Flask-Login sees them."""

    def __init__(self, user: User):
        self.user = user
        self.name = user.name
        self.role = user.role

    def get_id(self) -> str:
        return self.name

    def can(self, role: str) -> bool:
        return self.user.can(role)


def _state() -> Any:
    from . import STATE_KEY

    return current_app.extensions[STATE_KEY]


def _load_user(name: str) -> ConsoleUser | None:
    # Only a server-side session logs anyone in, and only as the user it was opened for.
    current = session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(current, ConsoleSession) or current.key is None or current.user_name != name:
        return None
    user = _state().store.accounts.get_user(name)
    return None if user is None else ConsoleUser(user)


def wants_html() -> bool:
    """Whether the answer should be a page (else JSON): not for the JSON endpoints,
    nor for a client that prefers JSON to HTML; a client that says nothing gets a page."""
    if request.endpoint in JSON_ENDPOINTS:
        return False
    return request.accept_mimetypes.best_match(["text/html", "application/json"], default="text/html") == "text/html"


def _unauthorized() -> Any:
    if not wants_html():
        return jsonify(error="login required"), 401
    here = (request.script_root + request.full_path).rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.login", next=here))


def unroutable() -> bool:
    """The request's Host could not be bound (``a..b``, a label over 63 characters):
    werkzeug has no URL adapter for it, so no ``url_for`` works; it is a 400."""
    return request_ctx.url_adapter is None


def _require_login() -> Any:
    if unroutable():
        abort(400, "The request's Host cannot be read.")
    current = session._get_current_object()  # type: ignore[attr-defined]
    if isinstance(current, ConsoleSession) and current.unavailable:
        abort(503, "The config store cannot be reached, so the session cannot be checked: try again in a moment.")
    if request.endpoint in PUBLIC:
        return None
    if not current_user.is_authenticated:
        return _unauthorized()
    return None


def install(console: Flask) -> None:
    """The session, Flask-Login and CSRF protection of the console app (the login
    check first, then the CSRF check: Flask runs before_request hooks in order)."""
    console.session_interface = ConsoleSessionInterface()
    manager = LoginManager()
    # The server-side session is the protection; no remember-me cookie is ever set.
    manager.session_protection = None
    manager.user_loader(_load_user)
    manager.unauthorized_handler(_unauthorized)
    manager.init_app(console)
    console.before_request(_require_login)
    CSRFProtect(console)


def role_required(role: str) -> Callable[[F], F]:
    """A view only users with ``role``'s rights may call (403 for the others)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.can(role):
                abort(403, f"This needs the {role} role; you are {current_user.role}.")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def _next_page(target: str | None) -> str:
    """``target`` when it is a page of this console, else the APIs page: the login
    form never sends anyone elsewhere (no open redirect)."""
    root = request.script_root + "/"
    # Printable only: a CR/LF would be refused in the Location header (a 500).
    if target and target.isprintable() and target.startswith(root) and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target:
            return target
    return url_for("apis.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_next_page(request.args.get("next")))
    error = None
    status = 200
    if form.validate_on_submit():
        state = _state()
        name, address = form.username.data or "", request.remote_addr
        with state.throttle.attempt(name, address):
            if state.throttle.blocked(name, address):
                log.warning("console login throttled for user %s from %s", printable(name[:200]), address)
                retry = state.throttle.retry_after(name, address)
                response = current_app.make_response(
                    (render_template("gravicors_console/auth/throttled.html", retry=retry), 429, {"Retry-After": str(retry)})
                )
                return response
            user = state.store.accounts.authenticate(name, form.password.data or "")
            if user is None:
                state.throttle.failed(name, address)
        if user is None:
            log.warning("console login failed for user %s from %s", printable(name[:200]), address)
            error = "Invalid username or password."
        else:
            target = _next_page(request.args.get("next"))
            current = session._get_current_object()  # type: ignore[attr-defined]
            # A new session at each login: nothing of the one before is carried
            # over (its CSRF token included), and a new token identifies it.
            current.clear()
            login_user(ConsoleUser(user))
            current_app.session_interface.start(current, user.name)  # type: ignore[attr-defined]
            log.info("console login: %s (%s) from %s", printable(user.name), user.role, address)
            return redirect(target)
    elif request.method == "POST":
        status = 400
    return render_template("gravicors_console/auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout() -> Any:
    current = session._get_current_object()  # type: ignore[attr-defined]
    name = current_user.name
    logout_user()
    current_app.session_interface.end(current)  # type: ignore[attr-defined]
    log.info("console logout: %s", printable(name))
    flash("You are logged out.")
    return redirect(url_for("auth.login"))


__all__ = ["bp", "install", "role_required", "ConsoleUser", "wants_html", "unroutable"]
