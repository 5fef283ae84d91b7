"""Marshmallow fields for the platform's field types: JSON in, exact Python values out.

Every field allows null (``required`` is checked by the record service after
defaults apply); picklist activity, uniqueness and lookups are checked there too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

import nh3
from marshmallow import Schema, ValidationError, fields, validate

from crm_platform.core import ID_LENGTH

PHONE = re.compile(r"^[0-9+()./\- x]{3,40}$")
ID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Text(fields.String):
    """Text without NUL characters (PostgreSQL cannot store them; no user means them)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        text = super()._deserialize(value, attr, data, **kw)
        if "\x00" in text:
            raise ValidationError("must not contain NUL characters")
        return text


class Email(Text, fields.Email):
    pass


class Url(Text, fields.Url):
    pass


class AwareDateTime(fields.AwareDateTime):
    """A point in time with its offset, within what UTC can represent."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kw)
        try:
            moment.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError("out of range") from exc
        return moment


class LocalTime(fields.Time):
    """A time of day: no date, no time zone."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> time:
        parsed = super()._deserialize(value, attr, data, **kw)
        if parsed.tzinfo is not None:
            raise ValidationError("a time of day takes no time zone offset")
        return parsed


class ExactDecimal(fields.Field):
    """A decimal number kept exact: JSON numbers or numeric strings, never floats."""

    def __init__(self, precision: int, scale: int, minimum=None, maximum=None, **kw: Any):
        super().__init__(allow_none=True, **kw)
        self.precision, self.scale = precision, scale
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            raise ValidationError("must be a number")
        try:
            number = Decimal(value) if not isinstance(value, Decimal) else value
        except InvalidOperation as exc:
            raise ValidationError("must be a number") from exc
        if not number.is_finite():
            raise ValidationError("must be a finite number")
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > self.scale:
            raise ValidationError(f"at most {self.scale} decimal places")
        if abs(number) >= Decimal(10) ** (self.precision - self.scale):
            raise ValidationError(
                f"at most {self.precision - self.scale} digits before the decimal point"
            )
        _check_range(number, self.minimum, self.maximum)
        return number


class StrictInteger(fields.Integer):
    """A JSON integer (not a boolean, not a string), within optional bounds."""

    def __init__(self, minimum=None, maximum=None, **kw: Any):
        super().__init__(strict=True, allow_none=True, **kw)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> int:
        if isinstance(value, bool):
            raise ValidationError("must be an integer")
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)
        number = super()._deserialize(value, attr, data, **kw)
        if abs(number) >= 2**63:
            raise ValidationError("out of range")
        _check_range(number, self.minimum, self.maximum)
        return number


def _check_range(number: Any, minimum: Any, maximum: Any) -> None:
    if minimum is not None and number < Decimal(str(minimum)):
        raise ValidationError(f"must be at least {minimum}")
    if maximum is not None and number > Decimal(str(maximum)):
        raise ValidationError(f"must be at most {maximum}")


class StrictBoolean(fields.Boolean):
    truthy = {True}
    falsy = {False}


class RichText(Text):
    """HTML, sanitised with nh3 so stored markup can never carry script."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        return nh3.clean(super()._deserialize(value, attr, data, **kw))


class RecordId(Text):
    """The id of a record (lookups and master-detail)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        text = super()._deserialize(value, attr, data, **kw)
        if len(text) != ID_LENGTH or not ID_PATTERN.match(text):
            raise ValidationError("not a record id")
        return text


class MultiPicklist(fields.List):
    """A list of distinct picklist values, stored in the picklist's own order."""

    def __init__(self, values: list[str], **kw: Any):
        super().__init__(Text(validate=validate.OneOf(values)), allow_none=True, **kw)
        self.order = {v: i for i, v in enumerate(values)}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> list[str]:
        items = super()._deserialize(value, attr, data, **kw)
        if len(set(items)) != len(items):
            raise ValidationError("values must not repeat")
        return sorted(items, key=self.order.__getitem__)


def _text(max_length: int, **kw: Any) -> fields.String:
    return Text(allow_none=True, validate=validate.Length(max=max_length), **kw)


def _compound(subs: Mapping[str, fields.Field]) -> fields.Nested:
    schema = Schema.from_dict(dict(subs))
    return fields.Nested(schema, allow_none=True)


def picklist_values(definition: Mapping[str, Any]) -> list[str]:
    return [v if isinstance(v, str) else v["value"] for v in definition["values"]]


def field_for(definition: Mapping[str, Any]) -> fields.Field:
    """The marshmallow field that reads one platform field from JSON."""
    kind = definition["type"]
    max_length = definition.get("max_length", 255)
    if kind in {"text", "long_text", "external_id", "encrypted_text", "file"}:
        return _text(max_length)
    if kind == "rich_text":
        return RichText(allow_none=True, validate=validate.Length(max=max_length))
    if kind == "email":
        return Email(allow_none=True, validate=validate.Length(max=max_length))
    if kind == "phone":
        return Text(
            allow_none=True,
            validate=[
                validate.Length(max=max_length),
                validate.Regexp(PHONE, error="not a phone number"),
            ],
        )
    if kind == "url":
        return Url(
            allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=max_length)
        )
    if kind in {"integer", "duration"}:
        minimum = definition.get("min", 0 if kind == "duration" else None)
        return StrictInteger(minimum, definition.get("max"))
    if kind in {"decimal", "currency", "percent"}:
        return ExactDecimal(
            definition["precision"],
            definition["scale"],
            definition.get("min"),
            definition.get("max"),
        )
    if kind == "boolean":
        return StrictBoolean(allow_none=True)
    if kind == "date":
        return fields.Date(allow_none=True)
    if kind == "datetime":
        return AwareDateTime(allow_none=True, format="iso")
    if kind == "time":
        return LocalTime(allow_none=True)
    if kind == "picklist":
        return Text(allow_none=True, validate=validate.OneOf(picklist_values(definition)))
    if kind == "multi_picklist":
        return MultiPicklist(picklist_values(definition))
    if kind == "lookup" and "targets" in definition:
        return _compound(
            {
                "object": fields.String(
                    required=True, validate=validate.OneOf(definition["targets"])
                ),
                "id": RecordId(required=True),
            }
        )
    if kind in {"lookup", "master_detail"}:
        return RecordId(allow_none=True)
    if kind == "json":
        return fields.Raw(allow_none=True)
    if kind == "address":
        return _compound(
            {
                "street": _text(255),
                "city": _text(120),
                "state": _text(120),
                "postal_code": _text(20),
                "country": _text(120),
            }
        )
    if kind == "person_name":
        return _compound({sub: _text(120) for sub in ("salutation", "first", "middle", "last")})
    if kind == "geolocation":
        scale = definition.get("scale", 7)
        return _compound(
            {
                "latitude": ExactDecimal(3 + scale, scale, -90, 90, required=True),
                "longitude": ExactDecimal(3 + scale, scale, -180, 180, required=True),
            }
        )
    raise ValueError(f"{kind} fields are not written through the API")


READ_ONLY_TYPES = frozenset({"formula", "rollup_summary", "auto_number"})
