"""Marshmallow fields the record codec loads JSON with: JSON in, exact Python values out.

Every field allows null (``required`` is checked by the record service after
defaults apply); picklist activity, uniqueness and lookups are checked there too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import Schema, ValidationError, fields, missing, validate

from crm_platform.core import ID_LENGTH

PHONE = re.compile(r"^[0-9+()./\- x]{3,40}$")
ID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class QuickField(fields.Field):
    """A field whose ``deserialize`` goes straight to its conversion and validators for a
    value that is given and not null. marshmallow's runs its general steps for every value
    (the missing-value checks, load hooks none of ours has) and builds an ``And`` of the
    validators each time: the record codec deserialises every value written, 1.5 million
    of them in an import of 100,000 rows of 15 columns. Missing and null values, and a
    field given load hooks, take marshmallow's own path (and its messages).

    :meth:`quick_check` goes further for the record codec: a test that a value is already
    what ``deserialize`` would make of it, so the codec keeps it without a call through
    marshmallow's layers; a value the test does not pass takes ``deserialize`` (which says
    what is wrong with it)."""

    def deserialize(
        self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any
    ) -> Any:
        if value is None or value is missing or self.pre_load or self.post_load:
            return super().deserialize(value, attr, data, **kwargs)
        output = self._deserialize(value, attr, data, **kwargs)
        if self.validators:
            self._validate(output)
        return output

    @functools.cached_property
    def _validate_all(self) -> Any:
        return validate.And(*self.validators)

    def quick_check(self) -> Callable[[Any], bool] | None:
        """A test that holds only for a value ``deserialize`` returns unchanged without a
        complaint (None: no such test, every value takes ``deserialize``). Null is left
        to ``deserialize``, as are values of other types than the one the test knows."""
        if self.pre_load or self.post_load:
            return None
        accepts = self._accepts_as_is()
        if accepts is None:
            return None
        checks = [accepts, *(_passes(v) for v in self.validators)]
        if len(checks) == 1:
            return accepts
        if len(checks) == 2:
            first, second = checks
            return lambda value: first(value) and second(value)
        return lambda value: all(check(value) for check in checks)

    def _accepts_as_is(self) -> Callable[[Any], bool] | None:
        """A test of a value this field's ``_deserialize`` returns unchanged (before any
        validator), or None. Subclasses that convert nothing for some type say so."""
        return None


def _passes(validator: Any) -> Callable[[Any], bool]:
    """A test that ``validator`` (as marshmallow's ``And`` runs it) accepts a value."""
    if (
        type(validator) is validate.Length
        and validator.min is None
        and validator.equal is None
        and validator.max is not None
    ):
        top = validator.max
        return lambda value: len(value) <= top
    if type(validator) is OneOfValues:
        return validator.values.__contains__
    if type(validator) is validate.Regexp:
        match = validator.regex.match
        return lambda value: match(value) is not None
    if type(validator) is validate.Email:
        return _email_passes(validator)

    def passes(value: Any) -> bool:  # as marshmallow's And runs it: only raising fails
        try:
            validator(value)
        except ValidationError:
            return False
        return True

    return passes


def _email_passes(validator: validate.Email) -> Callable[[Any], bool]:
    """marshmallow's email test without the error message it formats before testing (a
    third of its time): an address is a user part matching ``USER_REGEX``, an ``@`` and
    a domain in ``DOMAIN_WHITELIST`` or matching ``DOMAIN_REGEX``."""
    user_matches, domain_matches = validator.USER_REGEX.match, validator.DOMAIN_REGEX.match
    allowed = validator.DOMAIN_WHITELIST

    def passes(value: Any) -> bool:
        user, at, domain = value.rpartition("@")
        return (
            bool(at)
            and user_matches(user) is not None
            and (domain in allowed or domain_matches(domain) is not None)
        )

    return passes


class Text(QuickField, fields.String):
    """Text without NUL characters (PostgreSQL cannot store them; no user means them)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        text = super()._deserialize(value, attr, data, **kw)
        if "\x00" in text:
            raise ValidationError("must not contain NUL characters")
        return text

    def _accepts_as_is(self) -> Callable[[Any], bool] | None:
        return lambda value: type(value) is str and "\x00" not in value

    def quick_check(self) -> Callable[[Any], bool] | None:
        # most fields written are plain text with a maximum length, picklists, emails and
        # phones: their one or two validators' tests folded into the type test (a call
        # per test, not a generator over them)
        plain = type(self)._accepts_as_is is Text._accepts_as_is
        if not plain or self.pre_load or self.post_load or len(self.validators) not in (1, 2):
            return super().quick_check()
        first = _passes(self.validators[0])
        if len(self.validators) == 1:
            return lambda value: type(value) is str and "\x00" not in value and first(value)
        second = _passes(self.validators[1])
        return lambda value: (
            type(value) is str and "\x00" not in value and first(value) and second(value)
        )


class Email(Text, fields.Email):
    pass


class Url(Text, fields.Url):
    pass


class AwareDateTime(QuickField, fields.AwareDateTime):
    """A point in time with its offset, within what UTC can represent."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kw)
        try:
            moment.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError("out of range") from exc
        return moment


class LocalTime(QuickField, fields.Time):
    """A time of day: no date, no time zone."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> time:
        parsed = super()._deserialize(value, attr, data, **kw)
        if parsed.tzinfo is not None:
            raise ValidationError("a time of day takes no time zone offset")
        return parsed


class ExactDecimal(QuickField):
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

    def _accepts_as_is(self) -> Callable[[Any], bool]:
        # a Decimal within its places and digits is returned as it is: an exponent of
        # -scale or more has at most ``scale`` places however it is normalised (a value
        # with more, 1.500 at scale 2, takes ``_deserialize``, which normalises it)
        scale, limit = -self.scale, Decimal(10) ** (self.precision - self.scale)
        low = None if self.minimum is None else Decimal(str(self.minimum))
        high = None if self.maximum is None else Decimal(str(self.maximum))

        def accepts(value: Any) -> bool:
            if type(value) is not Decimal or not value.is_finite():
                return False
            exponent = value.as_tuple().exponent
            return (
                exponent >= scale  # type: ignore[operator]  (finite: an int)
                and -limit < value < limit
                and (low is None or value >= low)
                and (high is None or value <= high)
            )

        return accepts


class StrictInteger(QuickField, fields.Integer):
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

    def _accepts_as_is(self) -> Callable[[Any], bool]:
        low = None if self.minimum is None else Decimal(str(self.minimum))
        high = None if self.maximum is None else Decimal(str(self.maximum))

        def accepts(value: Any) -> bool:
            return (
                type(value) is int
                and -(2**63) < value < 2**63
                and (low is None or value >= low)
                and (high is None or value <= high)
            )

        return accepts


def _check_range(number: Any, minimum: Any, maximum: Any) -> None:
    if minimum is not None and number < Decimal(str(minimum)):
        raise ValidationError(f"must be at least {minimum}")
    if maximum is not None and number > Decimal(str(maximum)):
        raise ValidationError(f"must be at most {maximum}")


class StrictBoolean(QuickField, fields.Boolean):
    truthy = {True}
    falsy = {False}

    def _accepts_as_is(self) -> Callable[[Any], bool]:
        return lambda value: type(value) is bool


class RichText(Text):
    """HTML, sanitised with nh3 so stored markup can never carry script."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        import nh3  # with the first rich text written, not in every worker (~1.7 MB)

        return nh3.clean(super()._deserialize(value, attr, data, **kw))

    def _accepts_as_is(self) -> None:
        return None  # sanitising may change any text


class RecordId(Text):
    """The id of a record (lookups and master-detail)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        text = super()._deserialize(value, attr, data, **kw)
        if len(text) != ID_LENGTH or not ID_PATTERN.match(text):
            raise ValidationError("not a record id")
        return text

    def _accepts_as_is(self) -> Callable[[Any], bool]:
        match = ID_PATTERN.match
        return lambda value: type(value) is str and len(value) == ID_LENGTH and bool(match(value))


class LocalDate(QuickField, fields.Date):
    """A calendar date (an ISO string, or a date an import's transform made)."""

    def _accepts_as_is(self) -> Callable[[Any], bool]:
        return lambda value: type(value) is date


class PlainText(QuickField, fields.String):
    """Text as marshmallow checks it (a polymorphic lookup's object name)."""

    def _accepts_as_is(self) -> Callable[[Any], bool]:
        return lambda value: type(value) is str


class AnyJson(QuickField, fields.Raw):
    """Any JSON value (a compound field's whole value, checked by its type)."""


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


class MultiPicklist(QuickField, fields.List):
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
