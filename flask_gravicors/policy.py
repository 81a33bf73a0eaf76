"""The base class of policies, the unit a plugin contributes (see :mod:`.hookspecs`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from marshmallow import Schema

if TYPE_CHECKING:
    from flask import Request, Response
    from flask.typing import ResponseReturnValue


class EmptyConfigSchema(Schema):
    """Config schema of a policy that takes no settings: refuses every field."""


class Policy:
    """One configured policy of one API.

    Subclass it, set :attr:`name` and :attr:`config_schema`, and override
    :meth:`on_request` and/or :meth:`on_response`. An instance is made per API per
    (re)configuration, from the config its schema loaded, and is shared by every
    request to that API: keep per-request state off ``self``.
    """

    #: The name an API's ``policies`` list uses, e.g. ``"api-key"``.
    name: ClassVar[str]
    #: Validates this policy's ``config`` at ``init_app``/``reconfigure``.
    config_schema: ClassVar[type[Schema]] = EmptyConfigSchema

    def __init__(self, config: Mapping[str, Any], api_name: str) -> None:
        self.config = config
        self.api_name = api_name

    @property
    def acts_on_response(self) -> bool:
        """True when the subclass overrides :meth:`on_response` (others are skipped)."""
        return type(self).on_response is not Policy.on_response

    def on_request(self, request: Request) -> ResponseReturnValue | None:
        """Called before the view, in the API's chain order.

        Return ``None`` to let the request through to the next policy (then the
        view), or anything a Flask view may return (a ``Response``, a ``(body,
        status)`` tuple, a dict...) to answer the request: the rest of the chain and
        the view do not run.
        """
        return None

    def on_response(self, request: Request, response: Response) -> Response | None:
        """Called on the way out for every policy whose :meth:`on_request` ran,
        in chain order, including on an answer given by a policy of the chain.

        Return ``None`` to keep ``response`` (which may be changed in place), or a
        new ``Response`` to replace it.
        """
        return None
