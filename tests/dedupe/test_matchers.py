"""Each matching method of a duplicate rule, as a person would expect it to compare."""

from __future__ import annotations

import pytest

from crm_platform.dedupe import Criterion, matches, phone_valid


def crit(method: str, **kw) -> Criterion:
    return Criterion("f", method, **kw)


@pytest.mark.parametrize(
    ("method", "a", "b", "same"),
    [
        ("exact", "ACME-1", "ACME-1", True),
        ("exact", "ACME-1", "acme-1", False),
        ("normalized", "Acme  Corp", "acme corp", True),
        ("normalized", "Ａcme\tCORP", "ａcmecorp", True),  # any white space, Unicode case
        ("normalized", "Acme Corp", "Acme Corporation", False),
        ("email", " Ops@Acme.COM ", "ops@acme.com", True),
        ("email", "ops@acme.com", "ops@acme.co", False),
        ("phone", "(650) 253-0000", "+1 650-253-0000", True),
        ("phone", "+86 138 0013 8000", "+8613800138000", True),
        ("phone", "(650) 253-0000", "(650) 253-0001", False),
        ("fuzzy", "Acme Corporation", "ACME  corporation", True),
        ("fuzzy", "Corporation Acme", "Acme Corporation", True),  # word order
        ("fuzzy", "Acme Corporation", "Acme Corporatoin", True),  # a typo
        ("fuzzy", "Acme Corporation", "Globex Industries", False),
    ],
)
def test_each_method_compares_as_documented(method, a, b, same):
    assert matches(crit(method), a, b) is same
    assert matches(crit(method), b, a) is same


def test_blank_values_never_match():
    for method in ("exact", "normalized", "email", "phone", "fuzzy"):
        assert not matches(crit(method), None, None)
        assert not matches(crit(method), "  ", "  ")


def test_the_fuzzy_threshold_decides():
    loose, strict = crit("fuzzy", threshold=60), crit("fuzzy", threshold=99)
    assert matches(loose, "Acme Corp", "Acme Corporation")
    assert not matches(strict, "Acme Corp", "Acme Corporation")


def test_a_phone_without_country_code_is_read_in_the_rules_region():
    china = crit("phone", region="CN")
    assert matches(china, "138 0013 8000", "+86 138-0013-8000")
    assert not matches(crit("phone", region="US"), "138 0013 8000", "+86 138-0013-8000")
    assert phone_valid("+1 650 253 0000") and not phone_valid("12")
