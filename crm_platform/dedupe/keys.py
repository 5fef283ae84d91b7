"""Blocking keys in SQL: the cheap key two records must share before they are compared.

A rule is blocked on one criterion (the first that is not fuzzy: every match of the rule
shares its key), and a rule of fuzzy criteria alone on two keys — the first four and the
last four characters of the squeezed name — so a typo at one end still meets its twin
at the other. Keys are SQL expressions over the column, applied in the same way to the
values being written, so Python and the database never disagree about a key:

* ``exact``: the value; ``email``: ``lower(trim(value))``;
* ``normalized``: the value without spaces, tabs and line breaks, in lower case (the
  Unicode-aware ``crm_lower`` on SQLite, ICU root collation on PostgreSQL);
* ``phone``: the last seven characters once spaces and ``+-().,/`` are removed (two
  spellings of one number share them; ``phonenumbers`` decides within the block).

A fuzzy name's last four characters are taken once the legal forms of company names are
removed (``有限公司``, ``Inc.``, ``GmbH``…; wherever they stand, the key stays short):
otherwise every "…有限公司" of an org shares one key, and each write compared its name
with all of them (and a duplicate report cut that block at 500, missing the clusters
beyond).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from crm_platform.expressions.functions import PG_CASE_COLLATION

from .kind import DuplicateRule
from .matchers import Criterion

PHONE_SEPARATORS = (" ", "-", "(", ")", ".", ",", "/", "+", "\t")
SPACES = (" ", "\t", "\n", "\r", "\u00a0", "\u3000")
PHONE_TAIL = 7
NAME_ENDS = 4
# as squeezed names spell them (no spaces, lower case); removed wherever they stand (one
# `replace` each: the key stays one short expression), longest first
LEGAL_FORMS = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "公司",
    "co.,ltd.",
    "co.,ltd",
    "co.ltd.",
    "corporation",
    "company",
    "limited",
    "gmbh",
    "corp.",
    "inc.",
    "ltd.",
    "llc",
    "plc",
)


def _const(value: Any) -> Any:
    """A constant written into the SQL text, not bound: an index on the key expression
    (:mod:`.indexes`) serves a query only when both spell the expression the same."""
    return sa.literal(value, literal_execute=True)


def _strip(expr: Any, chars: tuple[str, ...]) -> Any:
    for char in chars:
        expr = sa.func.replace(expr, _const(char), _const(""))
    return expr


def _lower(dialect: str, expr: Any) -> Any:
    if dialect == "sqlite":
        return sa.func.crm_lower(expr)
    return sa.func.lower(sa.collate(expr, PG_CASE_COLLATION))


def _tail(dialect: str, expr: Any, size: int) -> Any:
    if dialect == "sqlite":
        return sa.func.substr(expr, _const(-size))
    return sa.func.right(expr, _const(size))


def squeezed(dialect: str, expr: Any) -> Any:
    """Case- and space-insensitive form of a text in SQL."""
    return _lower(dialect, _strip(expr, SPACES))


def criterion_keys(dialect: str, criterion: Criterion, expr: Any) -> list[Any]:
    """The blocking key(s) of one criterion over ``expr`` (a column or a bound value)."""
    text = sa.cast(expr, sa.Text) if criterion.method != "exact" else expr
    method = criterion.method
    if method == "exact":
        return [text]
    if method == "email":
        return [sa.func.lower(sa.func.trim(text))]
    if method == "phone":
        return [_tail(dialect, _strip(text, PHONE_SEPARATORS), PHONE_TAIL)]
    if method == "normalized":
        return [squeezed(dialect, text)]
    short = squeezed(dialect, text)
    bare = _strip(short, LEGAL_FORMS)
    return [sa.func.substr(short, _const(1), _const(NAME_ENDS)), _tail(dialect, bare, NAME_ENDS)]


def blocking_criterion(rule: DuplicateRule) -> Criterion:
    """The criterion a rule is blocked on: the first that is not fuzzy, else the first."""
    return next((c for c in rule.criteria if c.method != "fuzzy"), rule.criteria[0])
