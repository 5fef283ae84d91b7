"""The bounds of the language, in one place (the ADR quotes them)."""

from __future__ import annotations

from decimal import Decimal

MAX_SOURCE_LENGTH = 4_000  # characters of source, checked before anything is parsed
MAX_DEPTH = 50  # nesting of expression nodes
MAX_NODES = 500  # expression nodes in one expression
MAX_LIST_ITEMS = 200  # values in one `in (...)` / IN(x, [...]) list
MAX_ARGUMENTS = 100  # arguments of one call (CONCAT, CASE, MIN, ...)
MAX_TEXT_LENGTH = 100_000  # characters of any text value produced while evaluating
MAX_POWER = 100  # highest exponent of `**` (a whole-number literal)
MAX_SCALE = 10  # decimal places kept by `/`, `*`, `**` and VALUE(); ROUND's highest places
MIN_ROUND_PLACES = -18  # ROUND(x, -2) rounds to hundreds; lower than this is refused
MAX_MAGNITUDE = Decimal(10) ** 40  # a number at or above this in absolute value is an error
MAX_SQL_COST = 20_000  # size of the generated SQL (some functions repeat an argument)
MAX_HIERARCHY_DEPTH = 500  # levels IS_UNDER (and the cycle check of hierarchies) follow
