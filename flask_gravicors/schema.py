"""Configuration schemas (marshmallow). Validation lives here, apart from the hot path.

:func:`load_config` validates a whole config, every API, every cors block and every
policy config, and raises one :class:`~flask_gravicors.errors.ConfigError`
holding all problems. It first bounds the input's size
(:func:`~flask_gravicors.checks.check_limits`); then the strict fields of
:mod:`flask_gravicors.strict` decide every value's type, once: a list is a JSON array (``list`` or ``tuple``),
a string a ``str`` that is valid Unicode, a flag ``True`` or ``False``, a number
an ``int`` that is no ``bool``; anything else is ``gravicors.E003`` at its path.
The rules of :mod:`flask_gravicors.checks` run in ``validates_schema`` hooks on
what these fields loaded, so they judge exactly the values that will run.
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
from .strict import Flag, Int, List, Object, StringList, Text

#: Largest config file read (gravicors.E006); 100 000 origins take about 4 MB.
MAX_FILE_BYTES = 64 * 1024 * 1024


class CorsSchema(Schema):
    """An API's CORS settings: Gravitee's Cors tab. Every field also loads under
    Gravitee's camelCase name (``allowOrigin``...)."""

    class Meta:
        unknown = RAISE

    # The #: comments are the field's documentation: the docs' config reference
    # is generated from them (docs/_ext/gravicors_docs.py).
    #: Apply CORS to this API.
    enabled = Flag(load_default=False)
    #: ``*``; exact origins ``scheme://host[:port]`` (compared case-insensitively); ``null`` (only with its opt-in);
    #: subdomain wildcards ``https://*.example.com`` (one or more labels); or regular expressions (any entry
    #: holding ``( [ { \ ^ $ |``), compiled once by RE2 and matched against the whole lower-cased origin. Without
    #: credentials, a list holding ``*`` answers every actual response with ``Access-Control-Allow-Origin: *``.
    allow_origin = StringList(load_default=list)
    #: Methods a preflight may ask for, compared case-sensitively (``patch`` is not ``PATCH``); ``*``: any.
    allow_methods = StringList(load_default=list)
    #: Request headers a preflight may ask for, case-insensitive; ``*``: any; empty: none beyond the
    #: CORS-safelisted ones.
    allow_headers = StringList(load_default=list)
    #: Send ``Access-Control-Allow-Credentials: true``: scripts may read the API with the user's cookies.
    allow_credentials = Flag(load_default=False)
    #: Seconds a browser may cache a preflight's answer; ``-1``: no ``Access-Control-Max-Age`` header.
    max_age = Int(load_default=-1)
    #: Response headers scripts may read besides the CORS-safelisted ones.
    expose_headers = StringList(load_default=list)
    #: Run the API's policies on valid preflights (Gravitee's *Run policies for preflight requests*).
    run_policies = Flag(load_default=False)
    #: Answer ``Access-Control-Request-Private-Network: true`` on a valid preflight with
    #: ``Access-Control-Allow-Private-Network: true``.
    allow_private_network = Flag(load_default=False)
    # Explicit opt-ins that lift a refusal of checks.check_cors (gravicors.E023,
    # E024, E028); each is logged as warning W005 when the config takes effect.
    #: Lift refusal ``gravicors.E023``: ``*`` with credentials reflects every request origin.
    dangerously_allow_any_origin_with_credentials = Flag(load_default=False)
    #: Lift refusal ``gravicors.E024``: allow listing the ``null`` origin.
    dangerously_allow_null_origin = Flag(load_default=False)
    #: Lift refusal ``gravicors.E028``: ``http://`` origins other than loopback with credentials.
    dangerously_allow_insecure_origins = Flag(load_default=False)
    #: Ask the ``gravicors_origin_allowed`` hook about origins ``allow_origin`` does not allow (decisions cached
    #: for ``GRAVICORS_DYNAMIC_ORIGINS_TTL`` seconds); such an API always sends ``Vary: Origin``.
    dynamic_origins = Flag(load_default=False)

    @pre_load
    def _gravitee_names(self, data: Any, **kwargs: Any) -> Any:
        return checks.gravitee_renamed(data) if isinstance(data, Mapping) else data

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _rules(self, data: Mapping[str, Any], original: Any, **kwargs: Any) -> None:
        # ``data``: what the fields loaded (a field that failed is absent, a failed
        # list item None); ``original``: the block as written, for E005.
        found = checks.check_cors(data, original) if isinstance(original, Mapping) else {}
        if found:
            raise ValidationError(found)

    def handle_error(self, error: ValidationError, data: Any, **kwargs: Any) -> None:
        # Every rule above works on our names; a user who copied Gravitee's block
        # must find the problem under the name they wrote (``maxAge``, not ``max_age``).
        if isinstance(data, Mapping) and isinstance(error.messages, dict):
            shown = checks.names_as_written(error.messages, data)
            shown = checks.suggest_fields(shown, checks.known_fields(self, checks.GRAVITEE_NAMES))
            if shown is not error.messages:
                raise ValidationError(shown, data=data, valid_data=error.valid_data)


class Suggests(Schema):
    """A schema whose unknown fields' problems name the closest known field."""

    def handle_error(self, error: ValidationError, data: Any, **kwargs: Any) -> None:
        if isinstance(error.messages, dict):
            shown = checks.suggest_fields(error.messages, checks.known_fields(self))
            if shown is not error.messages:
                raise ValidationError(shown, data=data, valid_data=error.valid_data)


