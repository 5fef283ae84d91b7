"""Transforms: a cell of a source file turned into the value a field takes.

Each column of a mapping names its field and optional transforms (``trim``, ``case``,
``date_format``, ``decimal``, ``values``); :func:`converter` builds one function per
column that either returns the value for the record service or raises
:class:`TransformError` with what was wrong. :func:`infer_options` finds date formats
and the decimal mark from sample values, as the mapping inference does for headers.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from crm_platform.fieldtypes.choices import value_entry

# Tried in this order; the first format every sample value fits is chosen (so ISO and
# year-first formats win over day/month ambiguity, and day-first over month-first
# unless a value only month-first reads, like 12/31/2024).
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y年%m月%d日",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d-%m-%Y",
    "%Y%m%d",
    "%d %b %Y",
    "%b %d, %Y",
)
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "on", "x", "是", "对", "真", "✓", "√"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "off", "否", "不", "不是", "假", "✗", "×"})
CURRENCY = re.compile(r"^[^\d\-+(.,]*|[^\d).,%]*$")  # symbols or codes around the number
TEXT_TYPES = frozenset(
    {"text", "long_text", "rich_text", "email", "phone", "url", "external_id", "encrypted_text"}
)
NUMBER_TYPES = frozenset({"integer", "duration", "decimal", "currency", "percent"})
CASES: Mapping[str, Callable[[str], str]] = {
    "upper": str.upper,
    "lower": str.lower,
    "title": str.title,
}


class TransformError(ValueError):
    """A cell that cannot become a value of its field."""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def clean_text(value: Any, options: Mapping[str, Any]) -> str | None:
    """Trimmed (unless ``trim: false``) and re-cased text; blank becomes None."""
    if value is None:
        return None
    text = _text(value)
    if options.get("trim", True):
        text = text.strip()
    if case := options.get("case"):
        text = CASES[case](text)
    return text if text != "" else None


def parse_date(value: Any, date_format: str | None) -> str:
    """An ISO date from a cell (a date already, or text in ``date_format`` or ISO)."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = _text(value).strip()
    for fmt in (date_format,) if date_format else DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    expected = f" (expected {date_format})" if date_format else ""
    raise TransformError(f"not a date: {text!r}{expected}")


