"""Gravitee API definitions in and out: :func:`load_definition` and :func:`dump_definition`.

:func:`load_definition` turns one Gravitee definition into one API config, ready
for ``apis``; it reads

* v2 gateway definitions: ``proxy.virtual_hosts[].path`` (or the older
  ``proxy.context_path``), ``proxy.cors``, ``plans[]`` with ``security``
  (``API_KEY``...) and ``securityDefinition`` (a JSON string), ``flows[]`` with
  ``path-operator``, ``methods``, ``pre`` and ``post``, ``response_templates``;
* v4 gateway definitions: ``listeners[]`` of type ``http`` with ``paths[].path``,
  ``cors`` and ``entrypoints[].type``, ``plans`` (a list, or a map by id) with
  ``security.type`` and ``security.configuration``, ``flows[]`` with ``selectors``,
  ``request`` and ``response``, ``responseTemplates``;
* v4 exports: ``{"api": {...}, "plans": [...], ...}``, the same with upper-case
  enum values (``HTTP``, ``API_KEY``, ``KEY_LESS``).

Context paths are normalised (``/orders/`` is ``/orders``). Step configurations are
translated by their policy's ``from_gravitee`` and plan configurations by their
security type's (the api-key and rate-limit plugins translate Gravitee's
shapes). Gravitee keeps API keys in subscriptions, not in definitions:
``keys={plan name: [key, ...]}`` supplies them; an api-key plan without keys
refuses every key. Plans that are not ``PUBLISHED`` or ``DEPRECATED`` are not
deployed by Gravitee and are left out.

What cannot be translated raises one :class:`~flask_gravicors.ConfigError` listing
all of it, at paths of the definition: a policy or security type that is not
installed (or whose translation refuses the configuration; a translation that
fails otherwise is ``gravicors.E015``), an Expression Language condition or
selection rule (``gravicors.E017``), several context paths or a virtual host, a
non-HTTP listener, ``best-match`` flow mode or ``matchRequired``, message-API
phases; and a piece of another type than Gravitee's model gives it
(``gravicors.E003``: ``"methods": "POST"`` is refused, as Gravitee's JSON reader
refuses it, not read as ``["POST"]``), or a definition over the config's size
bounds (``gravicors.E006``, JSON strings such as ``securityDefinition`` included).
Nothing else is raised, whatever the input. The translated config is then validated
as ``init_app`` would (problems then at paths of the config, ``apis[0]...``).
Backend and portal data (endpoints, analytics, members, pages, properties...)
are not part of the model and are left out.

:func:`dump_definition` writes an API config as a v4 export, which Gravitee's
console imports (add the backend there: endpoint groups are empty). Settings of
ours that Gravitee has no field for (``dangerously_*``, ``dynamic_origins``, a
rate-limit storage...) go in a ``gravicors`` object beside the fields they
belong with, which :func:`load_definition` reads back, so
``load_definition(dump_definition(config))`` loads as ``config`` does.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from . import checks
from .checks import GRAVITEE_NAMES
from .errors import ConfigError, plugin_failure, problem
from .flow_schema import security_name

if TYPE_CHECKING:
    from .extension import GraviCORS

#: Our settings with no Gravitee field, kept under this key of the object they belong to.
EXTRA_KEY = "gravicors"


def with_extra(translated: Mapping[str, Any], configuration: Mapping[str, Any]) -> dict[str, Any]:
    """A plugin's ``from_gravitee`` result with the settings a dumped configuration
    kept under :data:`EXTRA_KEY` (ours, with no Gravitee field) laid over it; a
    ``ValueError`` when that is no object (reported as the plugin's translation
    problem)."""
    extra = configuration.get(EXTRA_KEY) or {}
    if not isinstance(extra, Mapping):
        raise ValueError(f"{EXTRA_KEY!r} must be an object")
    return {**translated, **extra}


#: Our security type names -> Gravitee's export enum.
SECURITY_EXPORT_NAMES = {"keyless": "KEY_LESS", "api-key": "API_KEY", "jwt": "JWT"}

#: Plan statuses Gravitee's gateway deploys.
DEPLOYED_STATUSES = ("PUBLISHED", "DEPRECATED")

_CORS_GRAVITEE = {ours: theirs for theirs, ours in GRAVITEE_NAMES.items()}


class _Problems:
    """Problems found while translating, by path in the definition."""

    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def add(self, path: str, rule: str, detail: str) -> None:
        self.found.setdefault(path, []).append(problem(rule, detail))

    def untranslatable(self, path: str, detail: str) -> None:
        self.add(path, "gravicors.E080", detail)

    def wrong(self, path: str, expected: str, value: Any) -> None:
        """A piece of another type than Gravitee's model gives it (gravicors.E003)."""
        self.add(path, "gravicors.E003", f"expected {expected}, got {checks.describe(value)}")

    def el(self, path: str, value: Any) -> None:
        """A condition or selection rule: Gravitee Expression Language, refused when it holds any."""
        if value is None:
            return
        if not isinstance(value, str):
            self.wrong(path, "a string", value)
        elif value.strip():
            self.add(path, "gravicors.E017", _shown(value))

    def raise_any(self) -> None:
        if self.found:
            raise ConfigError(self.found)


