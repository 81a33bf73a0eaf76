"""flask_gravicors.console.users: admins add users, change roles and remove users;
the last admin stays."""

from __future__ import annotations

from flask import Flask

from .conftest import PASSWORD, Console, store_of


def test_admin_manages_users(app: Flask) -> None:
    admin = Console(app)
    admin.login("admin")
    page = admin.text(admin.get("/users"))
    assert "APIs History Users" in page and "admin admin" in page
    accounts = store_of(app).accounts
    response = admin.post("/users", {"username": "carol", "role": "editor", "password": "long enough pw"})
    assert response.status_code == 302
    assert "User carol added." in admin.text(admin.get("/users"))
    assert accounts.get_user("carol").role == "editor"  # type: ignore[union-attr]
    carol = Console(app)
    assert carol.login("carol", "long enough pw").status_code == 302
    assert admin.post("/users/carol/role", {"role": "viewer"}).status_code == 302
    assert accounts.get_user("carol").role == "viewer"  # type: ignore[union-attr]
    assert carol.text(carol.get("/apis/orders/cors")).count("saving it needs the editor role") == 1  # the new role at once
    assert admin.post("/users/carol/delete").status_code == 302
    assert accounts.get_user("carol") is None
    # Removing a user ends their sessions.
    assert carol.get("/apis").status_code == 302


def test_bad_users_are_refused(app: Flask) -> None:
    admin = Console(app)
    admin.login("admin")
    accounts = store_of(app).accounts
    before = accounts.users()
    for data, status, text in [
        ({"username": "editor", "role": "viewer", "password": PASSWORD}, 409, "already exists"),
        ({"username": "dave", "role": "viewer", "password": "short"}, 400, "between 8 and 1024"),
        ({"username": " dave", "role": "viewer", "password": PASSWORD}, 400, "without spaces"),
        ({"username": "dave", "role": "root", "password": PASSWORD}, 400, "Not a valid choice"),
    ]:
        response = admin.post("/users", data)
        assert response.status_code == status and text in admin.text(response), data
    assert accounts.users() == before
    assert admin.post("/users/nobody/delete").status_code == 404
    assert admin.post("/users/viewer/role", {"role": "root"}).status_code == 400


def test_the_last_admin_stays(app: Flask) -> None:
    admin = Console(app)
    admin.login("admin")
    accounts = store_of(app).accounts
    admin.post("/users/admin/delete")
    assert "admin is the last admin" in admin.text(admin.get("/users"))
    admin.post("/users/admin/role", {"role": "editor"})
    assert accounts.get_user("admin").role == "admin"  # type: ignore[union-attr]
    admin.post("/users/editor/role", {"role": "admin"})
    assert admin.post("/users/admin/delete").status_code == 302
    assert accounts.get_user("admin") is None