def parse_datetime(value: Any, date_format: str | None, time_zone: str) -> str:
    """An ISO datetime with an offset; a value without one is in the org's time zone."""
    from zoneinfo import ZoneInfo

    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = _text(value).strip()
        try:
            moment = (
                dt.datetime.strptime(text, date_format)
                if date_format
                else dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            )
        except ValueError as exc:
            raise TransformError(f"not a date and time: {text!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(time_zone))
    return moment.isoformat()


def parse_number(value: Any, decimal_mark: str | None = None) -> Decimal:
    """A number from text with thousands separators, currency symbols or codes, a percent
    sign or accounting parentheses: ``¥1,234.50``, ``1.234,50 €``, ``(12)``, ``USD 5``."""
    if isinstance(value, bool):
        raise TransformError("not a number")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = _text(value).strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()")
    if text.startswith("-"):
        negative, text = not negative, text[1:]
    body = CURRENCY.sub("", text).rstrip("%")
    mark = decimal_mark or _decimal_mark(body)
    thousands = "." if mark == "," else ","
    body = body.replace(thousands, "").replace(mark, ".")
    try:
        if not re.fullmatch(r"\+?\d*\.?\d+|\+?\d+\.", body):
            raise InvalidOperation
        number = Decimal(body)
    except InvalidOperation as exc:
        raise TransformError(f"not a number: {_text(value)!r}") from exc
    return -number if negative else number


def _decimal_mark(body: str) -> str:
    """Which of "." and "," is the decimal mark: the last one when both appear; a lone
    comma followed by exactly three digits (1,234) is a thousands separator."""
    if "," in body and "." in body:
        return "," if body.rfind(",") > body.rfind(".") else "."
    if "," in body:
        return "." if re.fullmatch(r"\d{1,3}(,\d{3})+", body) else ","
    return "."


def parse_boolean(value: Any) -> bool:
    """A boolean from yes/no, true/false, 1/0, 是/否 and their friends."""
    if isinstance(value, bool):
        return value
    word = _text(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise TransformError(f"not yes or no: {_text(value)!r}")


def match_choice(text: str, definition: Mapping[str, Any], value_map: Mapping[str, str]) -> str:
    """A picklist value: mapped by the column's ``values``, else the value or a label of
    it (in any language) compared without regard to case; else the text as it is (the
    record service then names the unknown value)."""
    if text in value_map:
        return value_map[text]
    wanted = text.casefold()
    for entry in map(value_entry, definition.get("values", ())):
        labels = entry.get("label", {})
        names = [entry["value"], *(labels.values() if isinstance(labels, Mapping) else [labels])]
        if any(str(name).casefold() == wanted for name in names):
            return entry["value"]
    return text


@dataclass(frozen=True)
class Conversion:
    """What :func:`converter` builds a column's function from, as plain data: the process
    that converts an import's rows beside the writing one gets it pickled."""

    field_type: str
    definition: Mapping[str, Any]
    options: Mapping[str, Any]
    time_zone: str = "UTC"

    @classmethod
    def of(
        cls,
        field_type: str,
        definition: Mapping[str, Any],
        options: Mapping[str, Any],
        time_zone: str = "UTC",
    ) -> Conversion:
        """A conversion holding plain copies (a compiled definition is read-only)."""
        return cls(field_type, _plain(definition), _plain(options), time_zone)

    def function(self) -> Callable[[Any], Any]:
        """The function turning a cell into the field's value (:func:`converter`)."""
        return converter(self.field_type, self.definition, self.options, time_zone=self.time_zone)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def converter(
    field_type: str,
    definition: Mapping[str, Any],
    options: Mapping[str, Any],
    *,
    time_zone: str = "UTC",
) -> Callable[[Any], Any]:
    """The function that turns a cell into the field's value (None for a blank cell).

    Everything the options decide is decided here, once per column: the function runs
    once per cell (1.5 million times for 100,000 rows of 15 columns)."""
    value_map = {str(k): str(v) for k, v in (options.get("values") or {}).items()}
    typed = _typed(field_type, definition, options, value_map, time_zone)
    trim = options.get("trim", True)
    recase = CASES[options["case"]] if options.get("case") else None
    remap = bool(value_map) and field_type != "picklist"

    def convert(cell: Any) -> Any:
        if cell is None:
            return None
        if isinstance(cell, int | Decimal | dt.date):
            return typed(cell)
        text = cell if isinstance(cell, str) else str(cell)
        if trim:
            text = text.strip()
        elif not value_map and not text.strip():
            return None
        if recase is not None:
            text = recase(text)
        if text == "":
            return None
        if remap and text in value_map:
            text = value_map[text]
        return typed(text)

    return convert


def _typed(
    field_type: str,
    definition: Mapping[str, Any],
    options: Mapping[str, Any],
    value_map: Mapping[str, str],
    time_zone: str,
) -> Callable[[Any], Any]:
    """The conversion of a cleaned cell to a value of ``field_type``."""
    date_format = options.get("date_format")
    if field_type in ("integer", "duration"):
        return partial(_whole, mark=options.get("decimal"))
    if field_type in NUMBER_TYPES:
        return partial(parse_number, decimal_mark=options.get("decimal"))
    if field_type == "boolean":
        return parse_boolean
    if field_type == "date":
        return partial(parse_date, date_format=date_format)
    if field_type == "datetime":
        return partial(parse_datetime, date_format=date_format, time_zone=time_zone)
    if field_type == "picklist":
        return lambda value: match_choice(_text(value), definition, value_map)
    if field_type == COMPOUND_JSON:
        return parse_parts
    if field_type == "multi_picklist":
        return lambda value: [
            match_choice(p, definition, value_map)
            for p in (p.strip() for p in re.split(r"[;,；，]", _text(value)))
            if p
        ]
    return _text


# a compound field (an address) in one cell, as `crm export` writes it: a JSON object
COMPOUND_JSON = "compound_json"


def parse_parts(value: Any) -> dict[str, Any]:
    """A compound field's parts from a JSON object (``{"city": "Paris", ...}``)."""
    try:
        parts = json.loads(_text(value))
    except ValueError:
        parts = None
    if not isinstance(parts, dict):
        raise TransformError(f"not a JSON object of parts: {value}")
    return parts


def _whole(value: Any, mark: str | None = None) -> int:
    number = parse_number(value, mark)
    if number != number.to_integral_value():
        raise TransformError(f"not a whole number: {value}")
    return int(number)


def infer_options(field_type: str, samples: Iterable[Any]) -> dict[str, Any]:
    """Transform options read from sample cells: a date format every sample fits, the
    decimal mark numbers use. Empty when the defaults read them (or nothing fits: the
    rows then fail with the reason)."""
    texts = [s.strip() for s in samples if isinstance(s, str) and s.strip()]
    if not texts:
        return {}
    if field_type == "date":
        # the format most samples fit (a typo in a few rows must not hide it); ISO needs
        # no option, and a format fitting half the samples or fewer is no evidence
        fits = [(sum(_fits(t, fmt) for t in texts), -i, fmt) for i, fmt in enumerate(DATE_FORMATS)]
        count, _order, best = max(fits)
        if count * 2 > len(texts) and best != "%Y-%m-%d":
            return {"date_format": best}
    if field_type in NUMBER_TYPES:
        marks = {_decimal_mark(CURRENCY.sub("", t.strip("()-")).rstrip("%")) for t in texts}
        if marks == {","}:
            return {"decimal": ","}
    return {}


def _fits(text: str, fmt: str) -> bool:
    try:
        dt.datetime.strptime(text, fmt)
    except ValueError:
        return False
    return True
