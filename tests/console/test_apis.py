"""flask_gravicors.console.apis: the seed's pages by their visible texts, Save
(checked as init_app checks, problems next to their fields, nothing saved when
refused), conflicts that lose nothing, and the live-workers count."""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

import pytest
from flask import Blueprint, Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from procs import wait_until

from flask_gravicors.console.pages import NO_CORS_ENTRYPOINT
from flask_gravicors.store import MAX_VERSION

from .conftest import OTHER, PAGE, Console, add_users, config, store_of

SEED_LABELS = [
    "Enable CORS",
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Allow-Credentials",
    "Max Age",
    "Access-Control-Expose-Headers",
    "Run policies for preflight requests",
]
STAR_HINT = "A value of * is not recommended for production environments"


def save(client: Console, name: str = "orders", **fields: object) -> object:
    """Open the Cors tab, change ``fields`` (the form's names), press Save."""
    page = client.get(f"/apis/{name}/cors")
    return client.post(f"/apis/{name}/cors", {**current_form(page.text), **fields})


def current_form(html: str) -> dict[str, object]:
    """What a browser would send for the Cors form as it is shown."""
    data: dict[str, object] = {}
    for name in ("allow_origin", "allow_headers", "expose_headers"):
        data[name] = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(?:\r?\n)?(.*?)</textarea>', html, re.S).group(1)  # type: ignore[union-attr]
    for name in ("enabled", "allow_credentials", "run_policies", "allow_private_network"):
        if re.search(rf'<input[^>]*checked[^>]*name="{name}"|<input[^>]*name="{name}"[^>]*checked', html):
            data[name] = "y"
    data["allow_methods"] = re.findall(r'<input[^>]*checked[^>]*name="allow_methods"[^>]*value="([^"]+)"', html) + re.findall(
        r'<input[^>]*name="allow_methods"[^>]*value="([^"]+)"[^>]*checked', html
    )
    data["max_age"] = re.search(r'name="max_age"[^>]*value="([^"]*)"', html).group(1)  # type: ignore[union-attr]
    data["base_version"] = re.search(r'name="base_version"[^>]*value="(\d+)"', html).group(1)  # type: ignore[union-attr]
    return data


def test_the_seeds_steps_by_their_texts(editor: Console) -> None:
    # 2. A left navigation with "APIs"; 3. a row per API.
    page = editor.text(editor.get("/apis"))
    assert "APIs History" in page  # the left nav (no Users for an editor)
    assert "Name Context path or blueprint Entrypoints CORS" in page
    assert "orders /orders HTTP Proxy on" in page and "ws /ws WebSocket off" in page
    # 4. The API's page: a control named "Edit API".
    html = editor.get("/apis/orders").text
    assert re.search(r'<a class="icon-button" href="/gravicors/apis/orders/edit" aria-label="Edit API"', html)
    # 5. The edit view's inner nav with "Entrypoints"; 6. its tab "Cors".
    edit = editor.get("/apis/orders/edit").text
    assert '<nav class="inner" aria-label="API settings">' in edit and ">Entrypoints</a>" in edit
    entrypoints = editor.get("/apis/orders/entrypoints")
    assert ">Cors</a>" in entrypoints.text and "HTTP Proxy" in editor.text(entrypoints)
    assert NO_CORS_ENTRYPOINT not in editor.text(entrypoints)
    # 7. The seed's fields, each labelled.
    cors = editor.get("/apis/orders/cors").text
    labels = re.findall(r"<label for=\"([^\"]+)\">([^<]+)</label>", cors)
    legends = re.findall(r"<legend>([^<]+)</legend>", cors)
    names = [text for _, text in labels] + legends
    for label in SEED_LABELS:
        assert label in names, label
    assert [text for _, text in labels if text in ("GET", "DELETE", "PATCH", "POST", "PUT", "OPTIONS", "TRACE", "HEAD")] == [
        "GET",
        "DELETE",
        "PATCH",
        "POST",
        "PUT",
        "OPTIONS",
        "TRACE",
        "HEAD",
    ]
    for for_id, _ in labels:  # every label names a control on the page
        assert f'id="{for_id}"' in cors
    assert re.search(r"<details class=\"advanced\">\s*<summary>Advanced</summary>", cors)
    advanced = cors.split("<summary>Advanced</summary>")[1].split("</details>")[0]
    for name in (
        "allow_private_network",
        "dangerously_allow_any_origin_with_credentials",
        "dangerously_allow_null_origin",
        "dangerously_allow_insecure_origins",
    ):
        assert f'name="{name}"' in advanced
    assert "-1 = disabled" in editor.text(editor.get("/apis/orders/cors"))
    # 8. A button "Save".
    assert '<input class="primary" id="submit" name="submit" type="submit" value="Save">' in cors


