"""Gravitee's JWT plan as a flask_gravicors security type (``"security": "jwt"``).

The token travels as ``Authorization: Bearer <token>`` or in the ``access_token``
query parameter (Gravitee's ``TokenExtractor``); the plan handles a request that
carries either. An empty token is 401 ``JWT_MISSING_TOKEN``; one that does not
verify is 401 ``JWT_INVALID_TOKEN`` (response template keys), never a fall-through
to a keyless plan. Like every plan it never runs on a preflight.

Configuration (Gravitee's names, or their snake_case spellings)::

    {"signature": "RSA_RS256",            # or HMAC_HS256/384/512, RSA_RS384/512, ES256/384/512 (JWA names load too)
     "publicKeyResolver": "JWKS_URL",     # or GIVEN_KEY (default)
     "resolverParameter": "https://idp.example.com/.well-known/jwks.json",  # or the PEM public key / the HMAC secret
     "issuer": "https://idp.example.com", "audience": "orders",              # checked when given
     "leeway": 30, "propagateAuthHeader": true, "userClaim": "sub"}

Verification is PyJWT's, with the algorithm pinned to ``signature`` (the token's
``alg`` header never chooses it, so an RS256 key cannot be used as an HMAC
secret). ``exp`` and ``nbf`` are always checked when present, with ``leeway``
seconds of clock skew; ``iss`` and ``aud`` when configured. HMAC secrets shorter
than the hash (32, 48, 64 bytes: RFC 7518, 3.2) are refused at load time, as are
given keys that do not parse as a public key of the signature's type.

A JWKS URL must be ``https://`` (``http://`` only on a loopback host). It is
fetched when a token first needs it, with a bounded timeout, at most 1 MiB,
without following redirects, and cached: refetched after ``jwks_refresh``
seconds (default 300), or for a token whose ``kid`` is unknown at most once per
30 seconds, so a flood of made-up ``kid`` values never turns into a flood of
fetches. While the URL cannot be fetched the keys last fetched stay in use, and
the failure is logged once until a fetch succeeds again.

On success the claims are in ``request.environ["gravicors_jwt.claims"]`` and the
user (the ``userClaim`` claim) in ``request.environ["gravicors_jwt.user"]``;
``propagateAuthHeader: false`` removes the ``Authorization`` header before the
view, as Gravitee removes it before the backend.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Mapping
from urllib.parse import urlsplit

import jwt
from flask import Request
from marshmallow import Schema, ValidationError, pre_load, validate, validates_schema

from flask_gravicors import Failure, SecurityType, hookimpl
from flask_gravicors.gravitee import EXTRA_KEY, with_extra
from flask_gravicors.origins import is_loopback_host
from flask_gravicors.security import query_param
from flask_gravicors.strict import Flag, Int, Number, StringList, Text

__version__ = "0.1.0"

log = logging.getLogger("gravicors_jwt")

__all__ = ["JwtSecurity", "JwtConfigSchema", "JwksCache", "gravicors_register_security_types"]

MISSING = Failure(401, "JWT_MISSING_TOKEN", "Unauthorized: missing token")
INVALID = Failure(401, "JWT_INVALID_TOKEN", "Unauthorized: invalid token")

CLAIMS_KEY = "gravicors_jwt.claims"
USER_KEY = "gravicors_jwt.user"

#: Gravitee's signature names -> JWA algorithm names.
GRAVITEE_SIGNATURES = {
    "RSA_RS256": "RS256",
    "RSA_RS384": "RS384",
    "RSA_RS512": "RS512",
    "HMAC_HS256": "HS256",
    "HMAC_HS384": "HS384",
    "HMAC_HS512": "HS512",
}
ALGORITHMS = ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512")
#: RFC 7518, 3.2: an HMAC key at least as long as the hash output.
HMAC_MIN_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}

GIVEN_KEY = "GIVEN_KEY"
JWKS_URL = "JWKS_URL"

#: Gravitee's names in a plan configuration -> ours.
CAMEL = {
    "publicKeyResolver": "public_key_resolver",
    "resolverParameter": "resolver_parameter",
    "propagateAuthHeader": "propagate_auth_header",
    "userClaim": "user_claim",
    "jwksTimeout": "jwks_timeout",
    "jwksRefresh": "jwks_refresh",
}


MAX_JWKS_BYTES = 1 << 20
UNKNOWN_KID_REFETCH = 30.0


def algorithm(signature: str) -> str:
    """JWA name of a configured signature (Gravitee's or JWA's spelling)."""
    upper = signature.strip().upper()
    return GRAVITEE_SIGNATURES.get(upper, upper)


def check_jwks_url(url: str) -> str | None:
    """Why ``url`` may not serve keys, or ``None``: https, or http on loopback only."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "not a URL"
    if not host:
        return "no host"
    if parts.username is not None or parts.password is not None:
        return "credentials in the URL"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and is_loopback_host(f"[{host}]" if ":" in host else host):
        return None
    return "use https:// (http:// only on a loopback host)"


