"""Marshmallow fields the record codec loads JSON with: JSON in, exact Python values out.

Every field allows null (``required`` is checked by the record service after
defaults apply); picklist activity, uniqueness and lookups are checked there too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

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
        import nh3  # with the first rich text written, not in every worker (~1.7 MB)

        return nh3.clean(super()._deserialize(value, attr, data, **kw))


class RecordId(Text):
    """The id of a record (lookups and master-detail)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        text = super()._deserialize(value, attr, data, **kw)
        if len(text) != ID_LENGTH or not ID_PATTERN.match(text):
            raise ValidationError("not a record id")
        return text


class OneOfValues(validate.Validator):
    """One of a picklist's values; the error lists those that may be written (active)
    and quotes the value given (an import's error file says which cell was wrong)."""

    def __init__(self, values: list[str], active: list[str] | None = None) -> None:
        self.values = frozenset(values)
        self.active = values if active is None else active

    def __call__(self, value: Any) -> Any:
        if value not in self.values:
            given = str(value) if len(str(value)) <= 60 else f"{str(value)[:57]}..."
            raise ValidationError(f"Must be one of: {', '.join(self.active)} (not {given!r}).")
        return value


class MultiPicklist(fields.List):
    """A list of distinct picklist values, stored in the picklist's own order."""

    def __init__(self, values: list[str], active: list[str] | None = None, **kw: Any):
        super().__init__(Text(validate=OneOfValues(values, active)), allow_none=True, **kw)
        self.order = {v: i for i, v in enumerate(values)}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> list[str]:
        items = super()._deserialize(value, attr, data, **kw)
        if len(set(items)) != len(items):
            raise ValidationError("values must not repeat")
        return sorted(items, key=self.order.__getitem__)


def text_input(max_length: int, **kw: Any) -> fields.String:
    """Nullable text of at most ``max_length`` characters."""
    return Text(allow_none=True, validate=validate.Length(max=max_length), **kw)


def compound_input(subs: Mapping[str, fields.Field]) -> fields.Nested:
    """A nullable JSON object of the given sub-fields."""
    schema = Schema.from_dict(dict(subs))
    return fields.Nested(schema, allow_none=True)


def picklist_values(definition: Mapping[str, Any]) -> list[str]:
    """The values of a picklist definition, in order (active or not)."""
    return [v if isinstance(v, str) else v["value"] for v in definition["values"]]
