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
    """One configured step of a flow (or one entry of an API's legacy ``policies``).

    Subclass it, set :attr:`name` and :attr:`config_schema`, and override
    :meth:`on_request` and/or :meth:`on_response`. An instance is made per step per
    (re)configuration, from the configuration its schema loaded, and is shared by
    every request: keep per-request state off ``self`` (``request.environ`` is the
    place for it). Instances are also made, then dropped, when a config is only
    checked (every save, ``flask gravicors check``): a constructor that raises
    refuses the config (gravicors.E015), so it must not connect, start threads or
    hold resources; do that on first use.

    Where a step sits decides what is called (the docs' *What happens to a request*):

    * in a flow's ``request`` steps: :meth:`on_request` in the request phase, and,
      when the class overrides :meth:`on_response`, that too on the way out
      whenever its :meth:`on_request` ran, answer or not: how a policy finishes
      what it started (the rate-limit policy writes its ``X-Rate-Limit-*`` headers
      there; Gravitee's policies set response headers during the request phase);
    * in a flow's ``response`` steps: only :meth:`on_response`, and only when the
      request reached the view (or the preflight stand-in): a step that answers
      skips the response steps of plan and API flows, as Gravitee's interruption
      does; platform flows' response steps always run.

    A step runs on a valid preflight only when it is in a platform flow, or in an
    API flow with ``run_policies`` on (never in a plan's flows), and only when its
    flow's selector matches the preflight (method ``OPTIONS``).
    """

    #: The name a flow step's ``policy`` (or a legacy ``policies`` entry's ``name``) uses, e.g. ``"rate-limit"``.
    name: ClassVar[str]
    #: Validates a step's ``configuration`` (a legacy entry's ``config``) at ``init_app``/``reconfigure``.
    config_schema: ClassVar[type[Schema]] = EmptyConfigSchema
    #: Where this step sits among its API's flows, set when the config is compiled:
    #: ``flows[1].request[0]``, ``plans[Gold].flows[0].request[0]`` (with
    #: :attr:`api_name`, ``"platform"`` for platform flows). The same in every process
    #: for one config, so a policy that keeps state outside the process (counters in
    #: Redis) keys it by ``(api_name, step)``: two steps alike in two flows never share.
    step: str = ""

    def __init__(self, config: Mapping[str, Any], api_name: str) -> None:
        self.config = config
        self.api_name = api_name

    @property
    def acts_on_response(self) -> bool:
        """True when the subclass overrides :meth:`on_response` (others are skipped)."""
        return type(self).on_response is not Policy.on_response

    def on_request(self, request: Request) -> ResponseReturnValue | None:
        """Called before the view, in flow order (see the class docstring for which flows run).

        Return ``None`` to let the request through to the next step (then the
        view), a :class:`~flask_gravicors.Failure` to refuse it through the API's
        response templates (its ``key``, e.g. ``RATE_LIMIT_TOO_MANY_REQUESTS``,
        chooses the template), or anything a Flask view may return (a ``Response``,
        a ``(body, status)`` tuple, a dict...) to answer it as it is. An answer stops
        the chain: later steps and the view do not run.
        """
        return None

    def on_response(self, request: Request, response: Response) -> Response | None:
        """Called on the way out, in flow order (see the class docstring for when).

        Return ``None`` to keep ``response`` (which may be changed in place), or a
        new ``Response`` to replace it.
        """
        return None

    @classmethod
    def from_gravitee(cls, configuration: Mapping[str, Any]) -> dict[str, Any]:
        """This policy's configuration from the ``configuration`` of a Gravitee step
        of the same policy name (:func:`flask_gravicors.gravitee.load_definition`).
        The default takes it as written (then validated by :attr:`config_schema`);
        raise ``ValueError`` naming what cannot be translated."""
        return dict(configuration)

    @classmethod
    def to_gravitee(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """The inverse of :meth:`from_gravitee` (``dump_definition``)."""
        return dict(config)