def test_websocket_only_api_shows_the_seeds_warning(editor: Console) -> None:
    for tab in ("entrypoints", "cors"):
        assert NO_CORS_ENTRYPOINT in editor.text(editor.get(f"/apis/ws/{tab}"))


def test_star_hint_is_shown_when_star_is_stored(make_console: Callable[..., Flask]) -> None:
    app = make_console(config(allow_origin=["*"], allow_credentials=False))
    add_users(app)
    client = Console(app)
    client.login("viewer")
    html = client.get("/apis/orders/cors").text
    assert re.search(r'<p class="danger" id="star-hint" aria-live="polite">' + re.escape(STAR_HINT), html)
    plain = Console(make_console())
    add_users(plain.app)
    plain.login("viewer")
    assert re.search(r'id="star-hint" aria-live="polite" hidden>', plain.get("/apis/orders/cors").text)


def test_save(editor: Console) -> None:
    store = store_of(editor.app)
    response = save(editor, allow_origin=f"{PAGE}\n{OTHER}", comment="second page")
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response.headers["Location"] == "/gravicors/apis/orders/cors?saved=2"  # type: ignore[attr-defined]
    page = editor.text(editor.get("/apis/orders/cors?saved=2"))
    assert "Configuration successfully saved!" in page
    # Server-rendered, then asked again by the page until every worker runs it.
    assert re.search(r"Version 2: live on [01] of 1 workers", page)
    version = store.current()
    assert version is not None
    assert (version.number, version.author, version.source, version.comment) == (2, "editor", "console", "second page")
    before = store.get(1).config
    assert version.config["apis"][1] == before["apis"][1]
    assert version.config["apis"][0] == {
        **before["apis"][0],
        "cors": {**before["apis"][0]["cors"], "allow_origin": [PAGE, OTHER]},
    }
    # The app runs it: the other origin is allowed now.
    response = editor.app.test_client().get("/orders/x", headers={"Origin": OTHER})
    assert response.headers["Access-Control-Allow-Origin"] == OTHER
    wait_until(lambda: editor.client.get("/gravicors/status.json?version=2").get_json()["done"], 5, "the registry")
    assert editor.client.get("/gravicors/status.json?version=2").get_json() == {
        "version": 2,
        "running": 1,
        "live": 1,
        "done": True,
        "text": "Version 2: live on 1 of 1 workers",
    }


def test_saving_nothing_changed_saves_nothing(editor: Console) -> None:
    response = save(editor)
    assert response.headers["Location"] == "/gravicors/apis/orders/cors"  # type: ignore[attr-defined]
    assert "Nothing to save" in editor.text(editor.get("/apis/orders/cors"))
    assert len(store_of(editor.app).history()) == 1


def test_a_refused_save_shows_each_problem_next_to_its_field_and_saves_nothing(editor: Console) -> None:
    store = store_of(editor.app)
    response = save(
        editor, allow_origin=f"{PAGE}\n*\nnull", allow_methods=["GET", "CONNECT"], max_age="99999", expose_headers="set-cookie"
    )
    assert response.status_code == 422  # type: ignore[attr-defined]
    html = response.text  # type: ignore[attr-defined]
    assert "Not saved: the configuration was refused" in editor.text(response)  # type: ignore[arg-type]
    expected = {
        "allow_origin": ["gravicors.E023", "gravicors.E024"],
        "allow_methods": ["gravicors.E032"],
        "max_age": ["gravicors.E040"],
        "expose_headers": ["gravicors.E036"],
    }
    for field, ids in expected.items():
        block = re.search(rf'<ul class="problems" id="{field}-problems">(.*?)</ul>', html, re.S)
        assert block, field
        assert re.findall(r'<strong class="rule">([^<]+)</strong>', block.group(1)) == ids, field
        assert re.search(rf'(name="{field}"|id="{field}")[^>]*aria-describedby="[^"]*{field}-problems', html) or re.search(
            rf'aria-describedby="[^"]*{field}-problems"[^>]*(name|id)="{field}"', html
        ), field
    assert "hint:" in html  # each problem carries its hint
    # What was typed is still there, and nothing was saved.
    assert "null</textarea>" in html
    assert len(store.history()) == 1
    assert editor.app.test_client().get("/orders/x", headers={"Origin": OTHER}).headers.get("Access-Control-Allow-Origin") is None


