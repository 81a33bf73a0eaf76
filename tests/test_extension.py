"""GraviCORS as a Flask extension: set-up, blueprints, reconfigure, warnings, plugins."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import pluggy
import pytest
from flask import Blueprint, Flask, g

from conftest import CALLS, PolicyPlugin, make_app
from flask_gravicors import ConfigError, GraviCORS, Policy, hookimpl
from flask_gravicors.explain import BrowserRequest
from flask_gravicors.wsgi import REQUEST_KEY

O = "https://shop.example.com"
CORS = {"enabled": True, "allow_origin": [O], "allow_methods": ["GET", "PUT"], "max_age": 100}


def orders_api(**changes: Any) -> dict[str, Any]:
    return {"name": "orders", "context_path": "/orders", "cors": CORS, **changes}


def simple_app() -> Flask:
    app = Flask(__name__)

    @app.get("/orders/<int:i>")
    def order(i: int) -> Any:
        return {"i": i, "policy_state": REQUEST_KEY in __import__("flask").request.environ}

    return app


def test_app_factory_and_config_key() -> None:
    ext = GraviCORS(plugins=[PolicyPlugin()])
    app = simple_app()
    app.config["GRAVICORS"] = {"apis": [orders_api()]}
    ext.init_app(app)
    assert app.extensions["gravicors"] is ext
    response = app.test_client().get("/orders/1", headers={"Origin": O})
    assert response.headers["Access-Control-Allow-Origin"] == O


def test_apis_argument_wins_over_config() -> None:
    app = simple_app()
    app.config["GRAVICORS"] = {"apis": [{"name": "x", "context_path": "/nope"}]}
    GraviCORS(app, apis=[orders_api()])
    assert app.test_client().get("/orders/1", headers={"Origin": O}).headers.get("Access-Control-Allow-Origin") == O


def test_config_may_be_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "apis.json"
    path.write_text(json.dumps({"apis": [{"name": "orders", "context_path": "/orders", "cors": {
        "enabled": True, "allowOrigin": [O], "allowMethods": ["GET"], "maxAge": 5}}]}))
    app = simple_app()
    app.config["GRAVICORS"] = str(path)
    GraviCORS(app)
    response = app.test_client().options("/orders/1", headers={"Origin": O, "Access-Control-Request-Method": "GET"})
    assert response.headers["Access-Control-Max-Age"] == "5"


def test_no_config_means_no_apis() -> None:
    app = simple_app()
    GraviCORS(app)
    response = app.test_client().get("/orders/1", headers={"Origin": O})
    assert "Access-Control-Allow-Origin" not in response.headers and "Vary" not in response.headers


def test_init_app_twice_is_refused() -> None:
    app = simple_app()
    ext = GraviCORS(app)
    with pytest.raises(RuntimeError, match="already initialised"):
        ext.init_app(app)
    with pytest.raises(RuntimeError, match="already initialised"):
        GraviCORS(app)


def test_bad_config_leaves_the_app_untouched() -> None:
    app = simple_app()
    original = app.wsgi_app
    app.config["GRAVICORS"] = {"apis": [orders_api(cors={"allow_origin": ["bad origin"]})]}
    with pytest.raises(ConfigError) as caught:
        GraviCORS(app)
    assert caught.value.ids == {"gravicors.E020"}
    assert app.wsgi_app == original and "gravicors" not in app.extensions


def test_apis_without_policies_pay_nothing_for_the_chain() -> None:
    app = simple_app()
    GraviCORS(app, apis=[orders_api()])
    assert app.test_client().get("/orders/1").json == {"i": 1, "policy_state": False}


def test_policies_run_before_the_apps_own_hooks() -> None:
    app = Flask(__name__)
    order: list[str] = []
    app.before_request(lambda: order.append("app hook"))
    bp = Blueprint("bp", __name__)
    bp.before_request(lambda: order.append("blueprint hook"))

    @bp.get("/orders/x")
    def view() -> str:
        order.append("view")
        return "ok"

    app.register_blueprint(bp)
    GraviCORS(app, apis=[orders_api(policies=[{"name": "record"}])], plugins=[PolicyPlugin()])
    app.test_client().get("/orders/x")
    assert [c[0] for c in CALLS][:1] == ["record"] and order == ["app hook", "blueprint hook", "view"]
    assert CALLS[0][1] == "request"


# --- blueprints ---


def blueprint_app(apis: list[dict[str, Any]]) -> Flask:
    app = Flask(__name__)
    shop = Blueprint("shop", __name__, url_prefix="/shop")
    admin = Blueprint("admin", __name__, url_prefix="/admin")

    @shop.get("/items")
    def items() -> str:
        return "items"

    @admin.get("/stats")
    def stats() -> str:
        return "stats"

    @app.get("/shop/free")  # under the prefix, but not a blueprint view
    def free() -> str:
        return "free"

    shop.register_blueprint(admin)
    app.register_blueprint(shop)
    GraviCORS(app, apis=apis, plugins=[PolicyPlugin()])
    return app


@pytest.mark.parametrize(
    ("apis", "path", "api"),
    [
        ([{"name": "shop", "blueprint": "shop"}], "/shop/items", "shop"),
        ([{"name": "shop", "blueprint": "shop"}], "/shop/admin/stats", "shop"),  # nested blueprints belong to it
        ([{"name": "shop", "blueprint": "shop"}, {"name": "admin", "blueprint": "shop.admin"}], "/shop/admin/stats", "admin"),
        ([{"name": "shop", "blueprint": "shop"}], "/shop/free", None),  # a path is not a blueprint
        ([{"name": "shop", "blueprint": "shop"}, {"name": "path", "context_path": "/shop"}], "/shop/items", "shop"),
        ([{"name": "shop", "blueprint": "shop"}, {"name": "path", "context_path": "/shop"}], "/shop/free", "path"),
        ([{"name": "shop", "blueprint": "shop"}], "/shop/nothing", None),
    ],
)
def test_blueprint_binding(apis: list[dict[str, Any]], path: str, api: str | None) -> None:
    for spec in apis:
        spec["policies"] = [{"name": "record"}]
        spec["cors"] = {"enabled": True, "allow_origin": [O]}
    blueprint_app(apis).test_client().get(path, headers={"Origin": O})
    assert [c[2] for c in CALLS if c[1] == "request"] == ([api] if api else [])


def test_blueprint_preflight_is_answered() -> None:
    app = blueprint_app([{"name": "shop", "blueprint": "shop", "cors": {**CORS, "allow_methods": ["PUT"]}}])
    response = app.test_client().options("/shop/items", headers={"Origin": O, "Access-Control-Request-Method": "PUT"})
    assert (response.status_code, response.headers["Access-Control-Allow-Methods"]) == (200, "PUT")


# --- reconfigure ---


def test_reconfigure_swaps_and_a_bad_config_keeps_the_old() -> None:
    app = make_app([orders_api()])
    ext: GraviCORS = app.extensions["gravicors"]
    client = app.test_client()
    new = {"apis": [orders_api(cors={**CORS, "allow_origin": ["https://new.test"]})]}
    ext.reconfigure(new)
    assert client.get("/orders/1", headers={"Origin": "https://new.test"}).headers["Access-Control-Allow-Origin"] == "https://new.test"
    assert "Access-Control-Allow-Origin" not in client.get("/orders/1", headers={"Origin": O}).headers
    with pytest.raises(ConfigError):
        ext.reconfigure({"apis": [orders_api(cors={"allow_origin": "nope"})]})
    assert client.get("/orders/1", headers={"Origin": "https://new.test"}).headers["Access-Control-Allow-Origin"] == "https://new.test"


def test_reconfigure_needs_the_app_when_serving_several() -> None:
    ext = GraviCORS(apis=[orders_api()])
    one, two = simple_app(), simple_app()
    ext.init_app(one)
    ext.init_app(two)
    with pytest.raises(RuntimeError, match="app="):
        ext.reconfigure({"apis": []})
    ext.reconfigure({"apis": []}, app=two)
    assert "Access-Control-Allow-Origin" not in two.test_client().get("/orders/1", headers={"Origin": O}).headers
    assert one.test_client().get("/orders/1", headers={"Origin": O}).headers["Access-Control-Allow-Origin"] == O
    with one.app_context():
        ext.reconfigure({"apis": []})
    assert "Access-Control-Allow-Origin" not in one.test_client().get("/orders/1", headers={"Origin": O}).headers


def test_reconfigure_is_atomic_under_concurrent_requests() -> None:
    # Two configs whose preflight answers differ in three headers: a request must
    # see all three from one config, never a mix.
    a = {"apis": [orders_api(cors={**CORS, "allow_methods": ["GET"], "max_age": 1, "allow_headers": ["x-a"]})]}
    b = {"apis": [orders_api(cors={**CORS, "allow_methods": ["GET", "PUT"], "max_age": 2, "allow_headers": ["x-b"]})]}
    app = make_app(a["apis"])
    ext: GraviCORS = app.extensions["gravicors"]
    seen: set[tuple[str, str, str]] = set()
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            ext.reconfigure(b, app=app)
            ext.reconfigure(a, app=app)

    swapper = threading.Thread(target=swap)
    swapper.start()
    try:
        client = app.test_client()
        for _ in range(300):
            r = client.options("/orders/1", headers={"Origin": O, "Access-Control-Request-Method": "GET"})
            seen.add((r.headers["Access-Control-Allow-Methods"], r.headers["Access-Control-Max-Age"], r.headers["Access-Control-Allow-Headers"]))
    finally:
        stop.set()
        swapper.join()
    assert seen <= {("GET", "1", "x-a"), ("GET, PUT", "2", "x-b")}


def test_reconfigured_policies_take_effect() -> None:
    app = make_app([orders_api()])
    ext: GraviCORS = app.extensions["gravicors"]
    assert app.test_client().get("/orders/1").status_code == 200
    ext.reconfigure({"apis": [orders_api(policies=[{"name": "answer", "config": {"status": 403}}])]})
    assert app.test_client().get("/orders/1").status_code == 403


# --- warnings ---


@pytest.mark.parametrize(
    ("api", "debug", "ids"),
    [
        (orders_api(entrypoints=["websocket"]), False, ["gravicors.W001"]),
        (orders_api(cors={**CORS, "allow_origin": ["*"]}), False, ["gravicors.W002"]),
        (orders_api(cors={**CORS, "allow_origin": ["*"]}), True, []),
        (orders_api(cors={**CORS, "allow_methods": ["GET", "TRACE"]}), False, ["gravicors.W003"]),
        (orders_api(cors={**CORS, "max_age": 86400}), False, ["gravicors.W004"]),
        # disabled: none of its warnings, only that it is disabled while it lists origins
        (orders_api(cors={**CORS, "enabled": False, "allow_origin": ["*"]}), False, ["gravicors.W014"]),
        (orders_api(), False, []),
    ],
)
def test_warnings_logged_at_start(api: dict[str, Any], debug: bool, ids: list[str], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="flask_gravicors"):
        make_app([api], debug=debug)
    logged = [r.getMessage().split(":")[0] for r in caplog.records if r.name == "flask_gravicors"]
    assert logged == ids


# --- plugins ---


def test_entry_point_plugins_are_found() -> None:
    # plugins/gravicors-apikey is installed by the test command.
    assert "api-key" in GraviCORS().policies


def test_entry_points_can_be_skipped() -> None:
    assert "api-key" not in GraviCORS(entry_points=False).policies


def test_two_plugins_giving_one_name_is_a_config_error() -> None:
    class Other(Policy):
        name = "record"

    class Clash:
        @hookimpl
        def gravicors_register_policies(self) -> list[type[Policy]]:
            return [Other]

    with pytest.raises(ConfigError, match="two plugins register the policy name 'record'"):
        GraviCORS(simple_app(), plugins=[PolicyPlugin(), Clash()])


def test_a_hook_with_no_spec_fails_at_init_app() -> None:
    class Typo:
        @hookimpl
        def gravicors_register_policy(self) -> list[Any]:
            return []

    with pytest.raises(pluggy.PluginValidationError):
        GraviCORS(simple_app(), plugins=[Typo()])


def test_config_loaded_hook_sees_every_compiled_config() -> None:
    seen: list[list[str]] = []

    class Observer:
        @hookimpl
        def gravicors_config_loaded(self, apis: Any) -> None:
            seen.append([api.name for api in apis])

    app = simple_app()
    ext = GraviCORS(app, apis=[orders_api()], plugins=[Observer()])
    ext.reconfigure({"apis": []})
    assert seen == [["orders"], []]


class _Veto:
    """An observer that refuses any config holding an API named "vetoed"."""

    @hookimpl
    def gravicors_config_loaded(self, apis: Any) -> None:
        if any(api.name == "vetoed" for api in apis):
            raise ValueError("no vetoed API here")


def test_config_loaded_hook_exception_is_a_config_error_at_init_app() -> None:
    """Only ConfigError leaves init_app: an observer's veto is gravicors.E015."""
    app = simple_app()
    with pytest.raises(ConfigError) as refused:
        GraviCORS(app, apis=[orders_api(name="vetoed")], plugins=[_Veto()])
    assert [(p.path, p.id) for p in refused.value.problems] == [("plugins", "gravicors.E015")]
    assert "hook 'gravicors_config_loaded' raised ValueError" in str(refused.value)
    assert "gravicors" not in app.extensions


