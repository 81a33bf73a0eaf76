"""Try it, on the Cors tab (pure: no Flask): the request the user describes as a
:class:`~flask_gravicors.explain.BrowserRequest`, and what
:meth:`GraviCORS.explain <flask_gravicors.GraviCORS.explain>` says of it against
the configuration in the form.

Nothing here decides anything about CORS: the report is explain's, made by the
request path's own code on the form's configuration (validated and compiled as
``init_app`` does, never applied).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..errors import ConfigError, Problem
from ..explain import BrowserRequest, Report


def request_headers(text: str | None) -> list[str]:
    """The "Request headers" field: names one per line or comma-separated; a line
    with a colon is one ``Name: value`` (its value may hold commas)."""
    out: list[str] = []
    for line in (text or "").splitlines():
        line = line.strip()
        if ":" in line:
            out.append(line)
        else:
            out.extend(item.strip() for item in line.split(",") if item.strip())
    return out


def browser_request(fields: Mapping[str, Any], url: str) -> BrowserRequest:
    """The request of Try it's fields (``TryForm.data``) to ``url``."""
    content_type = (fields.get("content_type") or "").strip()
    return BrowserRequest(
        url=url,
        origin=(fields.get("origin") or "").strip(),
        method=(fields.get("method") or "").strip() or "GET",
        headers=request_headers(fields.get("headers")),
        credentials=bool(fields.get("credentials")),
        private_network=bool(fields.get("private_network")),
        content_type=content_type or None,
    )


@dataclass(frozen=True)
class Tried:
    """What Try it shows: explain's report, or why there is none."""

    asked: BrowserRequest
    report: Report | None = None
    #: The form's configuration is refused (every problem, as Save would list them).
    problems: tuple[Problem, ...] = ()
    #: The request cannot be described to the browser (a header name that is not one).
    error: str | None = None


def run(explain: Callable[..., Report], asked: BrowserRequest, config: Mapping[str, Any]) -> Tried:
    """``explain(asked, config=config)``, or the reason it has no report."""
    try:
        return Tried(asked, report=explain(asked, config=config))
    except ConfigError as err:
        return Tried(asked, problems=tuple(err.problems))
    except ValueError as err:  # a header name, or a URL urlsplit refuses (a bad port)
        return Tried(asked, error=str(err))


__all__ = ["request_headers", "browser_request", "run", "Tried"]