def test_a_conflicting_save_loses_nothing(app: Flask) -> None:
    alice, bob = Console(app), Console(app)
    alice.login("editor")
    bob.login("admin")
    alice_page, bob_page = alice.get("/apis/orders/cors").text, bob.get("/apis/orders/cors").text
    # Alice saves first: a new origin and a max age.
    assert (
        alice.post(
            "/apis/orders/cors", {**current_form(alice_page), "allow_origin": f"{PAGE}\n{OTHER}", "max_age": "600"}
        ).status_code
        == 302
    )
    # Bob, on the same version, adds headers and another origin.
    typed = {**current_form(bob_page), "allow_origin": f"{PAGE}\nhttps://bob.example", "allow_headers": "content-type"}
    response = bob.post("/apis/orders/cors", typed)
    assert response.status_code == 409
    page = bob.text(response)
    assert "Not saved: version 2 was saved after you opened version 1" in page
    assert "Saved by editor" in page
    assert "api orders: cors.allow_origin:" in page and "cors.max_age: added 600" in page
    assert len(store_of(app).history()) == 2
    # Bob's typed values are kept; the field only Alice changed shows hers; the clash is named.
    shown = current_form(response.text)
    assert shown["allow_origin"] == f"{PAGE}\nhttps://bob.example" and shown["allow_headers"] == "content-type"
    assert shown["max_age"] == "600" and shown["base_version"] == "2"
    assert "You both changed allow_origin" in page and OTHER in page
    # Saving again saves Bob's form on top of Alice's version.
    assert bob.post("/apis/orders/cors", shown).status_code == 302
    cors = store_of(app).current().config["apis"][0]["cors"]  # type: ignore[union-attr]
    assert (cors["allow_origin"], cors["allow_headers"], cors["max_age"]) == (
        [PAGE, "https://bob.example"],
        ["content-type"],
        600,
    )


def test_names_and_comments_are_shown_as_text(make_console: Callable[..., Flask]) -> None:
    evil = "<script>alert(1)</script>"
    cfg = config()
    cfg["apis"][0]["name"] = evil
    cfg["apis"][0]["description"] = evil
    app = make_console(cfg)
    add_users(app)
    store = store_of(app)
    store.save(store.current().config, author="editor", comment=f"see {evil}", source="api")  # type: ignore[union-attr]
    client = Console(app)
    client.login("editor")
    pages = [client.get(path) for path in ("/apis", "/history", "/history/2")]
    link = re.search(r'<a href="(/gravicors/apis/~[^"]+)">', pages[0].text).group(1)  # type: ignore[union-attr]
    for path in (link, link + "/edit", link + "/entrypoints", link + "/cors"):
        pages.append(client.client.get(path))
    for page in pages:
        assert page.status_code == 200, page.request.path
        assert "<script>alert" not in page.text and "<script" not in page.text.replace(
            '<script src="/gravicors/static/console.js" defer></script>', ""
        )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0].text and f"see {evil}" in client.text(pages[1])


def test_the_console_reads_the_stores_newest_version(app: Flask) -> None:
    client = Console(app)
    client.login("viewer")
    store = store_of(app)
    changed = config()
    changed["apis"].append({"name": "new-api", "blueprint": "shop"})
    store.save(changed, author="cli-user", source="cli")
    page = client.text(client.get("/apis"))
    assert "Version 2, saved by cli-user" in page and "new-api blueprint shop HTTP Proxy off" in page
    assert client.get("/apis/missing").status_code == 404


def test_a_viewer_reads_the_form_but_cannot_save(app: Flask) -> None:
    viewer = Console(app)
    viewer.login("viewer")
    html = viewer.get("/apis/orders/cors").text
    assert '<fieldset class="plain" disabled>' in html and "saving it needs the editor role" in html
    response = viewer.post("/apis/orders/cors", {**current_form(html), "allow_origin": OTHER})
    assert response.status_code == 403 and len(store_of(app).history()) == 1