def test_config_loaded_hook_exception_at_reconfigure_keeps_the_old_config() -> None:
    app = simple_app()
    ext = GraviCORS(app, apis=[orders_api()], plugins=[_Veto()])
    with pytest.raises(ConfigError) as refused:
        ext.reconfigure({"apis": [orders_api(name="vetoed")]})
    assert refused.value.ids == {"gravicors.E015"}
    assert ext.running_config(app) == {"apis": [orders_api()]}
    response = app.test_client().get("/orders/1", headers={"Origin": O})
    assert response.headers["Access-Control-Allow-Origin"] == O


def test_policy_exception_is_a_500_with_cors_headers() -> None:
    class Broken(Policy):
        name = "broken"

        def on_request(self, request: Any) -> None:
            raise RuntimeError("policy bug")

    class Plugin:
        @hookimpl
        def gravicors_register_policies(self) -> list[type[Policy]]:
            return [Broken]

    app = simple_app()
    app.testing = False
    GraviCORS(app, apis=[orders_api(policies=[{"name": "broken"}])], plugins=[Plugin()])
    response = app.test_client().get("/orders/1", headers={"Origin": O})
    assert (response.status_code, response.headers["Access-Control-Allow-Origin"]) == (500, O)


def test_on_response_may_replace_the_response() -> None:
    from flask import Response

    class Replace(Policy):
        name = "replace"

        def on_response(self, request: Any, response: Response) -> Response:
            g.replaced = True
            return Response("replaced", status=202)

    class Plugin:
        @hookimpl
        def gravicors_register_policies(self) -> list[type[Policy]]:
            return [Replace]

    app = simple_app()
    GraviCORS(app, apis=[orders_api(policies=[{"name": "replace"}])], plugins=[Plugin()])
    response = app.test_client().get("/orders/1", headers={"Origin": O})
    assert (response.status_code, response.data, response.headers["Access-Control-Allow-Origin"]) == (202, b"replaced", O)


