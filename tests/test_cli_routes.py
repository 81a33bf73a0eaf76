"""``flask gravicors routes``: every URL rule with the API that owns it, CORS and run_policies."""

from __future__ import annotations

from flask import Blueprint, Flask

from conftest import PolicyPlugin
from flask_gravicors import GraviCORS
from flask_gravicors.cli import gravicors

APIS = [
    {"name": "orders", "context_path": "/orders", "cors": {"enabled": True, "allow_origin": ["https://a.example"]},
     "policies": [{"name": "record"}]},
    {"name": "chat", "context_path": "/chat", "entrypoints": ["websocket"], "cors": {"enabled": True, "allow_origin": ["https://a.example"]}},
    {"name": "admin", "blueprint": "admin", "cors": {"enabled": True, "allow_origin": ["https://a.example"], "run_policies": True},
     "policies": [{"name": "record"}, {"name": "answer"}]},
]  # fmt: skip


def view() -> str:
    return ""


def make() -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/orders", "orders", view)
    app.add_url_rule("/orders/<int:id>", "order", view, methods=["PUT", "DELETE"])
    app.add_url_rule("/ordersx", "ordersx", view)  # not under /orders
    app.add_url_rule("/chat", "chat", view)
    app.add_url_rule("/<path:page>", "pages", view)  # reaches /orders and /chat URLs too
    admin = Blueprint("admin", __name__, url_prefix="/admin")
    admin.add_url_rule("/users", "users", view, methods=["GET", "POST"])
    app.register_blueprint(admin)
    app.config["GRAVICORS"] = {"apis": APIS}
    GraviCORS(app, plugins=[PolicyPlugin()], entry_points=False)
    return app


# Each rule's cells after the endpoint: methods, rule, API, CORS, policies, run policies.
EXPECTED = {
    "pages": ["GET", "/<path:page>", "- (some URLs: orders, chat)", "-", "-", "-"],
    "admin.users": ["GET, POST", "/admin/users", "admin", "on", "record, answer", "on"],
    "chat": ["GET", "/chat", "chat", "off", "-", "off"],
    "orders": ["GET", "/orders", "orders", "on", "record", "off"],
    "order": ["DELETE, PUT", "/orders/<int:id>", "orders", "on", "record", "off"],
    "ordersx": ["GET", "/ordersx", "-", "-", "-", "-"],
    "static": ["GET", "/static/<path:filename>", "-", "-", "-", "-"],
}


def test_routes() -> None:
    result = make().test_cli_runner().invoke(gravicors, ["routes"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ENDPOINT", "METHODS", "RULE", "API", "CORS", "POLICIES", "RUN", "POLICIES"]
    assert set(lines[1]) <= {"-", " "}
    # Columns are cut where the header's columns start.
    starts = [lines[0].index(h) for h in ("ENDPOINT", "METHODS", "RULE", "API", "CORS", "POLICIES", "RUN POLICIES")]
    rows = {}
    for line in lines[2:]:
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        rows[cells[0]] = cells[1:]
    assert rows == EXPECTED


def test_routes_owned_by_the_root_api() -> None:
    app = Flask(__name__, static_folder=None)
    app.add_url_rule("/anything/<x>", "anything", view)
    GraviCORS(app, apis=[{"name": "everything", "context_path": "/"}], entry_points=False)
    lines = app.test_cli_runner().invoke(gravicors, ["routes"]).stdout.splitlines()
    assert lines[2].split() == ["anything", "GET", "/anything/<x>", "everything", "off", "-", "off"]


def test_routes_names_a_blueprint_api_that_covers_nothing() -> None:
    """An API bound to a blueprint with no rule in the app (misspelt, or registered
    under another name) covers no URL: routes says so on stderr."""
    app = Flask(__name__)
    shop = Blueprint("shop", __name__, url_prefix="/shop")
    shop.add_url_rule("/items", "items", view)
    app.register_blueprint(shop, name="shop_v2")  # registered under another name
    apis = [{"name": "shop", "blueprint": "shop"}, {"name": "v2", "blueprint": "shop_v2"}]
    GraviCORS(app, apis=apis, entry_points=False)
    result = app.test_cli_runner().invoke(gravicors, ["routes"])
    assert result.exit_code == 0
    assert "API 'shop' is bound to blueprint 'shop', which has no URL rule" in result.stderr
    assert "'v2'" not in result.stderr
