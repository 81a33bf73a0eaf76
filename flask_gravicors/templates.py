"""Failures and response templates: how an answer that refuses a request is written.

No Flask import here. A :class:`Failure` is what a plan's security or a policy
returns to refuse a request: a status, Gravitee's failure *key*
(``API_KEY_INVALID``, ``RATE_LIMIT_TOO_MANY_REQUESTS``...) and a message. The
API's ``response_templates`` map a key, then a media type chosen by the request's
``Accept``, to a status, body and headers, as Gravitee's
``ResponseTemplateBasedFailureProcessor`` does:

1. the templates of the failure's key, else those of ``DEFAULT``, else none;
2. among them, the first media type of ``Accept`` (highest ``q`` first) that has a
   template, else the ``*/*`` template;
3. no template: the default answer, JSON ``{"message": ..., "http_status_code": ...}``
   when ``Accept`` takes ``application/json`` or ``*/*``, else the message as text.

:func:`render` is the one place that writes such an answer; the WSGI layer (failed
preflights) and the Flask glue (security and policy failures) both call it.

Deliberate differences from Gravitee, each for a reason:

* a request without ``Accept`` accepts any media type (RFC 9110, 12.5.1), so it
  gets JSON; Gravitee answers such a request in text;
* a template with a body gets its own media type as ``Content-Type`` (``text/plain``
  for ``*/*``) unless its headers set one; Gravitee copies the request's ``Accept``
  value, which can be a list such as ``text/html,*/*;q=0.8``;
* bodies are sent as written: Gravitee's EL (``{#error.message}``) is refused when
  the config is loaded, as everywhere else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

Headers = list[tuple[str, str]]

#: The template keys of the failures flask_gravicors and its shipped plugins produce
#: (Gravitee's names). Plugins may produce others; any ``[A-Z0-9_]+`` key is accepted.
KNOWN_KEYS = (
    "CORS_PREFLIGHT_FAILED",
    "API_KEY_MISSING",
    "API_KEY_INVALID",
    "JWT_MISSING_TOKEN",
    "JWT_INVALID_TOKEN",
    "GATEWAY_PLAN_UNRESOLVABLE",
    "RATE_LIMIT_TOO_MANY_REQUESTS",
    "DEFAULT",
)

DEFAULT_KEY = "DEFAULT"
ANY_MEDIA = "*/*"
JSON = "application/json"


@dataclass(frozen=True)
class Failure:
    """A refusal: what a security type's ``authenticate`` or a policy's
    ``on_request`` returns to answer a request with an error that response
    templates may rewrite.

    ``message`` is the default body (inside the JSON object, or as text); when
    ``content_type`` is ``application/json`` it is already a JSON document and is
    sent as it is to clients that take JSON (Gravitee's ``ExecutionFailure``).
    ``headers`` are sent with the default answer and with a template's.
    """

    status: int
    key: str
    message: str
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None


@dataclass(frozen=True)
class Template:
    """One compiled template: status, headers (ours, validated) and body bytes."""

    status: int
    body: bytes
    headers: Headers


def _media_ranges(accept: str | None) -> list[str]:
    """The media types of an ``Accept`` value, highest ``q`` first (stable for
    ties), lower-cased, without parameters; ``q=0`` ones dropped."""
    if not accept:
        return []
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(accept.split(",")):
        media, _, params = item.partition(";")
        media = media.strip().lower()
        if not media:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, index, media))
    return [media for _, _, media in sorted(ranked)]


class Templates:
    """An API's response templates, compiled once: ``{key: {media type: Template}}``."""

    __slots__ = ("by_key",)

    def __init__(self, config: Mapping[str, Mapping[str, Mapping[str, Any]]]):
        self.by_key: dict[str, dict[str, Template]] = {
            key: {media.lower(): _compile(spec) for media, spec in by_media.items()} for key, by_media in config.items()
        }

    def __bool__(self) -> bool:
        return bool(self.by_key)

    def pick(self, key: str, accept: str | None) -> tuple[str, Template] | None:
        """The media type and template for a failure ``key`` and a request's
        ``Accept`` (see the module docstring); ``None`` when no template applies."""
        by_media = self.by_key.get(key)
        if by_media is None:
            by_media = self.by_key.get(DEFAULT_KEY)
            if by_media is None:
                return None
        for media in _media_ranges(accept):
            found = by_media.get(media)
            if found is not None:
                return media, found
        found = by_media.get(ANY_MEDIA)
        return (ANY_MEDIA, found) if found is not None else None


def _compile(spec: Mapping[str, Any]) -> Template:
    body = spec.get("body") or ""
    headers: Headers = [(str(k), str(v)) for k, v in (spec.get("headers") or {}).items()]
    return Template(int(spec["status"]), body.encode("utf-8"), headers)


def render(failure: Failure, templates: Templates | None, accept: str | None) -> tuple[int, Headers, bytes]:
    """The answer to ``failure``: ``(status, headers, body)``, through the API's
    ``templates`` when one applies (see the module docstring)."""
    picked = templates.pick(failure.key, accept) if templates else None
    if picked is None:
        return default_answer(failure, accept)
    media, template = picked
    names = {name.lower() for name, _ in template.headers}
    # The failure's own headers (Retry-After...) stay unless the template sets them.
    headers: Headers = [(n, v) for n, v in failure.headers.items() if n.lower() not in names]
    if template.body and "content-type" not in names:
        headers.append(("Content-Type", "text/plain; charset=utf-8" if "*" in media else media))
    headers.extend(template.headers)
    headers.append(("Content-Length", str(len(template.body))))
    return template.status, headers, template.body


def accepts_json(accept: str | None) -> bool:
    """Gravitee writes a failure as JSON when ``Accept`` names ``application/json``
    or ``*/*``; a request without ``Accept`` takes anything (RFC 9110)."""
    return not accept or JSON in accept or ANY_MEDIA in accept


def default_answer(failure: Failure, accept: str | None) -> tuple[int, Headers, bytes]:
    """Gravitee's answer to a failure no template covers."""
    if accepts_json(accept):
        if failure.content_type is not None and failure.content_type.lower() == JSON:
            body = failure.message.encode("utf-8")
        else:
            body = json.dumps({"message": failure.message, "http_status_code": failure.status}).encode("utf-8")
        content_type = JSON
    else:
        body = failure.message.encode("utf-8")
        content_type = "text/plain; charset=utf-8"
    headers: Headers = [*failure.headers.items(), ("Content-Type", content_type), ("Content-Length", str(len(body)))]
    return failure.status, headers, body