@pytest.mark.parametrize(("debug", "app_debug", "warned"), [(True, False, True), (True, True, False), (False, False, False)])
def test_debug_mode_warns_when_the_app_is_not_in_debug(
    debug: bool, app_debug: bool, warned: bool, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="flask_gravicors"):
        make_app([orders_api()], debug=app_debug, config={"GRAVICORS_DEBUG": debug})
    assert any("gravicors.W012" in r.getMessage() for r in caplog.records) is warned


def test_debug_setting_must_be_a_flag() -> None:
    with pytest.raises(ConfigError) as refused:
        make_app([orders_api()], config={"GRAVICORS_DEBUG": "on"})
    assert [(p.path, p.id) for p in refused.value.problems] == [("GRAVICORS_DEBUG", "gravicors.E003")]


def test_explain_an_unsaved_config_leaves_the_running_one() -> None:
    app = make_app([orders_api()])
    ext: GraviCORS = app.extensions["gravicors"]
    asked = BrowserRequest("/orders/1", "https://new.example")
    assert not ext.explain(asked, app=app).allowed
    widened = {"apis": [orders_api(cors={**CORS, "allow_origin": [O, "https://new.example"]})]}
    assert ext.explain(asked, config=widened, app=app).allowed
    assert app.test_client().get("/orders/1", headers={"Origin": "https://new.example"}).headers.get(
        "Access-Control-Allow-Origin"
    ) is None
    with pytest.raises(ConfigError):
        ext.explain(asked, config={"apis": [{"name": "x"}]}, app=app)


