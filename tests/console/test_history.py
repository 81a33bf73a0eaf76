"""flask_gravicors.console.history: every version with author, time, source and
comment, a readable diff, and "Roll back to this version" for editors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

import pytest
from flask import Flask
from sqlalchemy import insert

from flask_gravicors.store import MAX_VERSION
from flask_gravicors.store.tables import versions

from .conftest import OTHER, PAGE, Console, add_users, config, store_of


def saved_twice(app: Flask) -> None:
    store = store_of(app)
    second = config(allow_origin=[PAGE, OTHER])
    store.save(second, author="alice", comment="second page", source="cli")
    third = config(allow_origin=[PAGE, OTHER], max_age=600)
    third["apis"].pop()  # the websocket API removed
    store.save(third, author="bob", source="api")


def test_the_list(app: Flask) -> None:
    saved_twice(app)
    viewer = Console(app)
    viewer.login("viewer")
    page = viewer.text(viewer.get("/history"))
    rows = re.findall(r"Version (\d) (?:newest )?(\S+) (\S+) (\S+) (\S+)", page)
    assert [(n, author, source) for n, _, author, source, _ in rows] == [
        ("3", "bob", "api"),
        ("2", "alice", "cli"),
        ("1", "init", "init"),
    ]
    assert re.search(r"Version 3 newest \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ bob api orders, ws", page)
    assert "alice cli orders second page" in page


def test_a_versions_diff(app: Flask) -> None:
    saved_twice(app)
    viewer = Console(app)
    viewer.login("viewer")
    page = viewer.text(viewer.get("/history/3"))
    assert "Changes from version 2" in page
    assert "orders cors.max_age – 600" in page
    assert "ws the whole API" in page and "removed" in page
    first = viewer.text(viewer.get("/history/1"))
    assert "Its config" in first and "orders the whole API –" in first
    assert "Roll back to this version" not in page  # a viewer reads only
    assert viewer.get("/history/9").status_code == 404


def test_rollback(app: Flask) -> None:
    saved_twice(app)
    editor = Console(app)
    editor.login("editor")
    html = editor.get("/history/1").text
    assert "Roll back to this version" in html and 'name="expected_version" value="3"' in html
    response = editor.post("/history/1/rollback", {"expected_version": "3"})
    assert response.status_code == 302 and response.headers["Location"] == "/gravicors/history?saved=4"
    page = editor.text(editor.get("/history?saved=4"))
    assert "Configuration successfully saved! Version 4 holds the config of version 1." in page
    assert re.search(r"Version 4: live on \d of 1 workers", page)
    store = store_of(app)
    newest = store.current()
    assert (newest.number, newest.author, newest.source, newest.comment) == (4, "editor", "console", "rollback to version 1")  # type: ignore[union-attr]
    assert newest.config == store.get(1).config  # type: ignore[union-attr]
    # The newest version has no rollback button of its own.
    assert "Roll back to this version" not in editor.get("/history/4").text


def test_a_rollback_based_on_an_old_page_is_refused(app: Flask) -> None:
    editor = Console(app)
    editor.login("editor")
    editor.get("/history/1")
    saved_twice(app)  # someone saved meanwhile
    response = editor.post("/history/1/rollback", {"expected_version": "1"})
    assert response.headers["Location"] == "/gravicors/history/1"
    assert "Nothing was rolled back: version 3 was saved (by bob)" in editor.text(editor.get("/history/1"))
    assert store_of(app).current().number == 3  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/history/0"),
        ("get", f"/history/{MAX_VERSION}"),
        ("get", f"/history/{MAX_VERSION + 1}"),
        ("get", "/history/9223372036854775808"),
        ("get", "/history/" + "9" * 30),
        ("post", f"/history/{MAX_VERSION}/rollback"),
        ("post", "/history/9223372036854775808/rollback"),
        ("post", "/history/" + "9" * 30 + "/rollback"),
    ],
)
def test_a_number_outside_the_versions_is_not_found(editor: Console, method: str, path: str) -> None:
    """404, never a 500 from the database driver (SQLite: OverflowError beyond 2**63 - 1)."""
    editor.get("/history/1")
    response = editor.post(path, {"expected_version": "1"}) if method == "post" else editor.get(path)
    assert response.status_code == 404
    assert store_of(editor.app).current().number == 1  # type: ignore[union-attr]


def test_rolling_back_to_a_version_that_no_longer_compiles(make_console: Callable[..., Flask], tmp_path: Path) -> None:
    """Version 2 puts an API at "/" (saved where metrics were off, or by hand): with
    metrics on here, rolling back to it is refused (gravicors.E092), nothing saved."""
    (tmp_path / "metrics").mkdir()
    app = make_console(GRAVICORS_METRICS=True, GRAVICORS_METRICS_DIR=str(tmp_path / "metrics"), GRAVICORS_STORE_WATCH=False)
    add_users(app)
    store = store_of(app)
    root = {"apis": [{"name": "root", "context_path": "/"}]}
    with store.sql.engine.begin() as conn:
        conn.execute(
            insert(versions).values(number=2, config=json.dumps(root), author="dba", created_at=0, comment="", source="api")
        )
    store.save(config(), author="alice")
    editor = Console(app)
    editor.login("editor")
    editor.get("/history/2")
    response = editor.post("/history/2/rollback", {"expected_version": "3"})
    assert response.status_code == 422
    page = editor.text(response)
    assert "Version 2's config no longer passes the checks (nothing was saved)" in page
    assert "GRAVICORS_METRICS_PATH : gravicors.E092" in page
    assert store.current().number == 3  # type: ignore[union-attr]
