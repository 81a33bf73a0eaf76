"""flask_gravicors.console.auth: who gets in and what each role may do; the
security tests of the issue's "Done when", in-process (the browser suite repeats
the session ones against gunicorn's workers)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest
from flask import Flask

from .conftest import PASSWORD, Console, add_users, store_of

# Sample values for the URL rules' arguments.
ARGS = {"name": "orders", "number": 1, "filename": "console.css"}


def console_rules(app: Flask) -> list[tuple[str, str]]:
    """(method, path) of every URL rule of the console app, its arguments filled."""
    console = app.extensions["gravicors_console"]
    out = []
    for rule in console.url_map.iter_rules():
        path = "/gravicors" + rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", str(ARGS[arg]))
            for converter in ("int", "segment", "path"):
                path = path.replace(f"<{converter}:{arg}>", str(ARGS[arg]))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, path))
    return out


def test_every_console_url_needs_a_session(app: Flask) -> None:
    """Without a session: a page asks for the login page, a client that wants JSON
    gets 401, whatever the method; only the login page and static files are open."""
    client = app.test_client()
    rules = console_rules(app)
    assert len(rules) >= 14
    open_ = set()
    for method, path in rules:
        html = client.open(path, method=method, headers={"Accept": "text/html"})
        json = client.open(path, method=method, headers={"Accept": "application/json"})
        html.close()
        json.close()
        if path.endswith(("/login", "/static/console.css")):
            open_.add(path)
            continue
        if path.endswith("/status.json"):
            assert html.status_code == 401, (method, path)  # a JSON endpoint never redirects
        else:
            assert html.status_code == 302, (method, path, html.status_code)
            assert html.headers["Location"].startswith("/gravicors/login"), (method, path)
        assert json.status_code == 401 and json.get_json() == {"error": "login required"}, (method, path)
    assert open_ == {"/gravicors/login", "/gravicors/static/console.css"}


def test_login_sends_back_to_the_page_asked_for_and_nowhere_else(console: Console) -> None:
    response = console.client.get("/gravicors/history?limit=5")
    assert response.headers["Location"] == "/gravicors/login?next=/gravicors/history?limit%3D5"
    for target, landed in [
        ("/gravicors/history?limit=5", "/gravicors/history?limit=5"),
        ("https://evil.example/", "/gravicors/apis"),
        ("//evil.example/gravicors/", "/gravicors/apis"),
        ("/gravicors\\..\\evil", "/gravicors/apis"),
        ("/elsewhere", "/gravicors/apis"),
        ("/gravicors/\r\nSet-Cookie: x=1", "/gravicors/apis"),  # a Location header holds no CR/LF
        ("/gravicors/\x00", "/gravicors/apis"),
    ]:
        client = Console(console.app)
        client.get("/login")
        response = client.client.post(
            "/gravicors/login",
            query_string={"next": target},
            data={"csrf_token": client.token, "username": "viewer", "password": PASSWORD},
        )
        assert (response.status_code, response.headers["Location"]) == (302, landed), target


def test_session_id_changes_at_login_and_logout_ends_it(console: Console) -> None:
    console.get("/login")
    before = console.cookie()
    assert before is not None and not before.startswith("s.")  # a signed cookie: no session in the store yet
    assert console.post("/login", {"username": "editor", "password": PASSWORD}).status_code == 302
    first = console.cookie()
    assert first is not None and first.startswith("s.") and first != before
    assert console.get("/apis").status_code == 200
    # Another browser, another session.
    again = Console(console.app)
    again.login("editor")
    assert again.cookie() not in (first, None)
    accounts = store_of(console.app).accounts
    assert accounts.session_count("editor") == 2  # two browsers, two sessions
    # Logout ends this browser's session in the store: the saved cookie opens nothing.
    console.get("/apis")
    assert console.post("/logout").status_code == 302
    assert accounts.session_count("editor") == 1
    assert console.cookie() != first
    stolen = console.app.test_client()
    stolen.set_cookie("gravicors_console", first, path="/gravicors")
    response = stolen.get("/gravicors/apis")
    assert response.status_code == 302 and response.headers["Location"].startswith("/gravicors/login")
    # ... and the answer removes it (or replaces it by a session-less one).
    assert "gravicors_console=;" in response.headers.get("Set-Cookie", "") or "s." not in response.headers.get("Set-Cookie", "s.")
    assert again.get("/apis").status_code == 200  # the other browser stays logged in


def test_the_login_form_without_its_csrf_token_is_refused(console: Console) -> None:
    console.get("/login")
    response = console.post("/login", {"username": "editor", "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert console.cookie() is None or not console.cookie().startswith("s.")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (
            "/apis/orders/cors",
            {"base_version": "1", "enabled": "y", "allow_origin": "https://new.example", "allow_methods": "GET"},
        ),
        ("/history/1/rollback", {"expected_version": "1"}),
        ("/users", {"username": "mallory", "role": "admin", "password": "x" * 12}),
        ("/users/viewer/delete", {}),
        ("/users/viewer/role", {"role": "admin"}),
        ("/logout", {}),
    ],
)
def test_a_post_without_csrf_token_gets_400_and_changes_nothing(app: Flask, path: str, data: dict[str, Any]) -> None:
    admin = Console(app)
    admin.login("admin")
    store = store_of(app)
    before = (len(store.history()), store.accounts.users(), store.accounts.session_count())
    for token in (None, "forged-token"):
        sent = {**data, **({"csrf_token": token} if token else {})}
        response = admin.client.post("/gravicors" + path, data=sent)
        assert response.status_code == 400, (path, token)
        assert "security token" in admin.text(response)
    assert (len(store.history()), store.accounts.users(), store.accounts.session_count()) == before
    assert admin.get("/apis").status_code == 200  # still logged in


@pytest.mark.parametrize(
    ("role", "path", "data", "allowed"),
    [
        ("viewer", "/apis/orders/cors", {"base_version": "1", "enabled": "y", "allow_origin": "https://new.example"}, False),
        ("viewer", "/history/1/rollback", {"expected_version": "1"}, False),
        ("editor", "/users", {"username": "mallory", "role": "admin", "password": "x" * 12}, False),
        ("editor", "/users/viewer/delete", {}, False),
        ("viewer", "/users/viewer/role", {"role": "admin"}, False),
        ("editor", "/apis/orders/cors", {"base_version": "1", "enabled": "y", "allow_origin": "https://new.example"}, True),
        ("admin", "/users", {"username": "carol", "role": "viewer", "password": "x" * 12}, True),
    ],
)
def test_roles(app: Flask, role: str, path: str, data: dict[str, Any], allowed: bool) -> None:
    client = Console(app)
    client.login(role)
    client.get("/apis")
    store = store_of(app)
    before = (len(store.history()), store.accounts.users())
    response = client.post(path, data)
    if allowed:
        assert response.status_code == 302, client.text(response)
        assert (len(store.history()), store.accounts.users()) != before
    else:
        assert response.status_code == 403
        assert f"you are {role}" in client.text(response)
        assert (len(store.history()), store.accounts.users()) == before


def test_pages_a_role_may_not_open(app: Flask) -> None:
    editor = Console(app)
    editor.login("editor")
    assert editor.get("/users").status_code == 403
    assert "Users" not in editor.text(editor.get("/apis")).split("Log out")[1].split("APIs")[0]


def test_failed_logins_are_throttled(make_console: Callable[..., Flask]) -> None:
    """5 failures for one name within the window: every further attempt gets 429,
    the right password too; once the window has passed, the right password works."""
    app = make_console(GRAVICORS_CONSOLE_LOGIN_WINDOW=2)
    add_users(app)
    client = Console(app)
    for _ in range(5):
        response = client.login("editor", "wrong password")
        assert response.status_code == 200 and "Invalid username or password." in client.text(response)
    started = time.monotonic()
    for password in ("wrong password", PASSWORD):
        response = client.login("editor", password)
        assert response.status_code == 429, password
        assert "Too many failed logins" in client.text(response)
        assert 1 <= int(response.headers["Retry-After"]) <= 2
    assert client.cookie() is None or not client.cookie().startswith("s.")  # type: ignore[union-attr]
    # Another name from the same address: the address has 5 failures too.
    assert client.login("viewer").status_code == 429
    time.sleep(max(0.0, 2.2 - (time.monotonic() - started)))
    response = client.login("editor")
    assert response.status_code == 302 and client.cookie().startswith("s.")  # type: ignore[union-attr]


def test_a_burst_of_logins_at_once_gets_no_more_guesses(make_console: Callable[..., Flask]) -> None:
    """12 logins for one name sent at the same moment (threads), one with the right
    password: 5 wrong ones at most are checked, however they interleave (the right
    one logs in when it comes before the fifth failure, else gets 429 too)."""
    app = make_console(GRAVICORS_CONSOLE_LOGIN_WINDOW=60)
    add_users(app)
    clients = [Console(app) for _ in range(12)]
    for client in clients:
        client.get("/login")
    start = threading.Barrier(len(clients))

    def attempt(i: int) -> int:
        start.wait()
        password = PASSWORD if i == len(clients) - 1 else "wrong password"
        return clients[i].post("/login", {"username": "editor", "password": password}).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        statuses = list(pool.map(attempt, range(len(clients))))
    wrong_checked = [status for status in statuses[:-1] if status != 429]
    assert len(wrong_checked) == 5 and statuses[-1] in (302, 429), statuses


def test_a_host_werkzeug_cannot_bind_is_a_400_not_a_500(app: Flask) -> None:
    """Host ``a..b``: no URL adapter, so no url_for; answered 400, with the headers."""
    client = app.test_client()
    for path in ("/gravicors/login", "/gravicors/apis", "/gravicors/nowhere"):
        for host in ("a..b", "x" * 64 + ".example"):
            response = client.get(path, headers={"Host": host, "Accept": "text/html"})
            assert response.status_code == 400, (path, host)
            assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_throttled_per_name_whatever_the_address(make_console: Callable[..., Flask]) -> None:
    app = make_console(GRAVICORS_CONSOLE_LOGIN_WINDOW=60)
    add_users(app)
    for i in range(5):
        client = Console(app)
        client.client.environ_base["REMOTE_ADDR"] = f"10.0.0.{i}"
        client.login("Admin", "wrong password")
    client = Console(app)
    client.client.environ_base["REMOTE_ADDR"] = "10.0.0.99"
    assert client.login("admin").status_code == 429  # names compare case-folded
    assert client.login("editor").status_code == 302  # another name, a fresh address


def test_cookies_are_httponly_samesite_lax_and_secure_over_https(app: Flask) -> None:
    for scheme, secure in (("http", False), ("https", True)):
        client = Console(app, base_url=f"{scheme}://localhost")
        cookies = [client.get("/login").headers["Set-Cookie"], client.login("editor").headers["Set-Cookie"]]
        for header in cookies:
            parts = [p.strip() for p in header.split(";")]
            assert parts[0].startswith("gravicors_console=")
            assert "HttpOnly" in parts and "SameSite=Lax" in parts and "Path=/gravicors" in parts
            assert ("Secure" in parts) == secure
            assert not any(p.lower().startswith(("expires", "max-age")) for p in parts)  # no remember-me: ends with the browser
        response = client.get("/apis")
        assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_wrong_names_and_passwords(console: Console) -> None:
    for name, password in [("nobody", PASSWORD), ("editor", "nope nope"), ("editor", PASSWORD + " "), ("EDITOR", PASSWORD)]:
        response = console.login(name, password)
        assert response.status_code == 200 and "Invalid username or password." in console.text(response), name
    assert console.login("", PASSWORD).status_code == 400
