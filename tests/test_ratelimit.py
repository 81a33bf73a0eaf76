"""gravicors-ratelimit in one process: config, keys, limits, headers, run_policies,
and an unreachable storage. The real redis-server and gunicorn tests are in
tests/ratelimit/. Apps come from the plugin authors' kit (flask_gravicors.testing,
its ``gravicors_app`` fixture), and so do the browser's verdicts on the answers."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from typing import Any, Iterator

import pytest
from flask import Flask
from limits import RateLimitItemPerDay, RateLimitItemPerHour, RateLimitItemPerMinute, RateLimitItemPerSecond

from flask_gravicors import ConfigError, GraviCORS
from flask_gravicors import testing as kit

gravicors_ratelimit = pytest.importorskip("gravicors_ratelimit")
from gravicors_ratelimit import RateLimitPolicy, parse_period, redact_url  # noqa: E402

ORIGIN = "https://shop.example.com"
RL_HEADERS = ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset")


#: Where a step's configuration sits in a config (the api() below).
CONFIGURATION = "apis[0].flows[0].request[0].configuration"


def api(
    config: dict[str, Any],
    *,
    name: str = "public",
    path: str = "/public",
    cors: dict[str, Any] | None = None,
    steps: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An API whose one flow runs a rate-limit step with ``config`` on every request
    (or runs ``steps``)."""
    if cors is None:
        cors = kit.cors(
            allow_origin=[ORIGIN], allow_methods=["GET", "PUT"], allow_headers=["content-type"], expose_headers=list(RL_HEADERS)
        )
    return kit.api(name, path, cors=cors, flows=[kit.flow(*(steps if steps is not None else [kit.step("rate-limit", **config)]))])


def policy_of(app: Flask, api_name: str = "public") -> RateLimitPolicy:
    return kit.compiled(app, api_name).policies[0]  # type: ignore[no-any-return]


# -- packaging and config --------------------------------------------------------


def test_installed_through_the_entry_point() -> None:
    # No plugins= given: the policy comes from the flask_gravicors entry-point group.
    assert GraviCORS().policies["rate-limit"] is RateLimitPolicy


def test_config_defaults(gravicors_app: Any) -> None:
    app = gravicors_app([api({"limit": 5})])
    assert dict(policy_of(app).config) == {
        "limit": 5,
        "period": "1m",
        "key": "ip",
        "storage": "memory://",
        "on_storage_error": "allow",
        "timeout": 0.5,
        "add_headers": True,
    }


# (Gravitee's configuration, ours)
GRAVITEE = [
    (
        {"async": False, "addHeaders": True, "rate": {"limit": 10, "periodTime": 1, "periodTimeUnit": "MINUTES", "key": ""}},
        {"limit": 10, "period": "1m", "add_headers": True},
    ),
    (
        {"rate": {"limit": 3, "periodTime": 30, "periodTimeUnit": "SECONDS", "useKeyOnly": False}},
        {"limit": 3, "period": "30s", "add_headers": False},
    ),
    (
        {
            "addHeaders": True,
            "rate": {"limit": 5, "periodTime": 2, "periodTimeUnit": "HOURS"},
            "gravicors": {"storage": "redis://127.0.0.1:6379/0", "key": "api-key"},
        },
        {"limit": 5, "period": "2h", "add_headers": True, "storage": "redis://127.0.0.1:6379/0", "key": "api-key"},
    ),
]


@pytest.mark.parametrize(("gravitee", "ours"), GRAVITEE)
def test_gravitee_translation(gravitee: dict[str, Any], ours: dict[str, Any]) -> None:
    assert RateLimitPolicy.from_gravitee(gravitee) == ours
    assert RateLimitPolicy.from_gravitee(RateLimitPolicy.to_gravitee(ours)) == ours


