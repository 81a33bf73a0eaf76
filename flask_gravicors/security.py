"""Plans' security: the base class of security types, ``keyless``, and the chain
that picks a plan for a request.

A plan is how a consumer is identified (Gravitee's ``KEY_LESS``, ``API_KEY``,
``JWT``...). Security types are plugins, registered through the
``gravicors_register_security_types`` hook (:mod:`.hookspecs`); ``keyless`` is
built in and registered the same way, ``api-key`` comes with
``plugins/gravicors-apikey`` and ``jwt`` with ``plugins/gravicors-jwt``.

:func:`select_plan` is Gravitee's security chain: plans are tried in their
security type's ``order`` (lowest first: jwt 0, api-key 500, keyless 1000, as
Gravitee orders its handlers), and the first plan whose security *can handle* the
request (its credential is present) authenticates it. A credential that is
present but wrong is that plan's failure (``API_KEY_INVALID``...), tried against
the other plans of types that can handle it (several api-key plans), and never
falls through to a keyless plan: once a credential was seen, keyless does not
apply (Gravitee's ``ATTR_INTERNAL_TOKEN_IDENTIFIED``). No plan that can handle
the request: 401 ``GATEWAY_PLAN_UNRESOLVABLE``.

Preflights never reach this chain: a browser sends no credentials on a preflight
(Gravitee's "skip security" flag, its tests
``should_skip_security_on_preflight_request_when_valid``; its tracker's #825).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

from marshmallow import Schema

from .hookspecs import hookimpl
from .policy import EmptyConfigSchema
from .templates import Failure

if TYPE_CHECKING:
    from flask import Request

PLAN_UNRESOLVABLE = Failure(401, "GATEWAY_PLAN_UNRESOLVABLE", "Unauthorized")


class SecurityType:
    """One plan's security, configured. Subclass it, set :attr:`name`,
    :attr:`config_schema` and :attr:`order`, and override :meth:`can_handle` and
    :meth:`authenticate`.

    An instance is made per plan per (re)configuration from the configuration its
    schema loaded, and is shared by every request: keep per-request state off
    ``self``. Neither method is ever called for a preflight.
    """

    #: The name a plan's ``security`` uses, e.g. ``"api-key"``.
    name: ClassVar[str]
    #: Validates the plan's ``configuration`` at ``init_app``/``reconfigure``.
    config_schema: ClassVar[type[Schema]] = EmptyConfigSchema
    #: Position in the security chain, lowest first (Gravitee: jwt 0, api-key 500,
    #: keyless 1000).
    order: ClassVar[int] = 500
    #: False only for types that identify nobody (keyless): they never apply to
    #: a request that carried a credential another plan could handle.
    identifies: ClassVar[bool] = True

    def __init__(self, config: Mapping[str, Any], api_name: str, plan_name: str) -> None:
        self.config = config
        self.api_name = api_name
        self.plan_name = plan_name

    def can_handle(self, request: Request) -> bool:
        """Whether the request carries this type's credential (a header, a query
        parameter, a bearer token), valid or not. Must not fail: it only looks."""
        return False

    def authenticate(self, request: Request) -> Failure | None:
        """Check the credential :meth:`can_handle` found. ``None``: the request is
        this plan's; a :class:`~flask_gravicors.Failure` (401 ``API_KEY_INVALID``...)
        refuses it, through the API's response templates."""
        return None

    @classmethod
    def from_gravitee(cls, configuration: Mapping[str, Any]) -> dict[str, Any]:
        """This type's configuration from a Gravitee plan's security configuration
        (used by :func:`flask_gravicors.gravitee.load_definition`). Raise
        ``ValueError`` naming what cannot be translated."""
        return dict(configuration)

    @classmethod
    def to_gravitee(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """The inverse of :meth:`from_gravitee` (``dump_definition``)."""
        return dict(config)


#: Where the security type that accepted a request records the consumer it
#: identified: a stable text such as ``api-key:<digest>`` (:func:`consumer_id`),
#: never the credential. Policies count or log by it (the rate-limit policy's
#: ``key: "api-key"`` reads it, since the plan removes the key itself).
CONSUMER = "gravicors.consumer"


def consumer_id(kind: str, credential: str) -> str:
    """``kind:<digest>``: a consumer's identity that is the same in every process,
    without the credential (BLAKE2s, 128 bits)."""
    digest = hashlib.blake2s(credential.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
    return f"{kind}:{digest}"


def query_param(request: Request, name: str) -> str | None:
    """The first value of query parameter ``name``, ``None`` when absent.

    Looks at the raw query string before parsing it: security types ask on every
    request whether a credential is there, and werkzeug's ``request.args`` builds a
    MultiDict (about 4 µs) that most requests never need. A name hidden by
    percent-encoding (a ``%`` in the query) still goes through the parser.
    """
    query = request.environ.get("QUERY_STRING")
    if not query or (name not in query and "%" not in query):
        return None
    return request.args.get(name)


class Keyless(SecurityType):
    """``keyless``: no credential; the plan of every request no other plan handles."""

    name = "keyless"
    order = 1000
    identifies = False

    def can_handle(self, request: Request) -> bool:
        return True


class CompiledPlan:
    """A plan of one API: its name, security and the flows run when it was chosen."""

    __slots__ = ("name", "security", "flows")

    def __init__(self, name: str, security: SecurityType, flows: Any):
        self.name = name
        self.security = security
        self.flows = flows


def sort_plans(plans: Sequence[CompiledPlan]) -> tuple[CompiledPlan, ...]:
    """Plans in the order the chain tries them (stable within one order)."""
    return tuple(sorted(plans, key=lambda plan: plan.security.order))


def select_plan(plans: Sequence[CompiledPlan], request: Request) -> tuple[CompiledPlan | None, Failure | None]:
    """Gravitee's security chain over ``plans`` (sorted by :func:`sort_plans`):
    ``(plan, None)`` when a plan accepts the request, ``(None, failure)`` otherwise."""
    identified = False
    first_failure: Failure | None = None
    for plan in plans:
        security = plan.security
        if identified and not security.identifies:
            continue
        if not security.can_handle(request):
            continue
        identified = identified or security.identifies
        failure = security.authenticate(request)
        if failure is None:
            return plan, None
        if first_failure is None:
            first_failure = failure
    return None, first_failure or PLAN_UNRESOLVABLE


@hookimpl
def gravicors_register_security_types() -> list[type[SecurityType]]:
    return [Keyless]
