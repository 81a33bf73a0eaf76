"""Configuration schemas (marshmallow). Validation lives here, apart from the hot path.

:func:`load_config` validates a whole config, every API, every cors block and every
policy config, and raises one :class:`~flask_gravicors.errors.ConfigError`
holding all problems. It first bounds the input's size
(:func:`~flask_gravicors.checks.check_limits`); then the strict fields below
decide every value's type, once: a list is a JSON array (``list`` or ``tuple``),
a string a ``str`` that is valid Unicode, a flag ``True`` or ``False``, a number
an ``int`` that is no ``bool``; anything else is ``gravicors.E003`` at its path.
The rules of :mod:`flask_gravicors.checks` run in ``validates_schema`` hooks on
what these fields loaded, so they judge exactly the values that will run.
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

#: Largest config file read (gravicors.E006); 100 000 origins take about 4 MB.
MAX_FILE_BYTES = 64 * 1024 * 1024


def _wrong(expected: str, value: Any) -> ValidationError:
    return ValidationError(problem("gravicors.E003", f"expected {expected}, got {checks.describe(value)}"))


# Each strict field subclasses marshmallow's own (so what reads the schemas, such as
# the docs' config reference, sees a String, a Boolean...) and replaces its loading.


class Text(fields.String):
    """A JSON string: a ``str`` that encodes to UTF-8 (no lone surrogate such as
    ``"\\udcff"``, which JSON's ``\\u`` escapes can produce). Bytes are refused, not
    decoded: no rule ever sees them."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise _wrong("a string", value)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            raise ValidationError(
                problem("gravicors.E003", f"{value[:60]!r} is not valid Unicode text: a lone surrogate at index {err.start}")
            ) from None
        return value


class Flag(fields.Boolean):
    """A JSON boolean: ``true`` or ``false``, never ``1``, ``1.0`` or ``"true"``."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise _wrong("true or false", value)
        return value


class Int(fields.Integer):
    """A JSON integer: an ``int`` that is no ``bool`` (``600.0`` and ``true`` are refused)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _wrong("an integer", value)
        return value


class List(fields.List):
    """A JSON array (``list`` or ``tuple``) of what ``inner`` loads; with
    ``one_string``, a single string counts as a one-item list (users write
    ``"allow_origin": "*"``).

    An item that fails is reported at its index and loaded as ``None`` (or what
    it loaded so far, for an object), so the rules can still judge the other items
    at the indices the user wrote; the config is refused either way.
    """

    def __init__(self, inner: fields.Field, *, one_string: bool = False, **kwargs: Any):
        super().__init__(inner, **kwargs)
        self.one_string = one_string

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[Any]:
        if self.one_string and isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise _wrong("a list", value)
        loaded: list[Any] = []
        errors: dict[int, Any] = {}
        for i, item in enumerate(value):
            try:
                loaded.append(self.inner.deserialize(item, **kwargs))
            except ValidationError as err:
                errors[i] = err.messages
                loaded.append(err.valid_data if isinstance(err.valid_data, dict) else None)
        if errors:
            raise ValidationError(errors, valid_data=loaded)
        return loaded


class StringList(List):
    """A list of strings that also takes one string."""

    def __init__(self, **kwargs: Any):
        super().__init__(Text(), one_string=True, **kwargs)


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
            if shown is not error.messages:
                raise ValidationError(shown, data=data, valid_data=error.valid_data)


class PolicyRefSchema(Schema):
    """One step of an API's policy chain."""

    class Meta:
        unknown = RAISE

    #: The policy's name, as its plugin registers it (``api-key``, ``rate-limit``...).
    name = Text(required=True)
    #: The policy's settings, validated by the policy's own config schema.
    config = fields.Dict(keys=Text(), load_default=dict)

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
        except Exception as err:  # noqa: BLE001 - a plugin's schema must not break load_config
            raise ValidationError({"config": [policy_failure(data["name"], err)]}) from None
        data["policy"] = policy
        return data


def policy_failure(name: str, err: BaseException) -> str:
    """The gravicors.E015 problem of a policy that raised ``err``: its type and a cut repr."""
    return problem("gravicors.E015", f"policy {name!r} raised {type(err).__name__}: {str(err)[:200]!r}")


class ApiSchema(Schema):
    """One API: where it is bound, its entrypoints, its CORS settings and its policies."""

    class Meta:
        unknown = RAISE

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
    #: The policy chain, run in this order.
    policies = List(fields.Nested(PolicyRefSchema), load_default=list)
    #: Free text for people; ignored.
    description = Text()

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _binding(self, data: Mapping[str, Any], original: Any, **kwargs: Any) -> None:
        if isinstance(original, Mapping):
            found = checks.check_binding(data, original)
            if found:
                raise ValidationError(found)


class ConfigSchema(Schema):
    """The whole config: ``app.config["GRAVICORS"]``, a JSON file, or ``reconfigure()``'s argument."""

    class Meta:
        unknown = RAISE

    #: The APIs, each bound to a context path or a blueprint.
    apis = List(fields.Nested(ApiSchema), load_default=list)

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


def load_config(raw: Any, policies: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``raw`` (dict, or path to a JSON file) and return the loaded config.

    ``policies`` maps installed policy names to policy classes. Raises
    :class:`ConfigError` naming every problem, and nothing else.
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
    token = _POLICIES.set(policies)
    try:
        return ConfigSchema().load(raw)
    except ValidationError as err:
        raise ConfigError(err.messages) from None  # type: ignore[arg-type]
    finally:
        _POLICIES.reset(token)


__all__ = ["load_config", "read_config", "Text", "Flag", "Int", "List", "StringList"]