# --- Try it ----------------------------------------------------------------------

EVIL = "<script>alert(1)</script>"


def try_it(client: Console, edits: Mapping[str, object] | None = None, /, **asked: object) -> Any:
    """Open the Cors tab, change the form's ``edits`` (not saved; ``None`` unchecks a
    box), fill Try it (``origin``, ``method``... sent as ``try-*``), press Try it."""
    sent = current_form(client.get("/apis/orders/cors").text)
    for key, value in (edits or {}).items():
        if value is None:
            sent.pop(key, None)
        else:
            sent[key] = value
    sent.update({f"try-{k}": v for k, v in asked.items()})
    return client.post("/apis/orders/cors/try", sent)


def tried(html: str) -> dict[str, object]:
    """What the result shows: the verdict, the failing checks, the proposed changes
    with the rules each trips, and the problems of an invalid form."""
    result = html.split('<section class="try-result"', 1)[1].split("</section>", 1)[0]
    verdict = re.search(r'<h3 id="try-verdict" class="verdict (\w+)">([^<]*)</h3>', result)
    assert verdict, result
    listed = result.split('<ul class="changes try-changes">', 1)[1].split("<h4>", 1)[0] if "try-changes" in result else ""
    changes = {}
    for item in listed.split("<li><code>apis")[1:]:
        change, _, trips = ("apis" + item).partition("</code>")
        changes[html_text(change)] = re.findall(r'<strong class="rule">([^<]+)</strong>', trips)
    return {
        "verdict": verdict.group(1),
        "failed": re.findall(r'<tr class="check-fail">\s*<th scope="row">(\w+)</th>', result),
        "changes": changes,
        "problems": re.findall(r'<code>[^<]*</code>: <strong class="rule">([^<]+)</strong>', result),
    }


def html_text(fragment: str) -> str:
    import html

    return html.unescape(fragment)


TRY_ROWS = {
    # name: (role, unsaved edits of the form, Try it's fields, status, verdict, failed checks, changes -> rules tripped)
    "allowed origin": ("editor", {}, {"origin": PAGE}, 200, "allowed", [], {}),
    "refused origin, its change": (
        "editor",
        {},
        {"origin": OTHER},
        200,
        "blocked",
        ["origin"],
        {f'apis[0].cors.allow_origin += ["{OTHER}"]': []},
    ),
    "a method needing a preflight, refused": (
        "editor",
        {},
        {"origin": PAGE, "method": "PATCH", "headers": "X-Requested-With"},
        200,
        "blocked",
        ["method", "headers"],
        {'apis[0].cors.allow_methods += ["PATCH"]': [], 'apis[0].cors.allow_headers += ["x-requested-with"]': []},
    ),
    "a forbidden header dropped, the other refused": (
        "editor",
        {},
        {"origin": OTHER, "headers": "Cookie, X-A"},
        200,
        "blocked",
        ["origin", "headers"],
        {f'apis[0].cors.allow_origin += ["{OTHER}"]': [], 'apis[0].cors.allow_headers += ["x-a"]': []},
    ),
    "credentials with *": (
        "editor",
        {"allow_origin": "*", "allow_credentials": None},
        {"origin": OTHER, "credentials": "y"},
        200,
        "blocked",
        ["credentials"],
        {"apis[0].cors.allow_credentials = true": ["gravicors.E023"]},
    ),
    "an unsaved edit allows it": ("editor", {"allow_origin": f"{PAGE}\n{OTHER}"}, {"origin": OTHER}, 200, "allowed", [], {}),
    "an unsaved edit refuses it": (
        "editor",
        {"enabled": None},
        {"origin": PAGE},
        200,
        "blocked",
        ["cors"],
        {"apis[0].cors.enabled = true": []},
    ),
    "a viewer: the stored config": ("viewer", {"allow_origin": OTHER}, {"origin": OTHER}, 200, "blocked", ["origin"], None),
    "a viewer, allowed": ("viewer", {}, {"origin": PAGE, "method": "PUT"}, 200, "allowed", [], {}),
}