@pytest.mark.parametrize(
    ("gravitee", "message"),
    [
        ({"rate": {"limit": 1, "periodTime": 1, "periodTimeUnit": "MONTHS"}}, "periodTimeUnit 'MONTHS'"),
        ({"rate": {"limit": 1, "key": "{#request.headers['x']}"}}, "custom key"),
        ({"rate": {"limit": 1, "dynamicLimit": "{#context.attributes['l']}"}}, "dynamicLimit"),
        ({"rate": {"limit": 1}, "burst": 3}, "['burst'] has no translation"),
        ({}, "needs a 'rate' object"),
    ],
)
def test_untranslatable_gravitee_configuration(gravitee: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        RateLimitPolicy.from_gravitee(gravitee)


def test_add_headers_off(gravicors_app: Any) -> None:
    resp = gravicors_app([api({"limit": 5, "add_headers": False})]).test_client().get("/public/x")
    assert resp.status_code == 200 and "X-Rate-Limit-Limit" not in resp.headers


def test_a_legacy_policies_entry_still_limits(gravicors_app: Any) -> None:
    # Old configs' "policies" list loads as one flow over every request.
    legacy = kit.api("public", "/public", cors=api({})["cors"], policies=[kit.policy("rate-limit", limit=1)])
    app = gravicors_app([legacy])
    fetch(app).assert_allowed(status=200, readable=RL_HEADERS)
    fetch(app).assert_allowed(status=429)
    with pytest.raises(ConfigError) as excinfo:
        gravicors_app([kit.api("public", "/public", policies=[kit.policy("rate-limit", limit=0)])])
    assert [p.path for p in excinfo.value.problems] == ["apis[0].policies[0].config.limit"]


@pytest.mark.parametrize(
    ("period", "multiples", "item"),
    [
        ("30s", 30, RateLimitItemPerSecond),
        ("1m", 1, RateLimitItemPerMinute),
        ("2h", 2, RateLimitItemPerHour),
        ("1d", 1, RateLimitItemPerDay),
        ("1 minute", 1, RateLimitItemPerMinute),
        ("15 MIN", 15, RateLimitItemPerMinute),
    ],
)
def test_parse_period(period: str, multiples: int, item: type) -> None:
    assert parse_period(period) == (multiples, item)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("period", "1x", "not a period"),
        ("period", "0m", "not a period"),
        ("period", "m", "not a period"),
        ("period", "", "not a period"),
        ("period", "1.5m", "not a period"),
        ("key", "cookie", "must be 'ip', 'api-key' or 'header:<header name>'"),
        ("key", "header:", "must be 'ip', 'api-key' or 'header:<header name>'"),
        ("key", "header:X Client", "must be 'ip', 'api-key' or 'header:<header name>'"),
        ("storage", "mongodb://127.0.0.1:27017", "unsupported storage"),
        ("storage", "memcached://127.0.0.1:11211", "unsupported storage"),
        ("storage", "memory", "unsupported storage"),
        ("storage", "redis://", "the host is missing"),
        ("storage", "redis://127.0.0.1:99999/0", "the port must be a number"),
        ("storage", "redis://127.0.0.1:port/0", "the port must be a number"),
        ("storage", "redis://127.0.0.1:6379/zero", "the path must be a database number"),
        # issue 12: the URL's query options are checked here, not at the first request
        ("storage", "redis://127.0.0.1:6379/0?foo=bar", "unknown storage URL option 'foo'"),
        ("storage", "redis://127.0.0.1:6379/0?socket_timeout=abc", "is set by the policy: use the config's 'timeout'"),
        ("storage", "redis://127.0.0.1:6379/0?socket_connect_timeout=60", "is set by the policy"),
        ("storage", "redis://127.0.0.1:6379/0?retry_on_timeout=true", "is set by the policy"),
        ("storage", "redis://127.0.0.1:6379/0?health_check_interval=soon", "'health_check_interval' must be whole seconds"),
        ("storage", "redis://127.0.0.1:6379?protocol=4", "'protocol' must be 2 or 3"),
        ("storage", "redis://127.0.0.1:6379/0?db=1", "'db' is given twice"),
        ("storage", "redis://127.0.0.1:6379?max_connections=8&max_connections=9", "'max_connections' is given twice"),
        ("storage", "redis://127.0.0.1:6379/0?password=", "'password' must be a password"),
        ("storage", "redis://127.0.0.1:6379/0?ssl_check_hostname", "name=value pairs"),
        ("storage", "redis://127.0.0.1:6379/0?ssl_check_hostname=maybe", "must be true or false"),
        ("storage", "redis://127.0.0.1:6379/\udcff", "a lone surrogate"),
        ("storage", "redis://h\u00e9:6379/0", "printable ASCII"),
        ("limit", 0, "gravicors.E003"),
        ("limit", "100", "gravicors.E003"),
        ("limit", 1.5, "gravicors.E003"),
        ("on_storage_error", "maybe", "gravicors.E003"),
        ("timeout", 0, "gravicors.E003"),
        ("timeout", 31, "gravicors.E003"),
    ],
)
def test_config_errors_name_the_field(gravicors_app: Any, field: str, value: Any, reason: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        gravicors_app([api({"limit": 5, field: value})])
    text = str(excinfo.value)
    assert f"{CONFIGURATION}.{field}" in text
    assert reason in text


def test_config_errors_are_collected_and_hide_the_password(gravicors_app: Any) -> None:
    with pytest.raises(ConfigError) as excinfo:
        gravicors_app([api({"period": "fortnight", "key": "cookie", "storage": "redis://:hunter2@127.0.0.1:nope/0"})])
    text = str(excinfo.value)
    for field in ("limit", "period", "key", "storage"):
        assert f"{CONFIGURATION}.{field}" in text
    assert "hunter2" not in text


@pytest.mark.parametrize(
    "storage",
    [
        "redis://127.0.0.1:6379/0?password=s3cret&ssl_check_hostname=false",
        "rediss://127.0.0.1:6380?db=2&health_check_interval=30&max_connections=8&protocol=3&username=app",
    ],
)
def test_known_storage_url_options_load(gravicors_app: Any, storage: str) -> None:
    app = gravicors_app([api({"limit": 5, "storage": storage})])  # nothing connects yet
    kwargs = policy_of(app).storage.storage.connection_pool.connection_kwargs  # type: ignore[attr-defined]
    assert kwargs["socket_timeout"] == 0.5  # the policy's timeout, not overridden by the URL


def test_an_option_of_the_storage_url_never_hides_the_password(gravicors_app: Any) -> None:
    with pytest.raises(ConfigError) as excinfo:
        gravicors_app([api({"limit": 5, "storage": "redis://127.0.0.1:6379/0?password=hunter2&password=hunter2"})])
    assert "given twice" in str(excinfo.value) and "hunter2" not in str(excinfo.value)


@pytest.mark.parametrize("on_storage_error", ["allow", "deny"])
@pytest.mark.parametrize(
    "error", [TypeError("__init__() got an unexpected keyword argument 'foo'"), ValueError("x"), KeyError("y")]
)
def test_whatever_the_storage_raises_is_never_a_500(
    gravicors_app: Any, on_storage_error: str, error: Exception, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 12: with "?foo=bar" in its URL the Redis client raised TypeError at the
    # first request, and every request of the API was a 500.
    caplog.set_level(logging.WARNING, "gravicors_ratelimit")
    monkeypatch.setattr(gravicors_ratelimit, "_OUTAGES", {})  # outages are logged once per process and URL
    app = gravicors_app([api({"limit": 5, "on_storage_error": on_storage_error})])

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise error

    policy_of(app).limiter.hit_with_stats = broken  # type: ignore[method-assign]
    for _ in range(2):
        fetch(app).assert_allowed(status=200 if on_storage_error == "allow" else 503)
    assert type(error).__name__ in rl_warnings(caplog)[0].getMessage()


def test_unknown_config_field_is_refused(gravicors_app: Any) -> None:
    with pytest.raises(ConfigError) as excinfo:
        gravicors_app([api({"limit": 5, "burst": 3})])
    assert f"{CONFIGURATION}.burst" in str(excinfo.value)


def test_redact_url() -> None:
    assert redact_url("redis://:pw1@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert redact_url("redis://app:pw1@h:1/2") == "redis://app:***@h:1/2"
    assert redact_url("redis://h:1/0?password=pw1&ssl=x") == "redis://h:1/0?password=***&ssl=x"
    assert redact_url("redis://h:1/0") == "redis://h:1/0"


# -- keys ------------------------------------------------------------------------


@pytest.fixture
def keyed(gravicors_app: Any) -> Any:
    def make(key: str) -> tuple[Flask, RateLimitPolicy]:
        app = gravicors_app([api({"limit": 5, "key": key})])
        return app, policy_of(app)

    return make


def key_of(
    app: Flask, policy: RateLimitPolicy, *, addr: str = "10.0.0.1", headers: dict[str, str] | None = None, query: str = ""
) -> str:
    with app.test_request_context(f"/public?{query}", headers=headers or {}, environ_base={"REMOTE_ADDR": addr}):
        from flask import request

        return policy.key_for(request)


def test_key_ip(keyed: Any) -> None:
    app, policy = keyed("ip")
    assert key_of(app, policy, addr="10.0.0.1") == "ip:10.0.0.1"
    assert key_of(app, policy, addr="10.0.0.2") == "ip:10.0.0.2"
    # Headers do not change an ip key.
    assert key_of(app, policy, addr="10.0.0.1", headers={"X-Gravitee-Api-Key": "k1"}) == "ip:10.0.0.1"


def test_key_api_key_from_header_or_query_hashed(keyed: Any) -> None:
    app, policy = keyed("api-key")
    by_header = key_of(app, policy, headers={"X-Gravitee-Api-Key": "secret-key-1"})
    by_query = key_of(app, policy, query="api-key=secret-key-1")
    other = key_of(app, policy, headers={"X-Gravitee-Api-Key": "secret-key-2"})
    assert by_header == by_query
    assert by_header.startswith("api-key:") and by_header != other
    assert "secret-key-1" not in by_header
    # The same key from another address is the same identity.
    assert key_of(app, policy, addr="10.9.9.9", headers={"X-Gravitee-Api-Key": "secret-key-1"}) == by_header
    # No key: counted by address.
    assert key_of(app, policy, addr="10.0.0.7") == "ip:10.0.0.7"


def test_key_header(keyed: Any) -> None:
    app, policy = keyed("header:X-Client-Id")
    a = key_of(app, policy, headers={"x-client-id": "alice"})
    b = key_of(app, policy, headers={"X-Client-Id": "bob"})
    assert a.startswith("header:X-Client-Id:") and a != b
    assert a == key_of(app, policy, addr="10.1.1.1", headers={"X-Client-Id": "alice"})
    assert key_of(app, policy, addr="10.0.0.8") == "ip:10.0.0.8"


# -- counting, answers and headers (memory storage) ------------------------------


def get(client: Any, path: str = "/public/x", *, addr: str = "10.0.0.1", **headers: str) -> Any:
    return client.get(path, headers=headers, environ_base={"REMOTE_ADDR": addr})


def fetch(app: Flask, method: str = "GET", **kwargs: Any) -> kit.Outcome:
    """What a page at ORIGIN gets from its fetch() of /public/x, from one address."""
    return kit.fetch(app, method, "/public/x", origin=ORIGIN, environ_base={"REMOTE_ADDR": "10.0.0.1"}, **kwargs)


def test_limit_then_429_with_headers_and_cors(gravicors_app: Any) -> None:
    app = gravicors_app([api({"limit": 3, "period": "1h"})])
    before_ms = int(time.time() * 1000)
    seen = []
    for expected_remaining in ("2", "1", "0"):
        ok = fetch(app).assert_allowed(status=200, readable=RL_HEADERS)
        assert ok.header("X-Rate-Limit-Limit") == "3"
        assert ok.header("X-Rate-Limit-Remaining") == expected_remaining
        seen.append(int(ok.header("X-Rate-Limit-Reset") or 0))
    # Fixed window: one window end for all hits, in epoch milliseconds, about an hour ahead.
    assert len(set(seen)) == 1
    assert before_ms + 3_500_000 <= seen[0] <= before_ms + 3_600_000 + 2_000

    # The 429 is readable by the browser script, its rate-limit headers included.
    over = fetch(app).assert_allowed(status=429, readable=RL_HEADERS)
    resp = over.response
    assert resp.is_json and resp.get_json()["message"].startswith("Rate limit exceeded")
    assert resp.get_json()["limit"] == 3
    assert 1 <= int(resp.headers["Retry-After"]) <= 3600
    assert (over.header("X-Rate-Limit-Remaining"), over.header("X-Rate-Limit-Limit")) == ("0", "3")
    assert int(over.header("X-Rate-Limit-Reset") or 0) == seen[0]
    assert app.view_calls == ["/public/x"] * 3  # type: ignore[attr-defined]


def test_requests_outside_the_api_are_not_counted(gravicors_app: Any) -> None:
    app = gravicors_app([api({"limit": 1})])
    client = app.test_client()
    for _ in range(3):
        resp = get(client, "/outside/x")
        assert resp.status_code == 200
        assert "X-Rate-Limit-Limit" not in resp.headers
    assert get(client).headers["X-Rate-Limit-Remaining"] == "0"


def test_keys_and_apis_count_separately(gravicors_app: Any) -> None:
    app = gravicors_app([api({"limit": 1}), api({"limit": 1}, name="orders", path="/orders")])
    client = app.test_client()
    assert get(client, addr="10.0.0.1").status_code == 200
    assert get(client, addr="10.0.0.1").status_code == 429
    assert get(client, addr="10.0.0.2").status_code == 200  # another client
    assert get(client, "/orders/1", addr="10.0.0.1").status_code == 200  # another API


def test_api_key_clients_share_nothing(gravicors_app: Any) -> None:
    app = gravicors_app([api({"limit": 1, "key": "api-key"})])
    client = app.test_client()
    assert get(client, **{"X-Gravitee-Api-Key": "k1"}).status_code == 200
    assert get(client, **{"X-Gravitee-Api-Key": "k1"}).status_code == 429
    assert get(client, **{"X-Gravitee-Api-Key": "k2"}).status_code == 200
    assert client.get("/public/x?api-key=k2", environ_base={"REMOTE_ADDR": "10.0.0.5"}).status_code == 429


@pytest.mark.parametrize("sent", [{"X-Gravitee-Api-Key": "k-alice"}, {"query": "api-key=k-alice"}], ids=["header", "query"])
def test_api_key_clients_behind_an_api_key_plan_share_nothing(gravicors_app: Any, sent: dict[str, str]) -> None:
    """The plan removes the key before the flows run (propagate_api_key off): the
    limit counts by the consumer the plan recorded, not by the shared address."""
    keyed = {**api({"limit": 2, "key": "api-key"}), "plans": [kit.plan("Gold", "api-key", keys=["k-alice", "k-bob"])]}
    client = gravicors_app([keyed]).test_client()
    query = sent.get("query", "")
    headers = {k: v for k, v in sent.items() if k != "query"}
    for _ in range(2):
        assert client.get(f"/public/x?{query}", headers=headers).status_code == 200
    assert client.get(f"/public/x?{query}", headers=headers).status_code == 429
    bob = client.get("/public/x", headers={"X-Gravitee-Api-Key": "k-bob"})  # the same address
    assert (bob.status_code, bob.headers["X-Rate-Limit-Remaining"]) == (200, "1")


def test_two_limits_in_one_flow_report_the_tighter(gravicors_app: Any) -> None:
    steps = [kit.step("rate-limit", limit=10, period="1h"), kit.step("rate-limit", limit=2, period="1m")]
    app = gravicors_app([api({}, steps=steps)])
    client = app.test_client()
    resp = get(client)
    assert (resp.headers["X-Rate-Limit-Limit"], resp.headers["X-Rate-Limit-Remaining"]) == ("2", "1")
    get(client)
    resp = get(client)
    assert resp.status_code == 429
    assert (resp.headers["X-Rate-Limit-Limit"], resp.headers["X-Rate-Limit-Remaining"]) == ("2", "0")


def test_reconfigure_with_a_new_limit(gravicors_app: Any) -> None:
    app = gravicors_app([api({"limit": 1})])
    client = app.test_client()
    get(client)
    assert get(client).status_code == 429
    app.extensions["gravicors"].reconfigure({"apis": [api({"limit": 5})]}, app)
    assert get(client).headers["X-Rate-Limit-Limit"] == "5"


# -- preflights and run_policies ---------------------------------------------------


def preflight(app: Flask) -> kit.Outcome:
    return kit.preflight(
        app, "/public/x", method="PUT", origin=ORIGIN, credentials=True, environ_base={"REMOTE_ADDR": "10.0.0.1"}
    )


def cors(run_policies: bool) -> dict[str, Any]:
    return {
        "enabled": True,
        "allow_origin": [ORIGIN],
        "allow_methods": ["GET", "PUT"],
        "allow_credentials": True,
        "run_policies": run_policies,
    }


def test_run_policies_on_preflights_count(gravicors_app: Any) -> None:
    app = gravicors_app([api({"limit": 2}, cors=cors(True))])
    first, second, third = preflight(app), preflight(app), preflight(app)
    first.assert_allowed(status=200)
    second.assert_allowed(status=200)
    assert (first.response.headers["X-Rate-Limit-Remaining"], second.response.headers["X-Rate-Limit-Remaining"]) == ("1", "0")
    # The third preflight is answered by the policy: not an ok status, so the browser
    # sends no PUT. It keeps the origin part of CORS (no Allow-Methods).
    third.assert_blocked(reason="the preflight got 429")
    assert third.response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert third.response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Access-Control-Allow-Methods" not in third.response.headers
    assert "Retry-After" in third.response.headers
    # And the actual request after two preflights is over the limit too: a 429 the page reads.
    fetch(app, credentials=True).assert_allowed(status=429)
    assert app.view_calls == []  # type: ignore[attr-defined]


def test_run_policies_off_preflights_do_not_count(gravicors_app: Any) -> None:
    app = gravicors_app([api({"limit": 2}, cors=cors(False))])
    for _ in range(5):
        answer = preflight(app).assert_allowed(status=200)
        assert not any(h in answer.response.headers for h in RL_HEADERS)
    # PUT: the browser's preflight (not counted), then the PUT (counted).
    assert fetch(app, "PUT", credentials=True).assert_allowed(status=200).response.headers["X-Rate-Limit-Remaining"] == "1"


# -- an unreachable storage (no Redis needed: a closed port, a silent listener) ------


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that completes TCP handshakes but never answers: the worst Redis outage."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield s.getsockname()[1]


def rl_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "gravicors_ratelimit" and r.levelno >= logging.WARNING]


def test_storage_down_allow_lets_requests_through_and_logs_once(
    gravicors_app: Any, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "gravicors_ratelimit")
    url = f"redis://:hunter2@127.0.0.1:{closed_port}/0"
    app = gravicors_app([api({"limit": 1, "storage": url})])
    for _ in range(4):
        resp = fetch(app).assert_allowed(status=200).response
        # The count is unknown: no rate-limit headers rather than made-up ones.
        assert not any(h in resp.headers for h in RL_HEADERS)
    records = rl_warnings(caplog)
    assert len(records) == 1
    message = records[0].getMessage()
    assert "unreachable" in message and "allowing" in message
    assert "StorageError" in message and "Connection refused" in message
    assert f"redis://:***@127.0.0.1:{closed_port}/0" in message
    assert "hunter2" not in caplog.text


def test_storage_down_deny_answers_503_json_never_500(
    gravicors_app: Any, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "gravicors_ratelimit")
    app = gravicors_app([api({"limit": 100, "storage": f"redis://127.0.0.1:{closed_port}/0", "on_storage_error": "deny"})])
    for _ in range(3):
        # A 503 the page can read.
        resp = fetch(app).assert_allowed(status=503).response
        assert resp.is_json and "rate-limit storage" in resp.get_json()["message"]
    assert app.view_calls == []  # type: ignore[attr-defined]
    assert len(rl_warnings(caplog)) == 1
    assert "refusing (503)" in rl_warnings(caplog)[0].getMessage()


@pytest.mark.parametrize("on_storage_error", ["allow", "deny"])
def test_silent_storage_is_bounded_by_the_timeout(
    gravicors_app: Any, silent_port: int, on_storage_error: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "gravicors_ratelimit")
    app = gravicors_app(
        [api({"limit": 5, "storage": f"redis://127.0.0.1:{silent_port}/0", "timeout": 0.2, "on_storage_error": on_storage_error})]
    )
    # The Redis client carries the configured timeout, for connect and every read, with no retry.
    pool = policy_of(app).storage.storage.connection_pool  # type: ignore[attr-defined]
    assert pool.connection_kwargs["socket_timeout"] == 0.2
    assert pool.connection_kwargs["socket_connect_timeout"] == 0.2
    assert pool.connection_kwargs["retry"].get_retries() == 0

    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(get(app.test_client()).status_code), daemon=True)
    worker.start()
    # A watchdog, not a stopwatch: the request must come back at all (it would
    # wait forever on this listener without socket timeouts).
    worker.join(15)
    assert not worker.is_alive(), "request hung on a silent storage"
    assert result == [200 if on_storage_error == "allow" else 503]
    # It came back because the read timed out, not for another reason.
    assert [m for m in (r.getMessage() for r in rl_warnings(caplog)) if "Timeout reading" in m]


# -- strict types in the schema (review finding 11), as the core's (flask_gravicors.strict) --

# (id, config, field of the one E003); the storage URL's password never appears in the message.
STRICT_TYPES = [
    ('"false" for add_headers', {"limit": 5, "add_headers": "false"}, "add_headers"),
    ("1 for add_headers", {"limit": 5, "add_headers": 1}, "add_headers"),
    ("bytes for period", {"limit": 5, "period": b"1m"}, "period"),
    ("true for limit", {"limit": True}, "limit"),
    ("true for timeout", {"limit": 5, "timeout": True}, "timeout"),
    ("a string for timeout", {"limit": 5, "timeout": "0.5"}, "timeout"),
    ("null for timeout", {"limit": 5, "timeout": None}, "timeout"),
    ("NaN for timeout", {"limit": 5, "timeout": float("nan")}, "timeout"),
    ("bytes for key", {"limit": 5, "key": b"ip"}, "key"),
    ("null for on_storage_error", {"limit": 5, "on_storage_error": None}, "on_storage_error"),
    ("bytes for storage", {"limit": 5, "storage": b"redis://:s3cret@127.0.0.1:6379/0"}, "storage"),
]


@pytest.mark.parametrize(("config", "field"), [pytest.param(*r[1:], id=r[0]) for r in STRICT_TYPES])
def test_config_types_are_strict(config: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        GraviCORS().load({"apis": [api(config)]})
    assert [(p.path, p.id) for p in caught.value.problems] == [(f"apis[0].flows[0].request[0].configuration.{field}", "gravicors.E003")]
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    "rate",
    [{"limit": 1, "periodTime": "1"}, {"limit": 1, "periodTime": [1]}, {"limit": 1, "periodTime": True}, {"limit": 1, "periodTime": 0},
     {"limit": 1, "periodTime": 10**7}, {"limit": 1, "periodTimeUnit": 5}, {"limit": 1, "periodTimeUnit": ["SECONDS"]}],
)
def test_gravitee_translation_checks_types(rate: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="periodTime"):
        RateLimitPolicy.from_gravitee({"rate": rate})


def test_gravitee_add_headers_go_to_the_schema_as_written() -> None:
    # Not bool()-ed: "false" would have become true. The schema refuses it.
    translated = RateLimitPolicy.from_gravitee({"rate": {"limit": 1}, "addHeaders": "false"})
    assert translated["add_headers"] == "false"
    with pytest.raises(ConfigError) as caught:
        GraviCORS().load({"apis": [api(translated)]})
    assert [p.path for p in caught.value.problems] == ["apis[0].flows[0].request[0].configuration.add_headers"]
    assert RateLimitPolicy.from_gravitee({"rate": {"limit": 1}, "addHeaders": None})["add_headers"] is False


def test_gravitee_nulls_are_gravitee_defaults() -> None:
    translated = RateLimitPolicy.from_gravitee({"rate": {"limit": 1, "periodTime": None, "periodTimeUnit": None}})
    assert translated["period"] == "1s"
