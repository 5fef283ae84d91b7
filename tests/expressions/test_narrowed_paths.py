"""Parsing and checking paths through a polymorphic lookup narrowed to one target, and
IS_UNDER's arguments, against a plain mapping scope."""

from __future__ import annotations

import pytest

from crm_platform.expressions import (
    ExpressionError,
    FieldInfo,
    MappingScope,
    ValueType,
    check,
    parse,
)

T = ValueType
SCOPE = MappingScope(
    {
        "name": FieldInfo(T.TEXT),
        "parent_account": FieldInfo(T.TEXT, hierarchy=True),
        "account": FieldInfo(T.TEXT),
        "related_to[account].industry": FieldInfo(T.TEXT),
        "opportunity.related_to[account].industry": FieldInfo(T.TEXT),
    }
)


@pytest.mark.parametrize(
    ("source", "path"),
    [
        ("related_to[account].industry", ("related_to[account]", "industry")),
        (
            "opportunity.related_to[account].industry",
            ("opportunity", "related_to[account]", "industry"),
        ),
        ("related_to[user].email", ("related_to[user]", "email")),
    ],
)
def test_a_narrowed_step_is_one_step_of_the_path(source, path):
    assert parse(source).field_paths == frozenset({path})


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("related_to[account]", "needs a field after it"),
        ("related_to['account'].name", r"narrowed as lookup\[object\]"),
        ("related_to[account][contact].name", r"narrowed as lookup\[object\]"),
        ("related_to[_x].name", "names starting with '_'"),
        ("name[0]", "subscripts"),
    ],
)
def test_what_is_not_a_narrowed_path_is_refused(source, reason):
    with pytest.raises(ExpressionError, match=reason):
        parse(source)


def test_is_under_takes_a_hierarchy_lookup_and_an_id():
    for source in ("IS_UNDER(parent_account, 'x')", "IS_UNDER(parent_account, name)"):
        assert check(parse(source), SCOPE, T.BOOLEAN).value_type is T.BOOLEAN
    for source, reason in (
        ("IS_UNDER(account, 'x')", "its own object"),
        ("IS_UNDER(name, 'x')", "its own object"),
        ("IS_UNDER(parent_account, 5)", "as text"),
        ("IS_UNDER(parent_account, None)", "literal"),
    ):
        with pytest.raises(ExpressionError, match=reason):
            check(parse(source), SCOPE, T.BOOLEAN)