def _plugins(gravicors: GraviCORS | None) -> GraviCORS:
    if gravicors is None:
        from .extension import GraviCORS

        gravicors = GraviCORS()
    return gravicors


# Each piece of a definition is type-checked before it is used: what Gravitee's model
# (read by Jackson) would refuse is a problem at its path, never an exception here.
# A missing piece (absent or null, as Gravitee writes none) takes Gravitee's default.


def _shown(value: Any) -> str:
    """``value`` for a message: a short string's repr, else a short description that never fails."""
    return repr(value) if isinstance(value, str) and len(value) <= 60 else checks.describe(value)


def _at(path: str, key: Any) -> str:
    """The path of an object's member ``key``."""
    if isinstance(key, str):
        return f"{path}.{key}" if path else key
    return f"{path}[{checks.describe(key)}]"  # no JSON object has such a key


def _obj(value: Any, path: str, problems: _Problems) -> Mapping[Any, Any]:
    """``value`` when it is an object; a missing one is empty, anything else a problem."""
    if isinstance(value, Mapping):
        return value
    if value is not None:
        problems.wrong(path, "an object", value)
    return {}


def _list(value: Any, path: str, problems: _Problems, expected: str = "a list") -> list[tuple[str, Any]]:
    """(path, item) of each item of an array; a missing one is empty, anything else
    (a string, an object) a problem: Gravitee's JSON reader takes no single value
    for a list (its mapper does not enable ACCEPT_SINGLE_VALUE_AS_ARRAY)."""
    if isinstance(value, (list, tuple)):
        return [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    if value is not None:
        problems.wrong(path, expected, value)
    return []


def _plans_of(value: Any, path: str, problems: _Problems) -> list[tuple[str, Any]]:
    """(path, plan) of ``plans``: a list, or a map by id (v4)."""
    if isinstance(value, Mapping):
        return [(_at(path, key), plan) for key, plan in value.items()]
    return _list(value, path, problems, "a list or an object")


def _text(value: Any, path: str, problems: _Problems, default: str | None = None) -> str:
    """``value`` when it is a string; a missing one is ``default`` (none: a problem),
    anything else a problem (and ``default``, or ``""``)."""
    if isinstance(value, str):
        return value
    if value is not None or default is None:
        problems.wrong(path, "a string", value)
    return default or ""


def _json_object(value: Any, path: str, problems: _Problems) -> Mapping[Any, Any]:
    """A configuration Gravitee may store as a JSON string (``securityDefinition``,
    raw configurations), as an object; unreadable JSON is a problem at ``path``,
    JSON over the size bounds too (gravicors.E006, as :func:`~.schema.read_config`)."""
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except RecursionError:
            problems.add(path, "gravicors.E006", "the JSON nests deeper than the JSON reader follows")
            return {}
        except ValueError as err:
            problems.untranslatable(path, f"not JSON: {err}")
            return {}
        oversized = checks.check_limits(value)
        if oversized:
            for found in ConfigError(oversized).problems:
                inner = found.path if not found.path or found.path.startswith("[") else f".{found.path}"
                problems.found.setdefault(path + inner, []).append(found.message)
            return {}
    return _obj(value, path, problems)


def context_path(path: Any) -> Any:
    """``/orders/`` -> ``/orders``; ``/`` stays ``/``."""
    if isinstance(path, str) and len(path) > 1:
        return path.rstrip("/") or "/"
    return path


def version_of(data: Mapping[str, Any]) -> str:
    """``"v4-export"``, ``"v4"`` or ``"v2"``: which shape ``data`` has."""
    if isinstance(data.get("api"), Mapping):
        return "v4-export"
    declared = data.get("definitionVersion") or data.get("gravitee") or ""
    if (isinstance(declared, str) and declared.upper().startswith(("V4", "4"))) or "listeners" in data:
        return "v4"
    return "v2"


def load_definition(
    data: Mapping[str, Any],
    keys: Mapping[str, Sequence[str]] | None = None,
    *,
    gravicors: GraviCORS | None = None,
    strict_keys: bool = True,
) -> dict[str, Any]:
    """One API config from a Gravitee definition (see the module docstring).

    ``keys`` maps plan names to the API keys of their subscriptions; with
    ``strict_keys`` a name that is no deployed api-key plan of the definition is a
    problem (a typo would leave the plan refusing every key). ``gravicors``
    supplies the installed policies and security types (default: those installed
    through the ``flask_gravicors`` entry points). Raises
    :class:`~flask_gravicors.ConfigError`, and nothing else, for any input.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(problem("gravicors.E004", f"expected a Gravitee definition object, got {checks.describe(data)}"))
    # Bounded before anything reads it, as load_config bounds a config: nothing
    # below (nor a plugin's from_gravitee) meets a structure nested deeper than MAX_DEPTH.
    oversized = checks.check_limits(data)
    if oversized:
        raise ConfigError(oversized)
    plugins = _plugins(gravicors)
    problems = _Problems()
    given = _keys_given(keys, problems)
    kind = version_of(data)
    if kind == "v4-export":
        api = _from_v4(data["api"], data.get("plans"), "api", "plans", problems, plugins)
    elif kind == "v4":
        api = _from_v4(data, data.get("plans"), "", "plans", problems, plugins)
    else:
        api = _from_v2(data, problems, plugins)
    keyed = set()
    for plan in api.get("plans", ()):
        if plan["security"] == "api-key" and isinstance(plan["name"], str) and isinstance(plan["configuration"], dict):
            plan["configuration"]["keys"] = list(given.get(plan["name"], ()))
            keyed.add(plan["name"])
    if strict_keys:
        for name in sorted(set(given) - keyed):
            problems.untranslatable("keys", f"keys given for {name!r}, which is no api-key plan the definition deploys")
    problems.raise_any()
    # Validated as init_app would; problems then at paths of the config.
    plugins.load({"apis": [api]})
    return api


def _keys_given(keys: Any, problems: _Problems) -> dict[str, list[Any]]:
    """``keys`` as plan name -> list (the keys themselves are checked by the plan's schema)."""
    out: dict[str, list[Any]] = {}
    for name, listed in _obj(keys, "keys", problems).items():
        if not isinstance(name, str):
            problems.wrong(_at("keys", name), "a plan name", name)
        elif not isinstance(listed, (list, tuple)):
            problems.wrong(_at("keys", name), "a list of keys", listed)
        else:
            out[name] = list(listed)
    return out


def _root(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _from_v2(data: Mapping[str, Any], problems: _Problems, plugins: GraviCORS) -> dict[str, Any]:
    api: dict[str, Any] = {"name": data.get("name")}
    if data.get("description"):
        api["description"] = data["description"]
    proxy = _obj(data.get("proxy"), "proxy", problems)
    paths = []
    for where, host in _list(proxy.get("virtual_hosts"), "proxy.virtual_hosts", problems):
        host = _obj(host, where, problems)
        if host.get("host"):
            problems.untranslatable(f"{where}.host", f"{_shown(host['host'])}: APIs are bound by path only")
        paths.append((f"{where}.path", host.get("path")))
    if not paths:
        paths = [("proxy.context_path", proxy.get("context_path"))]
    _one_path(api, paths, "proxy.virtual_hosts", problems)
    api["entrypoints"] = ["http-proxy"]
    if proxy.get("cors") is not None:
        api["cors"] = _cors_in(proxy["cors"], "proxy.cors", problems)
    if _text(data.get("flow_mode"), "flow_mode", problems, "DEFAULT").upper() != "DEFAULT":
        problems.untranslatable("flow_mode", f"{_shown(data['flow_mode'])}: only DEFAULT (every matching flow runs)")
    if any(_obj(data.get("paths"), "paths", problems).values()):
        problems.untranslatable("paths", "a v1 path-based definition: migrate it to flows in Gravitee first")
    api["flows"] = [_flow_v2(flow, where, problems, plugins) for where, flow in _list(data.get("flows"), "flows", problems)]
    plans = []
    for where, plan in _deployed(_plans_of(data.get("plans"), "plans", problems), problems):
        configuration = _json_object(plan.get("securityDefinition"), f"{where}.securityDefinition", problems)
        plans.append(_plan(plan, plan.get("security"), configuration, _flow_v2, where, problems, plugins))
    api["plans"] = plans
    return _finish(api, data.get("response_templates"), "response_templates", problems)


def _flow_v2(flow: Any, path: str, problems: _Problems, plugins: GraviCORS) -> dict[str, Any]:
    if not isinstance(flow, Mapping):
        problems.wrong(path, "an object", flow)
        return {}
    problems.el(f"{path}.condition", flow.get("condition"))
    operator = _obj(flow.get("path-operator"), f"{path}.path-operator", problems)
    out: dict[str, Any] = {"name": flow.get("name") or "", "enabled": flow.get("enabled", True)}
    selector = _selector(
        operator.get("path"),
        _text(operator.get("operator"), f"{path}.path-operator.operator", problems, "STARTS_WITH"),
        _methods(flow.get("methods"), f"{path}.methods", problems),
    )
    if selector != _ALL:
        out["selectors"] = [selector]
    out["request"] = [_step(s, where, problems, plugins) for where, s in _list(flow.get("pre"), f"{path}.pre", problems)]
    out["response"] = [_step(s, where, problems, plugins) for where, s in _list(flow.get("post"), f"{path}.post", problems)]
    return out


def _selector(path: Any, operator: str, methods: list[str]) -> dict[str, Any]:
    """An http selector in our shape; a missing path is ``/``, a missing operator
    ``STARTS_WITH`` (Gravitee's defaults)."""
    return {"type": "http", "path": path or "/", "pathOperator": (operator or "STARTS_WITH").upper(), "methods": methods}


#: The selector that selects everything (written by Gravitee on most flows): left out.
_ALL = _selector("/", "STARTS_WITH", [])


def _methods(value: Any, path: str, problems: _Problems) -> list[str]:
    """A selector's methods. Gravitee's model holds a set of ``HttpMethod``, which its
    JSON reader fills from an array only: ``"POST"`` is refused there, so here too
    (never read as the letters P, O, S, T). The names themselves are checked by the
    selector's schema."""
    methods = []
    for where, method in _list(value, path, problems, 'a list of methods (write ["POST"], not "POST")'):
        if isinstance(method, str):
            methods.append(method)
        else:
            problems.wrong(where, "a method name", method)
    return sorted(methods)


def _from_v4(
    data: Mapping[str, Any], plans: Any, path: str, plans_path: str, problems: _Problems, plugins: GraviCORS
) -> dict[str, Any]:
    api: dict[str, Any] = {"name": data.get("name")}
    if data.get("description"):
        api["description"] = data["description"]
    if _text(data.get("type"), _root(path, "type"), problems, "proxy").lower() not in ("proxy", "message"):
        problems.untranslatable(_root(path, "type"), f"{_shown(data['type'])}: only HTTP proxy and message APIs")
    paths: list[tuple[str, Any]] = []
    entrypoints: list[str] = []
    for where, listener in _list(data.get("listeners"), _root(path, "listeners"), problems):
        listed = listener.get("type") if isinstance(listener, Mapping) else listener
        if not isinstance(listed, str) or listed.lower() != "http":
            problems.untranslatable(f"{where}.type", f"{_shown(listed)}: only http listeners")
            continue
        for at, item in _list(listener.get("paths"), f"{where}.paths", problems):
            item = _obj(item, at, problems)
            if item.get("host"):
                problems.untranslatable(f"{at}.host", f"{_shown(item['host'])}: APIs are bound by path only")
            paths.append((f"{at}.path", item.get("path")))
        for at, entrypoint in _list(listener.get("entrypoints"), f"{where}.entrypoints", problems):
            entrypoints.append(_text(_obj(entrypoint, at, problems).get("type"), f"{at}.type", problems))
        if listener.get("cors") is not None:
            api["cors"] = _cors_in(listener["cors"], f"{where}.cors", problems)
    _one_path(api, paths, _root(path, "listeners"), problems)
    api["entrypoints"] = entrypoints or ["http-proxy"]
    where = _root(path, "flowExecution")
    execution = _obj(data.get("flowExecution"), where, problems)
    if _text(execution.get("mode"), f"{where}.mode", problems, "default").lower().replace("_", "-") != "default":
        problems.untranslatable(f"{where}.mode", f"{_shown(execution['mode'])}: only DEFAULT (every matching flow runs)")
    match_required = execution.get("matchRequired")
    if match_required is not None and not isinstance(match_required, bool):
        problems.wrong(f"{where}.matchRequired", "true or false", match_required)
    elif match_required:
        problems.untranslatable(f"{where}.matchRequired", "true: a request no flow matches is served all the same")
    flows = _list(data.get("flows"), _root(path, "flows"), problems)
    api["flows"] = [_flow_v4(flow, at, problems, plugins) for at, flow in flows]
    out_plans = []
    for where, plan in _deployed(_plans_of(plans, plans_path, problems), problems):
        security = plan.get("security")
        if not isinstance(security, Mapping):
            problems.wrong(f"{where}.security", "an object", security)
            continue
        configuration = _json_object(security.get("configuration"), f"{where}.security.configuration", problems)
        if _text(plan.get("mode"), f"{where}.mode", problems, "standard").lower() != "standard":
            problems.untranslatable(f"{where}.mode", f"{_shown(plan['mode'])}: only STANDARD plans")
        out_plans.append(_plan(plan, security.get("type"), configuration, _flow_v4, where, problems, plugins))
    api["plans"] = out_plans
    return _finish(api, data.get("responseTemplates"), _root(path, "responseTemplates"), problems)


def _flow_v4(flow: Any, path: str, problems: _Problems, plugins: GraviCORS) -> dict[str, Any]:
    if not isinstance(flow, Mapping):
        problems.wrong(path, "an object", flow)
        return {}
    out: dict[str, Any] = {"name": flow.get("name") or "", "enabled": flow.get("enabled", True)}
    selectors = []
    for where, selector in _list(flow.get("selectors"), f"{path}.selectors", problems):
        if not isinstance(selector, Mapping):
            problems.wrong(where, "an object", selector)
            continue
        kind = selector.get("type")
        kind = kind.lower() if isinstance(kind, str) else kind
        if kind == "http":
            operator = _text(selector.get("pathOperator"), f"{where}.pathOperator", problems, "STARTS_WITH")
            methods = _methods(selector.get("methods"), f"{where}.methods", problems)
            selectors.append(_selector(selector.get("path"), operator, methods))
        elif kind == "condition":
            # Refused whatever it holds: dropped, the flow would run where Gravitee's does not.
            condition = selector.get("condition")
            problems.add(f"{where}.condition", "gravicors.E017", _shown(condition) if condition else "(a condition selector)")
        else:
            problems.untranslatable(f"{where}.type", f"{_shown(kind)}: only http selectors")
    selectors = [s for s in selectors if s != _ALL]
    if selectors:
        out["selectors"] = selectors
    for phase in ("subscribe", "publish", "connect", "interact"):
        if flow.get(phase):
            problems.untranslatable(f"{path}.{phase}", "message-API phases have no equivalent")
    out["request"] = [_step(s, at, problems, plugins) for at, s in _list(flow.get("request"), f"{path}.request", problems)]
    out["response"] = [_step(s, at, problems, plugins) for at, s in _list(flow.get("response"), f"{path}.response", problems)]
    return out


def _step(step: Any, path: str, problems: _Problems, plugins: GraviCORS) -> dict[str, Any]:
    if not isinstance(step, Mapping):
        problems.wrong(path, "an object", step)
        return {}
    problems.el(f"{path}.condition", step.get("condition"))
    problems.el(f"{path}.messageCondition", step.get("messageCondition"))
    name = step.get("policy")
    policy = plugins.policies.get(name) if isinstance(name, str) else None
    configuration = _json_object(step.get("configuration"), f"{path}.configuration", problems)
    translated: Any = {}
    if policy is None:
        installed = ", ".join(sorted(plugins.policies)) or "none"
        problems.untranslatable(f"{path}.policy", f"{_shown(name)} has no translation (installed policies: {installed})")
    else:
        translated = _translated(policy, "policy", configuration, f"{path}.configuration", problems)
    out = {"name": step.get("name") or "", "policy": name, "enabled": step.get("enabled", True), "configuration": translated}
    if step.get("description"):
        out["description"] = step["description"]
    return out


def _translated(cls: Any, kind: str, configuration: Mapping[Any, Any], path: str, problems: _Problems) -> Any:
    """``configuration`` translated by ``cls.from_gravitee`` (a policy or security
    type). A ValueError is untranslatable (gravicors.E080); anything else a plugin
    raises is its failure (gravicors.E015), never an exception out of load_definition."""
    try:
        return cls.from_gravitee(configuration)
    except ValueError as err:
        problems.untranslatable(path, str(err))
    except Exception as err:  # noqa: BLE001 - a plugin's translation must not break load_definition
        problems.found.setdefault(path, []).append(plugin_failure(kind, getattr(cls, "name", cls.__name__), err))
    return {}


def _finish(api: dict[str, Any], templates: Any, path: str, problems: _Problems) -> dict[str, Any]:
    """The API with its response templates, empty parts left out."""
    if templates is not None:
        api["response_templates"] = _templates_in(templates, path, problems)
    return _compact(api)


def _plan(
    plan: Mapping[str, Any],
    security: Any,
    configuration: Mapping[Any, Any],
    read_flow: Any,
    path: str,
    problems: _Problems,
    plugins: GraviCORS,
) -> dict[str, Any]:
    """One deployed plan: its security type and configuration translated, its
    flows read by ``read_flow`` (the v2 or v4 reader)."""
    problems.el(f"{path}.selectionRule", plan.get("selectionRule"))
    flows = [read_flow(flow, at, problems, plugins) for at, flow in _list(plan.get("flows"), f"{path}.flows", problems)]
    ours = security_name(security) if isinstance(security, str) else None
    kind = plugins.security_types.get(ours) if ours else None
    translated: Any = {}
    if kind is None:
        installed = ", ".join(sorted(plugins.security_types))
        detail = f"{_shown(security)} has no translation (installed security types: {installed})"
        problems.untranslatable(f"{path}.security", detail)
    elif ours != "keyless" or configuration:
        translated = _translated(kind, "security type", configuration, f"{path}.security", problems)
    return {"name": plan.get("name"), "security": ours or security, "configuration": translated, "flows": flows}


def _deployed(plans: list[tuple[str, Any]], problems: _Problems) -> list[tuple[str, Mapping[Any, Any]]]:
    """(path, plan) of the plans Gravitee's gateway deploys: published and
    deprecated ones (a plan without a status is published)."""
    out = []
    for where, plan in plans:
        if not isinstance(plan, Mapping):
            problems.wrong(where, "an object", plan)
        elif _text(plan.get("status"), f"{where}.status", problems, "PUBLISHED").upper() in DEPLOYED_STATUSES:
            out.append((where, plan))
    return out


def _one_path(api: dict[str, Any], paths: list[tuple[str, Any]], where: str, problems: _Problems) -> None:
    """The API's one context path, from (path, value) of each given (a missing value is none)."""
    found = []
    for at, path in paths:
        if isinstance(path, str):
            found.append(context_path(path))
        elif path is not None:
            problems.wrong(at, "a string", path)
    distinct = list(dict.fromkeys(found))
    if len(distinct) == 1:
        api["context_path"] = distinct[0]
    elif len(distinct) > 1:
        problems.untranslatable(where, f"{len(distinct)} context paths {distinct}: an API here has one")
    elif not any(
        (at == where or at.startswith((f"{where}.", f"{where}["))) and any(m.startswith("gravicors.E003") for m in messages)
        for at, messages in problems.found.items()
    ):
        # No path of the wrong type (such as "expected a list") was named: none given.
        problems.untranslatable(where, "no context path")


def _cors_in(cors: Any, path: str, problems: _Problems) -> dict[str, Any]:
    """A Gravitee cors block as ours (our schema reads Gravitee's names); our
    extra settings come back from its ``gravicors`` object."""
    cors = _obj(cors, path, problems)
    out = {k: copy.deepcopy(v) for k, v in cors.items() if k not in (EXTRA_KEY, "errorStatusCode")}
    out.update(copy.deepcopy(dict(_obj(cors.get(EXTRA_KEY), _at(path, EXTRA_KEY), problems))))
    return out


def _templates_in(templates: Any, path: str, problems: _Problems) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key, by_media in _obj(templates, path, problems).items():
        where = _at(path, key)
        if not isinstance(by_media, Mapping):
            problems.wrong(where, "an object", by_media)
            continue
        out[key] = {}
        for media, template in by_media.items():
            if not isinstance(template, Mapping):
                problems.wrong(_at(where, media), "an object", template)
                continue
            # propagateErrorKeyToLogs is about Gravitee's analytics: nothing to translate.
            out[key][media] = {k: v for k, v in template.items() if k != "propagateErrorKeyToLogs"}
    return out


def _compact(api: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in api.items() if v not in ([], {}, None) or k in ("name",)}


# --- dump ---------------------------------------------------------------------------


def dump_definition(api_config: Mapping[str, Any], *, gravicors: GraviCORS | None = None) -> dict[str, Any]:
    """An API config (validated first, against ``gravicors``' plugins) as a v4 export."""
    plugins = _plugins(gravicors)
    api = plugins.load({"apis": [api_config]})["apis"][0]
    if api.get("context_path") is None:
        raise ConfigError(
            {"blueprint": [problem("gravicors.E080", "a blueprint-bound API has no context path for Gravitee to listen on")]}
        )
    cors = api["cors"]
    cors_out: dict[str, Any] = {theirs: cors[ours] for ours, theirs in _CORS_GRAVITEE.items()}
    extra = {k: v for k, v in cors.items() if k not in _CORS_GRAVITEE and k != "enabled" and v}
    cors_out = {"enabled": cors["enabled"], **cors_out}
    if extra:
        cors_out[EXTRA_KEY] = extra
    definition: dict[str, Any] = {
        "definitionVersion": "V4",
        "type": "PROXY",
        "name": api["name"],
        "apiVersion": "1.0",
        "listeners": [
            {
                "type": "HTTP",
                # Gravitee writes context paths with a trailing slash.
                "paths": [{"path": api["context_path"].rstrip("/") + "/"}],
                "entrypoints": [{"type": e} for e in api["entrypoints"]],
                "cors": cors_out,
            }
        ],
        "endpointGroups": [],
        "flowExecution": {"mode": "DEFAULT", "matchRequired": False},
        "flows": [_flow_out(f, plugins) for f in api["flows"]],
        "responseTemplates": {
            key: {media: {**t, "propagateErrorKeyToLogs": False} for media, t in by_media.items()}
            for key, by_media in api["response_templates"].items()
        },
    }
    if api.get("description"):
        definition["description"] = api["description"]
    plans = []
    for plan in api["plans"]:
        kind = plugins.security_types[plan["security"]]
        plans.append(
            {
                "definitionVersion": "V4",
                "name": plan["name"],
                **({"description": plan["description"]} if plan.get("description") else {}),
                "security": {
                    "type": SECURITY_EXPORT_NAMES.get(plan["security"], plan["security"].upper().replace("-", "_")),
                    "configuration": kind.to_gravitee(plan["configuration"]) if plan["security"] != "keyless" else {},
                },
                "mode": "STANDARD",
                "status": "PUBLISHED",
                "validation": "AUTO",
                "flows": [_flow_out(f, plugins) for f in plan["flows"]],
            }
        )
    return {"api": definition, "plans": plans, "members": [], "metadata": [], "pages": []}


def _flow_out(flow: Mapping[str, Any], plugins: GraviCORS) -> dict[str, Any]:
    selectors = [
        {"type": "HTTP", "path": s["path"], "pathOperator": s["path_operator"], "methods": s["methods"]}
        for s in flow["selectors"]
    ] or [{"type": "HTTP", "path": "/", "pathOperator": "STARTS_WITH", "methods": []}]
    return {
        "name": flow["name"],
        "enabled": flow["enabled"],
        "selectors": selectors,
        "request": [_step_out(s, plugins) for s in flow["request"]],
        "response": [_step_out(s, plugins) for s in flow["response"]],
    }


def _step_out(step: Mapping[str, Any], plugins: GraviCORS) -> dict[str, Any]:
    out = {
        "name": step["name"] or step["policy"],
        "enabled": step["enabled"],
        "policy": step["policy"],
        "configuration": plugins.policies[step["policy"]].to_gravitee(step["configuration"]),
    }
    if step.get("description"):
        out["description"] = step["description"]
    return out
