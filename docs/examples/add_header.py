"""A policy plugin: adds a configured header to the responses its flow step runs on."""

from marshmallow import Schema

from flask_gravicors import Policy, hookimpl
from flask_gravicors.strict import Text


class AddHeaderConfig(Schema):
    #: The header's value.
    value = Text(required=True)
    #: The header's name.
    header = Text(load_default="X-Added")


class AddHeader(Policy):
    name = "add-header"  # what a flow step's "policy" says
    config_schema = AddHeaderConfig  # validated at init_app with the rest of the config

    def on_request(self, request):
        # None: let the request through; anything a view may return: answer it.
        return None

    def on_response(self, request, response):
        # None: keep the (changed) response; a Response: replace it.
        response.headers[self.config["header"]] = self.config["value"]


@hookimpl
def gravicors_register_policies():
    return [AddHeader]