class JwtConfigSchema(Schema):
    """A JWT plan's ``configuration``; Gravitee's camelCase names load too. Types are
    strict (:mod:`flask_gravicors.strict`): ``null``, ``"30"`` or ``true`` for
    ``leeway`` or a timeout, ``1`` for a flag, are refused (gravicors.E003)."""

    #: Gravitee's names of these fields (the docs' config reference reads it).
    CAMEL = CAMEL

    #: The algorithm every token must be signed with, pinned (the token's ``alg`` never chooses it):
    #: ``HMAC_HS256/384/512``, ``RSA_RS256/384/512`` or ``ES256/384/512`` (JWA names such as ``HS384`` load too).
    signature = Text(load_default="RSA_RS256")
    #: Where the key comes from: ``GIVEN_KEY`` (``resolverParameter`` holds it) or ``JWKS_URL``
    #: (``resolverParameter`` is the URL of a JWKS document; not for HMAC signatures).
    public_key_resolver = Text(load_default=GIVEN_KEY, validate=validate.OneOf((GIVEN_KEY, JWKS_URL)))
    #: The PEM public key, or the HMAC secret (at least 32, 48 or 64 bytes for HS256, HS384, HS512), or the JWKS
    #: URL (``https://``; ``http://`` only on a loopback host). Gravitee's Expression Language is refused.
    resolver_parameter = Text(required=True, validate=validate.Length(min=1), secret=True)
    #: The ``iss`` claim a token must carry; none: not checked.
    issuer = Text(load_default=None)
    #: The audience a token's ``aud`` must name: a string or a list of strings (one is enough); none: not checked.
    audience = StringList(load_default=None, validate=validate.Length(min=1))
    #: Seconds of clock skew allowed when ``exp`` and ``nbf`` are checked (they always are, when present).
    leeway = Int(load_default=30, validate=validate.Range(min=0, max=300))
    #: Keep the ``Authorization`` header for the view; ``false`` removes it, as Gravitee removes it before the backend.
    propagate_auth_header = Flag(load_default=True)
    #: The claim naming the user, put in ``request.environ["gravicors_jwt.user"]`` (all claims are in
    #: ``request.environ["gravicors_jwt.claims"]``).
    user_claim = Text(load_default="sub")
    #: Seconds a JWKS fetch may take: connecting, and the whole download (however slowly the server sends it).
    jwks_timeout = Number(load_default=2.0, validate=validate.Range(min=0, max=10, min_inclusive=False))
    #: Seconds the fetched keys are used before the JWKS is fetched again (a token with an unknown ``kid`` fetches
    #: it at most once per 30 s).
    jwks_refresh = Int(load_default=300, validate=validate.Range(min=10, max=86400))

    @pre_load
    def _gravitee_names(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        out = dict(data)
        for theirs, ours in self.CAMEL.items():
            if theirs in out and ours not in out:
                out[ours] = out.pop(theirs)
        return out

    @validates_schema(skip_on_field_errors=True)
    def _key(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        alg = algorithm(data["signature"])
        if alg not in ALGORITHMS:
            raise ValidationError(
                f"{data['signature']!r}: use one of {', '.join(GRAVITEE_SIGNATURES)} or ES256/384/512", "signature"
            )
        parameter = data["resolver_parameter"]
        if "{#" in parameter:
            raise ValidationError("Gravitee Expression Language is not supported", "resolver_parameter")
        if data["public_key_resolver"] == JWKS_URL:
            if alg.startswith("HS"):
                raise ValidationError("an HMAC secret cannot come from a JWKS URL: use GIVEN_KEY", "public_key_resolver")
            reason = check_jwks_url(parameter)
            if reason is not None:
                raise ValidationError(f"JWKS URL: {reason}", "resolver_parameter")
            return
        if alg.startswith("HS"):
            if len(parameter.encode("utf-8")) < HMAC_MIN_BYTES[alg]:
                raise ValidationError(
                    f"an {alg} secret needs at least {HMAC_MIN_BYTES[alg]} bytes (RFC 7518, 3.2)", "resolver_parameter"
                )
            return
        try:
            key = jwt.get_algorithm_by_name(alg).prepare_key(parameter)
        except (jwt.InvalidKeyError, ValueError, TypeError) as err:
            raise ValidationError(f"not a public key for {alg}: {err}", "resolver_parameter") from None
        if hasattr(key, "private_bytes"):
            raise ValidationError("a private key: give the public key", "resolver_parameter")


class JwksCache:
    """The keys a JWKS URL serves, fetched on first need and cached (see the module)."""

    def __init__(self, url: str, alg: str, timeout: float, refresh: float, clock: Any = time.monotonic):
        self.url = url
        self.alg = alg
        self.timeout = timeout
        self.refresh = refresh
        self.clock = clock
        self.fetches = 0
        self._keys: dict[str | None, Any] = {}
        self._next_fetch = float("-inf")
        self._next_unknown = float("-inf")
        self._failing = False
        self._lock = threading.Lock()

    def key(self, kid: str | None) -> Any:
        """The key for a token's ``kid`` (``None``: the only key), or ``None``.

        One thread fetches at a time. While it does, a request that has a key
        (the stale one) goes on with it instead of waiting; one that has none waits
        for the fetch, at most as long as a fetch may take."""
        if self._due(kid, self.clock()):
            if self._pick(kid) is not None:
                acquired = self._lock.acquire(blocking=False)
            else:
                acquired = self._lock.acquire(timeout=2 * self.timeout + 1)
            if acquired:
                try:
                    # Another thread may have fetched while this one waited.
                    now = self.clock()
                    if self._due(kid, now):
                        self._refetch(now)
                finally:
                    self._lock.release()
        return self._pick(kid)

    def _due(self, kid: str | None, now: float) -> bool:
        """Stale keys, or an unknown ``kid`` and no fetch for that in the last 30 s."""
        return now >= self._next_fetch or (self._pick(kid) is None and now >= self._next_unknown)

    def _pick(self, kid: str | None) -> Any:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def _refetch(self, now: float) -> None:
        self._next_unknown = now + UNKNOWN_KID_REFETCH
        self.fetches += 1
        try:
            keys = self._fetch()
        except Exception as err:  # noqa: BLE001 - an unreachable IdP refuses tokens, never fails a request
            if not self._failing:
                self._failing = True
                log.warning(
                    "JWKS %s cannot be fetched (%s: %s); keeping the keys fetched before", self.url, type(err).__name__, err
                )
            # Keep the keys fetched before; try again in 30 s, not at every request.
            self._next_fetch = now + UNKNOWN_KID_REFETCH
            return
        if self._failing:
            self._failing = False
            log.warning("JWKS %s fetched again", self.url)
        self._keys = keys
        self._next_fetch = now + self.refresh

    def _fetch(self) -> dict[str | None, Any]:
        opener = urllib.request.build_opener(_NoRedirect)
        request = urllib.request.Request(self.url, headers={"Accept": "application/json"})
        # ``timeout`` bounds each socket operation; the deadline bounds the whole
        # download (a server that sends a byte now and then never times a read out).
        deadline = time.monotonic() + self.timeout
        chunks: list[bytes] = []
        size = 0
        with opener.open(request, timeout=self.timeout) as response:
            while size <= MAX_JWKS_BYTES:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"JWKS not read within {self.timeout:g} s")
                chunk = response.read1(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        if size > MAX_JWKS_BYTES:
            raise ValueError("JWKS larger than 1 MiB")
        raw = b"".join(chunks)
        document = json.loads(raw)
        keys: dict[str | None, Any] = {}
        family = {"RS": "RSA", "ES": "EC"}[self.alg[:2]]
        for item in document.get("keys", ()) if isinstance(document, dict) else ():
            if not isinstance(item, dict) or item.get("kty") != family or item.get("use", "sig") != "sig":
                continue
            if item.get("alg", self.alg) != self.alg:
                continue
            try:
                keys[item.get("kid")] = jwt.PyJWK(item, self.alg).key
            except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError):
                continue
        if not keys:
            raise ValueError(f"no {self.alg} signing key in the JWKS")
        return keys


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A JWKS URL is configured exactly: a redirect is an error, not followed."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        raise urllib.error.HTTPError(req.full_url, code, f"redirect to {newurl} not followed", headers, fp)


class JwtSecurity(SecurityType):
    """``jwt``: a plan whose consumers send a signed JSON Web Token."""

    name = "jwt"
    config_schema = JwtConfigSchema
    order = 0  # Gravitee's JWTAuthenticationHandler: before api-key (500) and keyless (1000)

    def __init__(self, config: Mapping[str, Any], api_name: str, plan_name: str) -> None:
        super().__init__(config, api_name, plan_name)
        self.alg = algorithm(config["signature"])
        parameter = config["resolver_parameter"]
        self.jwks: JwksCache | None = None
        self._key: Any = None
        if config["public_key_resolver"] == JWKS_URL:
            self.jwks = JwksCache(parameter, self.alg, config["jwks_timeout"], config["jwks_refresh"])
        else:
            self._key = jwt.get_algorithm_by_name(self.alg).prepare_key(parameter)
        audience = config["audience"]
        self._decode: dict[str, Any] = {
            "algorithms": [self.alg],
            "leeway": config["leeway"],
            "issuer": config["issuer"],
            "audience": audience,
            "options": {"verify_aud": audience is not None, "verify_iss": config["issuer"] is not None},
        }
        self._strip = not config["propagate_auth_header"]
        self._user_claim = config["user_claim"]

    @staticmethod
    def token(request: Request) -> tuple[str | None, bool]:
        """The token (maybe empty), and whether it came from the header;
        ``None`` when there is none (Gravitee's TokenExtractor)."""
        header = request.environ.get("HTTP_AUTHORIZATION")
        if header is not None:
            scheme, _, value = header.strip().partition(" ")
            if scheme.lower() == "bearer":
                return value.strip(), True
        return query_param(request, "access_token"), False

    def can_handle(self, request: Request) -> bool:
        return self.token(request)[0] is not None

    def authenticate(self, request: Request) -> Failure | None:
        token, from_header = self.token(request)
        if not token:
            return MISSING
        try:
            key = self._key
            if self.jwks is not None:
                key = self.jwks.key(jwt.get_unverified_header(token).get("kid"))
                if key is None:
                    return INVALID
            claims = jwt.decode(token, key, **self._decode)
        except (jwt.PyJWTError, ValueError, TypeError) as err:
            log.info("JWT refused on API %r plan %r: %s", self.api_name, self.plan_name, type(err).__name__)
            return INVALID
        request.environ[CLAIMS_KEY] = claims
        request.environ[USER_KEY] = claims.get(self._user_claim)
        if self._strip and from_header:
            request.environ.pop("HTTP_AUTHORIZATION", None)
        return None

    @classmethod
    def from_gravitee(cls, configuration: Mapping[str, Any]) -> dict[str, Any]:
        """A Gravitee JWT plan's configuration. Its timeouts (ms) bound the JWKS
        fetch; the switches it has and we do not are accepted only when off."""
        out: dict[str, Any] = {}
        problems: list[str] = []
        for name, value in configuration.items():
            if name in ("signature", "publicKeyResolver", "resolverParameter", "propagateAuthHeader", "userClaim"):
                out[name] = value
            elif name in ("connectTimeout", "requestTimeout"):
                # Gravitee's are whole milliseconds; ours, seconds up to 10.
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                    raise ValueError(f"{name} must be a number of milliseconds above 0, not {type(value).__name__} {value!r:.40}")
                out["jwksTimeout"] = max(min(value, 10_000) / 1000, out.get("jwksTimeout", 0.0))
            elif name == EXTRA_KEY:
                continue
            elif name in ("extractClaims", "clientIdClaim"):
                continue  # claims are always kept; the client id has no meaning without subscriptions
            elif name in ("useSystemProxy", "followRedirects"):
                if value is not None and value is not False:
                    problems.append(f"{name}: {'true' if value is True else 'not false'}")
            elif name in ("tokenTypValidation", "confirmationMethodValidation"):
                if _enabled(value):
                    problems.append(f"{name} enabled")
            else:
                problems.append(name)
        if out.get("publicKeyResolver") == "GATEWAY_KEYS":
            problems.append("publicKeyResolver GATEWAY_KEYS")
        if problems:
            raise ValueError(f"jwt plan configuration {sorted(problems)} has no translation")
        return with_extra(out, configuration)

    @classmethod
    def to_gravitee(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        alg = algorithm(config["signature"])
        gravitee_name = next((g for g, a in GRAVITEE_SIGNATURES.items() if a == alg), alg)
        out: dict[str, Any] = {
            "signature": gravitee_name,
            "publicKeyResolver": config.get("public_key_resolver", GIVEN_KEY),
            "resolverParameter": config["resolver_parameter"],
            "propagateAuthHeader": config.get("propagate_auth_header", True),
            "userClaim": config.get("user_claim", "sub"),
        }
        timeout = config.get("jwks_timeout", 2.0)
        if timeout != 2.0:
            out["connectTimeout"] = out["requestTimeout"] = int(timeout * 1000)
        # Ours without a Gravitee field, when not at their defaults.
        defaults = {"issuer": None, "audience": None, "leeway": 30, "jwks_refresh": 300}
        extra = {k: config[k] for k, default in defaults.items() if k in config and config[k] != default}
        if extra:
            out[EXTRA_KEY] = extra
        return out


def _enabled(value: Any) -> bool:
    if not isinstance(value, Mapping):
        return bool(value)
    if value.get("enabled"):
        return True
    bound = value.get("certificateBoundThumbprint")
    return isinstance(bound, Mapping) and bool(bound.get("enabled"))


@hookimpl
def gravicors_register_security_types() -> list[type[SecurityType]]:
    return [JwtSecurity]
