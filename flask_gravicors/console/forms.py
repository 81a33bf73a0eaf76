"""The console's forms (Flask-WTF: each carries its CSRF token).

Labels are the seed's words: the page is followed by them (tests, screen readers).
The Cors form does no validation of its own: its values are checked by the
config's own checks when it is saved (:meth:`AppStore.save`), exactly as
``init_app`` checks them.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from wtforms import (  # type: ignore[import-untyped]
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, Regexp  # type: ignore[import-untyped]
from wtforms.widgets import CheckboxInput, ListWidget, NumberInput  # type: ignore[import-untyped]

from ..core import TOKEN_RE
from ..store import MAX_AUTHOR, MAX_COMMENT
from ..store.accounts import MAX_PASSWORD, MIN_PASSWORD, ROLES

#: The longest text Try it takes in one of its fields.
MAX_TRY_TEXT = 8192


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[InputRequired(), Length(max=MAX_AUTHOR)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=MAX_PASSWORD)])
    submit = SubmitField("Log in")


class CheckboxesField(SelectMultipleField):
    """Checkboxes, one per choice. Any submitted value is kept (a stored method
    outside the eight is shown as one more checkbox); the config's checks judge it."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        pass


class CorsForm(FlaskForm):
    enabled = BooleanField("Enable CORS")
    allow_origin = TextAreaField("Access-Control-Allow-Origin")
    allow_methods = CheckboxesField("Access-Control-Allow-Methods", choices=[])
    allow_headers = TextAreaField("Access-Control-Allow-Headers")
    allow_credentials = BooleanField("Access-Control-Allow-Credentials")
    max_age = StringField("Max Age", widget=NumberInput(step=1))
    expose_headers = TextAreaField("Access-Control-Expose-Headers")
    run_policies = BooleanField("Run policies for preflight requests")
    allow_private_network = BooleanField("Access-Control-Allow-Private-Network")
    dangerously_allow_any_origin_with_credentials = BooleanField("dangerously_allow_any_origin_with_credentials")
    dangerously_allow_null_origin = BooleanField("dangerously_allow_null_origin")
    dangerously_allow_insecure_origins = BooleanField("dangerously_allow_insecure_origins")
    comment = StringField("Comment", validators=[Length(max=MAX_COMMENT)])
    base_version = HiddenField()
    submit = SubmitField("Save")


class TryForm(FlaskForm):
    """Try it: one request of a page's script, explained against the Cors form's
    configuration. Its controls sit inside the Cors form (so the form's fields,
    edits included, are sent with them) under the names ``try-*``; the Cors form's
    CSRF token covers the POST (``CSRFProtect`` checks every POST)."""

    class Meta:
        csrf = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "try")
        super().__init__(*args, **kwargs)

    origin = StringField(
        "Origin", validators=[InputRequired("Enter the origin of the page that makes the request."), Length(max=MAX_TRY_TEXT)]
    )
    method = StringField(
        "Method",
        default="GET",
        validators=[
            Optional(),  # GET, as fetch()
            Length(max=64),
            # fetch() throws before sending a method that is not an HTTP token.
            Regexp(TOKEN_RE.pattern + r"\Z", message="A method is one word, such as GET or PATCH (an HTTP token)."),
        ],
    )
    headers = TextAreaField("Request headers", validators=[Length(max=MAX_TRY_TEXT)])
    credentials = BooleanField("Send credentials")
    content_type = StringField("Content-Type", validators=[Length(max=1024)])
    private_network = BooleanField("Private network")
    path = StringField("Path", validators=[Length(max=MAX_TRY_TEXT)])
    submit = SubmitField("Try it")


class UserForm(FlaskForm):
    username = StringField("Username", validators=[InputRequired(), Length(max=MAX_AUTHOR)])
    role = SelectField("Role", choices=list(ROLES), default="viewer")
    password = PasswordField("Password", validators=[InputRequired(), Length(min=MIN_PASSWORD, max=MAX_PASSWORD)])
    submit = SubmitField("Add user")


__all__ = ["LoginForm", "CorsForm", "TryForm", "UserForm", "CheckboxesField"]
