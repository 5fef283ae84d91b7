"""The one expression language of the platform (DESIGN §4, ADR 0003).

Formula fields, defaults, validation rules, trigger and sharing criteria, list
view and report filters and the API's ``where=`` all use it::

    parsed = parse("amount * probability / 100 > 5000")
    checked = check(parsed, scope, expected=ValueType.BOOLEAN)
    evaluate(checked, record_values, EvalContext.current("Europe/Paris"))   # in Python
    compile_sql(checked, column_of, context, "postgresql")                  # in SQL
"""

from .checker import CheckedExpression, check
from .dateranges import RANGE_FUNCTIONS
from .errors import ExpressionError
from .evaluator import evaluate
from .functions import LIBRARY
from .limits import MAX_HIERARCHY_DEPTH, MAX_SOURCE_LENGTH
from .parser import ParsedExpression, parse
from .sql import compile_sql
from .sqlite import sqlite_functions
from .types import EvalContext, FieldInfo, MappingScope, Scope, ValueType

FUNCTION_NAMES = frozenset(LIBRARY)
# The functions whose value depends on the moment (and the org's zone and fiscal year):
# SQL compiled from an expression using one must not outlive its request.
TIME_FUNCTIONS = frozenset({"TODAY", "NOW", *RANGE_FUNCTIONS})

__all__ = [
    "FUNCTION_NAMES",
    "MAX_HIERARCHY_DEPTH",
    "MAX_SOURCE_LENGTH",
    "TIME_FUNCTIONS",
    "CheckedExpression",
    "EvalContext",
    "ExpressionError",
    "FieldInfo",
    "MappingScope",
    "ParsedExpression",
    "Scope",
    "ValueType",
    "check",
    "compile_sql",
    "evaluate",
    "parse",
    "sqlite_functions",
]
