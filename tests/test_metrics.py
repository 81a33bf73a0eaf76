"""flask_gravicors.metrics: what each request counts under, the endpoint, the store's
series, and a real ``gunicorn -w 4`` whose scrapes add up to the requests sent.

Rows: an API's cors block and one request (sent three times: the first through the
WSGI layer's slow path, the others through its memo) -> the one series of
``gravicors_requests_total`` it counts under. Every scrape is compared whole:
nothing counted that should not be.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from procs import GUNICORN_EXTRA, START_TIMEOUT, Gunicorn, free_port, wait_until
from prometheus_client.parser import text_string_to_metric_families

from conftest import make_app
from flask_gravicors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
O = "https://shop.example.com"
EVIL = "https://evil.test"
CORS = {"enabled": True, "allow_origin": [O], "allow_methods": ["GET", "PUT"], "allow_headers": ["x-trace"]}
ANSWER = [{"name": "answer", "config": {"status": 401}}]

Series = tuple[str, ...]


def scrape(text: str, metric: str = "gravicors_requests") -> dict[Series, float]:
    """The samples of one metric family: label values (in the metric's label order) ->
    value; series still at 0 left out (a series may be made before its first count)."""
    out: dict[Series, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == metric:
            for sample in family.samples:
                if sample.name.endswith("_created") or (sample.value == 0 and family.type == "counter"):
                    continue
                out[tuple(sample.labels.values())] = sample.value
    return out


def metrics_of(app: Flask, path: str = "/metrics") -> str:
    response = app.test_client().get(path)
    assert response.status_code == 200, response.data
    return response.get_data(as_text=True)


@pytest.fixture
def metrics_app(tmp_path: Path) -> Iterator[Any]:
    # A directory of its own: the collector reads every *.db file in it (a SQLite
    # store's file beside them would be read too).
    directory = tmp_path / "metrics"
    directory.mkdir()

    def make(cors: dict[str, Any] = CORS, entrypoints: tuple[str, ...] = ("http-proxy",), **settings: Any) -> Flask:
        api = {"name": "orders", "context_path": "/orders", "entrypoints": list(entrypoints), "cors": cors}
        api.update(settings.pop("api", {}))
        return make_app([api], config={"GRAVICORS_METRICS": True, "GRAVICORS_METRICS_DIR": str(directory), **settings})

    yield make


def pre(origin: str = O, method: str = "PUT", headers: str | None = None, **extra: str) -> dict[str, str]:
    out = {"Origin": origin, "Access-Control-Request-Method": method, **extra}
    if headers is not None:
        out["Access-Control-Request-Headers"] = headers
    return out


# (id, cors, entrypoints, method, path, headers, (api, kind, outcome, reason))
ROWS = [
    ("allowed GET", CORS, ("http-proxy",), "GET", "/orders/1", {"Origin": O}, ("orders", "actual", "allowed", "")),
    ("refused origin GET", CORS, ("http-proxy",), "GET", "/orders/1", {"Origin": EVIL}, ("orders", "actual", "refused", "origin")),
    ("no Origin: no cross-origin read", CORS, ("http-proxy",), "GET", "/orders/1", {}, ("orders", "actual", "allowed", "")),
    ("'*' allows every origin", {**CORS, "allow_origin": ["*"]}, ("http-proxy",), "GET", "/orders/1", {"Origin": EVIL},
     ("orders", "actual", "allowed", "")),
    ("outside every API", CORS, ("http-proxy",), "GET", "/outside/1", {"Origin": O}, ("", "actual", "untouched", "")),
    ("CORS disabled", {**CORS, "enabled": False}, ("http-proxy",), "GET", "/orders/1", {"Origin": O},
     ("orders", "actual", "untouched", "")),
    ("websocket-only API", CORS, ("websocket",), "GET", "/orders/1", {"Origin": O}, ("orders", "actual", "untouched", "")),
    ("a WebSocket handshake", CORS, ("http-proxy",), "GET", "/orders/1",
     {"Origin": O, "Connection": "Upgrade", "Upgrade": "websocket"}, ("orders", "websocket", "untouched", "")),
    ("valid preflight", CORS, ("http-proxy",), "OPTIONS", "/orders/1", pre(headers="x-trace"), ("orders", "preflight", "allowed", "")),
    ("preflight: origin", CORS, ("http-proxy",), "OPTIONS", "/orders/1", pre(EVIL), ("orders", "preflight", "refused", "origin")),
    ("preflight: method", CORS, ("http-proxy",), "OPTIONS", "/orders/1", pre(method="PATCH"),
     ("orders", "preflight", "refused", "method")),
    ("preflight: headers", CORS, ("http-proxy",), "OPTIONS", "/orders/1", pre(headers="x-other"),
     ("orders", "preflight", "refused", "headers")),
    ("preflight: private network not granted", CORS, ("http-proxy",), "OPTIONS", "/orders/1",
     pre(**{"Access-Control-Request-Private-Network": "true"}), ("orders", "preflight", "refused", "private_network")),
    ("preflight: private network granted", {**CORS, "allow_private_network": True}, ("http-proxy",), "OPTIONS", "/orders/1",
     pre(**{"Access-Control-Request-Private-Network": "true"}), ("orders", "preflight", "allowed", "")),
    ("preflight outside every API", CORS, ("http-proxy",), "OPTIONS", "/outside/1", pre(), ("", "preflight", "untouched", "")),
    ("preflight, CORS disabled", {**CORS, "enabled": False}, ("http-proxy",), "OPTIONS", "/orders/1", pre(),
     ("orders", "preflight", "untouched", "")),
]


@pytest.mark.parametrize(("cors", "entrypoints", "method", "path", "headers", "series"), [pytest.param(*r[1:], id=r[0]) for r in ROWS])
def test_what_a_request_counts_under(
    metrics_app: Any, cors: dict[str, Any], entrypoints: tuple[str, ...], method: str, path: str, headers: dict[str, str],
    series: Series,
) -> None:
    app = metrics_app(cors, entrypoints)
    for _ in range(3):
        app.test_client().open(path, method=method, headers=headers)
    assert scrape(metrics_of(app)) == {series: 3.0}


def test_the_memo_counts_each_request_under_its_own_series(metrics_app: Any) -> None:
    # Paths sharing a memo key, origins allowed and refused, in turn.
    app = metrics_app()
    client = app.test_client()
    for i in range(5):
        client.get(f"/orders/{i}", headers={"Origin": O})
        client.get(f"/orders/{i}", headers={"Origin": EVIL})
        client.get(f"/outside/{i}", headers={"Origin": O})
    client.options("/orders/1", headers=pre())
    assert scrape(metrics_of(app)) == {
        ("orders", "actual", "allowed", ""): 5.0,
        ("orders", "actual", "refused", "origin"): 5.0,
        ("", "actual", "untouched", ""): 5.0,
        ("orders", "preflight", "allowed", ""): 1.0,
    }


def test_policy_answers(metrics_app: Any) -> None:
    keyed = {"plans": [{"name": "Gold", "security": "api-key", "configuration": {"keys": ["k1"]}}]}
    app = metrics_app(api={**keyed, "policies": [], "flows": [{"selectors": [{"path": "/quota"}], "request": [{"policy": "answer", "configuration": {"status": 429}}]}]})
    client = app.test_client()
    client.get("/orders/1", headers={"Origin": O})  # no key: the plan refuses (401)
    client.get("/orders/1", headers={"Origin": O, "X-Gravitee-Api-Key": "nope"})  # 401
    client.get("/orders/quota", headers={"Origin": O, "X-Gravitee-Api-Key": "k1"})  # the flow's step answers 429
    response = client.get("/orders/1", headers={"Origin": O, "X-Gravitee-Api-Key": "k1"})  # through to the view
    assert response.status_code == 200
    assert scrape(metrics_of(app), "gravicors_policy_answers") == {
        ("orders", "security", "401"): 2.0,
        ("orders", "answer", "429"): 1.0,
    }
    assert scrape(metrics_of(app))[("orders", "actual", "allowed", "")] == 4.0


def test_a_run_policies_preflight_answered_by_a_step(metrics_app: Any) -> None:
    app = metrics_app({**CORS, "run_policies": True}, api={"policies": ANSWER})
    assert app.test_client().options("/orders/1", headers=pre()).status_code == 401
    text = metrics_of(app)
    # The CORS decision allowed it; the step's answer is counted apart.
    assert scrape(text) == {("orders", "preflight", "allowed", ""): 1.0}
    assert scrape(text, "gravicors_policy_answers") == {("orders", "answer", "401"): 1.0}


def test_the_endpoint(metrics_app: Any) -> None:
    app = metrics_app(GRAVICORS_METRICS_PATH="/internal/metrics")
    client = app.test_client()
    response = client.get("/internal/metrics", headers={"Origin": O})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["Cache-Control"] == "no-store"
    assert not [h for h in response.headers.keys() if h.lower().startswith("access-control-")]
    assert client.head("/internal/metrics").data == b""
    refused = client.post("/internal/metrics")
    assert (refused.status_code, refused.headers["Allow"]) == (405, "GET, HEAD")
    # The endpoint's own requests are not counted; /metrics is now the app's (404).
    assert client.get("/metrics").status_code == 404
    assert scrape(metrics_of(app, "/internal/metrics")) == {("", "actual", "untouched", ""): 1.0}


def test_the_endpoint_is_never_answered_from_the_memo(metrics_app: Any) -> None:
    # With a short longest context path the memo key of /metrics is "/met"...: a
    # request to a path sharing it must not make /metrics go to the app.
    app = metrics_app(api={"context_path": "/or"})
    client = app.test_client()
    client.get("/metrics-and-more", headers={"Origin": O})
    client.get("/metrics-and-more", headers={"Origin": O})
    assert client.get("/metrics", headers={"Origin": O}).status_code == 200


@pytest.mark.parametrize(
    ("settings", "key", "rule"),
    [
        ({"GRAVICORS_METRICS_PATH": "/orders/metrics"}, "GRAVICORS_METRICS_PATH", "gravicors.E092"),
        ({"GRAVICORS_METRICS_PATH": "/orders"}, "GRAVICORS_METRICS_PATH", "gravicors.E092"),
        ({"GRAVICORS_METRICS_PATH": "metrics"}, "GRAVICORS_METRICS_PATH", "gravicors.E092"),
        ({"GRAVICORS_METRICS_PATH": "/met rics"}, "GRAVICORS_METRICS_PATH", "gravicors.E092"),
        ({"GRAVICORS_METRICS_PATH": 5}, "GRAVICORS_METRICS_PATH", "gravicors.E092"),
        ({"GRAVICORS_METRICS_DIR": "/nonexistent/metrics"}, "GRAVICORS_METRICS_DIR", "gravicors.E003"),
        ({"GRAVICORS_METRICS": "yes"}, "GRAVICORS_METRICS", "gravicors.E003"),
    ],
)
def test_bad_settings(metrics_app: Any, settings: dict[str, Any], key: str, rule: str) -> None:
    with pytest.raises(ConfigError) as refused:
        metrics_app(**settings)
    assert [(p.path, p.id) for p in refused.value.problems] == [(key, rule)]


@pytest.mark.parametrize(
    ("path", "prefix", "refused"),
    [
        ("/gravicors/metrics", "/gravicors", True),  # the console would answer it (its login page)
        ("/gravicors", "/gravicors", True),
        ("/gravicors/", "/gravicors", True),
        ("//gravicors/metrics", "/gravicors", True),  # werkzeug folds the slashes, so does the console
        ("/ops", "/ops/console", True),  # the console inside the metrics path
        ("/ops/", "/ops/console", True),
        ("/gravicors-metrics", "/gravicors", False),
        ("/metrics", "/gravicors", False),
        ("/ops/metrics", "/ops/console", False),
    ],
)
def test_the_metrics_path_and_the_console_prefix(metrics_app: Any, tmp_path: Path, path: str, prefix: str, refused: bool) -> None:
    """Both are answered in front of every API: one inside the other is E092 at
    init_app, before the store is opened."""
    store = tmp_path / "store.db"
    settings = {
        "GRAVICORS_METRICS_PATH": path,
        "GRAVICORS_CONSOLE": True,
        "GRAVICORS_CONSOLE_PREFIX": prefix,
        "GRAVICORS_STORE": f"sqlite:///{store}",
        "GRAVICORS_STORE_WATCH": False,
        "SECRET_KEY": "test-secret-key-0123456789abcdef",
    }
    if refused:
        with pytest.raises(ConfigError) as caught:
            metrics_app(**settings)
        assert [(p.path, p.id) for p in caught.value.problems] == [("GRAVICORS_METRICS_PATH", "gravicors.E092")]
        assert not store.exists()
        return
    app = metrics_app(**settings)
    try:
        client = app.test_client()
        assert client.get(path).status_code == 200 and "gravicors_" in client.get(path).get_data(as_text=True)
        assert client.get(prefix + "/apis").headers["Location"].startswith(prefix + "/login")
    finally:
        app.extensions["gravicors"].store_for(app).close()


def test_a_new_config_may_not_take_the_metrics_path(metrics_app: Any) -> None:
    app = metrics_app()
    with pytest.raises(ConfigError) as refused:
        app.extensions["gravicors"].reconfigure({"apis": [{"name": "m", "context_path": "/metrics"}]}, app=app)
    assert refused.value.ids == {"gravicors.E092"}
    assert app.test_client().get("/metrics").status_code == 200


def test_without_prometheus_client(metrics_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    monkeypatch.delitem(sys.modules, "flask_gravicors.metrics")
    with pytest.raises(ConfigError) as refused:
        metrics_app()
    assert refused.value.ids == {"gravicors.E093"}


def test_off_by_default(tmp_path: Path) -> None:
    app = make_app([{"name": "orders", "context_path": "/orders", "cors": CORS}])
    assert app.extensions["gravicors"].metrics_for(app) is None
    assert app.test_client().get("/metrics").status_code == 404


def test_under_gunicorn_without_a_shared_directory_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "gunicorn.arbiter", sys.modules[__name__])
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with caplog.at_level("WARNING", logger="flask_gravicors"):
        app = make_app([{"name": "orders", "context_path": "/orders", "cors": CORS}], config={"GRAVICORS_METRICS": True})
    assert any("gravicors.W013" in r.getMessage() for r in caplog.records)
    metrics = app.extensions["gravicors"].metrics_for(app)
    assert metrics.private and os.path.isdir(metrics.directory)


def test_a_private_directory_is_removed_with_its_metrics() -> None:
    from flask_gravicors.metrics import Metrics

    metrics = Metrics()
    directory = metrics.directory
    metrics.requests("a", "actual", "allowed").inc()
    assert os.listdir(directory)
    del metrics
    import gc

    gc.collect()
    assert not os.path.exists(directory)


def test_store_version_and_reloads(metrics_app: Any, tmp_path: Path) -> None:
    app = metrics_app(GRAVICORS_STORE=f"sqlite:///{tmp_path}/store.db", GRAVICORS_STORE_WATCH=False)
    ext = app.extensions["gravicors"]
    store = ext.store_for(app)
    try:
        assert scrape(metrics_of(app), "gravicors_config_version") == {(): 1.0}
        ext.reconfigure({"apis": [{"name": "orders", "context_path": "/orders", "cors": {**CORS, "allow_origin": [EVIL]}}]},
                        app=app, author="alice")
        bad = {"apis": [{"name": "orders", "context_path": "/orders", "cors": {"allow_origin": ["*"], "allow_credentials": True}}]}
        from sqlalchemy import insert

        from flask_gravicors.store.tables import versions

        with store.sql.engine.begin() as conn:
            conn.execute(insert(versions).values(number=3, config=__import__("json").dumps(bad), author="dba", created_at=0,
                                                 comment="", source="api"))
        store.poll()  # refused (E023): logged, reported and counted once
        store.poll()
        text = metrics_of(app)
        assert scrape(text, "gravicors_config_version") == {(): 2.0}
        assert scrape(text, "gravicors_config_reloads") == {("applied",): 1.0, ("refused",): 1.0}
    finally:
        store.close()


# --- a real gunicorn -w 4 -----------------------------------------------------------


def request(port: int, method: str, path: str, headers: dict[str, str]) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Any]:
    started: list[Gunicorn] = []

    def start(preload: bool) -> Gunicorn:
        directory = tmp_path / f"metrics-{len(started)}"
        directory.mkdir()
        port = free_port()
        log_path = tmp_path / f"gunicorn-{port}.log"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               "PROMETHEUS_MULTIPROC_DIR": str(directory)}
        command = [sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}", *GUNICORN_EXTRA,
                   *(["--preload"] if preload else []), "tests.metricsapp:create_app()"]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        server = Gunicorn(proc, port, log_path, 4)
        started.append(server)

        def ready() -> bool:
            try:
                return len(server.pids()) == 4 and request(port, "GET", "/ready", {})[0] == 200
            except OSError:
                return False

        wait_until(ready, START_TIMEOUT, f"gunicorn on port {port}", proc)
        return server

    yield start
    for server in started:
        server.stop()
    for server in started:
        assert "Traceback" not in server.log(), server.log()


# What the test sends, how many times, and the series each counts under.
SENT = [
    (("GET", "/orders/1", {"Origin": O}), 60, ("orders", "actual", "allowed", "")),
    (("PUT", "/orders/2", {"Origin": O}), 20, ("orders", "actual", "allowed", "")),
    (("GET", "/orders/3", {"Origin": EVIL}), 40, ("orders", "actual", "refused", "origin")),
    (("GET", "/outside/4", {"Origin": O}), 30, ("", "actual", "untouched", "")),
    (("OPTIONS", "/orders/5", pre(headers="x-trace")), 30, ("orders", "preflight", "allowed", "")),
    (("OPTIONS", "/orders/6", pre(method="DELETE")), 20, ("orders", "preflight", "refused", "method")),
    (("GET", "/orders/full", {"Origin": O}), 25, ("orders", "actual", "allowed", "")),
]


@pytest.mark.parametrize("preload", [False, True], ids=["plain", "preload"])
def test_gunicorn_four_workers_scrapes_add_up(gunicorn: Any, preload: bool) -> None:
    server = gunicorn(preload)
    # Before: what the start-up probes counted (GET /ready: outside every API).
    before = scrape(request(server.port, "GET", "/metrics", {})[1])
    assert before == {("", "actual", "untouched", ""): 1.0}
    jobs = [job for job, times, _ in SENT for _ in range(times)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda job: request(server.port, *job), jobs))
    served_by = {int(body) for status, body in answers if status == 200 and body.isdigit()}
    assert len(served_by) >= 2 and served_by <= server.pids(), "the requests must spread over several workers"
    expected = dict(before)
    for _, times, series in SENT:
        expected[series] = expected.get(series, 0.0) + times
    # Every scrape, whichever worker answers it, sees every request that finished before it.
    for _ in range(8):
        status, text = request(server.port, "GET", "/metrics", {})
        assert status == 200
        assert scrape(text) == expected
        assert scrape(text, "gravicors_policy_answers") == {("orders", "test-full", "429"): 25.0}


def test_threads_never_lose_a_count() -> None:
    """Counts take no lock (metrics.Count): threads switching every microsecond,
    through the method and through the inlined statement of the WSGI layer's fast
    path, lose nothing."""
    import threading

    from flask_gravicors.metrics import Metrics

    metrics = Metrics()
    count = metrics.requests("a", "actual", "allowed")
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        def work(inline: bool) -> None:
            for _ in range(50_000):
                if inline:
                    count.view[count.index] += 1.0
                else:
                    count.inc()

        threads = [threading.Thread(target=work, args=(i % 2 == 0,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    assert count.value == 8 * 50_000
    assert scrape(metrics.exposition()[0].decode()) == {("a", "actual", "allowed", ""): 400_000.0}


def test_a_gone_process_leaves_the_version_gauge(tmp_path: Path) -> None:
    from flask_gravicors.metrics import Metrics

    directory = tmp_path / "metrics"
    directory.mkdir()
    metrics = Metrics(str(directory))
    metrics.config_version(5)
    # A worker that ran version 3 and is gone (its pid no longer exists).
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(done.stdout)
    other = Metrics(str(directory))
    other.config_version(3)
    gone = directory / f"gauge_livemin_gravicors-{dead}-1-00000000.db"
    os.rename(other._gauges.path, gone)
    assert gone.exists()
    assert scrape(metrics.exposition()[0].decode(), "gravicors_config_version") == {(): 5.0}
    assert not gone.exists()
