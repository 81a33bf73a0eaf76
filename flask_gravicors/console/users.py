"""Users (admins only): add a user, change a role, remove a user. The last admin
can be neither removed nor demoted from here (``flask gravicors delete-user`` can)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user  # type: ignore[import-untyped]

from ..store.accounts import ROLES, LastAdmin, UserExists, UserNotFound, check_name
from ..store.diff import printable
from .auth import role_required
from .forms import UserForm

log = logging.getLogger("flask_gravicors.console")

bp = Blueprint("users", __name__)


def _accounts() -> Any:
    from . import STATE_KEY

    return current_app.extensions[STATE_KEY].store.accounts


def _page(form: UserForm, status: int = 200) -> Any:
    return render_template("gravicors_console/users/list.html", users=_accounts().users(), form=form, roles=ROLES), status


@bp.get("/users")
@role_required("admin")
def index() -> Any:
    return _page(UserForm())


@bp.post("/users")
@role_required("admin")
def create() -> Any:
    form = UserForm()
    if not form.validate():
        return _page(form, 400)
    try:
        check_name(form.username.data or "")
        _accounts().create_user(form.username.data, form.role.data, form.password.data)
    except ValueError as err:
        form.username.errors = [*form.username.errors, str(err)]
        return _page(form, 400)
    except UserExists as err:
        form.username.errors = [*form.username.errors, str(err)]
        return _page(form, 409)
    log.info("console: %s added user %s (%s)", printable(current_user.name), printable(form.username.data or ""), form.role.data)
    flash(f"User {form.username.data} added.")
    return redirect(url_for("users.index"))


@bp.post("/users/<segment:name>/role")
@role_required("admin")
def set_role(name: str) -> Any:
    role = request.form.get("role", "")
    if role not in ROLES:
        abort(400, f"Role must be one of {', '.join(ROLES)}.")
    try:
        _accounts().set_role(name, role, keep_an_admin=True)
    except UserNotFound:
        abort(404, f"No user {printable(name)!r}.")
    except LastAdmin:
        flash(f"{name} is the last admin: add another admin first.", "error")
        return redirect(url_for("users.index"))
    log.info("console: %s set the role of %s to %s", printable(current_user.name), printable(name), role)
    flash(f"{name} is now {role}.")
    return redirect(url_for("users.index"))


@bp.post("/users/<segment:name>/delete")
@role_required("admin")
def delete(name: str) -> Any:
    try:
        _accounts().delete_user(name, keep_an_admin=True)
    except UserNotFound:
        abort(404, f"No user {printable(name)!r}.")
    except LastAdmin:
        flash(f"{name} is the last admin: add another admin first.", "error")
        return redirect(url_for("users.index"))
    log.info("console: %s removed user %s", printable(current_user.name), printable(name))
    flash(f"User {name} removed; their sessions have ended.")
    return redirect(url_for("users.index"))


__all__ = ["bp"]
