"""History: every version with its author, time, source and comment, what it
changed, and "Roll back to this version" (editors: a new version holding the
old config, checked as any save is)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user  # type: ignore[import-untyped]

from ..errors import ConfigError
from ..store import MAX_VERSION, VersionConflict, VersionNotFound
from ..store.diff import diff_configs, printable
from .apis import live_text
from .auth import role_required

log = logging.getLogger("flask_gravicors.console")

bp = Blueprint("history", __name__)

#: Versions listed per page.
PAGE = 50

#: A version number in a URL: outside 1..MAX_VERSION the URL matches no page (404).
NUMBER = f"<int(min=1, max={MAX_VERSION}):number>"


def _store() -> Any:
    from . import STATE_KEY

    return current_app.extensions[STATE_KEY].store


@bp.get("/history")
def index() -> Any:
    limit = min(max(request.args.get("limit", PAGE, type=int), 1), 10_000)
    versions = _store().history(limit)
    latest = versions[0].number if versions else None
    saved = request.args.get("saved", type=int)
    return render_template(
        "gravicors_console/history/list.html",
        versions=versions,
        latest=latest,
        limit=limit,
        more=len(versions) == limit,
        live=live_text(saved) if saved else None,
    )


@bp.get(f"/history/{NUMBER}")
def version(number: int) -> Any:
    store = _store()
    try:
        shown = store.get(number)
    except VersionNotFound:
        abort(404, f"No version {number}.")
    before = None
    if number > 1:
        try:
            before = store.get(number - 1)
        except VersionNotFound:  # a gap left by hand
            before = None
    changes = diff_configs(before.config if before else {}, shown.config)
    return render_template(
        "gravicors_console/history/version.html",
        version=shown,
        before=before,
        changes=changes,
        latest=store.sql.latest_number(),
    )


@bp.post(f"/history/{NUMBER}/rollback")
@role_required("editor")
def rollback(number: int) -> Any:
    store = _store()
    expected = request.form.get("expected_version", type=int)
    try:
        saved = store.rollback(number, author=current_user.name, expected_version=expected, source="console")
    except VersionNotFound:
        abort(404, f"No version {number}.")
    except VersionConflict as conflict:
        latest = conflict.latest
        flash(
            f"Nothing was rolled back: version {latest.number if latest else '?'} was saved "
            f"(by {printable(latest.author) if latest else '?'}) after you opened this page. Check it, then try again.",
            "error",
        )
        return redirect(url_for("history.version", number=number))
    except ConfigError as err:
        # The old config no longer passes today's checks (a plugin removed...).
        return render_template("gravicors_console/history/refused.html", number=number, problems=err.problems), 422
    log.info("console: %s rolled back to version %d as version %d", printable(current_user.name), number, saved.number)
    flash(f"Configuration successfully saved! Version {saved.number} holds the config of version {number}.")
    return redirect(url_for("history.index", saved=saved.number))


__all__ = ["bp"]
