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
Deliberate differences, each so that no spelling of a URL reaches a view without
the flows whose selector covers it:

- ``STARTS_WITH /orders`` matches ``/orders`` and ``/orders/...`` but not
  ``/ordersx`` (Gravitee's prefix match has no segment boundary; the same kind of
  slip as flask-cors' CVE-2020-25032).
- Selectors are compared with the *decoded* path Flask routes on
  (``request.path``), not the raw one Gravitee reads: ``:name`` matches any
  non-empty segment, as werkzeug's default converter does, and a selector's own
  ``%``-escapes are decoded (see :data:`PARAM`, :func:`path_matcher`).
- A selector listing ``GET`` also selects ``HEAD`` (Flask answers ``HEAD`` with the
  ``GET`` view), and ``OTHER`` selects every method Gravitee has no name for, as
  its ``HttpMethod.OTHER`` does (:func:`selected_methods`).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import unquote

STARTS_WITH = "STARTS_WITH"
EQUALS = "EQUALS"

#: Gravitee's ``HttpMethod`` names; a request whose method is none of them is
#: Gravitee's ``OTHER`` (what a selector listing ``OTHER`` selects).
NAMED_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT"})
OTHER = "OTHER"

#: What a ``:name`` segment matches: any non-empty run without ``/``, as werkzeug's
#: default converter (``[^/]+``) does on the decoded path Flask routes on. Gravitee's
#: ``PathPatterns`` class (letters, digits and ``-._~%!$&'()*+,;=:@``) is meant for
#: the raw, still-encoded path: on the decoded one ``ä``, a space, ``<`` or ``"``
#: failed it while the view was still routed there, so the flow was skipped.
PARAM = "[^/]+"


def path_segments(path: str) -> list[str | None]:
    """A selector path's segments as they are compared with the decoded request path:
    ``None`` for a ``:name`` segment, others percent-decoded (a selector written as
    Gravitee reads raw paths, ``/caf%C3%A9`` or ``/a%2Fb``, selects what werkzeug
    routes for it: ``/café``, ``/a/b``); empty segments dropped."""
    segments: list[str | None] = []
    for segment in path.split("/"):
        if segment.startswith(":"):
            segments.append(None)
        elif segment:
            segments.extend(part for part in unquote(segment, errors="strict").split("/") if part)
    return segments


def path_matcher(path: str, operator: str) -> Callable[[str], bool] | None:
    """A test of a path relative to the context path (decoded, repeated ``/``
    collapsed: :meth:`flask_gravicors.core.CompiledApi.relative_path`); ``None`` when
    every path matches (``STARTS_WITH /``)."""
    segments = path_segments(path)
    equals = operator == EQUALS
    if not segments:
        if not equals:
            return None
        return lambda rel: rel in ("/", "")
    if None not in segments:
        prefix = "/" + "/".join(s for s in segments if s is not None)
        with_slash = prefix + "/"
        if equals:
            return lambda rel: rel == prefix or rel == with_slash
        return lambda rel: rel == prefix or rel.startswith(with_slash)
    body = "/" + "/".join(PARAM if s is None else re.escape(s) for s in segments)
    pattern = re.compile(body + ("/?" if equals else "(?:/.*)?"), re.DOTALL)
    return lambda rel: pattern.fullmatch(rel) is not None


def selected_methods(listed: Sequence[str]) -> frozenset[str] | None:
    """The request methods a selector's ``methods`` select; ``None``: every method."""
    methods = set(listed)
    if not methods:
        return None
    if "GET" in methods:
        # Flask answers HEAD with the GET view (werkzeug gives every rule with GET a
        # HEAD too) and sends its headers: a GET selector that let HEAD through would
        # let the view run without its flows. Gravitee compares literally: there the
        # backend answers HEAD itself.
        methods.add("HEAD")
    return frozenset(methods)


class CompiledFlow:
    """One enabled flow: its selector, request steps, the request steps that also
    act on the response (``completions``) and its response steps."""

    __slots__ = ("name", "match_path", "methods", "other", "request", "completions", "response", "on_the_way_out")

    def __init__(self, flow: Mapping[str, Any], make_step: Callable[[Mapping[str, Any]], Any]):
        self.name: str = flow.get("name") or ""
        selector = next((s for s in flow.get("selectors", ()) if s.get("type", "http") == "http"), None)
        self.match_path: Callable[[str], bool] | None = None
        self.methods: frozenset[str] | None = None
        if selector is not None:
            self.match_path = path_matcher(selector.get("path", "/"), selector.get("path_operator", STARTS_WITH))
            self.methods = selected_methods(selector.get("methods") or ())
        #: The selector lists OTHER: it also selects the methods Gravitee has no name for.
        self.other = self.methods is not None and OTHER in self.methods
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
        """``method`` is Flask's ``request.method`` (upper-cased, as werkzeug routes it)."""
        methods = self.methods
        if methods is not None and method not in methods and not (self.other and method not in NAMED_METHODS):
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
