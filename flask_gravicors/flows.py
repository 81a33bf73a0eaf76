"""Flows compiled: selectors, request and response steps.

No Flask import here. A flow is Gravitee v4's: an optional ``http`` selector
(``path`` with ``pathOperator`` ``STARTS_WITH`` or ``EQUALS``, relative to the
API's context path, and ``methods``, empty meaning all) plus ``request`` and
``response`` steps, each a configured :class:`~flask_gravicors.policy.Policy`.
Disabled flows and steps are dropped when the config compiles, so they cost
nothing. Every flow whose selector matches runs, in the order written
(Gravitee's default flow execution mode).

Paths match as Gravitee's ``PathPatterns`` reads them: segments separated by
``/``, a segment ``:name`` matching one path segment, an optional trailing ``/``.
One deliberate difference: ``STARTS_WITH /orders`` matches ``/orders`` and
``/orders/...`` but not ``/ordersx`` (Gravitee's prefix match has no segment
boundary; the same kind of slip as flask-cors' CVE-2020-25032).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping, Sequence

STARTS_WITH = "STARTS_WITH"
EQUALS = "EQUALS"

#: Gravitee's ``PathPatterns`` parameter class (one segment), less the space.
_PARAM = r"[A-Za-z0-9\-._~%!$&'()*+,;=:@|]+"


def path_matcher(path: str, operator: str) -> Callable[[str], bool] | None:
    """A test of a path relative to the context path; ``None`` when every path
    matches (``STARTS_WITH /``)."""
    segments = [segment for segment in path.split("/") if segment]
    equals = operator == EQUALS
    if not segments:
        if not equals:
            return None
        return lambda rel: rel in ("/", "")
    if not any(segment.startswith(":") for segment in segments):
        prefix = "/" + "/".join(segments)
        with_slash = prefix + "/"
        if equals:
            return lambda rel: rel == prefix or rel == with_slash
        return lambda rel: rel == prefix or rel.startswith(with_slash)
    body = "/" + "/".join(_PARAM if s.startswith(":") else re.escape(s) for s in segments)
    pattern = re.compile(body + ("/?" if equals else "(?:/.*)?"), re.DOTALL)
    return lambda rel: pattern.fullmatch(rel) is not None


class CompiledFlow:
    """One enabled flow: its selector, request steps, the request steps that also
    act on the response (``completions``) and its response steps."""

    __slots__ = ("name", "match_path", "methods", "request", "completions", "response", "on_the_way_out")

    def __init__(self, flow: Mapping[str, Any], make_step: Callable[[Mapping[str, Any]], Any]):
        self.name: str = flow.get("name") or ""
        selector = next((s for s in flow.get("selectors", ()) if s.get("type", "http") == "http"), None)
        self.match_path: Callable[[str], bool] | None = None
        self.methods: frozenset[str] | None = None
        if selector is not None:
            self.match_path = path_matcher(selector.get("path", "/"), selector.get("path_operator", STARTS_WITH))
            self.methods = frozenset(selector.get("methods") or ()) or None
        self.request: tuple[Any, ...] = tuple(make_step(s) for s in flow.get("request", ()) if s.get("enabled", True))
        self.completions: frozenset[int] = frozenset(
            i for i, policy in enumerate(self.request) if getattr(policy, "acts_on_response", False)
        )
        self.response: tuple[Any, ...] = tuple(make_step(s) for s in flow.get("response", ()) if s.get("enabled", True))
        #: Whether any of its steps is called on the way out.
        self.on_the_way_out = bool(self.completions or self.response)

    @property
    def matches_all(self) -> bool:
        return self.match_path is None and self.methods is None

    def matches(self, rel_path: str, method: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return self.match_path is None or self.match_path(rel_path)


class FlowSet:
    """An ordered set of flows (an API's, a plan's, or the platform's)."""

    __slots__ = ("flows", "_always", "acts_on_response", "selects_by_path")

    def __init__(self, flows: Sequence[Mapping[str, Any]], make_step: Callable[[Mapping[str, Any]], Any]):
        compiled = [CompiledFlow(f, make_step) for f in flows if f.get("enabled", True)]
        # A flow with no step does nothing whatever it matches.
        self.flows: tuple[CompiledFlow, ...] = tuple(f for f in compiled if f.request or f.response)
        # When every flow matches every request, selection is the tuple itself.
        self._always = all(f.matches_all for f in self.flows)
        #: Whether any step of these flows is called on the way out.
        self.acts_on_response = any(f.on_the_way_out for f in self.flows)
        #: Whether a selector reads the path (else the path is never computed).
        self.selects_by_path = any(f.match_path is not None for f in self.flows)

    def __bool__(self) -> bool:
        return bool(self.flows)

    def select(self, rel_path: str, method: str) -> tuple[CompiledFlow, ...]:
        """The flows whose selector matches, in order."""
        if self._always:
            return self.flows
        return tuple(f for f in self.flows if f.matches(rel_path, method))

    def policies(self) -> tuple[Any, ...]:
        """Every step's policy object, request steps then response steps, flow by flow."""
        return tuple(p for f in self.flows for p in (*f.request, *f.response))


EMPTY_FLOWS = FlowSet((), lambda step: None)