@pytest.mark.parametrize("row", TRY_ROWS.values(), ids=TRY_ROWS.keys())
def test_try_it(app: Flask, row: tuple[Any, ...]) -> None:
    role, edits, asked, status, verdict, failed, changes = row
    client = Console(app)
    client.login(role)
    response = try_it(client, edits, **asked)
    assert response.status_code == status
    shown = tried(response.text)
    assert (shown["verdict"], shown["failed"]) == (verdict, failed)
    if changes is not None:
        assert shown["changes"] == changes
    # Nothing saved; what was typed is still in the form.
    assert len(store_of(app).history()) == 1
    form = current_form(response.text)
    if role == "editor":
        for key, value in edits.items():
            assert form.get(key) == value, key
    else:  # the viewer's fields are the stored ones, whatever was sent
        assert form["allow_origin"] == PAGE and form["allow_methods"] == ["GET", "PUT"]
    assert f'value="{asked["origin"]}"' in response.text
    if "Cookie" in str(asked.get("headers")):
        assert "dropped by the browser: cookie" in client.text(response)
        assert "the browser refuses to let a script set cookie" in client.text(response)  # a note, after the changes


def test_try_it_on_an_invalid_form_names_the_problems_and_explains_nothing(editor: Console) -> None:
    response = try_it(editor, {"allow_origin": f"{PAGE}\n*", "max_age": "99999"}, origin=PAGE)
    assert response.status_code == 422
    shown = tried(response.text)
    assert shown["verdict"] == "blocked" and shown["problems"] == ["gravicors.E023", "gravicors.E040"]
    assert "The configuration in the form is invalid: nothing to explain" in editor.text(response)
    assert "try-checks" not in response.text  # no report
    # Next to their fields too, with what was typed kept; the Save box is not shown.
    assert re.search(r'<ul class="problems" id="allow_origin-problems">', response.text)
    assert "Not saved" not in editor.text(response)
    assert current_form(response.text)["allow_origin"] == f"{PAGE}\n*" and len(store_of(editor.app).history()) == 1


@pytest.mark.parametrize(
    ("asked", "field", "message"),
    [
        ({"origin": ""}, "try-origin", "Enter the origin of the page that makes the request."),
        ({"origin": PAGE, "method": "GE T"}, "try-method", "A method is one word"),
        ({"origin": PAGE, "method": "PATCH\n"}, "try-method", "A method is one word"),
    ],
)
def test_try_it_refuses_a_request_it_cannot_describe(editor: Console, asked: dict[str, str], field: str, message: str) -> None:
    response = try_it(editor, **asked)
    assert response.status_code == 422 and 'id="try-result"' not in response.text
    assert re.search(rf'<span class="problems" id="{field}-problems">{re.escape(message)}', response.text)
    assert re.search(rf'aria-describedby="{field}-hint {field}-problems"', response.text)


def test_try_it_with_a_header_name_that_is_none(editor: Console) -> None:
    response = try_it(editor, origin=PAGE, headers="X-A\nX B")
    assert response.status_code == 422
    assert tried(response.text)["verdict"] == "blocked"
    assert "This request cannot be explained 'X B' is not a header name" in editor.text(response)


