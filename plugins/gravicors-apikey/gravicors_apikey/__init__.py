"""Gravitee's API-key plan as a flask_gravicors policy.

The key travels in the ``X-Gravitee-Api-Key`` header (name configurable) or the
``api-key`` query parameter, as Gravitee's gateway reads it. A missing or wrong key
is answered with 401 and a JSON ``{"message": ...}``. Browsers send no custom
header on a preflight, so with ``run_policies`` on a keyed API fails its preflight:
the reason that switch is off by default.
"""

from __future__ import annotations

from typing import Any, Mapping

from flask import Request
from marshmallow import Schema, fields, validate

from flask_gravicors import Policy, hookimpl

__version__ = "0.1.0"

DEFAULT_HEADER = "X-Gravitee-Api-Key"
DEFAULT_QUERY_PARAM = "api-key"


class ApiKeyConfigSchema(Schema):
    #: The accepted keys (at least one).
    keys = fields.List(fields.String(validate=validate.Length(min=1)), required=True, validate=validate.Length(min=1))
    #: The request header holding the key.
    header = fields.String(
        load_default=DEFAULT_HEADER, validate=validate.Regexp(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$", error="not a header name")
    )
    #: The query parameter holding the key when the header is absent.
    query_param = fields.String(load_default=DEFAULT_QUERY_PARAM, validate=validate.Length(min=1))


class ApiKeyPolicy(Policy):
    name = "api-key"
    config_schema = ApiKeyConfigSchema

    def __init__(self, config: Mapping[str, Any], api_name: str) -> None:
        super().__init__(config, api_name)
        # The configured strings in a set. A lookup's timing says nothing about them:
        # CPython hashes str with SipHash-1-3 under a per-process random key (PEP 456),
        # and a set compares two strings only when their full 64-bit hashes are equal.
        # A digest per request bought nothing more and was most of this policy's cost:
        # `benchmarks/bench.py instructions` gave api-key + a no-op policy +19.2k
        # instructions per request with a BLAKE2s digest, +12.6k without (two no-op
        # policies: +11.6k).
        self._keys = frozenset(config["keys"])
        # The header's WSGI environ key, computed once: a dict lookup per request
        # instead of werkzeug's header-name translation.
        self._environ_key = "HTTP_" + config["header"].upper().replace("-", "_")
        self._query_param = config["query_param"]

    def on_request(self, request: Request) -> Any:
        key = request.environ.get(self._environ_key) or request.args.get(self._query_param)
        if not key:
            return {"message": "Unauthorized: missing API key"}, 401
        if key not in self._keys:
            return {"message": "Unauthorized: invalid API key"}, 401
        return None


@hookimpl
def gravicors_register_policies() -> list[type[Policy]]:
    return [ApiKeyPolicy]
