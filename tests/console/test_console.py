"""flask_gravicors.console: mounting (settings and their errors), the dispatcher
in front of the CORS layer, and no API inside the console's prefix."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Callable

import pytest
from flask import Flask

from flask_gravicors import ConfigError, GraviCORS
from flask_gravicors.console import ConsoleDispatcher, ConsoleError

from .conftest import PAGE, Console, config, store_of

ROOT_API = {
    "apis": [
        {
            "name": "everything",
            "context_path": "/",
            "cors": {"enabled": True, "allow_origin": ["*"], "allow_methods": ["GET", "POST"], "allow_headers": ["*"]},
        }
    ]
}


def plain_app(tmp_path: Path, **settings: Any) -> Flask:
    app = Flask(__name__)
    defaults = {
        "SECRET_KEY": "k" * 32,
        "GRAVICORS": config(),
        "GRAVICORS_STORE": f"sqlite:///{tmp_path}/s.db",
        "GRAVICORS_CONSOLE": True,
    }
    app.config.update({**defaults, **settings})
    return app


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"GRAVICORS_STORE": None}, "GRAVICORS_CONSOLE needs a config store: set GRAVICORS_STORE"),
        ({"SECRET_KEY": None}, "GRAVICORS_CONSOLE needs SECRET_KEY"),
        ({"GRAVICORS_CONSOLE_PREFIX": "/"}, "GRAVICORS_CONSOLE_PREFIX must be an absolute path other than '/'"),
        ({"GRAVICORS_CONSOLE_PREFIX": "/admin/"}, "GRAVICORS_CONSOLE_PREFIX must be"),
        ({"GRAVICORS_CONSOLE_PREFIX": "/a/../b"}, "GRAVICORS_CONSOLE_PREFIX must be"),
        ({"GRAVICORS_CONSOLE_PREFIX": "admin"}, "GRAVICORS_CONSOLE_PREFIX must be"),
        ({"GRAVICORS_CONSOLE_LIMITS_STORAGE": "localhost:6379"}, "GRAVICORS_CONSOLE_LIMITS_STORAGE must be a limits storage URI"),
        ({"GRAVICORS_CONSOLE_LIMITS_STORAGE": "nosuch://x"}, "GRAVICORS_CONSOLE_LIMITS_STORAGE: "),
        ({"GRAVICORS_CONSOLE_LOGIN_ATTEMPTS": 0}, "GRAVICORS_CONSOLE_LOGIN_ATTEMPTS must be a number from 1 to 1000"),
        ({"GRAVICORS_CONSOLE_LOGIN_WINDOW": "15m"}, "GRAVICORS_CONSOLE_LOGIN_WINDOW must be a number"),
        ({"GRAVICORS_CONSOLE_SESSION_LIFETIME": True}, "GRAVICORS_CONSOLE_SESSION_LIFETIME must be a number"),
    ],
)
def test_a_console_that_cannot_be_mounted_is_refused_at_init_app(tmp_path: Path, settings: dict[str, Any], message: str) -> None:
    app = plain_app(tmp_path, **settings)
    wsgi = app.wsgi_app
    with pytest.raises(ConsoleError, match=message.replace("(", r"\(").replace(".", r"\.")):
        GraviCORS(app, entry_points=False)
    assert "gravicors" not in app.extensions and app.wsgi_app == wsgi


def test_without_the_console_extra_the_error_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def without_flask_login(name: str, *args: Any) -> Any:
        if name in ("flask_login", "flask_wtf"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args)

    monkeypatch.setattr("flask_gravicors.console.importlib.import_module", without_flask_login)
    with pytest.raises(ConsoleError) as err:
        GraviCORS(plain_app(tmp_path), entry_points=False)
    assert str(err.value) == (
        "GRAVICORS_CONSOLE is set but the console's dependencies are missing (flask_login, flask_wtf): "
        "pip install 'flask-gravicors[console]'"
    )


def test_console_pages_never_carry_cors_headers(make_console: Callable[..., Flask]) -> None:
    """Even under an API whose context path is "/" with "*": the console is in front
    of the CORS layer. The rest of the app keeps its CORS answers."""
    app = make_console(ROOT_API)
    client = app.test_client()
    preflight = {"Origin": PAGE, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-a"}
    for method, path, headers in [
        ("GET", "/gravicors/login", {"Origin": PAGE}),
        ("GET", "/gravicors", {"Origin": PAGE}),
        ("GET", "//gravicors/login", {"Origin": PAGE}),
        ("POST", "/gravicors/login", {"Origin": PAGE}),
        ("OPTIONS", "/gravicors/login", preflight),
        ("OPTIONS", "/gravicors/apis", preflight),
        ("GET", "/gravicors/static/console.css", {"Origin": PAGE}),
        ("GET", "/gravicors/nowhere", {"Origin": PAGE}),
    ]:
        # PATH_INFO as the server passes it (the test client would read "//x" as a host).
        response = client.open("/", method=method, headers=headers, environ_overrides={"PATH_INFO": path})
        assert not [h for h in response.headers.keys() if h.lower().startswith("access-control-")], (method, path)
        assert "Content-Security-Policy" in response.headers, (method, path)
        response.close()
    for path in ("/x", "/gravicorsx", "/gravicor"):
        response = client.get(path, headers={"Origin": PAGE})
        assert response.headers["Access-Control-Allow-Origin"] == "*", path
        assert "Content-Security-Policy" not in response.headers, path


@pytest.mark.parametrize(
    ("prefix", "path", "console_path"),
    [
        ("/gravicors", "/gravicors", "/"),
        ("/gravicors", "/gravicors/", "/"),
        ("/gravicors", "/gravicors/apis/x", "/apis/x"),
        ("/gravicors", "//gravicors/apis", "/apis"),
        ("/gravicors", "///gravicors", "/"),
        ("/gravicors", "/gravicorsx", None),
        ("/gravicors", "/Gravicors/apis", None),
        ("/gravicors", "/x/gravicors", None),
        ("/gravicors", "", None),
        ("/ops/console", "/ops/console/apis", "/apis"),
        ("/ops/console", "/ops", None),
    ],
)
def test_the_dispatcher(prefix: str, path: str, console_path: str | None) -> None:
    seen: list[tuple[str, str, str]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(("app", environ.get("SCRIPT_NAME", ""), environ["PATH_INFO"]))
        return []

    def console(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(("console", environ["SCRIPT_NAME"], environ["PATH_INFO"]))
        return []

    ConsoleDispatcher(app, console, prefix)({"PATH_INFO": path, "SCRIPT_NAME": ""}, lambda *a: None)
    assert seen == [("console", prefix, console_path) if console_path else ("app", "", path)]


def test_a_mounted_app_keeps_its_script_name(make_console: Callable[..., Flask]) -> None:
    app = make_console()
    response = app.test_client().get("/gravicors/apis", environ_overrides={"SCRIPT_NAME": "/shop"})
    assert response.headers["Location"] == "/shop/gravicors/login?next=/shop/gravicors/apis"


def test_no_api_inside_the_consoles_prefix(make_console: Callable[..., Flask], tmp_path: Path) -> None:
    inside = config()
    inside["apis"][1]["context_path"] = "/gravicors/ws"
    inside["apis"].append(
        {"name": "bad", "context_path": "/gravicors", "cors": {"allow_origin": ["*"], "allow_credentials": True}}
    )
    with pytest.raises(ConfigError) as err:
        make_console(inside)
    assert {(p.path, p.id) for p in err.value.problems} == {
        ("apis[1].context_path", "gravicors.E090"),
        ("apis[2].context_path", "gravicors.E090"),
        ("apis[2].cors.allow_origin[0]", "gravicors.E023"),  # every problem at once
    }
    # Elsewhere it is fine: the prefix is the console's only when it is mounted.
    other = plain_app(tmp_path, GRAVICORS_CONSOLE=False, GRAVICORS=ROOT_API)
    other.config["GRAVICORS"] = {"apis": [{"name": "a", "context_path": "/gravicors/x"}]}
    GraviCORS(other, entry_points=False)
    store_of(other).close()
    # And a save through the store (the console's, the CLI's) is checked alike.
    app = make_console(GRAVICORS_CONSOLE_PREFIX="/ops/console")
    inside = config()
    inside["apis"][0]["context_path"] = "/ops/console/orders"
    with pytest.raises(ConfigError) as err:
        store_of(app).save(inside, author="x")
    assert [p.id for p in err.value.problems] == ["gravicors.E090"] and len(store_of(app).history()) == 1
    assert Console(app, prefix="/ops/console").get("/login").status_code == 200
