"""Gravitee's API-key plan: the ``api-key`` security type (and, for old configs,
the ``api-key`` policy).

As a plan (``{"name": "Gold", "security": "api-key", "configuration": {"keys":
[...]}}``) the key travels in the ``X-Gravitee-Api-Key`` header (name
configurable) or the ``api-key`` query parameter, as Gravitee's gateway reads it.
The plan handles a request that carries either, even empty; a present key that
is not one of ``keys`` is 401 ``API_KEY_INVALID``, an empty one 401
``API_KEY_MISSING`` (response template keys), and never falls through to a
keyless plan. A request with no key at all is not this plan's: it goes to a
keyless plan, or gets Gravitee's 401 ``GATEWAY_PLAN_UNRESOLVABLE``.

Plans never run on a preflight: a browser sends no custom header there, so with
``run_policies`` on a keyed API's preflight still passes (Gravitee skips security
on preflights; checking a key there was its bug #825), and the actual request
without a key gets a 401 the script can read.

Gravitee keeps keys in subscriptions, not in the definition: here they are the
plan's ``keys``. An empty list refuses every key (a Gravitee export imported
without ``--keys``).

The ``api-key`` *policy* (``"policies": [{"name": "api-key", ...}]``) is kept so
old configs load: such an entry is loaded as an api-key plan (warning
gravicors.W010). As a flow step it would run wherever its flow runs, a preflight
included.
"""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import unquote_plus

from flask import Request
from marshmallow import Schema, pre_load, validate

from flask_gravicors import Failure, Policy, SecurityType, hookimpl
from flask_gravicors.security import CONSUMER, consumer_id, query_param
from flask_gravicors.strict import Flag, List, Text

__version__ = "0.1.0"

DEFAULT_HEADER = "X-Gravitee-Api-Key"
DEFAULT_QUERY_PARAM = "api-key"

MISSING = Failure(401, "API_KEY_MISSING", "Unauthorized: missing API key")
INVALID = Failure(401, "API_KEY_INVALID", "Unauthorized: invalid API key")

