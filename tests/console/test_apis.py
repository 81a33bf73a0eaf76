"""flask_gravicors.console.apis: the seed's pages by their visible texts, Save
(checked as init_app checks, problems next to their fields, nothing saved when
refused), conflicts that lose nothing, and the live-workers count."""

from __future__ import annotations

import re
from typing import Callable

import pytest
from flask import Flask
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


@pytest.mark.parametrize(
    "base", ["0", "-1", str(MAX_VERSION), str(MAX_VERSION + 1), "9223372036854775808", "9" * 30, "9" * 5000, ""]
)
def test_a_save_based_on_no_version_is_a_400(editor: Console, base: str) -> None:
    """The form's base_version names no version: never a 500 from the database driver."""
    page = editor.get("/apis/orders/cors")
    response = editor.post("/apis/orders/cors", {**current_form(page.text), "max_age": "600", "base_version": base})
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert store_of(editor.app).current().number == 1  # type: ignore[union-attr]
