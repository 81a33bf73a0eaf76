"""Configuration schemas (marshmallow). Validation lives here, apart from the hot path.

:func:`load_config` validates a whole config, every API, every cors block and every
policy config, and raises one :class:`~flask_gravicors.errors.ConfigError`
holding all problems. Field-level rules sit on the fields; rules that need
several fields or the raw list indices run in ``validates_schema`` hooks through
:mod:`flask_gravicors.checks`.
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from . import checks
from .core import ENTRYPOINTS
from .errors import ConfigError, problem
from .flow_schema import (
    POLICIES,
    SECURITY_TYPES,
    FlowSchema,
    PlanSchema,
    TwoSpellings,
    check_plan_names,
    configuration_of,
    installed,
    legacy_policies,
    response_templates_field,
)


class StringList(fields.List):
    """A list of strings that also accepts one string, as users write ``"*"``."""

    def __init__(self, **kwargs: Any):
        super().__init__(fields.String(), **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[Any]:
        if isinstance(value, str):
            value = [value]
        return super()._deserialize(value, attr, data, **kwargs)


class CorsSchema(Schema):
    class Meta:
        unknown = RAISE

    enabled = fields.Boolean(load_default=False)
    allow_origin = StringList(load_default=list)
    allow_methods = StringList(load_default=list)
    allow_headers = StringList(load_default=list)
    allow_credentials = fields.Boolean(load_default=False)
    max_age = fields.Integer(load_default=-1, strict=True)
    expose_headers = StringList(load_default=list)
    run_policies = fields.Boolean(load_default=False)
    allow_private_network = fields.Boolean(load_default=False)
    # Explicit opt-ins that lift a refusal of checks.check_cors (gravicors.E023,
    # E024, E028); each is logged as warning W005 when the config takes effect.
    dangerously_allow_any_origin_with_credentials = fields.Boolean(load_default=False)
    dangerously_allow_null_origin = fields.Boolean(load_default=False)
    dangerously_allow_insecure_origins = fields.Boolean(load_default=False)
    # Ask the gravicors_origin_allowed hook about origins allow_origin does not allow.
    dynamic_origins = fields.Boolean(load_default=False)

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
    class Meta:
        unknown = RAISE

    name = fields.String(required=True)
    config = fields.Dict(keys=fields.String(), load_default=dict)

    @post_load
    def _policy_config(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        policy = installed(POLICIES, data["name"], "name", "gravicors.E014", "policies")
        data["config"] = configuration_of(policy, data["config"], "config")
        data["policy"] = policy
        return data


class ApiSchema(TwoSpellings):
    CAMEL = {"responseTemplates": "response_templates"}

    name = fields.String(required=True, validate=validate.Length(min=1))
    context_path = fields.String(load_default=None)
    blueprint = fields.String(load_default=None, validate=validate.Length(min=1))
    entrypoints = fields.List(
        fields.String(validate=validate.OneOf(sorted(ENTRYPOINTS))),
        load_default=lambda: ["http-proxy"],
    )
    cors = fields.Nested(CorsSchema, load_default=lambda: CorsSchema().load({}))
    # Legacy: one flow over every path and method (see flow_schema.legacy_policies).
    policies = fields.List(fields.Nested(PolicyRefSchema), load_default=list)
    plans = fields.List(fields.Nested(PlanSchema), load_default=list)
    flows = fields.List(fields.Nested(FlowSchema), load_default=list)
    response_templates = response_templates_field()
    description = fields.String()

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _binding(self, data: Mapping[str, Any], original: Any, **kwargs: Any) -> None:
        if isinstance(original, Mapping):
            found = {**checks.check_binding(original), **check_plan_names(original.get("plans"))}
            if found:
                raise ValidationError(found)

    @post_load
    def _execution_model(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        legacy_policies(data)
        return data


class ConfigSchema(Schema):
    class Meta:
        unknown = RAISE

    apis = fields.List(fields.Nested(ApiSchema), load_default=list)
    # Platform flows: run for every API, before its plan (Gravitee's organization flows).
    flows = fields.List(fields.Nested(FlowSchema), load_default=list)

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


def load_config(raw: Any, policies: Mapping[str, Any], security_types: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Validate ``raw`` (dict, or path to a JSON file) and return the loaded config.

    ``policies`` maps installed policy names to policy classes, ``security_types``
    installed plan security type names to their classes (default: ``keyless``
    only). Raises :class:`ConfigError` naming every problem.
    """
    raw = read_config(raw)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(problem("gravicors.E004", f"expected an object, got {type(raw).__name__}"))
    if security_types is None:
        from .security import Keyless

        security_types = {Keyless.name: Keyless}
    token = POLICIES.set(policies)
    types_token = SECURITY_TYPES.set(security_types)
    try:
        return ConfigSchema().load(raw)
    except ValidationError as err:
        raise ConfigError(err.messages) from None  # type: ignore[arg-type]
    finally:
        SECURITY_TYPES.reset(types_token)
        POLICIES.reset(token)


__all__ = ["load_config", "read_config"]
