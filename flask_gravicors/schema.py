"""Configuration schemas (marshmallow). Validation lives here, apart from the hot path.

:func:`load_config` validates a whole config, every API, every cors block and every
policy config, and raises one :class:`~flask_gravicors.errors.ConfigError`
holding all problems. Field-level rules sit on the fields; rules that need
several fields or the raw list indices run in ``validates_schema`` hooks through
:mod:`flask_gravicors.checks`.
"""

from __future__ import annotations

import contextvars
import json
import os
from typing import Any, Mapping

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from . import checks
from .core import ENTRYPOINTS
from .errors import ConfigError, problem

# The installed policies, visible to PolicyRefSchema during one load_config call
# (marshmallow 4 dropped schema context in favour of contextvars).
_POLICIES: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar("gravicors_policies")


class StringList(fields.List):
    """A list of strings that also accepts one string, as users write ``"*"``."""

    def __init__(self, **kwargs: Any):
        super().__init__(fields.String(), **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[Any]:
        if isinstance(value, str):
            value = [value]
        return super()._deserialize(value, attr, data, **kwargs)


class CorsSchema(Schema):
    """An API's CORS settings: Gravitee's Cors tab. Every field also loads under
    Gravitee's camelCase name (``allowOrigin``...)."""

    class Meta:
        unknown = RAISE

    # The #: comments are the field's documentation: the docs' config reference
    # is generated from them (docs/_ext/gravicors_docs.py).
    #: Apply CORS to this API.
    enabled = fields.Boolean(load_default=False)
    #: ``*``; exact origins ``scheme://host[:port]`` (compared case-insensitively); ``null`` (only with its opt-in);
    #: subdomain wildcards ``https://*.example.com`` (one or more labels); or regular expressions (any entry
    #: holding ``( [ { \ ^ $ |``), compiled once and matched against the whole lower-cased origin.
    allow_origin = StringList(load_default=list)
    #: Methods a preflight may ask for, compared case-sensitively (``patch`` is not ``PATCH``); ``*``: any.
    allow_methods = StringList(load_default=list)
    #: Request headers a preflight may ask for, case-insensitive; ``*``: any; empty: none beyond the
    #: CORS-safelisted ones.
    allow_headers = StringList(load_default=list)
    #: Send ``Access-Control-Allow-Credentials: true``: scripts may read the API with the user's cookies.
    allow_credentials = fields.Boolean(load_default=False)
    #: Seconds a browser may cache a preflight's answer; ``-1``: no ``Access-Control-Max-Age`` header.
    max_age = fields.Integer(load_default=-1, strict=True)
    #: Response headers scripts may read besides the CORS-safelisted ones.
    expose_headers = StringList(load_default=list)
    #: Run the API's policies on valid preflights (Gravitee's *Run policies for preflight requests*).
    run_policies = fields.Boolean(load_default=False)
    #: Answer ``Access-Control-Request-Private-Network: true`` on a valid preflight with
    #: ``Access-Control-Allow-Private-Network: true``.
    allow_private_network = fields.Boolean(load_default=False)
    # Explicit opt-ins that lift a refusal of checks.check_cors (gravicors.E023,
    # E024, E028); each is logged as warning W005 when the config takes effect.
    #: Lift refusal ``gravicors.E023``: ``*`` with credentials reflects every request origin.
    dangerously_allow_any_origin_with_credentials = fields.Boolean(load_default=False)
    #: Lift refusal ``gravicors.E024``: allow listing the ``null`` origin.
    dangerously_allow_null_origin = fields.Boolean(load_default=False)
    #: Lift refusal ``gravicors.E028``: ``http://`` origins other than loopback with credentials.
    dangerously_allow_insecure_origins = fields.Boolean(load_default=False)

    @pre_load
    def _gravitee_names(self, data: Any, **kwargs: Any) -> Any:
        return checks.gravitee_renamed(data) if isinstance(data, Mapping) else data

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _rules(self, data: Mapping[str, Any], original: Any, **kwargs: Any) -> None:
        # The original input keeps the list indices users wrote; failed items are
        # missing from ``data``.
        found = checks.check_cors(original) if isinstance(original, Mapping) else {}
        if found:
            raise ValidationError(found)

    def handle_error(self, error: ValidationError, data: Any, **kwargs: Any) -> None:
        # Every rule above works on our names; a user who copied Gravitee's block
        # must find the problem under the name they wrote (``maxAge``, not ``max_age``).
        if isinstance(data, Mapping) and isinstance(error.messages, dict):
            shown = checks.names_as_written(error.messages, data)
            if shown is not error.messages:
                raise ValidationError(shown, data=data, valid_data=error.valid_data)


class PolicyRefSchema(Schema):
    """One step of an API's policy chain."""

    class Meta:
        unknown = RAISE

    #: The policy's name, as its plugin registers it (``api-key``, ``rate-limit``...).
    name = fields.String(required=True)
    #: The policy's settings, validated by the policy's own config schema.
    config = fields.Dict(keys=fields.String(), load_default=dict)

    @post_load
    def _policy_config(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        installed = _POLICIES.get({})
        policy = installed.get(data["name"])
        if policy is None:
            names = ", ".join(sorted(installed)) or "none"
            raise ValidationError({"name": [problem("gravicors.E014", f"{data['name']!r}; installed policies: {names}")]})
        try:
            data["config"] = policy.config_schema().load(data["config"])
        except ValidationError as err:
            raise ValidationError({"config": err.messages}) from None
        data["policy"] = policy
        return data


class ApiSchema(Schema):
    """One API: where it is bound, its entrypoints, its CORS settings and its policies."""

    class Meta:
        unknown = RAISE

    #: A unique name, used in logs and given to policies.
    name = fields.String(required=True, validate=validate.Length(min=1))
    #: An absolute path (``/orders``): the API owns it and everything below it at a ``/`` boundary. Exactly one
    #: of ``context_path`` and ``blueprint``.
    context_path = fields.String(load_default=None)
    #: A blueprint's name instead of a context path; nested blueprints (``shop.admin``) belong to it.
    blueprint = fields.String(load_default=None, validate=validate.Length(min=1))
    #: Gravitee's entrypoint types; CORS applies only with ``http-get``, ``http-post``, ``http-proxy`` or ``sse``.
    entrypoints = fields.List(
        fields.String(validate=validate.OneOf(sorted(ENTRYPOINTS))),
        load_default=lambda: ["http-proxy"],
    )
    #: The API's CORS settings (disabled when absent).
    cors = fields.Nested(CorsSchema, load_default=lambda: CorsSchema().load({}))
    #: The policy chain, run in this order.
    policies = fields.List(fields.Nested(PolicyRefSchema), load_default=list)
    #: Free text for people; ignored.
    description = fields.String()

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _binding(self, data: Mapping[str, Any], original: Any, **kwargs: Any) -> None:
        if isinstance(original, Mapping):
            found = checks.check_binding(original)
            if found:
                raise ValidationError(found)


class ConfigSchema(Schema):
    """The whole config: ``app.config["GRAVICORS"]``, a JSON file, or ``reconfigure()``'s argument."""

    class Meta:
        unknown = RAISE

    #: The APIs, each bound to a context path or a blueprint.
    apis = fields.List(fields.Nested(ApiSchema), load_default=list)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _unique(self, data: Mapping[str, Any], original: Any, **kwargs: Any) -> None:
        if isinstance(original, Mapping):
            found = checks.check_unique_apis(original.get("apis"))
            if found:
                raise ValidationError(found)


def read_config(raw: Any) -> Any:
    """A dict as given, or the JSON object in the file a path names."""
    if isinstance(raw, (str, os.PathLike)):
        try:
            with open(raw, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError) as err:
            raise ConfigError(problem("gravicors.E004", f"{os.fspath(raw)!r}: {err}")) from None
    return raw


def load_config(raw: Any, policies: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``raw`` (dict, or path to a JSON file) and return the loaded config.

    ``policies`` maps installed policy names to policy classes. Raises
    :class:`ConfigError` naming every problem.
    """
    raw = read_config(raw)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(problem("gravicors.E004", f"expected an object, got {type(raw).__name__}"))
    token = _POLICIES.set(policies)
    try:
        return ConfigSchema().load(raw)
    except ValidationError as err:
        raise ConfigError(err.messages) from None  # type: ignore[arg-type]
    finally:
        _POLICIES.reset(token)


__all__ = ["load_config", "read_config"]