class PolicyRefSchema(Suggests):
    """One step of an API's policy chain."""

    class Meta:
        unknown = RAISE

    #: The policy's name, as its plugin registers it (``api-key``, ``rate-limit``...).
    name = Text(required=True)
    #: The policy's settings, validated by the policy's own config schema.
    config = Object(load_default=dict)

    @post_load
    def _policy_config(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        policy = installed(POLICIES, data["name"], "name", "gravicors.E014", "policies")
        data["config"] = configuration_of(policy, data["config"], "config")
        data["policy"] = policy
        return data


class ApiSchema(TwoSpellings):
    """One API: where it is bound, its entrypoints, its CORS settings, its plans and flows."""

    CAMEL = {"responseTemplates": "response_templates"}

    #: A unique name, used in logs and given to policies.
    name = Text(required=True, validate=validate.Length(min=1))
    #: An absolute path (``/orders``): the API owns it and everything below it at a ``/`` boundary. Exactly one
    #: of ``context_path`` and ``blueprint``.
    context_path = Text(load_default=None)
    #: A blueprint's name instead of a context path; nested blueprints (``shop.admin``) belong to it.
    blueprint = Text(load_default=None, validate=validate.Length(min=1))
    #: Gravitee's entrypoint types; CORS applies only with ``http-get``, ``http-post``, ``http-proxy`` or ``sse``.
    entrypoints = List(Text(validate=validate.OneOf(sorted(ENTRYPOINTS))), load_default=lambda: ["http-proxy"])
    #: The API's CORS settings (disabled when absent).
    cors = fields.Nested(CorsSchema, load_default=lambda: CorsSchema().load({}))
    #: Legacy: a policy chain, loaded as one flow over every path and method (an ``api-key`` entry as an
    #: api-key plan, warning ``gravicors.W010``).
    policies = List(fields.Nested(PolicyRefSchema), load_default=list)
    #: How consumers are identified (Gravitee's plans): the first plan whose security can handle the request
    #: runs, else a keyless plan, else 401. None: the API is open.
    plans = List(fields.Nested(PlanSchema), load_default=list)
    #: Policies on the request and the response, selected by path and method, run after the plan's flows.
    flows = List(fields.Nested(FlowSchema), load_default=list)
    #: Answers to failures by key (``CORS_PREFLIGHT_FAILED``, ``API_KEY_INVALID``...) and media type.
    response_templates = response_templates_field()
    #: Free text for people; ignored.
    description = Text()

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _binding(self, data: Mapping[str, Any], original: Any, **kwargs: Any) -> None:
        if isinstance(original, Mapping):
            found = {**checks.check_binding(data, original), **check_plan_names(original.get("plans"))}
            if found:
                raise ValidationError(found)

    @post_load
    def _execution_model(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        legacy_policies(data)
        return data


class ConfigSchema(Suggests):
    """The whole config: ``app.config["GRAVICORS"]``, a JSON file, or ``reconfigure()``'s argument."""

    class Meta:
        unknown = RAISE

    #: The APIs, each bound to a context path or a blueprint.
    apis = List(fields.Nested(ApiSchema), load_default=list)
    #: Platform flows: run for every API, before its plan (Gravitee's organization flows).
    flows = List(fields.Nested(FlowSchema), load_default=list)

    @validates_schema(skip_on_field_errors=False)
    def _unique(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        found = checks.check_unique_apis(data.get("apis"))
        if found:
            raise ValidationError(found)


def read_config(raw: Any) -> Any:
    """A dict as given, or the JSON object in the file a path names (at most
    :data:`MAX_FILE_BYTES`; nesting too deep for the JSON reader is E006)."""
    if not isinstance(raw, (str, os.PathLike)):
        return raw
    shown = repr(os.fspath(raw))
    try:
        with open(raw, "rb") as handle:
            content = handle.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as err:  # ValueError: a NUL or a lone surrogate in the path
        raise ConfigError(problem("gravicors.E004", f"{shown}: {err}")) from None
    if len(content) > MAX_FILE_BYTES:
        raise ConfigError(problem("gravicors.E006", f"{shown} is larger than {MAX_FILE_BYTES} bytes"))
    try:
        return json.loads(content.decode("utf-8"))
    except RecursionError:
        raise ConfigError(problem("gravicors.E006", f"{shown} nests deeper than the JSON reader follows")) from None
    except ValueError as err:  # not UTF-8, not JSON, or a number too long to convert
        raise ConfigError(problem("gravicors.E004", f"{shown}: {err}")) from None


def load_config(raw: Any, policies: Mapping[str, Any], security_types: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Validate ``raw`` (dict, or path to a JSON file) and return the loaded config.

    ``policies`` maps installed policy names to policy classes, ``security_types``
    installed plan security type names to their classes (default: ``keyless``
    only). Raises :class:`ConfigError` naming every problem, and nothing else.
    """
    raw = read_config(raw)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(problem("gravicors.E004", f"expected an object, got {checks.describe(raw)}"))
    # Nothing below reads an input that breaks the size bounds (deep nesting would
    # exhaust marshmallow's recursion; a huge one, time).
    oversized = checks.check_limits(raw)
    if oversized:
        raise ConfigError(oversized)
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


__all__ = ["load_config", "read_config", "Text", "Flag", "Int", "List", "StringList"]
