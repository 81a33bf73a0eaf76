"""Schemas of the execution model: plans, flows, steps, selectors, response templates.

Gravitee v4's names (``pathOperator``, ``responseTemplates``, ``selectionRule``)
load, and so do their snake_case spellings (``path_operator``...), as the cors
fields do; the loaded config uses snake_case. Policies and security types are
looked up among the installed ones while a config loads (:data:`POLICIES`,
:data:`SECURITY_TYPES`), and each step's or plan's ``configuration`` is
validated by its own schema, so a bad one is reported with the rest.

Gravitee's Expression Language is not supported: a step or selector
``condition`` or a plan ``selectionRule`` that holds one is refused
(``gravicors.E017``) rather than ignored, since ignoring it would run a policy
where Gravitee would not, or the reverse.
"""

from __future__ import annotations

import contextvars
import difflib
import re
from typing import Any, ClassVar, Mapping

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from . import checks
from .core import TOKEN_RE
from .errors import plugin_failure, problem
from .flows import EQUALS, NAMED_METHODS, OTHER, STARTS_WITH, path_segments
from .strict import Flag, Int, List, Object, Text

# The installed policies and security types, visible to the schemas during one
# load_config call (marshmallow 4 dropped schema context in favour of contextvars).
POLICIES: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar("gravicors_policies")
SECURITY_TYPES: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar("gravicors_security_types")

#: Gravitee's ``HttpMethod`` values a selector may list.
SELECTOR_METHODS = NAMED_METHODS | {OTHER}

TEMPLATE_KEY_RE = re.compile(r"[A-Z][A-Z0-9_]*")
# type/subtype, each a token or "*" (Gravitee looks a template up by the media type
# of an Accept entry, so "text/*" is a key a browser can ask for).
MEDIA_TYPE_RE = re.compile(r"(?:\*|[!#$%&'+\-.^_`|~0-9a-z]+)/(?:\*|[!#$%&'+\-.^_`|~0-9a-z]+)")

#: Security type names as Gravitee spells them -> ours.
SECURITY_ALIASES = {"key-less": "keyless", "key_less": "keyless", "api_key": "api-key"}


def security_name(value: str) -> str:
    """A plan's ``security`` in our spelling: ``KEY_LESS``, ``key-less`` -> ``keyless``;
    ``API_KEY`` -> ``api-key``; ``JWT`` -> ``jwt``; other names lower-cased."""
    lowered = value.strip().lower()
    return SECURITY_ALIASES.get(lowered, lowered.replace("_", "-"))


def _no_el(what: str) -> Any:
    """A field that must be empty: Gravitee EL is not supported (gravicors.E017)."""

    def check(value: Any) -> None:
        if isinstance(value, str) and value.strip():
            raise ValidationError(problem("gravicors.E017", f"{what} {value!r}"))

    return fields.Raw(load_default=None, validate=check, allow_none=True)


class TwoSpellings(Schema):
    """A schema whose fields also load under Gravitee's camelCase names
    (:attr:`CAMEL`); both spellings of one field is gravicors.E005, and a problem is
    reported under the name its author wrote."""

    CAMEL: ClassVar[Mapping[str, str]] = {}

    class Meta:
        unknown = RAISE

    @pre_load
    def _ours(self, data: Any, **kwargs: Any) -> Any:
        return checks.gravitee_renamed(data, self.CAMEL) if isinstance(data, Mapping) and self.CAMEL else data

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _twice(self, data: Mapping[str, Any], original: Any, **kwargs: Any) -> None:
        found = checks.both_spellings(original, self.CAMEL) if isinstance(original, Mapping) else {}
        if found:
            raise ValidationError(found)

    def handle_error(self, error: ValidationError, data: Any, **kwargs: Any) -> None:
        if isinstance(data, Mapping) and isinstance(error.messages, dict):
            shown = checks.names_as_written(error.messages, data, self.CAMEL) if self.CAMEL else error.messages
            shown = checks.suggest_fields(shown, checks.known_fields(self, self.CAMEL))
            if shown is not error.messages:
                raise ValidationError(shown, data=data, valid_data=error.valid_data)


