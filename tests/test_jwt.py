"""The jwt plugin (plugins/gravicors-jwt): a JWT plan verified with PyJWT.

Tokens are made here with PyJWT and keys made with cryptography; JWKS documents
are served by a local HTTP server on a free port of 127.0.0.1, which counts its
requests so the cache can be seen working.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask, request
from gravicors_jwt import CLAIMS_KEY, UNKNOWN_KID_REFETCH, JwksCache, JwtSecurity

from flask_gravicors import ConfigError
from flask_gravicors.testing import ORIGIN, Outcome, api, compiled, cors, fetch, make_app, plan

SECRET = "s" * 32
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def pem(key: Any) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def private_pem(key: Any) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def token(key: Any = SECRET, alg: str = "HS256", headers: dict[str, Any] | None = None, **claims: Any) -> str:
    now = int(time.time())
    payload = {"sub": "alice", "iat": now, "exp": now + 300, **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key, algorithm=alg, headers=headers)


def hs256_by_hand(secret: bytes, **claims: Any) -> str:
    """An HS256 token signed with any bytes (PyJWT refuses a PEM key as a secret:
    this is the alg-confusion attack it guards against when signing)."""
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(json.dumps({"sub": "alice", **claims}).encode())
    return signing_input + "." + b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


def jwt_app(configuration: dict[str, Any], keyless: bool = False, templates: dict[str, Any] | None = None) -> Flask:
    """The ``orders`` API with a JWT plan (Gravitee's spelling ``JWT``), open to
    pages at ORIGIN that send ``Authorization``; ``/orders/me`` shows what the view
    got."""
    plans = [plan("Partners", "JWT", **configuration)] + ([plan("Free")] if keyless else [])
    block = cors(allow_origin=[ORIGIN], allow_methods=["GET"], allow_headers=["authorization"])
    app = make_app([api("orders", "/orders", cors=block, plans=plans, response_templates=templates or {})])

    @app.get("/orders/me")
    def me() -> Any:
        return {"claims": request.environ.get(CLAIMS_KEY), "authorization": request.headers.get("Authorization")}

    return app


def json_of(outcome: Outcome) -> dict[str, Any]:
    body = outcome.response.get_json()
    assert isinstance(body, dict), outcome.response.data
    return body


def me(app: Flask, **headers: str) -> Outcome:
    """A page's ``fetch("/orders/me", {headers})``: a preflight first when it sends
    ``Authorization``."""
    return fetch(app, "GET", "/orders/me", headers=headers)


HS = {"signature": "HMAC_HS256", "publicKeyResolver": "GIVEN_KEY", "resolverParameter": SECRET}
RS = {"signature": "RSA_RS256", "publicKeyResolver": "GIVEN_KEY", "resolverParameter": pem(RSA_KEY)}
ES = {"signature": "ES256", "resolverParameter": pem(EC_KEY)}


def now() -> int:
    return int(time.time())


# (id, plan configuration, Authorization header or ?access_token= (made when the row runs, so that
# expiry times are relative to the request), status, failure key)
ROWS = [
    ("HS256", HS, lambda: f"Bearer {token()}", 200, None),
    ("bearer is case-insensitive", HS, lambda: f"bearer {token()}", 200, None),
    ("in the query", HS, lambda: f"?{token()}", 200, None),
    (
        "HS384 by its JWA name",
        {**HS, "signature": "HS384", "resolverParameter": "k" * 48},
        lambda: f"Bearer {token('k' * 48, 'HS384')}",
        200,
        None,
    ),
    ("RS256", RS, lambda: f"Bearer {token(private_pem(RSA_KEY), 'RS256')}", 200, None),
    (
        "RS256, another key's signature",
        RS,
        lambda: f"Bearer {token(private_pem(OTHER_RSA_KEY), 'RS256')}",
        401,
        "JWT_INVALID_TOKEN",
    ),
    ("ES256", ES, lambda: f"Bearer {token(EC_KEY, 'ES256')}", 200, None),
    ("expired", HS, lambda: f"Bearer {token(exp=now() - 3600)}", 401, "JWT_INVALID_TOKEN"),
    ("expired within the leeway", HS, lambda: f"Bearer {token(exp=now() - 10)}", 200, None),
    ("expired, no leeway", {**HS, "leeway": 0}, lambda: f"Bearer {token(exp=now() - 10)}", 401, "JWT_INVALID_TOKEN"),
    ("not yet valid", HS, lambda: f"Bearer {token(nbf=now() + 3600)}", 401, "JWT_INVALID_TOKEN"),
    ("no exp at all is accepted", HS, lambda: f"Bearer {token(exp=None)}", 200, None),
    ("wrong secret", HS, lambda: f"Bearer {token('t' * 32)}", 401, "JWT_INVALID_TOKEN"),
    ("alg none", HS, lambda: f"Bearer {jwt.encode({'sub': 'a'}, None, algorithm='none')}", 401, "JWT_INVALID_TOKEN"),  # type: ignore[arg-type]
    # the algorithm is the plan's: an RS256 public key is no HMAC secret (alg confusion)
    (
        "HS256 token signed with the RS256 plan's public key",
        RS,
        lambda: f"Bearer {hs256_by_hand(pem(RSA_KEY).encode())}",
        401,
        "JWT_INVALID_TOKEN",
    ),
    (
        "an HS384 token on an HS256 plan",
        {**HS, "resolverParameter": "k" * 48},
        lambda: f"Bearer {token('k' * 48, 'HS384')}",
        401,
        "JWT_INVALID_TOKEN",
    ),
    ("garbage", HS, "Bearer not.a.jwt", 401, "JWT_INVALID_TOKEN"),
    ("empty token", HS, "Bearer ", 401, "JWT_MISSING_TOKEN"),
    ("no token: no plan", HS, None, 401, "GATEWAY_PLAN_UNRESOLVABLE"),
    ("Basic is no token", HS, "Basic YTpi", 401, "GATEWAY_PLAN_UNRESOLVABLE"),
    (
        "issuer checked",
        {**HS, "issuer": "https://idp.example.com"},
        lambda: f"Bearer {token(iss='https://evil.example.com')}",
        401,
        "JWT_INVALID_TOKEN",
    ),
    (
        "issuer matches",
        {**HS, "issuer": "https://idp.example.com"},
        lambda: f"Bearer {token(iss='https://idp.example.com')}",
        200,
        None,
    ),
    ("audience checked", {**HS, "audience": "orders"}, lambda: f"Bearer {token(aud='billing')}", 401, "JWT_INVALID_TOKEN"),
    ("audience in a list", {**HS, "audience": ["x", "orders"]}, lambda: f"Bearer {token(aud=['orders'])}", 200, None),
    ("an audience not configured is not checked", HS, lambda: f"Bearer {token(aud='billing')}", 200, None),
]


@pytest.mark.parametrize(("configuration", "credential", "status", "key"), [pytest.param(*r[1:], id=r[0]) for r in ROWS])
def test_token(configuration: dict[str, Any], credential: Any, status: int, key: str | None) -> None:
    credential = credential() if callable(credential) else credential
    headers, query = {}, ""
    if credential is not None and credential.startswith("?"):
        query = "access_token=" + credential[1:]
    elif credential is not None:
        headers["Authorization"] = credential

    def send(app: Flask) -> Outcome:
        return fetch(
            app, "GET", "/orders/me", headers=headers, query_string=query, environ_base={"HTTP_ACCEPT": "application/json"}
        )

    # The 401s carry the CORS headers, so the page's script reads them.
    outcome = send(jwt_app(configuration)).assert_allowed(status=status)
    if status == 200:
        assert json_of(outcome)["claims"]["sub"] == "alice"
    if key is not None:
        # The failure's key chooses the API's response template.
        templated = send(jwt_app(configuration, templates={key: {"*/*": {"status": 403, "body": key}}}))
        templated.assert_allowed(status=403)
        assert templated.response.data.decode() == key


def test_keyless_beside_jwt() -> None:
    app = jwt_app(HS, keyless=True)
    me(app).assert_allowed(status=200)
    # a wrong token never falls through to keyless
    me(app, Authorization="Bearer x.y.z").assert_allowed(status=401)


@pytest.mark.parametrize(("propagate", "seen"), [(True, True), (False, False)])
def test_propagate_auth_header(propagate: bool, seen: bool) -> None:
    bearer = f"Bearer {token()}"
    outcome = me(jwt_app({**HS, "propagateAuthHeader": propagate}), Authorization=bearer).assert_allowed(status=200)
    assert (json_of(outcome)["authorization"] == bearer) is seen


BAD_CONFIGS = [
    ({"signature": "HMAC_HS256", "resolverParameter": "short"}, "resolver_parameter", "at least 32 bytes"),
    ({"signature": "HMAC_HS512", "resolverParameter": "s" * 48}, "resolver_parameter", "at least 64 bytes"),
    ({"signature": "RSA_RS256", "resolverParameter": "not a key"}, "resolver_parameter", "not a public key"),
    ({"signature": "RSA_RS256", "resolverParameter": private_pem(RSA_KEY)}, "resolver_parameter", "a private key"),
    ({"signature": "RSA_RS256", "resolverParameter": pem(EC_KEY)}, "resolver_parameter", "not a public key"),
    ({"signature": "RSA_PS256", "resolverParameter": pem(RSA_KEY)}, "signature", "use one of"),
    ({"signature": "RSA_RS256", "publicKeyResolver": "GATEWAY_KEYS", "resolverParameter": "x"}, "public_key_resolver", "one of"),
    (
        {"signature": "RSA_RS256", "publicKeyResolver": "JWKS_URL", "resolverParameter": "http://idp.example.com/jwks"},
        "resolver_parameter",
        "https://",
    ),
    (
        {"signature": "RSA_RS256", "publicKeyResolver": "JWKS_URL", "resolverParameter": "https://u:p@idp.example.com/jwks"},
        "resolver_parameter",
        "credentials",
    ),
    (
        {"signature": "HMAC_HS256", "publicKeyResolver": "JWKS_URL", "resolverParameter": "https://idp.example.com/jwks"},
        "public_key_resolver",
        "HMAC",
    ),
    (
        {"signature": "HMAC_HS256", "resolverParameter": "{#context.attributes['secret']}" + "x" * 32},
        "resolver_parameter",
        "Expression Language",
    ),
    ({"signature": "HMAC_HS256"}, "resolver_parameter", "missing required field"),
]


@pytest.mark.parametrize(("configuration", "field", "message"), BAD_CONFIGS)
def test_config_errors(configuration: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        jwt_app(configuration)
    (problem,) = caught.value.problems
    assert problem.path == f"apis[0].plans[0].configuration.{field}"
    assert message in problem.message


@pytest.mark.parametrize(
    "url", ["https://idp.example.com/jwks", "http://127.0.0.1:8080/jwks", "http://localhost/jwks", "http://[::1]:9/jwks"]
)
def test_jwks_urls_accepted(url: str) -> None:
    jwt_app({"signature": "RSA_RS256", "publicKeyResolver": "JWKS_URL", "resolverParameter": url})


class Jwks:
    """A JWKS server on a free port of 127.0.0.1; counts requests; can be told to
    fail, to redirect or to hang."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.hits = 0
        self.mode = "ok"
        #: A "drip" answer began; when it ended (its last byte, or the client gone).
        self.dripping = False
        self.drip_ended = float("inf")
        jwks = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                jwks.hits += 1
                if jwks.mode == "fail":
                    self.send_response(500)
                    self.end_headers()
                    return
                if jwks.mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                    self.end_headers()
                    return
                if jwks.mode == "hang":
                    time.sleep(3)
                body = json.dumps(jwks.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if jwks.mode == "drip":
                    # A byte every 0.1 s: no read ever waits as long as the timeout.
                    jwks.dripping = True
                    try:
                        for byte in body:
                            time.sleep(0.1)
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                    except OSError:
                        pass  # the client gave up
                    finally:
                        jwks.drip_ended = time.monotonic()
                    return
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up on a dripped answer: expected

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def publish(self, *pairs: tuple[str, Any]) -> None:
        keys = []
        for kid, key in pairs:
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        self.document = {"keys": keys}


@pytest.fixture
def jwks() -> Iterator[Jwks]:
    server = Jwks()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
        server.thread.join(timeout=10)


def jwks_app(jwks: Jwks, **configuration: Any) -> Flask:
    return jwt_app({"signature": "RSA_RS256", "publicKeyResolver": "JWKS_URL", "resolverParameter": jwks.url, **configuration})


def signed(kid: str, key: Any = RSA_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(private_pem(key), 'RS256', headers={'kid': kid})}"}


def test_jwks_is_fetched_once_and_cached(jwks: Jwks) -> None:
    jwks.publish(("k1", RSA_KEY))
    app = jwks_app(jwks)
    assert jwks.hits == 0  # nothing is fetched before a token needs it
    for _ in range(5):
        me(app, **signed("k1")).assert_allowed(status=200)
    assert jwks.hits == 1  # the preflights fetched nothing: plans never run there


def test_unknown_kids_do_not_cause_a_fetch_per_request(jwks: Jwks) -> None:
    jwks.publish(("k1", RSA_KEY))
    app = jwks_app(jwks)
    me(app, **signed("k1")).assert_allowed(status=200)
    for i in range(20):
        me(app, **signed(f"made-up-{i}")).assert_allowed(status=401)
    # one fetch, and at most one more for unknown kids within 30 s
    assert jwks.hits <= 2


def test_a_rotated_key_is_found_by_refetching_for_its_kid() -> None:
    cache = JwksCache("unused", "RS256", 1, 300, clock := FakeClock())
    fetched: list[dict[str | None, Any]] = [{"k1": "key-1"}, {"k1": "key-1", "k2": "key-2"}]
    cache._fetch = lambda: fetched.pop(0)  # type: ignore[method-assign]
    assert cache.key("k1") == "key-1"
    assert cache.key("k2") is None  # asked within 30 s of the fetch: not refetched
    clock.now += UNKNOWN_KID_REFETCH
    assert cache.key("k2") == "key-2"
    assert cache.fetches == 2


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_unreachable_jwks_keeps_the_old_keys(jwks: Jwks, caplog: pytest.LogCaptureFixture) -> None:
    jwks.publish(("k1", RSA_KEY))
    app = jwks_app(jwks)
    me(app, **signed("k1")).assert_allowed(status=200)
    security = compiled(app, "orders").plans[0].security
    assert isinstance(security, JwtSecurity) and security.jwks is not None
    security.jwks._next_fetch = 0  # the keys are stale now
    jwks.mode = "fail"
    for _ in range(3):
        me(app, **signed("k1")).assert_allowed(status=200)
    assert jwks.hits == 2
    assert len([r for r in caplog.records if "cannot be fetched" in r.getMessage()]) == 1


@pytest.mark.parametrize("mode", ["fail", "redirect", "hang", "drip"])
def test_a_jwks_that_does_not_answer_refuses_within_the_timeout(jwks: Jwks, mode: str) -> None:
    jwks.publish(("k1", RSA_KEY))  # dripped, it would take over a minute
    jwks.mode = mode
    app = jwks_app(jwks, jwksTimeout=0.5)
    started = time.monotonic()
    me(app, **signed("k1")).assert_allowed(status=401)
    assert time.monotonic() - started < 2.5  # a functional bound: the 3 s hang is never waited out
    me(app, **signed("k1")).assert_allowed(status=401)
    assert jwks.hits == 1


def test_gravitee_translation() -> None:
    gravitee = {
        "signature": "RSA_RS256",
        "publicKeyResolver": "JWKS_URL",
        "resolverParameter": "https://idp.example.com/jwks",
        "connectTimeout": 1000,
        "requestTimeout": 3000,
        "useSystemProxy": False,
        "extractClaims": False,
        "propagateAuthHeader": True,
        "userClaim": "sub",
        "followRedirects": False,
        "tokenTypValidation": {"enabled": False, "ignoreMissing": False, "expectedValues": ["JWT"], "ignoreCase": False},
        "confirmationMethodValidation": {"ignoreMissing": False, "certificateBoundThumbprint": {"enabled": False}},
    }
    ours = JwtSecurity.from_gravitee(gravitee)
    assert ours["jwksTimeout"] == 3.0
    loaded = JwtSecurity.config_schema().load(ours)
    assert JwtSecurity.config_schema().load(JwtSecurity.from_gravitee(JwtSecurity.to_gravitee(loaded))) == loaded
    with pytest.raises(ValueError, match="followRedirects"):
        JwtSecurity.from_gravitee({**gravitee, "followRedirects": True})
    with pytest.raises(ValueError, match="tokenTypValidation"):
        JwtSecurity.from_gravitee({**gravitee, "tokenTypValidation": {"enabled": True}})


# --- Strict types in the plugin's schema (review finding 11), as the core's (flask_gravicors.strict) ---


def load_jwt_plan(configuration: dict[str, Any]) -> dict[str, Any]:
    """The plan's configuration as GraviCORS loads it (the installed plugins, no app)."""
    from flask_gravicors import GraviCORS

    plan = {"name": "j", "security": "jwt", "configuration": configuration}
    api = {"name": "orders", "context_path": "/orders", "plans": [plan]}
    return GraviCORS().load({"apis": [api]})["apis"][0]["plans"][0]["configuration"]  # type: ignore[no-any-return]


# (id, configuration, field of the one E003); Gravitee's camelCase names report under ours.
STRICT_TYPES = [
    ("leeway null", {**HS, "leeway": None}, "leeway"),
    ("leeway a string", {**HS, "leeway": "30"}, "leeway"),
    ("leeway true", {**HS, "leeway": True}, "leeway"),
    ("leeway a float", {**HS, "leeway": 1.5}, "leeway"),
    ("jwks_timeout null", {**HS, "jwks_timeout": None}, "jwks_timeout"),
    ("jwks_timeout a string", {**HS, "jwks_timeout": "2"}, "jwks_timeout"),
    ("jwks_timeout true", {**HS, "jwks_timeout": True}, "jwks_timeout"),
    ("jwks_timeout NaN", {**HS, "jwks_timeout": float("nan")}, "jwks_timeout"),
    ("jwks_timeout an integer no float holds", {**HS, "jwks_timeout": 10**400}, "jwks_timeout"),
    ("jwksTimeout a string", {**HS, "jwksTimeout": "2"}, "jwks_timeout"),
    ("jwks_refresh true", {**HS, "jwks_refresh": True}, "jwks_refresh"),
    ("jwksRefresh a float", {**HS, "jwksRefresh": 300.0}, "jwks_refresh"),
    ("propagateAuthHeader 1", {**HS, "propagateAuthHeader": 1}, "propagate_auth_header"),
    ('propagateAuthHeader "false"', {**HS, "propagateAuthHeader": "false"}, "propagate_auth_header"),
    ("userClaim null", {**HS, "userClaim": None}, "user_claim"),
    ("signature a number", {**HS, "signature": 256}, "signature"),
    ("issuer a list", {**HS, "issuer": ["https://idp.example.com"]}, "issuer"),
    ("audience a number", {**HS, "audience": 5}, "audience"),
    ("audience a set", {**HS, "audience": {"orders"}}, "audience"),
    ("audience an empty list", {**HS, "audience": []}, "audience"),
    ("an audience a number", {**HS, "audience": ["orders", 5]}, "audience[1]"),
    # The secret never appears in the message.
    ("resolverParameter bytes", {**HS, "resolverParameter": b"s3cret" * 8}, "resolver_parameter"),
    ("resolverParameter a lone surrogate", {**HS, "resolverParameter": "s3cret\udcff" * 8}, "resolver_parameter"),
]


@pytest.mark.parametrize(("configuration", "field"), [pytest.param(*r[1:], id=r[0]) for r in STRICT_TYPES])
def test_config_types_are_strict(configuration: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_jwt_plan(configuration)
    assert [(p.path, p.id) for p in caught.value.problems] == [(f"apis[0].plans[0].configuration.{field}", "gravicors.E003")]
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    ("configuration", "field", "loaded"),
    [
        ({**HS, "jwksTimeout": 3}, "jwks_timeout", 3.0),
        ({**HS, "jwks_timeout": 0.5}, "jwks_timeout", 0.5),
        ({**HS, "leeway": 0}, "leeway", 0),
        ({**HS, "issuer": None}, "issuer", None),
        ({**HS, "audience": "orders"}, "audience", ["orders"]),  # PyJWT reads one audience and a list of one alike
        ({**HS, "audience": ("x", "orders")}, "audience", ["x", "orders"]),
        ({**HS, "propagateAuthHeader": False}, "propagate_auth_header", False),
    ],
)
def test_config_types_that_load(configuration: dict[str, Any], field: str, loaded: Any) -> None:
    assert load_jwt_plan(configuration)[field] == loaded


@pytest.mark.parametrize(
    ("gravitee", "error"),
    [
        ({"connectTimeout": None}, "connectTimeout"),
        ({"connectTimeout": "1000"}, "connectTimeout"),
        ({"requestTimeout": True}, "requestTimeout"),
        ({"requestTimeout": 0}, "requestTimeout"),
        ({"requestTimeout": -1}, "requestTimeout"),
        ({"connectTimeout": float("nan")}, "connectTimeout"),
        ({"followRedirects": "false"}, "followRedirects"),
        ({"useSystemProxy": 0}, "useSystemProxy"),
        ({"gravicors": [1]}, "gravicors"),
    ],
)
def test_gravitee_translation_checks_types(gravitee: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        JwtSecurity.from_gravitee({**HS, **gravitee})


def test_gravitee_timeouts_are_capped_at_ten_seconds() -> None:
    assert JwtSecurity.from_gravitee({**HS, "connectTimeout": 10**30, "requestTimeout": 500})["jwksTimeout"] == 10.0
    assert JwtSecurity.from_gravitee({**HS, "connectTimeout": 1500})["jwksTimeout"] == 1.5


def test_a_slow_refresh_holds_up_no_request_that_has_a_key(jwks: Jwks) -> None:
    """While one request refreshes stale keys from a slow JWKS, the others go on
    with the keys they have instead of waiting for it."""
    jwks.publish(("k1", RSA_KEY))
    app = jwks_app(jwks, jwksTimeout=1)
    me(app, **signed("k1")).assert_allowed(status=200)
    security = compiled(app, "orders").plans[0].security
    assert isinstance(security, JwtSecurity) and security.jwks is not None
    security.jwks._next_fetch = 0  # stale
    jwks.mode = "drip"
    refreshing = threading.Thread(target=lambda: me(app, **signed("k1")))
    refreshing.start()
    while not jwks.dripping:  # the refresh has begun
        time.sleep(0.01)
    me(app, **signed("k1")).assert_allowed(status=200)
    answered = time.monotonic()
    refreshing.join(timeout=120)
    assert answered < jwks.drip_ended  # answered while the refresh still read the JWKS
