"""``flask gravicors explain``: why the browser blocks (or allows) one request."""

from __future__ import annotations

import sys

import click

from ..checks import origin_problem
from ..explain import BrowserRequest
from ..store.diff import printable
from . import EXIT_BLOCKED, EXIT_OK, gravicors
from .common import extension_of, load_app


@gravicors.command("explain", with_appcontext=False)
@click.argument("url")
@click.option("--origin", required=True, help="The page's origin, as the browser sends it: https://shop.example.com.")
@click.option("--method", default="GET", show_default=True, help="The method the script uses.")
@click.option(
    "--header",
    "headers",
    multiple=True,
    metavar="NAME[:VALUE]",
    help="A request header the script sets (repeatable); a name alone is not CORS-safelisted, Accept excepted.",
)
@click.option("--credentials", is_flag=True, help='The script sends credentials (credentials: "include").')
@click.option("--private-network", is_flag=True, help="The request goes to a more private network (Private Network Access).")
@click.option("--content-type", metavar="TYPE", help="The request's Content-Type.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
def explain(
    url: str,
    origin: str,
    method: str,
    headers: tuple[str, ...],
    credentials: bool,
    private_network: bool,
    content_type: str | None,
    as_json: bool,
) -> None:
    """Why the browser lets a page at --origin read URL, or blocks it.

    URL is a full URL or a path (its path and query are what matter). Prints the
    API that owns the path and whether its CORS applies, whether the browser sends
    a preflight and why, each check in the order the request path makes it with
    the configured value, what the script sees, and for a blocked request the
    smallest config change that allows it, with the refusal rules that change
    trips. The decisions are the running app's own (its config store's newest
    version when it has one). Exit status 0 when the script reads the response, 1
    otherwise (a path outside every API and an API whose CORS does not apply
    included).
    """
    _check_origin(origin)
    app = load_app()
    ext = extension_of(app)
    try:
        request = BrowserRequest(url, origin, method, headers, credentials, private_network, content_type)
        report = ext.explain(request, app=app)
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    if as_json:
        click.echo(report.to_json())
    else:
        for line in report.text().splitlines():
            click.echo(printable(line))
    sys.exit(EXIT_OK if report.allowed else EXIT_BLOCKED)


def _check_origin(origin: str) -> None:
    """A usage error (exit 2) for an --origin no browser sends (a trailing slash, no
    scheme, a path...), judged by the rule the config's origins follow, with the
    spelling meant when it is plain; ``null`` is what sandboxed and file: pages send."""
    if origin == "null":
        return
    found = origin_problem(origin) if "*" not in origin else ("gravicors.E022", f"{origin!r}: a pattern, not an origin")
    if found is None:
        return
    meant = None
    if "://" not in origin and "/" not in origin.strip("/"):
        meant = "https://" + origin.strip("/")
    elif origin.endswith("/") and origin_problem(origin.rstrip("/")) is None:
        meant = origin.rstrip("/")
    hint = f"; did you mean {meant}?" if meant else ""
    raise click.BadParameter(f"no browser sends it: {found[1]}{hint}", param_hint="'--origin'")
