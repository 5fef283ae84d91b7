"""Parse and type-check errors: what an admin sees when saving a bad expression."""

from __future__ import annotations

import pytest

from crm_platform.core import ValidationFailed
from crm_platform.expressions import ExpressionError, ValueType, check, parse

from .conftest import python_scope

T = ValueType


def error_of(source: str, expected: ValueType | None = None) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        check(parse(source), python_scope(), expected)
    return caught.value


def test_unknown_field_names_it_and_its_position() -> None:
    error = error_of("amout > 1")
    assert error.message == "unknown field 'amout' at position 1"
    assert (error.position, error.line, error.name) == (1, 1, "amout")


def test_position_is_a_character_column_not_a_byte_offset() -> None:
    error = error_of("'straße' == nme")
    assert error.message == "unknown field 'nme' at position 13"


def test_unknown_dotted_path() -> None:
    error = error_of("amount > 1 and account.sector == 'x'")
    assert error.message == "unknown field 'account.sector' at position 16"
    assert error.name == "account.sector"


def test_multiline_source_gives_the_line() -> None:
    error = error_of("amount > 1\n  and nme == 'x'")
    assert error.message == "unknown field 'nme' at line 2, position 7"
    assert (error.line, error.position) == (2, 7)


def test_lowercase_true_gets_a_hint() -> None:
    assert error_of("flag == true").message == "unknown field 'true' (write True) at position 9"


def test_unknown_function() -> None:
    error = error_of("EXEC(1)")
    assert error.message == "unknown function 'EXEC' at position 1"
    assert error.name == "EXEC"


def test_lowercase_function_gets_a_hint() -> None:
    error = error_of("len(name)")
    assert error.message == (
        "unknown function 'len' (functions are written in capitals: LEN) at position 1"
    )


def test_wrong_argument_type() -> None:
    error = error_of("CONCAT(True, 'a')")
    assert error.message == "CONCAT expects text, got boolean at position 8"
    assert (
        error_of("CONCAT('a', flag)").message == "CONCAT expects text, got boolean at position 13"
    )
    assert error_of("UPPER(amount)").message == "UPPER expects text, got number at position 7"
    assert error_of("MAX(amount, d)").message == "MAX expects number, got date at position 13"


def test_wrong_argument_count() -> None:
    assert (
        error_of("ROUND(1, 2, 3)").message == "ROUND expects 1 to 2 arguments, got 3 at position 1"
    )
    assert error_of("TODAY(1)").message == "TODAY expects 0 arguments, got 1 at position 1"
    assert error_of("CONCAT()").message == "CONCAT expects at least 1 argument, got 0 at position 1"


