"""Text types: one column of text, checked by length and, for some, by format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import fields, validate

from crm_platform.core import ValueType

from .base import Definition, FieldType
from .inputs import PHONE, Email, RichText, Text, Url, text_input

DEFAULT_MAX_LENGTH = 255


def max_length_option(maximum: int) -> dict[str, Any]:
    """The ``max_length`` option of a text type, up to ``maximum`` characters."""
    return {"max_length": {"type": "integer", "minimum": 1, "maximum": maximum}}


@dataclass(frozen=True)
class TextType(FieldType):
    """Plain text of at most ``max_length`` characters."""

    value_type: ValueType | None = ValueType.TEXT

    def input_field(self, definition: Definition) -> fields.Field:
        return text_input(_max_length(definition))

    def literal_problem(self, definition: Definition, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            return "must be text"
        if len(value) > _max_length(definition):
            return f"longer than {_max_length(definition)} characters"
        return None

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        return {"type": "string", "maxLength": _max_length(definition)}

    def result_schema(self, definition: Definition) -> dict[str, Any]:
        """The schema of a formula returning this type."""
        return {"type": "string"}


@dataclass(frozen=True)
class RichTextType(TextType):
    """HTML, sanitised on save."""

    def input_field(self, definition: Definition) -> fields.Field:
        return RichText(allow_none=True, validate=validate.Length(max=_max_length(definition)))

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        return {
            "type": "string",
            "maxLength": _max_length(definition),
            "description": "HTML, sanitised on save (no script).",
        }


@dataclass(frozen=True)
class EmailType(TextType):
    """An email address."""

    def input_field(self, definition: Definition) -> fields.Field:
        return Email(allow_none=True, validate=validate.Length(max=_max_length(definition)))

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        return {"type": "string", "format": "email", "maxLength": _max_length(definition)}


@dataclass(frozen=True)
class PhoneType(TextType):
    """A phone number: digits and the usual punctuation."""

    def input_field(self, definition: Definition) -> fields.Field:
        return Text(
            allow_none=True,
            validate=[
                validate.Length(max=_max_length(definition)),
                validate.Regexp(PHONE, error="not a phone number"),
            ],
        )

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        # ``\-`` in a character class reads the same in Python and ECMA-262 regexes.
        return {"type": "string", "pattern": PHONE.pattern, "maxLength": _max_length(definition)}


@dataclass(frozen=True)
class UrlType(TextType):
    """An http or https URL."""

    def input_field(self, definition: Definition) -> fields.Field:
        return Url(
            allow_none=True,
            schemes={"http", "https"},
            validate=validate.Length(max=_max_length(definition)),
        )

    def value_schema(self, definition: Definition, *, writing: bool) -> dict[str, Any]:
        return {
            "type": "string",
            "format": "uri",
            "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
            "maxLength": _max_length(definition),
        }


@dataclass(frozen=True)
class EncryptedTextType(TextType):
    """Text encrypted at rest; plaintext only in the memory of a request that may see it."""

    value_type: ValueType | None = None
    encrypted: bool = True

    def export_text(self, definition: Definition, value: Any) -> str:
        """The masked value: an export never holds an encrypted field's plaintext."""
        if value is None:
            return ""
        if definition.get("mask") == "last4":
            return "****" + str(value)[-4:]
        return "********"

    def export_cell(self, definition: Definition, value: Any) -> str | None:
        return self.export_text(definition, value) if value is not None else None


def _max_length(definition: Definition) -> int:
    return definition.get("max_length", DEFAULT_MAX_LENGTH)