# --- load(): the one definition of a valid config ----------------------------------


class _SetUpFails(Policy):
    """A step without settings passes its schema; its class refuses it (gravicors.E015)."""

    name = "set-up-fails"

    def __init__(self, config: Any, api_name: str) -> None:
        raise ValueError("cannot set up")


class _Observer:
    def __init__(self) -> None:
        self.loaded: list[list[str]] = []

    @hookimpl
    def gravicors_register_policies(self) -> list[type[Policy]]:
        return [_SetUpFails]

    @hookimpl
    def gravicors_config_loaded(self, apis: Any) -> None:
        self.loaded.append([api.name for api in apis])


def settings_for(needs: str, tmp_path: Path) -> dict[str, Any]:
    if needs == "metrics":
        (tmp_path / "metrics").mkdir(exist_ok=True)
        return {"GRAVICORS_METRICS": True, "GRAVICORS_METRICS_DIR": str(tmp_path / "metrics")}
    if needs == "console":
        return {
            "GRAVICORS_CONSOLE": True,
            "GRAVICORS_STORE": f"sqlite:///{tmp_path}/store-{len(list(tmp_path.glob('store-*.db')))}.db",
            "GRAVICORS_STORE_WATCH": False,
            "SECRET_KEY": "test-secret-key-0123456789abcdef",
        }
    return {}