def test_result_type_must_match_what_the_caller_expects() -> None:
    error = error_of("amount + 1", expected=T.BOOLEAN)
    assert error.message == "expected a boolean result, got number at position 1"
    checked = check(parse("None"), python_scope(), T.BOOLEAN)
    assert checked.value_type is T.BOOLEAN


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("name + 1", "'+' joins text with text, got number: use TEXT(x) at position 8"),
        ("name - 'x'", "'-' expects number, got text at position 1"),
        ("d - d", "'-' cannot take a date away: use DAYS_BETWEEN(a, b) at position 5"),
        ("1 - d", "'-' cannot take a date away: use date - n at position 5"),
        ("d + d", "'+' cannot add two dates: add a number of days at position 5"),
        ("d * 2", "'*' expects number, got date at position 1"),
        ("flag * 2", "'*' expects number, got boolean at position 1"),
        ("amount == None", "a comparison with None is never true: use ISBLANK(x) at position 11"),
        ("amount == 'x'", "cannot compare number with text at position 11"),
        ("flag < True", "'<' cannot order boolean values at position 1"),
        (
            "tags == 'a'",
            "a multi-select cannot be compared: use INCLUDES(field, value) at position 1",
        ),
        ("stage == 'Closed Wn'", "'Closed Wn' is not a value of picklist stage at position 10"),
        (
            "stage in ('Prospecting', 'Lost')",
            "'Lost' is not a value of picklist stage at position 26",
        ),
        ("INCLUDES(tags, 'z')", "'z' is not a value of picklist tags at position 16"),
        (
            "DATE_ADD(d, 1, 'weeks')",
            "DATE_ADD unit must be 'days', 'months' or 'years', not 'weeks' at position 16",
        ),
        (
            "DATE_ADD(d, 1, name)",
            "DATE_ADD expects 'days', 'months' or 'years' written as a literal at position 16",
        ),
        (
            "ROUND(amount, qty)",
            "ROUND expects the number of places as a whole number from -18 to 10 written as a "
            "literal at position 15",
        ),
        (
            "ROUND(amount, 11)",
            "ROUND expects the number of places as a whole number from -18 to 10 at position 15",
        ),
        (
            "PICKLIST_ATTR(name, 'x')",
            "PICKLIST_ATTR expects a picklist field, got name at position 15",
        ),
        (
            "PICKLIST_ATTR(stage, 'nope')",
            "unknown picklist attribute 'nope' of stage at position 22",
        ),
        (
            "PICKLIST_ATTR(stage, 'mixed')",
            "picklist attribute 'mixed' mixes types at position 22",
        ),
        (
            "PICKLIST_ATTR(tags, 'probability')",
            "PICKLIST_ATTR expects a picklist field, got tags at position 15",
        ),
        (
            "PICKLIST_ATTR(stage, name)",
            "PICKLIST_ATTR expects the attribute name written as a literal at position 22",
        ),
        (
            "PRIORVALUE(account.industry)",
            "PRIORVALUE expects a field of the record itself at position 12",
        ),
        ("IN(name, [1, 2])", "IN expects a list of text, got number at position 10"),
        ("name in (1, 'a')", "the list mixes number and text at position 13"),
        ("CASE(name, 'a', 1, 'b', 'two')", "CASE expects number, got text at position 25"),
        ("IF(amount, 1, 2)", "IF expects boolean, got number at position 4"),
        ("not amount", "'not' expects boolean, got number at position 5"),
        ("TODAY", "TODAY is a function: write TODAY(...) at position 1"),
    ],
)
def test_type_errors(source: str, message: str) -> None:
    assert error_of(source).message == message


def test_syntax_error_has_a_position() -> None:
    error = error_of("amount >")
    assert error.message.startswith("syntax error")
    assert error.position is not None


def test_parentheses_of_the_wrapper_cannot_be_closed_early() -> None:
    with pytest.raises(ExpressionError):
        parse("1) + (2")


def test_whitespace_and_line_breaks_are_fine() -> None:
    checked = check(parse("  amount > 1\nand flag\n"), python_scope(), T.BOOLEAN)
    assert checked.field_paths == {("amount",), ("flag",)}


def test_parsed_expression_lists_fields_and_functions() -> None:
    parsed = parse("IF(ISBLANK(account.industry), UPPER(name), 'x')")
    assert parsed.field_paths == {("account", "industry"), ("name",)}
    assert parsed.functions == {"IF", "ISBLANK", "UPPER"}


def test_checked_expression_knows_whether_it_compiles_to_sql() -> None:
    scope = python_scope()
    assert check(parse("amount > 1"), scope).compiles_to_sql
    assert not check(parse("ISCHANGED(amount)"), scope).compiles_to_sql
    assert not check(parse("ISNEW() or PRIORVALUE(amount) > 1"), scope).compiles_to_sql


def test_a_picklist_attribute_has_the_type_of_its_values() -> None:
    scope = python_scope()
    assert check(parse("PICKLIST_ATTR(stage, 'probability')"), scope).value_type is T.NUMBER
    assert check(parse("PICKLIST_ATTR(stage, 'probability')"), scope).scale == 1
    assert check(parse("PICKLIST_ATTR(stage, 'is_won')"), scope).value_type is T.BOOLEAN
    assert check(parse("PICKLIST_ATTR(stage, 'forecast')"), scope).value_type is T.TEXT
    assert check(parse("PICKLIST_ATTR(stage, 'is_won')"), scope).compiles_to_sql


def test_number_result_scale() -> None:
    scope = python_scope()
    assert check(parse("amount + rate"), scope).scale == 4
    assert check(parse("amount * rate"), scope).scale == 6
    assert check(parse("amount / 3"), scope).scale == 10
    assert check(parse("ROUND(amount / 3, 2)"), scope).scale == 2
    assert check(parse("amount / 3"), scope, scale=2).scale == 2


def test_expression_error_is_a_400_problem() -> None:
    error = error_of("amout > 1")
    assert isinstance(error, ValidationFailed)
    problem = error.to_problem()
    assert problem["status"] == 400
    assert problem["errors"] == {"expression": ["unknown field 'amout' at position 1"]}
    assert problem["position"] == 1
    assert problem["name"] == "amout"
