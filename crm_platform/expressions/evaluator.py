"""Python evaluation, with simpleeval as the engine behind our allow-list.

The evaluator only ever sees the restricted tree built by the parser. Its node
table holds our handlers for exactly those node types, so even a bug upstream
could not reach attribute access, subscripts or comprehensions. Operators are
NULL-aware and decimal-exact (see numbers.py); ``and``/``or``/``not`` use SQL's
three-valued logic.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable
from datetime import UTC
from decimal import Decimal
from typing import Any

from simpleeval import InvalidExpression, SimpleEval

from . import numbers
from .checker import CheckedExpression
from .errors import ExpressionError, LimitExceeded
from .functions import LIBRARY, add_days, in_list, join_text, subtract_days, tri_not
from .nodes import FieldRef, NodeInfo, call_name, fail
from .types import EvalContext, FieldPath, ValueType
from .values import normalise_value


def _null_aware(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool | None]:
    def operator(a: Any, b: Any) -> bool | None:
        return None if a is None or b is None else compare(a, b)

    return operator


def _power(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if b is None else numbers.power(a, int(b))


OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: numbers.add,
    ast.Sub: numbers.subtract,
    ast.Mult: numbers.multiply,
    ast.Div: numbers.divide,
    ast.Mod: numbers.modulo,
    ast.Pow: _power,
    ast.USub: numbers.negate,
    ast.UAdd: numbers.identity,
    ast.Not: tri_not,
    ast.Eq: _null_aware(lambda a, b: a == b),
    ast.NotEq: _null_aware(lambda a, b: a != b),
    ast.Lt: _null_aware(lambda a, b: a < b),
    ast.LtE: _null_aware(lambda a, b: a <= b),
    ast.Gt: _null_aware(lambda a, b: a > b),
    ast.GtE: _null_aware(lambda a, b: a >= b),
    ast.In: in_list,
    ast.NotIn: lambda a, items: tri_not(in_list(a, items)),
}


class _Evaluator(SimpleEval):
    """simpleeval with our node table, operators and library.

    simpleeval's own set-up (it vets the function table, under a warnings guard) costs
    far more than a short evaluation, so it runs once for :data:`_PROTOTYPE`; each
    evaluation works on a shallow copy of it made by :meth:`bound` (the operator and
    function tables are shared and never changed).
    """

    checked: CheckedExpression
    context: EvalContext

    def __init__(self) -> None:
        library = {name: fn.impl for name, fn in LIBRARY.items() if fn.impl is not None}
        super().__init__(operators=dict(OPERATORS), functions=library, names={})

    def bound(
        self,
        checked: CheckedExpression,
        values: Callable[[FieldPath], Any],
        context: EvalContext,
    ) -> _Evaluator:
        """A fresh evaluator for one evaluation of ``checked``."""
        evaluator = copy.copy(self)
        evaluator.checked = checked
        evaluator.context = context
        evaluator._values = values
        evaluator._cache = {}
        # Replace simpleeval's node table: only what the parser lets through.
        evaluator.nodes = {
            ast.Constant: evaluator._eval_constant,
            FieldRef: evaluator._eval_field,
            ast.UnaryOp: evaluator._eval_unaryop,
            ast.BinOp: evaluator._eval_binop,
            ast.BoolOp: evaluator._eval_boolop,
            ast.Compare: evaluator._eval_compare,
            ast.Call: evaluator._eval_call,
            ast.List: evaluator._eval_list,
        }
        return evaluator

    # -- the Evaluation protocol used by functions' hooks ------------------------------

    def value(self, node: ast.expr) -> Any:
        return self._eval(node)

    def info(self, node: ast.AST) -> NodeInfo:
        return self.checked.info(node)

    # -- node handlers ------------------------------------------------------------------

    def _eval(self, node: ast.AST) -> Any:
        try:
            return super()._eval(node)
        except LimitExceeded as exc:
            fail(node, str(exc))

    def _eval_field(self, node: FieldRef) -> Any:
        if node.path not in self._cache:
            raw = self._values(node.path)
            self._cache[node.path] = normalise_value(raw, self.info(node), node)
        return self._cache[node.path]

    def _eval_binop(self, node: ast.BinOp) -> Any:
        # '+' on text joins it and '±' on a date moves it by days; the checker typed
        # the node, so its type says which meaning applies
        vtype = self.info(node).vtype
        if vtype is ValueType.TEXT:
            return join_text(self._eval(node.left), self._eval(node.right))
        if vtype is ValueType.DATE:
            left, right = self._eval(node.left), self._eval(node.right)
            if isinstance(node.op, ast.Sub):
                return subtract_days(left, right)
            if self.info(node.left).vtype is ValueType.DATE:
                return add_days(left, right)
            return add_days(right, left)
        return super()._eval_binop(node)

    def _eval_boolop(self, node: ast.BoolOp) -> bool | None:
        # SQL three-valued logic; stopping early is safe (no side effects).
        decisive = isinstance(node.op, ast.Or)
        result: bool | None = not decisive
        for operand in node.values:
            value = self._eval(operand)
            if value is decisive:
                return decisive
            if value is None:
                result = None
        return result

    def _eval_call(self, node: ast.Call) -> Any:
        function = LIBRARY[call_name(node)]
        if function.evaluate is not None:
            return function.evaluate(self, node)
        assert function.impl is not None
        args = [self._eval(arg) for arg in node.args]
        return function.impl(*args)

    def _eval_list(self, node: ast.List) -> list[Any]:
        return [self._eval(item) for item in node.elts]


_PROTOTYPE = _Evaluator()


def evaluate(
    checked: CheckedExpression,
    values: Callable[[FieldPath], Any],
    context: EvalContext,
) -> Any:
    """Evaluate in Python. ``values(path)`` gives a field's current value.

    Numbers come back as Decimal at ``checked.scale`` places, datetimes aware UTC,
    booleans as True/False/None. Raises ExpressionError for a value of the wrong
    type or a bound exceeded.
    """
    evaluator = _PROTOTYPE.bound(checked, values, context)
    try:
        result = evaluator.eval(checked.source, previously_parsed=checked.tree)
    except ExpressionError:
        raise
    except InvalidExpression as exc:  # simpleeval refused something: defence in depth
        raise ExpressionError(f"not allowed: {exc}") from None
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise ExpressionError(f"evaluation failed: {exc}") from None
    return _finish(result, checked)


def evaluate_part(checked: CheckedExpression, node: ast.expr, context: EvalContext) -> Any:
    """Evaluate one node of ``checked.tree`` that reads no field (the SQL compiler checks
    its constant parts this way). Raises ExpressionError at the node for a bound broken."""

    def no_fields(path: FieldPath) -> Any:
        raise ValueError(f"a constant part reads no field ({path})")

    return _PROTOTYPE.bound(checked, no_fields, context).value(node)


def _finish(result: Any, checked: CheckedExpression) -> Any:
    if result is None:
        return None
    if checked.value_type is ValueType.NUMBER and checked.scale is not None:
        return numbers.round_half_away(result, checked.scale)
    if checked.value_type is ValueType.DATETIME:
        return result.astimezone(UTC)
    return result
