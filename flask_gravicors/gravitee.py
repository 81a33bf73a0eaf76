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
installed (or whose translation refuses the configuration), an Expression
Language condition or selection rule (``gravicors.E017``), several context paths
or a virtual host, a non-HTTP listener, ``best-match`` flow mode or
``matchRequired``, message-API phases. The translated config is then validated
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

from .checks import GRAVITEE_NAMES
from .errors import ConfigError, problem
from .flow_schema import security_name

if TYPE_CHECKING:
    from .extension import GraviCORS

#: Our settings with no Gravitee field, kept under this key of the object they belong to.
EXTRA_KEY = "gravicors"

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

    def el(self, path: str, value: Any) -> None:
        if isinstance(value, str) and value.strip():
            self.add(path, "gravicors.E017", repr(value))

    def raise_any(self) -> None:
        if self.found:
            raise ConfigError(self.found)


def _plugins(gravicors: GraviCORS | None) -> GraviCORS:
    if gravicors is None:
        from .extension import GraviCORS

        gravicors = GraviCORS()
    return gravicors


def _items(value: Any) -> list[tuple[int | str, Any]]:
    """(index or key, item) of a list, or of a map's values (v4 ``plans`` by id)."""
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, list):
        return list(enumerate(value))
    return []


def _obj(value: Any) -> Mapping[str, Any]:
    """``value`` when it is an object, else an empty one (a missing block)."""
    return value if isinstance(value, Mapping) else {}


def _json_object(value: Any, path: str, problems: _Problems) -> Mapping[str, Any]:
    """A configuration Gravitee may store as a JSON string (``securityDefinition``,
    raw configurations), as an object; unreadable JSON is a problem at ``path``."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError as err:
            problems.untranslatable(path, f"not JSON: {err}")
            return {}
    return _obj(value)


def _at(path: str, key: int | str) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"


def context_path(path: Any) -> Any:
    """``/orders/`` -> ``/orders``; ``/`` stays ``/``."""
    if isinstance(path, str) and len(path) > 1:
        return path.rstrip("/") or "/"
    return path


def version_of(data: Mapping[str, Any]) -> str:
    """``"v4-export"``, ``"v4"`` or ``"v2"``: which shape ``data`` has."""
    if isinstance(data.get("api"), Mapping):
        return "v4-export"
    declared = str(data.get("definitionVersion") or data.get("gravitee") or "")
    if declared.upper().startswith(("V4", "4")) or "listeners" in data:
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
    through the ``flask_gravicors`` entry points).
    """
    if not isinstance(data, Mapping):
        raise ConfigError(problem("gravicors.E004", f"expected a Gravitee definition object, got {type(data).__name__}"))
    plugins = _plugins(gravicors)
    problems = _Problems()
    kind = version_of(data)
    if kind == "v4-export":
        api = _from_v4(data["api"], data.get("plans", []), "api", "plans", problems, plugins)
    elif kind == "v4":
        api = _from_v4(data, data.get("plans", []), "", "plans", problems, plugins)
    else:
        api = _from_v2(data, problems, plugins)
    for plan in api.get("plans", ()):
        if plan["security"] == "api-key":
            plan["configuration"]["keys"] = list((keys or {}).get(plan["name"], ()))
    if strict_keys:
        keyed = {plan["name"] for plan in api.get("plans", ()) if plan["security"] == "api-key"}
        for name in sorted(set(keys or {}) - keyed):
            problems.untranslatable("keys", f"keys given for {name!r}, which is no api-key plan the definition deploys")
    problems.raise_any()
    # Validated as init_app would; problems then at paths of the config.
    plugins.load({"apis": [api]})
    return api