_HEADER = validate.Regexp(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$", error="not a header name")


class ApiKeyPlanSchema(Schema):
    """An api-key plan's ``configuration``. Types are strict
    (:mod:`flask_gravicors.strict`): a set of keys, or ``1.0`` or ``"false"`` for the
    flag, is refused (gravicors.E003)."""

    #: Gravitee's names of these fields (the docs' config reference reads it).
    CAMEL = {"propagateApiKey": "propagate_api_key"}

    #: The accepted keys; empty: every key is refused (Gravitee keeps keys in subscriptions, so a plan imported
    #: without ``--keys`` has none).
    keys = List(Text(validate=validate.Length(min=1), secret=True), load_default=list)
    #: The request header holding the key (compared case-insensitively, as header names are).
    header = Text(load_default=DEFAULT_HEADER, validate=_HEADER)
    #: The query parameter holding the key when the header is absent.
    query_param = Text(load_default=DEFAULT_QUERY_PARAM, validate=validate.Length(min=1))
    #: Keep the key for the view; ``false`` removes the header and the query parameter, as Gravitee removes them
    #: before the backend.
    propagate_api_key = Flag(load_default=False)

    @pre_load
    def _gravitee_names(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, Mapping) and "propagateApiKey" in data and "propagate_api_key" not in data:
            data = dict(data)
            data["propagate_api_key"] = data.pop("propagateApiKey")
        return data


class ApiKeyConfigSchema(Schema):
    """The legacy policy's configuration: at least one key."""

    #: The accepted keys (at least one).
    keys = List(Text(validate=validate.Length(min=1), secret=True), required=True, validate=validate.Length(min=1))
    #: The request header holding the key.
    header = Text(load_default=DEFAULT_HEADER, validate=_HEADER)
    #: The query parameter holding the key when the header is absent.
    query_param = Text(load_default=DEFAULT_QUERY_PARAM, validate=validate.Length(min=1))


class _Keys:
    """Reads and checks a key; shared by the plan and the legacy policy."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        # The configured strings as dict keys, each with its consumer identity made
        # once (a request that passes records it for the policies,
        # flask_gravicors.security.CONSUMER, at the cost of a dict store). A lookup's
        # timing says nothing about the keys: CPython hashes str with SipHash-1-3
        # under a per-process random key (PEP 456), and a dict compares two strings
        # only when their full 64-bit hashes are equal. A digest per request bought
        # nothing more and was most of this check's cost: `benchmarks/bench.py
        # instructions` gave api-key + a no-op policy +19.2k instructions per request
        # with a BLAKE2s digest, +12.6k without (two no-op policies: +11.6k).
        self.keys = {key: consumer_id("api-key", key) for key in config["keys"]}
        # The header's WSGI environ key, computed once: a dict lookup per request
        # instead of werkzeug's header-name translation.
        self.environ_key = "HTTP_" + config["header"].upper().replace("-", "_")
        self.query_param = config["query_param"]

    def read(self, request: Request) -> str | None:
        """The key as sent (maybe empty), ``None`` when neither place holds one."""
        key = request.environ.get(self.environ_key)
        if key is None:
            key = query_param(request, self.query_param)
        return key

    def judge(self, key: str | None) -> tuple[Failure | None, str | None]:
        """(the failure, ``None``) for a missing or wrong key, else (``None``, the
        consumer's identity): one lookup."""
        if not key:
            return MISSING, None
        consumer = self.keys.get(key)
        return (INVALID, None) if consumer is None else (None, consumer)

    def check(self, key: str | None) -> Failure | None:
        return self.judge(key)[0]

    def strip(self, request: Request) -> None:
        """Remove the key from the request the view sees: the header and the query
        parameter, as Gravitee's ``cleanupApiKey`` does (else a key sent in the URL
        reaches ``request.args`` and ``request.url``, and whatever logs them)."""
        request.environ.pop(self.environ_key, None)
        query = request.environ.get("QUERY_STRING")
        # query_param's guard, without parsing request.args: no parameter named so,
        # unless hidden by percent-encoding.
        if not query or (self.query_param not in query and "%" not in query):
            return
        # The other parameters keep their bytes as sent; only the key's go.
        kept = "&".join(part for part in query.split("&") if unquote_plus(part.partition("=")[0]) != self.query_param)
        if kept == query:
            return
        request.environ["QUERY_STRING"] = kept
        request.query_string = kept.encode("latin-1")
        for cached in ("args", "values", "url", "full_path"):
            request.__dict__.pop(cached, None)


class ApiKeySecurity(SecurityType):
    """``api-key``: a plan whose consumers send a key."""

    name = "api-key"
    config_schema = ApiKeyPlanSchema
    order = 500  # Gravitee's ApiKeyAuthenticationHandler

    def __init__(self, config: Mapping[str, Any], api_name: str, plan_name: str) -> None:
        super().__init__(config, api_name, plan_name)
        self._keys = _Keys(config)
        self._strip = not config["propagate_api_key"]

    def can_handle(self, request: Request) -> bool:
        return self._keys.read(request) is not None

    def authenticate(self, request: Request) -> Failure | None:
        failure, consumer = self._keys.judge(self._keys.read(request))
        if failure is None:
            request.environ[CONSUMER] = consumer
            if self._strip:
                self._keys.strip(request)
        return failure

    @classmethod
    def from_gravitee(cls, configuration: Mapping[str, Any]) -> dict[str, Any]:
        # Gravitee's plan configuration holds no keys (subscriptions do): they come
        # from load_definition(keys=...). Its custom-header switch maps to header.
        # Values go through as written, for the schema to judge (a null flag is
        # false, as for Gravitee's primitive boolean).
        unknown = set(configuration) - {"propagateApiKey", "enableCustomApiKeyHeader", "apiKeyHeader"}
        if unknown:
            raise ValueError(f"api-key plan configuration {sorted(unknown)} has no translation")
        propagate = configuration.get("propagateApiKey")
        out: dict[str, Any] = {"propagate_api_key": False if propagate is None else propagate}
        custom = configuration.get("enableCustomApiKeyHeader")
        if custom is not None and not isinstance(custom, bool):
            raise ValueError("enableCustomApiKeyHeader must be true or false")
        if custom and configuration.get("apiKeyHeader"):
            out["header"] = configuration["apiKeyHeader"]
        return out

    @classmethod
    def to_gravitee(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"propagateApiKey": bool(config.get("propagate_api_key", False))}
        header = config.get("header", DEFAULT_HEADER)
        if header != DEFAULT_HEADER:
            out.update(enableCustomApiKeyHeader=True, apiKeyHeader=header)
        return out


class ApiKeyPolicy(Policy):
    """The legacy ``api-key`` policy: a 401 ``{"message": ...}`` for a missing or
    wrong key, wherever its flow runs (also on a preflight when run_policies is on:
    prefer the plan)."""

    name = "api-key"
    config_schema = ApiKeyConfigSchema

    def __init__(self, config: Mapping[str, Any], api_name: str) -> None:
        super().__init__(config, api_name)
        self._keys = _Keys(config)

    def on_request(self, request: Request) -> Any:
        return self._keys.check(self._keys.read(request))


@hookimpl
def gravicors_register_policies() -> list[type[Policy]]:
    return [ApiKeyPolicy]


@hookimpl
def gravicors_register_security_types() -> list[type[SecurityType]]:
    return [ApiKeySecurity]
