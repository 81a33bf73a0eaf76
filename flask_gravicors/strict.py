"""Strict marshmallow fields: every config value's type is decided here, once.

A list is a JSON array (``list`` or ``tuple``), a string a ``str`` that is valid
Unicode, a flag ``True`` or ``False``, an integer an ``int`` that is no ``bool``, a
number (:class:`Number`) also a finite ``float``, an object a mapping with string
keys; anything else is ``gravicors.E003`` at its path. marshmallow's own fields
read loosely (``1.0`` as true, a set as a list, bytes as a string), and a rule that
judged one value while another ran would be a hole (issue 12): the schemas of
:mod:`.schema` and :mod:`.flow_schema` use only these, and so do the shipped
plugins' (a plugin's ``config_schema`` should too).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from marshmallow import ValidationError, fields

from . import checks
from .errors import problem


def _wrong(expected: str, value: Any, secret: bool = False) -> ValidationError:
    shown = f"a {type(value).__name__}" if secret else checks.describe(value)
    return ValidationError(problem("gravicors.E003", f"expected {expected}, got {shown}"))


# Each strict field subclasses marshmallow's own (so what reads the schemas, such as
# the docs' config reference, sees a String, a Boolean...) and replaces its loading.


class Text(fields.String):
    """A JSON string: a ``str`` that encodes to UTF-8 (no lone surrogate such as
    ``"\\udcff"``, which JSON's ``\\u`` escapes can produce). Bytes are refused, not
    decoded: no rule ever sees them. With ``secret`` (a password, a key, a URL that
    may hold one) a refusal names the value's type, never the value."""

    def __init__(self, *, secret: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.secret = secret

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise _wrong("a string", value, self.secret)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            shown = "the text" if self.secret else repr(value[:60])
            raise ValidationError(
                problem("gravicors.E003", f"{shown} is not valid Unicode text: a lone surrogate at index {err.start}")
            ) from None
        return value


class Flag(fields.Boolean):
    """A JSON boolean: ``true`` or ``false``, never ``1``, ``1.0`` or ``"true"``."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise _wrong("true or false", value)
        return value


class Int(fields.Integer):
    """A JSON integer: an ``int`` that is no ``bool`` (``600.0`` and ``true`` are refused)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _wrong("an integer", value)
        return value


class Number(fields.Float):
    """A JSON number, loaded as a ``float``: an ``int`` or a finite ``float``, never a
    ``bool`` or a string (``"2"``); an integer too large for a float is refused."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise _wrong("a number", value)
        try:
            number = float(value)
        except OverflowError:
            raise _wrong("a number a float can hold", value) from None
        if not math.isfinite(number):
            raise _wrong("a finite number", value)
        return number


class List(fields.List):
    """A JSON array (``list`` or ``tuple``) of what ``inner`` loads; with
    ``one_string``, a single string counts as a one-item list (users write
    ``"allow_origin": "*"``).

    An item that fails is reported at its index and loaded as ``None`` (or what
    it loaded so far, for an object), so the rules can still judge the other items
    at the indices the user wrote; the config is refused either way.
    """

    def __init__(self, inner: fields.Field, *, one_string: bool = False, **kwargs: Any):
        super().__init__(inner, **kwargs)
        self.one_string = one_string

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[Any]:
        if self.one_string and isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            # A list of secrets given as one value is a secret too: its type only.
            raise _wrong("a list", value, getattr(self.inner, "secret", False))
        loaded: list[Any] = []
        errors: dict[int, Any] = {}
        for i, item in enumerate(value):
            try:
                loaded.append(self.inner.deserialize(item, **kwargs))
            except ValidationError as err:
                errors[i] = err.messages
                loaded.append(err.valid_data if isinstance(err.valid_data, dict) else None)
        if errors:
            raise ValidationError(errors, valid_data=loaded)
        return loaded


class StringList(List):
    """A list of strings that also takes one string."""

    def __init__(self, **kwargs: Any):
        super().__init__(Text(), one_string=True, **kwargs)


class Object(fields.Dict):
    """A JSON object: a mapping whose keys are strings (``keys`` and ``values``
    fields load them further, as marshmallow's ``Dict`` does). A problem with an
    entry is reported at its key, as the user wrote it (:func:`_at_keys`)."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("keys", Text())
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict[Any, Any]:
        if not isinstance(value, Mapping):
            raise _wrong("an object", value)
        try:
            return super()._deserialize(value, attr, data, **kwargs)  # type: ignore[no-any-return]
        except ValidationError as err:
            raise ValidationError(_at_keys(err.messages), valid_data=err.valid_data) from None


def _at_keys(messages: Any) -> Any:
    """marshmallow's ``Dict`` files a key's problems under ``"key"`` and its value's
    under ``"value"`` (``{"X": {"value": {"status": [...]}}}``): segments the user
    never wrote, which would show in every problem path
    (``response_templates.X.value.*/*.value.status``). Both go at the key itself,
    the key's own problems at the key (``_schema``)."""
    if not isinstance(messages, dict):
        return messages
    out: dict[Any, Any] = {}
    for key, found in messages.items():
        if not isinstance(found, dict) or not found.keys() <= {"key", "value"}:
            out[key] = found
            continue
        mine, theirs = found.get("key", []), found.get("value")
        if theirs is None:
            out[key] = mine
        elif not mine:
            out[key] = theirs
        elif isinstance(theirs, dict):
            out[key] = {**theirs, "_schema": [*mine, *theirs.get("_schema", [])]}
        else:
            out[key] = [*mine, *theirs]
    return out


__all__ = ["Text", "Flag", "Int", "Number", "List", "StringList", "Object"]