def _root(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _from_v2(data: Mapping[str, Any], problems: _Problems, plugins: GraviCORS) -> dict[str, Any]:
    api: dict[str, Any] = {"name": data.get("name")}
    if data.get("description"):
        api["description"] = data["description"]
    proxy = _obj(data.get("proxy"))
    hosts = [h for h in proxy.get("virtual_hosts") or () if isinstance(h, Mapping)]
    paths = [h.get("path") for h in hosts]
    for i, host in enumerate(hosts):
        if host.get("host"):
            problems.untranslatable(f"proxy.virtual_hosts[{i}].host", f"{host['host']!r}: APIs are bound by path only")
    if not paths and proxy.get("context_path") is not None:
        paths = [proxy["context_path"]]
    _one_path(api, paths, "proxy.virtual_hosts", problems)
    api["entrypoints"] = ["http-proxy"]
    if isinstance(proxy.get("cors"), Mapping):
        api["cors"] = _cors_in(proxy["cors"])
    if str(data.get("flow_mode", "DEFAULT")).upper() != "DEFAULT":
        problems.untranslatable("flow_mode", f"{data['flow_mode']!r}: only DEFAULT (every matching flow runs)")
    if any(v for v in (data.get("paths") or {}).values()):
        problems.untranslatable("paths", "a v1 path-based definition: migrate it to flows in Gravitee first")
    api["flows"] = [_flow_v2(flow, f"flows[{i}]", problems, plugins) for i, flow in _items(data.get("flows"))]
    plans = []
    for key, plan in _items(data.get("plans")):
        path = _at("plans", key)
        if not _deployed(plan):
            continue
        configuration = _json_object(plan.get("securityDefinition"), f"{path}.securityDefinition", problems)
        plans.append(_plan(plan, plan.get("security"), configuration, _flow_v2, path, problems, plugins))
    api["plans"] = plans
    return _finish(api, data.get("response_templates"), "response_templates", problems)


def _flow_v2(flow: Any, path: str, problems: _Problems, plugins: GraviCORS) -> dict[str, Any]:
    if not isinstance(flow, Mapping):
        problems.untranslatable(path, "not an object")
        return {}
    problems.el(f"{path}.condition", flow.get("condition"))
    operator = _obj(flow.get("path-operator"))
    out: dict[str, Any] = {"name": flow.get("name") or "", "enabled": flow.get("enabled", True)}
    selector = _selector(operator.get("path"), operator.get("operator"), flow.get("methods"))
    if selector != _ALL:
        out["selectors"] = [selector]
    out["request"] = [_step(s, f"{path}.pre[{i}]", problems, plugins) for i, s in _items(flow.get("pre"))]
    out["response"] = [_step(s, f"{path}.post[{i}]", problems, plugins) for i, s in _items(flow.get("post"))]
    return out


def _selector(path: Any, operator: Any, methods: Any) -> dict[str, Any]:
    """An http selector in our shape; a missing path is ``/``, a missing operator
    ``STARTS_WITH`` (Gravitee's defaults)."""
    return {
        "type": "http",
        "path": path or "/",
        "pathOperator": str(operator or "STARTS_WITH").upper(),
        "methods": sorted(methods or ()),
    }


#: The selector that selects everything (written by Gravitee on most flows): left out.
_ALL = _selector("/", "STARTS_WITH", ())


def _from_v4(
    data: Mapping[str, Any], plans: Any, path: str, plans_path: str, problems: _Problems, plugins: GraviCORS
) -> dict[str, Any]:
    api: dict[str, Any] = {"name": data.get("name")}
    if data.get("description"):
        api["description"] = data["description"]
    kind = str(data.get("type", "proxy")).lower()
    if kind not in ("proxy", "message"):
        problems.untranslatable(_root(path, "type"), f"{data.get('type')!r}: only HTTP proxy and message APIs")
    paths: list[Any] = []
    entrypoints: list[str] = []
    for i, listener in _items(data.get("listeners")):
        where = _root(path, f"listeners[{i}]")
        if not isinstance(listener, Mapping) or str(listener.get("type", "")).lower() != "http":
            listed = listener.get("type") if isinstance(listener, Mapping) else listener
            problems.untranslatable(f"{where}.type", f"{listed!r}: only http listeners")
            continue
        for j, item in _items(listener.get("paths")):
            if isinstance(item, Mapping):
                if item.get("host"):
                    problems.untranslatable(f"{where}.paths[{j}].host", f"{item['host']!r}: APIs are bound by path only")
                paths.append(item.get("path"))
        entrypoints += [str(e.get("type")) for _, e in _items(listener.get("entrypoints")) if isinstance(e, Mapping)]
        if isinstance(listener.get("cors"), Mapping):
            api["cors"] = _cors_in(listener["cors"])
    _one_path(api, paths, _root(path, "listeners"), problems)
    api["entrypoints"] = entrypoints or ["http-proxy"]
    execution = _obj(data.get("flowExecution"))
    if str(execution.get("mode", "default")).lower().replace("_", "-") != "default":
        detail = f"{execution['mode']!r}: only DEFAULT (every matching flow runs)"
        problems.untranslatable(_root(path, "flowExecution.mode"), detail)
    if execution.get("matchRequired"):
        detail = "true: a request no flow matches is served all the same"
        problems.untranslatable(_root(path, "flowExecution.matchRequired"), detail)
    api["flows"] = [_flow_v4(f, _root(path, f"flows[{i}]"), problems, plugins) for i, f in _items(data.get("flows"))]
    out_plans = []
    for key, plan in _items(plans):
        where = _at(plans_path, key)
        if not isinstance(plan, Mapping) or not _deployed(plan):
            continue
        security = _obj(plan.get("security"))
        configuration = _json_object(security.get("configuration"), f"{where}.security.configuration", problems)
        if str(plan.get("mode", "standard")).lower() != "standard":
            problems.untranslatable(f"{where}.mode", f"{plan['mode']!r}: only STANDARD plans")
        out_plans.append(_plan(plan, security.get("type"), configuration, _flow_v4, where, problems, plugins))
    api["plans"] = out_plans
    return _finish(api, data.get("responseTemplates"), _root(path, "responseTemplates"), problems)


def _flow_v4(flow: Any, path: str, problems: _Problems, plugins: GraviCORS) -> dict[str, Any]:
    if not isinstance(flow, Mapping):
        problems.untranslatable(path, "not an object")
        return {}
    out: dict[str, Any] = {"name": flow.get("name") or "", "enabled": flow.get("enabled", True)}
    selectors = []
    for i, selector in _items(flow.get("selectors")):
        kind = str(selector.get("type", "")).lower() if isinstance(selector, Mapping) else ""
        if kind == "http":
            selectors.append(_selector(selector.get("path"), selector.get("pathOperator"), selector.get("methods")))
        elif kind == "condition":
            problems.el(f"{path}.selectors[{i}].condition", selector.get("condition") or "(a condition selector)")
        else:
            problems.untranslatable(f"{path}.selectors[{i}].type", f"{kind!r}: only http selectors")
    selectors = [s for s in selectors if s != _ALL]
    if selectors:
        out["selectors"] = selectors
    for phase in ("subscribe", "publish", "connect", "interact"):
        if flow.get(phase):
            problems.untranslatable(f"{path}.{phase}", "message-API phases have no equivalent")
    out["request"] = [_step(s, f"{path}.request[{i}]", problems, plugins) for i, s in _items(flow.get("request"))]
    out["response"] = [_step(s, f"{path}.response[{i}]", problems, plugins) for i, s in _items(flow.get("response"))]
    return out


def _step(step: Any, path: str, problems: _Problems, plugins: GraviCORS) -> dict[str, Any]:
    if not isinstance(step, Mapping):
        problems.untranslatable(path, "not an object")
        return {}
    problems.el(f"{path}.condition", step.get("condition"))
    problems.el(f"{path}.messageCondition", step.get("messageCondition"))
    name = step.get("policy")
    policy = plugins.policies.get(name) if isinstance(name, str) else None
    configuration = _json_object(step.get("configuration"), f"{path}.configuration", problems)
    if policy is None:
        installed = ", ".join(sorted(plugins.policies)) or "none"
        problems.untranslatable(f"{path}.policy", f"{name!r} has no translation (installed policies: {installed})")
        translated: Any = {}
    else:
        try:
            translated = policy.from_gravitee(configuration)
        except ValueError as err:
            problems.untranslatable(f"{path}.configuration", str(err))
            translated = {}
    out = {"name": step.get("name") or "", "policy": name, "enabled": step.get("enabled", True), "configuration": translated}
    if step.get("description"):
        out["description"] = step["description"]
    return out


def _finish(api: dict[str, Any], templates: Any, path: str, problems: _Problems) -> dict[str, Any]:
    """The API with its response templates, empty parts left out."""
    if templates:
        api["response_templates"] = _templates_in(templates, path, problems)
    return _compact(api)


def _plan(
    plan: Mapping[str, Any],
    security: Any,
    configuration: Mapping[str, Any],
    read_flow: Any,
    path: str,
    problems: _Problems,
    plugins: GraviCORS,
) -> dict[str, Any]:
    """One deployed plan: its security type and configuration translated, its
    flows read by ``read_flow`` (the v2 or v4 reader)."""
    problems.el(f"{path}.selectionRule", plan.get("selectionRule"))
    flows = [read_flow(flow, f"{path}.flows[{i}]", problems, plugins) for i, flow in _items(plan.get("flows"))]
    ours = security_name(security) if isinstance(security, str) else None
    kind = plugins.security_types.get(ours) if ours else None
    translated: Any = {}
    if kind is None:
        installed = ", ".join(sorted(plugins.security_types))
        problems.untranslatable(f"{path}.security", f"{security!r} has no translation (installed security types: {installed})")
    elif ours != "keyless" or configuration:
        try:
            translated = kind.from_gravitee(configuration)
        except ValueError as err:
            problems.untranslatable(f"{path}.security", str(err))
    return {"name": plan.get("name"), "security": ours or security, "configuration": translated, "flows": flows}


def _deployed(plan: Any) -> bool:
    """Gravitee's gateway deploys published and deprecated plans only."""
    return isinstance(plan, Mapping) and str(plan.get("status", "PUBLISHED")).upper() in DEPLOYED_STATUSES


def _one_path(api: dict[str, Any], paths: list[Any], where: str, problems: _Problems) -> None:
    distinct = list(dict.fromkeys(context_path(p) for p in paths))
    if len(distinct) == 1:
        api["context_path"] = distinct[0]
    elif not distinct:
        problems.untranslatable(where, "no context path")
    else:
        problems.untranslatable(where, f"{len(distinct)} context paths {distinct}: an API here has one")


def _cors_in(cors: Mapping[str, Any]) -> dict[str, Any]:
    """A Gravitee cors block as ours (our schema reads Gravitee's names); our
    extra settings come back from its ``gravicors`` object."""
    out = {k: copy.deepcopy(v) for k, v in cors.items() if k not in (EXTRA_KEY, "errorStatusCode")}
    out.update(cors.get(EXTRA_KEY) or {})
    return out


def _templates_in(templates: Any, path: str, problems: _Problems) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item, by_media in _items(templates):
        key = str(item)
        if not isinstance(by_media, Mapping):
            problems.untranslatable(f"{path}.{key}", "not an object")
            continue
        out[key] = {}
        for media, template in by_media.items():
            if not isinstance(template, Mapping):
                problems.untranslatable(f"{path}.{key}.{media}", "not an object")
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
