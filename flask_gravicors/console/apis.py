"""APIs: the list, an API's page, Edit API (General, Entrypoints, the Cors tab),
Save and Try it; and the small JSON endpoint that tells how many workers run a
version.

What is shown is the store's newest version (what every worker runs, or will
within a second), not this process's copy.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any, Mapping

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user  # type: ignore[import-untyped]

from ..errors import ConfigError
from ..explain import NETWORK_ERROR
from ..store import Version, VersionConflict, VersionNotFound
from ..store.diff import Change, diff_configs, printable
from . import cors_form, try_it
from .auth import role_required
from .forms import CorsForm, TryForm
from .pages import supports_cors

log = logging.getLogger("flask_gravicors.console")

bp = Blueprint("apis", __name__)

DEFAULT_ENTRYPOINTS = ["http-proxy"]


def _state() -> Any:
    from . import STATE_KEY

    return current_app.extensions[STATE_KEY]


def current_version() -> Version:
    version = _state().store.current()
    if version is None:
        abort(503, "The config store holds no version yet: the app seeds it when it starts.")
    return version  # type: ignore[no-any-return]


def summary(api: Mapping[str, Any]) -> dict[str, Any]:
    """What the list and the pages show of a stored API."""
    entrypoints = api.get("entrypoints", DEFAULT_ENTRYPOINTS)
    entrypoints = [e for e in entrypoints if isinstance(e, str)] if isinstance(entrypoints, list) else []
    cors = cors_form.stored_values(api.get("cors"))
    if api.get("context_path") is not None:
        binding = ("Context path", str(api["context_path"]))
    else:
        binding = ("Blueprint", str(api.get("blueprint")))
    return {
        "name": api.get("name"),
        "description": api.get("description") if isinstance(api.get("description"), str) else "",
        "binding": binding,
        "entrypoints": entrypoints,
        "supports_cors": supports_cors(entrypoints),
        "cors_on": cors["enabled"],
        "policies": [p.get("name") for p in api.get("policies") or () if isinstance(p, Mapping)],
        "others": sorted(
            k for k in api if k not in ("name", "description", "context_path", "blueprint", "entrypoints", "cors", "policies")
        ),
    }


def find(version: Version, name: str) -> tuple[int, Mapping[str, Any]]:
    found = cors_form.find_api(version.config, name)
    if found is None:
        abort(404, f"No API called {printable(name)!r} in version {version.number}.")
    return found


def live_text(number: int) -> dict[str, Any]:
    """How many live workers run version ``number`` (or a newer one)."""
    workers = _state().store.workers()
    running = sum(1 for w in workers if w.version is not None and w.version >= number)
    return {
        "version": number,
        "running": running,
        "live": len(workers),
        "done": bool(workers) and running == len(workers),
        "text": f"Version {number}: live on {running} of {len(workers)} workers",
    }


def root() -> Any:
    return redirect(url_for("apis.index"))


@bp.get("/apis")
def index() -> Any:
    version = current_version()
    apis = [summary(api) for api in version.config.get("apis", []) if isinstance(api, Mapping)]
    return render_template("gravicors_console/apis/list.html", version=version, apis=apis)


@bp.get("/apis/<segment:name>")
def api(name: str) -> Any:
    version = current_version()
    _, found = find(version, name)
    return render_template("gravicors_console/apis/api.html", version=version, api=summary(found), definition=found)


@bp.get("/apis/<segment:name>/edit")
def edit(name: str) -> Any:
    version = current_version()
    _, found = find(version, name)
    return render_template("gravicors_console/apis/edit.html", version=version, api=summary(found), section="general")


@bp.get("/apis/<segment:name>/entrypoints")
def entrypoints(name: str) -> Any:
    version = current_version()
    _, found = find(version, name)
    return render_template(
        "gravicors_console/apis/entrypoints.html", version=version, api=summary(found), section="entrypoints", tab="entrypoints"
    )


def default_path(api: Mapping[str, Any]) -> str:
    """Where Try it sends its request unless told: the API's context path, or the
    first route of its blueprint without variables ("" when it has none)."""
    if isinstance(api.get("context_path"), str):
        return str(api["context_path"])
    prefix = f"{api.get('blueprint')}."
    for rule in _state().host.url_map.iter_rules():
        if str(rule.endpoint).startswith(prefix) and not rule.arguments:
            return str(rule.rule)
    return ""


def _cors_page(
    version: Version,
    api: Mapping[str, Any],
    form: CorsForm,
    values: cors_form.Values,
    *,
    status: int = 200,
    placed: cors_form.Placed | None = None,
    conflict: dict[str, Any] | None = None,
    trial: TryForm | None = None,
    tried: try_it.Tried | None = None,
) -> Any:
    form.allow_methods.choices = [*cors_form.METHODS, *(m for m in values["allow_methods"] if m not in cors_form.METHODS)]
    if trial is None:
        # After a Save refused or in conflict: Try it's fields as they were sent.
        trial = TryForm(data={"path": default_path(api)})
    saved = request.args.get("saved", type=int)
    return (
        render_template(
            "gravicors_console/apis/cors.html",
            version=version,
            api=summary(api),
            form=form,
            values=values,
            placed=placed or cors_form.Placed(),
            conflict=conflict,
            trial=trial,
            tried=tried,
            network_error=NETWORK_ERROR,
            live=live_text(saved) if saved else None,
            star=any(o == "*" for o in values["allow_origin"]),
            advanced_open=any(values[f] for f in cors_form.ADVANCED)
            or bool(placed and any(f in placed.fields for f in cors_form.ADVANCED)),
            section="entrypoints",
            tab="cors",
        ),
        status,
    )


@bp.get("/apis/<segment:name>/cors")
def cors(name: str) -> Any:
    version = current_version()
    _, found = find(version, name)
    values = cors_form.stored_values(found.get("cors"))
    form = CorsForm(data={**cors_form.form_data(values), "base_version": str(version.number)})
    return _cors_page(version, found, form, values)


def _form_config(form: CorsForm, name: str) -> tuple[Version, int, Mapping[str, Any], cors_form.Values, dict[str, Any]]:
    """The Cors form as a config: the version it was opened on, with API ``name``'s
    Cors fields set to the form's values. What Save saves and Try it explains.

    Returns that version, the API's index and entry in it, the form's values and
    the config."""
    try:
        base = _state().store.get(int(form.base_version.data or ""))
    except (ValueError, VersionNotFound):
        abort(400, "The form does not say which version it was opened on: reload the Cors tab.")
    found = cors_form.find_api(base.config, name)
    if found is None:
        abort(404, f"No API called {printable(name)!r} in version {base.number}.")
    index, api = found
    if current_user.can("editor"):
        values = cors_form.submitted_values(form.data)
    else:
        # A viewer's fields are disabled, so the browser sends none of them: the
        # form is the version as stored.
        values = cors_form.stored_values(api.get("cors"))
    return base, index, api, values, cors_form.with_cors(base.config, name, values)


@bp.post("/apis/<segment:name>/cors")
@role_required("editor")
def save_cors(name: str) -> Any:
    form = CorsForm()
    store = _state().store
    base, index, api, mine, new_config = _form_config(form, name)
    if new_config == base.config:
        flash("Nothing to save: no field was changed.")
        return redirect(url_for("apis.cors", name=name))
    try:
        saved = store.save(
            new_config,
            author=current_user.name,
            expected_version=base.number,
            comment=form.comment.data or "",
            source="console",
        )
    except ConfigError as err:
        # Nothing was saved: the same checks init_app makes refused it.
        placed = cors_form.place(err.problems, index, mine)
        return _cors_page(base, api, form, mine, status=422, placed=placed)
    except ValueError as err:  # the comment
        placed = cors_form.Placed(others=[])
        form.comment.errors = [str(err)]
        return _cors_page(base, api, form, mine, status=422, placed=placed)
    except VersionConflict as conflict:
        return _conflict(conflict, base, name, form, mine)
    log.info("console: %s saved version %d (API %s)", printable(current_user.name), saved.number, printable(name))
    flash("Configuration successfully saved!")
    return redirect(url_for("apis.cors", name=name, saved=saved.number))


@bp.post("/apis/<segment:name>/cors/try")
def try_cors(name: str) -> Any:
    """Try it: what the browser does with the request described, against the Cors
    form's configuration (unsaved edits included), by ``GraviCORS.explain``. It
    changes nothing, so a viewer may use it; the page comes back with everything
    that was typed."""
    form = CorsForm()
    base, index, api, mine, config = _form_config(form, name)
    if not current_user.can("editor"):
        # The browser sent none of a viewer's (disabled) fields: show them as stored.
        form = CorsForm(formdata=None, data={**cors_form.form_data(mine), "base_version": str(base.number)})
    path = default_path(api)
    trial = TryForm(data={"path": path})
    if not trial.validate():
        return _cors_page(base, api, form, mine, status=422, trial=trial)
    url = (trial.path.data or "").strip() or path
    if not url:
        trial.path.errors = ["Enter a path this API serves: its blueprint has no route without variables."]
        return _cors_page(base, api, form, mine, status=422, trial=trial)
    state = _state()
    tried = try_it.run(partial(state.ext.explain, app=state.host), try_it.browser_request(trial.data, url), config)
    if tried.report is not None:
        return _cors_page(base, api, form, mine, trial=trial, tried=tried)
    # Refused as Save would refuse it: each problem next to its field as well.
    placed = cors_form.place(tried.problems, index, mine) if tried.problems else None
    return _cors_page(base, api, form, mine, status=422, placed=placed, trial=trial, tried=tried)


@bp.get("/apis/<segment:name>/cors/try")
def try_cors_page(name: str) -> Any:
    """Try it answers a POST; its address opened again shows the Cors tab."""
    return redirect(url_for("apis.cors", name=name))


def _conflict(conflict: VersionConflict, base: Version, name: str, form: CorsForm, mine: cors_form.Values) -> Any:
    """Someone saved after this form was opened: nothing was saved. The page comes
    back on the newest version with what the other save changed, every field this
    user changed as they typed it, and the fields only the other save changed
    showing its values; saving again saves on top of the newest version."""
    latest = conflict.latest
    if latest is None:  # the store was emptied by hand
        abort(409, "The store holds no version any more.")
    changes: list[Change] = diff_configs(base.config, latest.config)
    found = cors_form.find_api(latest.config, name)
    if found is None:
        abort(
            409,
            f"Version {latest.number} (by {printable(latest.author)}) removed the API {printable(name)!r}; nothing was saved.",
        )
    _, api = found
    theirs = cors_form.stored_values(api.get("cors"))
    base_found = cors_form.find_api(base.config, name)
    base_values = cors_form.stored_values(base_found[1].get("cors") if base_found else None)
    merged, both = cors_form.merge(base_values, mine, theirs)
    shown = CorsForm(
        formdata=None,
        data={**cors_form.form_data(merged), "base_version": str(latest.number), "comment": form.comment.data or ""},
    )
    conflict_info = {
        "base": base.number,
        "latest": latest,
        "changes": changes,
        "both": {f: theirs[f] for f in sorted(both)},
        "taken": sorted(cors_form.changed(base_values, theirs) - cors_form.changed(base_values, mine)),
    }
    return _cors_page(latest, api, shown, merged, status=409, conflict=conflict_info)


@bp.get("/status.json")
def status() -> Any:
    """``{"version", "running", "live", "done", "text"}`` for ``?version=N`` (default: the newest)."""
    number = request.args.get("version", type=int)
    if number is None:
        number = _state().store.sql.latest_number() or 0
    return jsonify(live_text(number))


__all__ = ["bp", "index", "root", "live_text", "summary", "default_path"]