def installed(registry: contextvars.ContextVar[Mapping[str, Any]], name: str, field: str, rule: str, what: str) -> Any:
    """The installed class called ``name`` (a policy or security type), or a
    ValidationError under ``field`` naming the installed ones (``rule``)."""
    found = registry.get({})
    cls = found.get(name)
    if cls is None:
        names = ", ".join(sorted(found)) or "none"
        detail = f"{name!r}; installed {what}: {names}"
        if isinstance(name, str) and name in SHIPPED_PLUGINS:
            package = SHIPPED_PLUGINS[name]
            detail += f"; {name!r} comes with the {package} plugin (from a clone: pip install -e plugins/{package})"
        elif isinstance(name, str):
            close = difflib.get_close_matches(name, list(found), n=1, cutoff=0.6)
            detail += f"; did you mean {close[0]!r}?" if close else ""
        raise ValidationError({field: [problem(rule, detail)]})
    return cls


#: The policies and security types of the plugins shipped under ``plugins/``: an
#: unknown one of these names says which package to install.
SHIPPED_PLUGINS = {"rate-limit": "gravicors-ratelimit", "api-key": "gravicors-apikey", "jwt": "gravicors-jwt"}


def configuration_of(cls: Any, configuration: Any, field: str = "configuration", kind: str = "policy") -> Any:
    """``configuration`` loaded by the schema of ``cls`` (a policy or a security
    type; errors under ``field``). Whatever a plugin's schema raises is a problem
    of the config (gravicors.E015), never an exception out of load_config."""
    try:
        return cls.config_schema().load(configuration)
    except ValidationError as err:
        raise ValidationError({field: err.messages}) from None
    except Exception as err:  # noqa: BLE001 - a plugin's schema must not break load_config
        raise ValidationError({field: [plugin_failure(kind, getattr(cls, "name", cls.__name__), err)]}) from None


