"""Each transform, as a mapping file names it: cells of real-world files become values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_platform.imports.transforms import (
    TransformError,
    converter,
    infer_options,
    parse_boolean,
    parse_date,
    parse_number,
)


@pytest.mark.parametrize(
    ("cell", "fmt", "expected"),
    [
        ("2024/3/5", None, "2024-03-05"),
        ("05.03.2024", None, "2024-03-05"),
        ("2024年3月5日", None, "2024-03-05"),
        ("2024-03-05", None, "2024-03-05"),
        ("12/31/2024", None, "2024-12-31"),
        ("03/05/2024", "%m/%d/%Y", "2024-03-05"),
        ("03/05/2024", "%d/%m/%Y", "2024-05-03"),
        (" 2024/3/5 ", None, "2024-03-05"),
    ],
)
def test_dates_in_the_formats_people_type(cell, fmt, expected):
    assert parse_date(cell, fmt) == expected


def test_a_date_that_is_no_date_says_so():
    with pytest.raises(TransformError, match="not a date: '2024/13/5'"):
        parse_date("2024/13/5", None)
    with pytest.raises(TransformError, match=r"expected %d\.%m\.%Y"):
        parse_date("2024/3/5", "%d.%m.%Y")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1,234.50", "1234.50"),
        ("$1,234.50", "1234.50"),
        ("¥1,234", "1234"),
        ("￥ 12,345,678.9", "12345678.9"),
        ("1.234,50 €", "1234.50"),
        ("USD 5", "5"),
        ("5 CNY", "5"),
        ("-1,000", "-1000"),
        ("(12.5)", "-12.5"),
        ("12%", "12"),
        ("3,5", "3.5"),
        ("1 234 567", "1234567"),
        (7, "7"),
    ],
)
def test_numbers_with_separators_and_currency_symbols(cell, expected):
    assert parse_number(cell) == Decimal(expected)


def test_the_decimal_mark_can_be_given():
    assert parse_number("1.234", ",") == Decimal("1234")
    assert parse_number("1,234", ",") == Decimal("1.234")


@pytest.mark.parametrize("cell", ["abc", "1.2.3x", "--5", ""])
def test_text_that_is_no_number_says_so(cell):
    with pytest.raises(TransformError, match="not a number"):
        parse_number(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("是", True),
        ("否", False),
        ("yes", True),
        ("No", False),
        ("TRUE", True),
        ("0", False),
        ("y", True),
    ],
)
def test_booleans_in_chinese_and_english(cell, expected):
    assert parse_boolean(cell) is expected


def test_a_boolean_that_is_neither_says_so():
    with pytest.raises(TransformError, match="not yes or no: 'maybe'"):
        parse_boolean("maybe")


def test_trim_and_case():
    upper = converter("text", {}, {"case": "upper"})
    assert upper("  acme  ") == "ACME"
    assert converter("text", {}, {"case": "title"})("john smith") == "John Smith"
    assert converter("text", {}, {"trim": False})("  x ") == "  x "
    assert converter("text", {}, {})("   ") is None  # a blank cell sets nothing


def test_picklist_values_by_map_by_label_in_any_language_or_case():
    definition = {
        "values": [
            {"value": "Closed Won", "label": {"en": "Closed Won", "zh": "赢单"}},
            "Prospecting",
        ]
    }
    convert = converter("picklist", definition, {"values": {"won": "Closed Won"}})
    assert convert("won") == "Closed Won"
    assert convert("赢单") == "Closed Won"
    assert convert("prospecting") == "Prospecting"
    assert convert("Lost") == "Lost"  # unknown: the record service names it


def test_integers_refuse_fractions_and_multi_picklists_split():
    assert converter("integer", {}, {})("1,200") == 1200
    with pytest.raises(TransformError, match="not a whole number"):
        converter("integer", {}, {})("1.5")
    multi = converter("multi_picklist", {"values": ["A", "B"]}, {})
    assert multi("a; B") == ["A", "B"]


def test_a_value_map_applies_to_any_type():
    convert = converter("boolean", {}, {"values": {"active": "yes", "gone": "no"}})
    assert convert("active") is True and convert("gone") is False


def test_date_formats_and_decimal_marks_are_inferred_from_values():
    assert infer_options("date", ["05.03.2024", "17.11.2023", "typo"]) == {
        "date_format": "%d.%m.%Y"
    }
    assert infer_options("date", ["2024/3/5", "2024/12/1"]) == {"date_format": "%Y/%m/%d"}
    assert infer_options("date", ["03/05/2024", "12/31/2024"]) == {"date_format": "%m/%d/%Y"}
    assert infer_options("date", ["2024-03-05"]) == {}
    assert infer_options("currency", ["1.234,50", "3,5"]) == {"decimal": ","}
    assert infer_options("currency", ["1,234.50", "3.5"]) == {}