def test_try_it_shows_everything_typed_as_text(editor: Console) -> None:
    response = try_it(
        editor,
        {"allow_origin": f"{PAGE}\n{EVIL}"},
        origin=EVIL,
        method=EVIL,
        headers=EVIL,
        content_type=EVIL,
        path=f"/orders/{EVIL}",
    )
    html = response.text
    assert "<script" not in html.replace('<script src="/gravicors/static/console.js" defer></script>', "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The method is refused by the form; the same origin with a valid method is explained.
    response = try_it(editor, origin=EVIL, headers="X-Evil: <script>", content_type=EVIL, path=f"/orders/{EVIL}")
    html = response.text
    assert response.status_code == 200 and tried(html)["verdict"] == "blocked"
    assert "<script" not in html.replace('<script src="/gravicors/static/console.js" defer></script>', "")
    assert "from <code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in html
    # No browser sends that origin, so no change allows it (none is offered), and
    # the check that failed names it as text.
    assert "no change of this API" in html and "allow_origin +=" not in html
    assert "origin &#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39; is not in allow_origin" in html


def test_try_it_needs_the_csrf_token_and_changes_nothing(editor: Console) -> None:
    page = editor.get("/apis/orders/cors")
    sent = {**current_form(page.text), "allow_origin": OTHER, "try-origin": OTHER}
    for token in (None, "forged-token"):
        response = editor.client.post(
            "/gravicors/apis/orders/cors/try", data={**sent, **({"csrf_token": token} if token else {})}
        )
        assert response.status_code == 400 and "security token" in editor.text(response)
    assert len(store_of(editor.app).history()) == 1


def test_try_it_comes_before_save_so_enter_never_saves(editor: Console) -> None:
    """The browser's implicit submission (Enter in a field) presses the form's first
    submit button: Try it, never Save."""
    html = editor.get("/apis/orders/cors").text
    buttons = re.findall(r'<input[^>]*type="submit"[^>]*>', html)
    assert [re.search(r'value="([^"]+)"', b).group(1) for b in buttons] == ["Try it", "Save"]  # type: ignore[union-attr]
    assert 'formaction="/gravicors/apis/orders/cors/try#try-result"' in buttons[0]
    # Its fields, each labelled, are Try it's own; opened by address, it is the Cors tab.
    for name in ("origin", "method", "headers", "credentials", "content_type", "private_network", "path"):
        assert re.search(rf'<label for="try-{name}">[^<]+</label>', html), name
    assert re.search(r'<input[^>]* id="try-path"[^>]* value="/orders">', html)
    assert editor.get("/apis/orders/cors/try").headers["Location"] == "/gravicors/apis/orders/cors"


def test_try_it_on_a_blueprint_api(make_console: Callable[..., Flask]) -> None:
    cfg = config()
    cfg["apis"].append({"name": "shop", "blueprint": "shop", "cors": {"enabled": True, "allow_origin": [OTHER]}})
    app = make_console(cfg)
    add_users(app)
    client = Console(app)
    client.login("viewer")
    html = client.get("/apis/shop/cors").text
    # No route of blueprint "shop" in this app: Try it asks for a path.
    assert re.search(r'<input[^>]* id="try-path"[^>]* value="">', html)
    sent = {**current_form(html), "try-origin": OTHER}
    response = client.post("/apis/shop/cors/try", sent)
    assert response.status_code == 422
    assert "Enter a path this API serves" in client.text(response)
    # A path given: the request is routed as Flask routes it (here to no view of
    # the blueprint: no API owns it).
    response = client.post("/apis/shop/cors/try", {**sent, "try-path": "/elsewhere"})
    assert response.status_code == 200 and "API none owns /elsewhere" in client.text(response)
    # Once the blueprint has a route, Try it goes there by default.
    shop = Blueprint("shop", __name__)
    shop.add_url_rule("/shop/<int:item>", "item", lambda item: "item")
    shop.add_url_rule("/shop/items", "items", lambda: "items")
    app.register_blueprint(shop)
    html = client.get("/apis/shop/cors").text
    assert re.search(r'<input[^>]* id="try-path"[^>]* value="/shop/items">', html)
    response = client.post("/apis/shop/cors/try", {**current_form(html), "try-origin": OTHER})
    assert tried(response.text)["verdict"] == "allowed" and "API shop (blueprint shop): CORS applies" in client.text(response)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    fields=st.dictionaries(
        st.sampled_from(["origin", "method", "headers", "content_type", "path", "credentials", "private_network"]),
        st.text(st.sampled_from(list("aZ9/:,.%?#*<> \r\n\t\x00é\u2028😀[]@;\\-")), max_size=24),
    ),
    allow_origin=st.text(st.sampled_from(list("ahtps:/.*,\n<>")), max_size=24),
)
def test_try_it_never_fails_on_hostile_input(editor: Console, fields: dict[str, str], allow_origin: str) -> None:
    response = try_it(editor, {"allow_origin": allow_origin}, **fields)
    assert response.status_code in (200, 422)
    assert 'id="try-it"' in response.text and len(store_of(editor.app).history()) == 1


@pytest.mark.parametrize(
    "base", ["0", "-1", str(MAX_VERSION), str(MAX_VERSION + 1), "9223372036854775808", "9" * 30, "9" * 5000, ""]
)
def test_a_save_based_on_no_version_is_a_400(editor: Console, base: str) -> None:
    """The form's base_version names no version: never a 500 from the database driver."""
    page = editor.get("/apis/orders/cors")
    response = editor.post("/apis/orders/cors", {**current_form(page.text), "max_age": "600", "base_version": base})
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert store_of(editor.app).current().number == 1  # type: ignore[union-attr]