class StepSchema(TwoSpellings):
    """``{"name": ..., "policy": "rate-limit", "enabled": true, "configuration": {...}}``"""

    #: The step's name (default: its policy's name).
    name = Text(load_default="")
    #: Free text for people; ignored.
    description = Text()
    #: ``false`` drops the step.
    enabled = Flag(load_default=True)
    #: The installed policy the step runs (``rate-limit``...).
    policy = Text(required=True)
    #: The policy's settings, validated by the policy's own schema.
    configuration = Object(load_default=dict)
    #: Gravitee's Expression Language: refused when it holds one (``gravicors.E017``).
    condition = _no_el("step condition")
    #: Gravitee's message-API step condition: refused when it holds one (``gravicors.E017``).
    message_condition = _no_el("step messageCondition")

    CAMEL = {"messageCondition": "message_condition"}

    @post_load
    def _policy_config(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        policy = installed(POLICIES, data["policy"], "policy", "gravicors.E014", "policies")
        data["configuration"] = configuration_of(policy, data["configuration"])
        # A step is named after its policy unless it says otherwise (Gravitee needs a name).
        data["name"] = data["name"] or data["policy"]
        data.pop("condition", None)
        data.pop("message_condition", None)
        return data


def _selector_path(value: str) -> None:
    if not value.startswith("/") or any(c.isspace() or c in "?#" for c in value) or not value.isprintable():
        raise ValidationError(problem("gravicors.E018", repr(value)))
    # Selectors are compared decoded (flows.path_segments): their %-escapes must
    # decode to text a request path can hold.
    try:
        segments = path_segments(value)
    except UnicodeDecodeError:
        raise ValidationError(problem("gravicors.E018", f"{value!r}: its %-escapes are not UTF-8")) from None
    if not all(segment is None or segment.isprintable() for segment in segments):
        raise ValidationError(problem("gravicors.E018", f"{value!r}: its %-escapes decode to a control character"))


class SelectorSchema(TwoSpellings):
    """``{"type": "http", "path": "/", "pathOperator": "STARTS_WITH", "methods": ["POST"]}``"""

    #: ``http``: the only selector type of an HTTP API (a ``condition`` selector is refused).
    type = Text(load_default="http")
    #: A path relative to the API's context path (``/``, ``/orders``, ``/orders/:id``: ``:id`` is one segment).
    path = Text(load_default="/", validate=_selector_path)
    #: ``STARTS_WITH`` (at a ``/`` boundary: ``/orders`` does not select ``/ordersx``) or ``EQUALS``.
    path_operator = Text(load_default=STARTS_WITH)
    #: The methods selected (Gravitee's ``HttpMethod`` names); empty: every method. ``GET`` also selects ``HEAD``
    #: (Flask answers it with the GET view); ``OTHER``, every method without a name there.
    methods = List(Text(), load_default=list)
    #: Gravitee's Expression Language: refused when it holds one (``gravicors.E017``).
    condition = _no_el("selector condition")

    CAMEL = {"pathOperator": "path_operator"}

    @validates_schema(skip_on_field_errors=False)
    def _values(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        # Every rule runs, whatever else failed (fields that failed are missing).
        found: dict[Any, Any] = {}
        kind = data.get("type", "http").lower()
        if kind == "condition":
            # A condition selector is an EL expression: refused by _no_el when it
            # holds one; an empty one selects everything, but is refused all the same.
            found["type"] = [problem("gravicors.E017", "a 'condition' selector")]
        elif kind != "http":
            found["type"] = [problem("gravicors.E003", f"{data['type']!r}: only 'http' selectors apply to HTTP APIs")]
        operator = data.get("path_operator", STARTS_WITH)
        if operator.upper() not in (STARTS_WITH, EQUALS):
            found["path_operator"] = [problem("gravicors.E003", f"{operator!r}: use STARTS_WITH or EQUALS")]
        for i, method in enumerate(data.get("methods", ())):
            # An item its field refused is None here (that problem is reported already).
            if isinstance(method, str) and method.upper() not in SELECTOR_METHODS:
                found.setdefault("methods", {})[i] = [problem("gravicors.E030", repr(method))]
        if found:
            raise ValidationError(found)

    @post_load
    def _normalised(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["type"] = data["type"].lower()
        data["path_operator"] = data["path_operator"].upper()
        data["methods"] = list(dict.fromkeys(m.upper() for m in data["methods"]))
        data.pop("condition", None)
        return data


class FlowSchema(TwoSpellings):
    """``{"name": ..., "enabled": true, "selectors": [...], "request": [...], "response": [...]}``"""

    #: The flow's name, for people and logs.
    name = Text(load_default="")
    #: Gravitee's flow id; kept, not used.
    id = Text()
    #: ``false`` drops the flow.
    enabled = Flag(load_default=True)
    #: At most one ``http`` selector; none: every path and method.
    selectors = List(fields.Nested(SelectorSchema), load_default=list)
    #: Steps run on the request, in order (each also acts on the response when its policy does).
    request = List(fields.Nested(StepSchema), load_default=list)
    #: Steps run on the response, in order.
    response = List(fields.Nested(StepSchema), load_default=list)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _one_http_selector(self, data: Mapping[str, Any], original: Any, **kwargs: Any) -> None:
        selectors = original.get("selectors") if isinstance(original, Mapping) else None
        if isinstance(selectors, list):
            http = [i for i, s in enumerate(selectors) if isinstance(s, Mapping) and str(s.get("type", "http")).lower() == "http"]
            if len(http) > 1:
                # Gravitee keeps one selector per type (selectorByType).
                raise ValidationError({"selectors": {http[1]: [problem("gravicors.E003", "a second 'http' selector")]}})


class PlanSchema(TwoSpellings):
    """``{"name": "Gold", "security": "api-key", "configuration": {...}, "flows": [...]}``"""

    #: The plan's name, unique within the API.
    name = Text(required=True, validate=validate.Length(min=1))
    #: Free text for people; ignored.
    description = Text()
    #: The security type: ``keyless``, ``api-key``, ``jwt`` or a plugin's (Gravitee's ``KEY_LESS``, ``API_KEY``,
    #: ``JWT`` load).
    security = Text(required=True)
    #: The security type's settings, validated by its own schema.
    configuration = Object(load_default=dict)
    #: Flows run only when this plan was chosen, after plan security and before the API's flows.
    flows = List(fields.Nested(FlowSchema), load_default=list)
    #: Gravitee's Expression Language: refused when it holds one (``gravicors.E017``).
    selection_rule = _no_el("plan selectionRule")

    CAMEL = {"selectionRule": "selection_rule"}

    @post_load
    def _security_config(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        name = security_name(data["security"])
        security = installed(SECURITY_TYPES, name, "security", "gravicors.E019", "security types")
        data["security"] = name
        data["configuration"] = configuration_of(security, data["configuration"], kind="security type")
        data.pop("selection_rule", None)
        return data


def _template_headers(value: Mapping[str, Any]) -> None:
    found: dict[Any, Any] = {}
    for name, text in value.items():
        lower = name.lower()
        if TOKEN_RE.fullmatch(name) is None:
            found[name] = [problem("gravicors.E031", repr(name))]
        elif lower.startswith("access-control-") or lower in ("content-length", "vary"):
            found[name] = [problem("gravicors.E072", repr(name))]
        elif not isinstance(text, str) or not text.isprintable():
            found[name] = [problem("gravicors.E072", f"{name}: {text!r} is not a printable string")]
        elif not _latin1(text):
            # WSGI sends header values as Latin-1 bytes (PEP 3333): gunicorn answers a
            # 500 (InvalidResponseHeader) for "€uro" and werkzeug's server fails to
            # encode it, on every answer the template writes. Latin-1 ("café") goes
            # through both, so it is the bound, not ASCII.
            found[name] = [problem("gravicors.E072", f"{name}: {text!r} holds a character outside Latin-1")]
    if found:
        raise ValidationError(found)


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _template_body(value: str) -> None:
    if "{#" in value:
        raise ValidationError(problem("gravicors.E017", f"template body {value[:60]!r}"))


class TemplateSchema(Schema):
    """``{"status": 412, "body": "...", "headers": {"X-A": "b"}}``"""

    class Meta:
        unknown = RAISE

    #: The answer's status code (100-599).
    status = Int(required=True, validate=validate.Range(min=100, max=599))
    #: The answer's body, as written (``{#`` Expression Language is refused).
    body = Text(load_default="", validate=_template_body)
    #: Extra headers; not ``Access-Control-*``, ``Vary`` or ``Content-Length`` (``gravicors.E072``).
    headers = Object(values=Text(), load_default=dict, validate=_template_headers)


def _template_key(value: str) -> None:
    if TEMPLATE_KEY_RE.fullmatch(value) is None:
        raise ValidationError(problem("gravicors.E070", repr(value)))


def _media_type(value: str) -> None:
    if MEDIA_TYPE_RE.fullmatch(value.lower()) is None:
        raise ValidationError(problem("gravicors.E071", repr(value)))


def response_templates_field() -> Object:
    """``{"CORS_PREFLIGHT_FAILED": {"*/*": {"status": 412, "body": "..."}}}``"""
    return Object(
        keys=Text(validate=_template_key),
        values=Object(keys=Text(validate=_media_type), values=fields.Nested(TemplateSchema)),
        load_default=dict,
    )


def legacy_policies(api: dict[str, Any]) -> None:
    """Turn a loaded API's legacy ``policies`` into the execution model, in place.

    The list becomes one flow over every path and method, first among the API's
    flows, whose steps are request steps (so each also acts on the response, as the
    chain did). An ``api-key`` entry becomes an api-key *plan* instead, when the
    installed ``api-key`` security type exists: a key check on a preflight is
    Gravitee's bug #825, and as a plan it never runs there. Its index is kept in
    ``legacy_index`` for warning gravicors.W010 (and on each step, so a problem
    setting one up is reported where it was written).
    """
    refs = api.pop("policies", None) or []
    if not refs:
        return
    plan_type = SECURITY_TYPES.get({}).get("api-key")
    taken = {plan["name"] for plan in api["plans"]}
    steps = []
    for index, ref in enumerate(refs):
        if ref["name"] == "api-key" and plan_type is not None:
            name = "api-key" if "api-key" not in taken else f"api-key (policies[{index}])"
            taken.add(name)
            # Validated by the policy's schema already; the plan's may add defaults. The
            # policy left the key on the request for the view: so does the plan.
            schema = plan_type.config_schema()
            keep = {"propagate_api_key": True} if "propagate_api_key" in schema.fields else {}
            configuration = schema.load({**ref["config"], **keep})
            api["plans"].append(
                {"name": name, "security": "api-key", "configuration": configuration, "flows": [], "legacy_index": index}
            )
        else:
            steps.append(
                {
                    "name": ref["name"],
                    "policy": ref["name"],
                    "enabled": True,
                    "configuration": ref["config"],
                    "legacy_index": index,
                }
            )
    if steps:
        api["flows"].insert(0, {"name": "policies", "enabled": True, "selectors": [], "request": steps, "response": []})


def check_plan_names(plans: Any) -> dict[Any, Any]:
    """Plan names are unique within an API (gravicors.E016)."""
    found: dict[Any, Any] = {}
    seen: dict[str, int] = {}
    for i, plan in enumerate(plans if isinstance(plans, list) else ()):
        name = plan.get("name") if isinstance(plan, Mapping) else None
        if isinstance(name, str):
            first = seen.setdefault(name, i)
            if first != i:
                found.setdefault(i, {})["name"] = [problem("gravicors.E016", f"{name!r} is also plans[{first}]")]
    return {"plans": found} if found else {}