STEP = {"policy": "set-up-fails"}
# (id, the app's settings, config, what load() and init_app both refuse)
REFUSED = [
    ("a policy that cannot be set up", "", {"apis": [orders_api(flows=[{"request": [STEP]}])]},
     [("apis[0].flows[0].request[0]", "gravicors.E015")]),
    ("a plan flow's policy that cannot be set up", "",
     {"apis": [orders_api(plans=[{"name": "p", "security": "keyless", "flows": [{"request": [STEP]}]}])]},
     [("apis[0].plans[0].flows[0].request[0]", "gravicors.E015")]),
    ("an API at '/' owns the metrics path", "metrics", {"apis": [orders_api(context_path="/")]},
     [("GRAVICORS_METRICS_PATH", "gravicors.E092")]),
    ("an API owns the metrics path", "metrics", {"apis": [orders_api(context_path="/metrics")]},
     [("GRAVICORS_METRICS_PATH", "gravicors.E092")]),
    ("an API owns the metrics path, and a schema error: both at once", "metrics",
     {"apis": [orders_api(context_path="/", cors={**CORS, "max_age": -5})]},
     [("GRAVICORS_METRICS_PATH", "gravicors.E092"), ("apis[0].cors.max_age", "gravicors.E040")]),
    ("an API inside the console's prefix, and a schema error", "console",
     {"apis": [orders_api(context_path="/gravicors/orders", cors={**CORS, "max_age": -5})]},
     [("apis[0].context_path", "gravicors.E090"), ("apis[0].cors.max_age", "gravicors.E040")]),
]  # fmt: skip


@pytest.mark.parametrize(("needs", "config", "problems"), [pytest.param(*r[1:], id=r[0]) for r in REFUSED])
def test_load_refuses_what_init_app_refuses(tmp_path: Path, needs: str, config: Any, problems: list[tuple[str, str]]) -> None:
    """load(raw, app), which every save, `flask gravicors check` and the store's
    start-up call, compiles on trial: its verdict is init_app's, problem for problem."""
    observer = _Observer()
    app = simple_app()
    app.config.update(settings_for(needs, tmp_path), GRAVICORS={"apis": [orders_api()]})
    ext = GraviCORS(app, plugins=[observer], entry_points=False)
    loaded = list(observer.loaded)
    with pytest.raises(ConfigError) as by_load:
        ext.load(config, app)
    assert sorted((p.path, p.id) for p in by_load.value.problems) == problems
    assert observer.loaded == loaded  # a trial: no hook told, nothing applied
    assert ext.running_config(app) == {"apis": [orders_api()]}
    fresh = simple_app()
    fresh.config.update(settings_for(needs, tmp_path), GRAVICORS=config)
    with pytest.raises(ConfigError) as by_init:
        GraviCORS(fresh, plugins=[_Observer()], entry_points=False)
    assert sorted((p.path, p.id) for p in by_init.value.problems) == problems
    assert "gravicors" not in fresh.extensions
    store = ext.store_for(app)
    if store is not None:
        store.close()


def test_load_without_an_app_compiles_too() -> None:
    """`flask gravicors check FILE` without an app: the installed plugins' classes
    refuse what they refuse (default TTL, no blueprint routing)."""
    ext = GraviCORS(plugins=[_Observer()], entry_points=False)
    with pytest.raises(ConfigError) as refused:
        ext.load({"apis": [orders_api(flows=[{"request": [STEP]}])]})
    assert refused.value.ids == {"gravicors.E015"}
    assert ext.load({"apis": [orders_api(context_path="/")]})["apis"][0]["context_path"] == "/"


def test_a_bad_dynamic_origins_ttl_stops_the_start_before_the_store(tmp_path: Path) -> None:
    app = simple_app()
    app.config.update(GRAVICORS_DYNAMIC_ORIGINS_TTL=-1, GRAVICORS_STORE=f"sqlite:///{tmp_path}/store.db")
    with pytest.raises(ConfigError) as refused:
        GraviCORS(app, apis=[orders_api()])
    assert [(p.path, p.id) for p in refused.value.problems] == [("GRAVICORS_DYNAMIC_ORIGINS_TTL", "gravicors.E003")]
    assert not (tmp_path / "store.db").exists()
