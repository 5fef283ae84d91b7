"""Type checking against a scope: every node gets a type (and a scale for numbers).

The checker is where an admin's mistakes are caught when an expression is saved:
unknown fields and functions, wrong argument types and counts, a result of the
wrong type, a picklist literal that is not one of the field's values.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crm_platform.core import MAX_PRECISION

from .functions import LIBRARY, NOT_LITERAL, ORDERED, Arg, check_call
from .limits import MAX_SCALE
from .nodes import FieldRef, NodeInfo, call_name, fail
from .parser import ParsedExpression
from .types import FieldInfo, FieldPath, Scope, ValueType

T = ValueType
_SYMBOLS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.And: "and",
    ast.Or: "or",
    ast.Not: "not",
    ast.USub: "-",
    ast.UAdd: "+",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}

# Spreadsheet habits: `true`, `null` are names in Python syntax.
_LITERAL_HINTS = {"true": "True", "false": "False", "null": "None", "none": "None"}


@dataclass(frozen=True, eq=False)  # identity: it holds a syntax tree
class CheckedExpression:
    """A type-checked expression, ready to evaluate in Python or compile to SQL.

    ``scale`` is the number of decimal places of a NUMBER result (results are
    given at that scale by both ``evaluate`` and ``compile_sql``); ``rounds`` says
    the caller asked for fewer places than the expression has, so the result is
    rounded half away from zero.
    """

    source: str
    value_type: ValueType
    scale: int | None
    field_paths: frozenset[FieldPath]
    functions: frozenset[str]
    compiles_to_sql: bool
    tree: ast.expr
    infos: Mapping[int, NodeInfo]
    null_nodes: frozenset[int]
    fields: Mapping[FieldPath, FieldInfo]
    rounds: bool = False

    def info(self, node: ast.AST) -> NodeInfo:
        """What the checker found out about a node of ``tree``."""
        return self.infos[id(node)]


def check(
    parsed: ParsedExpression,
    scope: Scope,
    expected: ValueType | None = None,
    *,
    scale: int | None = None,
) -> CheckedExpression:
    """Type-check ``parsed`` against ``scope``; raises ExpressionError.

    ``expected`` is the result type the caller needs (BOOLEAN for a filter or a
    validation rule; the return type of a formula). ``scale`` rounds a NUMBER
    result to that many places (a formula field's declared scale).
    """
    checker = _Checker(scope)
    root = checker.visit(parsed.tree)
    if expected is not None and expected is not T.ANY:
        if root.vtype is T.ANY:
            root = checker.coerce(parsed.tree, expected)
        elif root.vtype is not expected:
            fail(parsed.tree, f"expected a {expected.label} result, got {root.vtype.label}")
    result_scale, rounds = root.scale, False
    if root.vtype is T.NUMBER:
        result_scale = root.scale if root.scale is not None else MAX_SCALE
        if scale is not None:
            if not 0 <= scale <= MAX_PRECISION:
                raise ValueError(f"scale must be between 0 and {MAX_PRECISION}")
            rounds = scale < result_scale
            result_scale = scale
    python_only = any(LIBRARY[name].python_only for name in parsed.functions)
    return CheckedExpression(
        source=parsed.source,
        value_type=root.vtype,
        scale=result_scale,
        field_paths=parsed.field_paths,
        functions=parsed.functions,
        compiles_to_sql=not python_only,
        tree=parsed.tree,
        infos=dict(checker.infos),
        null_nodes=frozenset(checker.null_nodes),
        fields=dict(checker.fields),
        rounds=rounds,
    )


def check_picklist_literal(info: FieldInfo | None, node: ast.AST, path: str) -> None:
    """A text literal compared with a picklist field must be one of its values."""
    if info is None or info.picklist_values is None or not isinstance(node, ast.Constant):
        return
    if isinstance(node.value, str) and node.value not in info.picklist_values:
        fail(node, f"{node.value!r} is not a value of picklist {path}", path)


class _Checker:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.infos: dict[int, NodeInfo] = {}
        self.null_nodes: set[int] = set()
        self.fields: dict[FieldPath, FieldInfo] = {}
        self.range_places: set[int] = set()  # the nodes right of `in`: a date range fits

    def visit(self, node: ast.expr) -> NodeInfo:
        handler = getattr(self, f"visit_{type(node).__name__}")
        info: NodeInfo = handler(node)
        if info.vtype is T.DATE_RANGE and id(node) not in self.range_places:
            name = call_name(node) if isinstance(node, ast.Call) else "a date range"
            fail(
                node,
                f"{name}() is a date range: it can only follow 'in' or 'not in', "
                f"as in close_date in {name}()",
                name,
            )
        self.infos[id(node)] = info
        return info

    def coerce(self, node: ast.expr, vtype: ValueType) -> NodeInfo:
        """Give a NULL (type ANY) the type it is used as, so SQL can type it."""
        info = self.infos[id(node)]
        if info.vtype is T.ANY and vtype is not T.ANY:
            info = NodeInfo(vtype, 0 if vtype is T.NUMBER else None)
            self.infos[id(node)] = info
            self.null_nodes.add(id(node))
        return info

    def expect(self, node: ast.expr, vtype: ValueType, what: str) -> NodeInfo:
        info = self.visit(node)
        if info.vtype is T.ANY:
            return self.coerce(node, vtype)
        if info.vtype is not vtype:
            fail(node, f"{what} expects {vtype.label}, got {info.vtype.label}")
        return info

    # -- leaves -----------------------------------------------------------------------

    def visit_Constant(self, node: ast.Constant) -> NodeInfo:
        value: Any = node.value
        if value is None:
            self.null_nodes.add(id(node))
            return NodeInfo(T.ANY)
        if isinstance(value, bool):
            return NodeInfo(T.BOOLEAN)
        if isinstance(value, Decimal):
            return NodeInfo(T.NUMBER, max(0, -int(value.as_tuple().exponent)))
        return NodeInfo(T.TEXT)

    def visit_FieldRef(self, node: FieldRef) -> NodeInfo:
        info = self.scope.resolve(node.path)
        if info is None:
            hint = _LITERAL_HINTS.get(node.dotted.lower())
            reason = f"unknown field '{node.dotted}'" + (f" (write {hint})" if hint else "")
            fail(node, reason, node.dotted)
        self.fields[node.path] = info
        scale = None
        if info.value_type is T.NUMBER:
            scale = info.scale if info.scale is not None else MAX_SCALE
        return NodeInfo(info.value_type, scale, info)

    def visit_List(self, node: ast.List) -> NodeInfo:
        vtype = T.ANY
        for item in node.elts:
            info = self.visit(item)
            if vtype is T.ANY:
                vtype = info.vtype
            elif info.vtype is not vtype:
                fail(item, f"the list mixes {vtype.label} and {info.vtype.label}")
        return NodeInfo(vtype)

    # -- operators --------------------------------------------------------------------

    def visit_BoolOp(self, node: ast.BoolOp) -> NodeInfo:
        for value in node.values:
            self.expect(value, T.BOOLEAN, f"'{_SYMBOLS[type(node.op)]}'")
        return NodeInfo(T.BOOLEAN)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> NodeInfo:
        symbol = _SYMBOLS[type(node.op)]
        if isinstance(node.op, ast.Not):
            self.expect(node.operand, T.BOOLEAN, f"'{symbol}'")
            return NodeInfo(T.BOOLEAN)
        operand = self.expect(node.operand, T.NUMBER, f"'{symbol}'")
        return NodeInfo(T.NUMBER, operand.scale)

    def visit_BinOp(self, node: ast.BinOp) -> NodeInfo:
        symbol = _SYMBOLS[type(node.op)]
        left, right = self.visit(node.left), self.visit(node.right)
        kinds = {left.vtype, right.vtype}
        if symbol == "+" and T.TEXT in kinds:
            return self.join_text(node, left, right)
        if symbol in "+-" and T.DATE in kinds:
            return self.shift_date(node, symbol, left, right)
        for side, info in ((node.left, left), (node.right, right)):
            if info.vtype is T.DATETIME and symbol in "+-":
                fail(side, f"'{symbol}' does not work on datetimes: use DATE_ADD on a date")
            if info.vtype not in (T.NUMBER, T.ANY):
                fail(side, f"'{symbol}' expects number, got {info.vtype.label}")
        left, right = self.coerce(node.left, T.NUMBER), self.coerce(node.right, T.NUMBER)
        ls, rs = left.scale or 0, right.scale or 0
        if isinstance(node.op, ast.Div):
            scale = MAX_SCALE
        elif isinstance(node.op, ast.Mult):
            scale = min(ls + rs, MAX_SCALE)
        elif isinstance(node.op, ast.Pow):
            exponent = int(node.right.value)  # type: ignore[attr-defined]
            scale = min(ls * exponent, MAX_SCALE)
        else:
            scale = max(ls, rs)
        return NodeInfo(T.NUMBER, scale)

    def join_text(self, node: ast.BinOp, left: NodeInfo, right: NodeInfo) -> NodeInfo:
        """``text + text`` joins the texts (NULL if either is NULL, as SQL's ``||``)."""
        for side, info in ((node.left, left), (node.right, right)):
            if info.vtype not in (T.TEXT, T.ANY):
                fail(side, f"'+' joins text with text, got {info.vtype.label}: use TEXT(x)")
            self.coerce(side, T.TEXT)
        return NodeInfo(T.TEXT)

    def shift_date(self, node: ast.BinOp, symbol: str, left: NodeInfo, right: NodeInfo) -> NodeInfo:
        """``date + n``, ``n + date`` and ``date - n``: n whole days later (or earlier)."""
        if symbol == "-" and right.vtype is T.DATE:
            what = "DAYS_BETWEEN(a, b)" if left.vtype is T.DATE else "date - n"
            fail(node.right, f"'-' cannot take a date away: use {what}")
        for side, info in ((node.left, left), (node.right, right)):
            if info.vtype not in (T.DATE, T.NUMBER, T.ANY):
                fail(side, f"'{symbol}' adds a number of days to a date, got {info.vtype.label}")
        if left.vtype is T.DATE and right.vtype is T.DATE:
            fail(node.right, "'+' cannot add two dates: add a number of days")
        for side, info in ((node.left, left), (node.right, right)):
            if info.vtype is not T.DATE:
                self.coerce(side, T.NUMBER)
        return NodeInfo(T.DATE)

    def visit_Compare(self, node: ast.Compare) -> NodeInfo:
        op, right_node = node.ops[0], node.comparators[0]
        symbol = _SYMBOLS[type(op)]
        if isinstance(op, ast.In | ast.NotIn) and isinstance(right_node, ast.Call):
            self.range_places.add(id(right_node))
        left, right = self.visit(node.left), self.visit(right_node)
        if right.vtype is T.DATE_RANGE:
            return self.check_in_range(node.left, left, right_node, symbol)
        for side, info in ((node.left, left), (right_node, right)):
            if info.vtype is T.ANY:
                fail(side, "a comparison with None is never true: use ISBLANK(x)")
            if info.vtype is T.MULTI:
                fail(side, "a multi-select cannot be compared: use INCLUDES(field, value)")
        if left.vtype is not right.vtype:
            fail(right_node, f"cannot compare {left.vtype.label} with {right.vtype.label}")
        if isinstance(op, ast.Lt | ast.LtE | ast.Gt | ast.GtE) and left.vtype not in ORDERED:
            fail(node, f"'{symbol}' cannot order {left.vtype.label} values")
        self.check_picklist(node.left, left, right_node)
        self.check_picklist(right_node, right, node.left)
        return NodeInfo(T.BOOLEAN)

    def check_in_range(
        self, subject: ast.expr, info: NodeInfo, range_node: ast.expr, symbol: str
    ) -> NodeInfo:
        """``x in THIS_YEAR()``: x must be a date or a datetime."""
        name = call_name(range_node)  # type: ignore[arg-type]
        if info.vtype is T.ANY:
            fail(subject, "a comparison with None is never true: use ISBLANK(x)")
        if info.vtype not in (T.DATE, T.DATETIME):
            fail(
                subject,
                f"'{symbol} {name}()' expects a date or datetime, got {info.vtype.label}",
                name,
            )
        return NodeInfo(T.BOOLEAN)

    def check_picklist(self, side: ast.expr, info: NodeInfo, other: ast.expr) -> None:
        if isinstance(side, FieldRef):
            literals = other.elts if isinstance(other, ast.List) else [other]
            for literal in literals:
                check_picklist_literal(info.field, literal, side.dotted)

    # -- calls ------------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> NodeInfo:
        name = call_name(node)
        function = LIBRARY[name]
        args = []
        for arg in node.args:
            info = self.visit(arg)
            literal = arg.value if isinstance(arg, ast.Constant) else NOT_LITERAL
            args.append(Arg(arg, info, literal))
        result, used = check_call(function, node, args)
        for arg, vtype in zip(node.args, used, strict=True):
            self.coerce(arg, vtype)
        if name in ("IN", "INCLUDES") and isinstance(node.args[0], FieldRef):
            self.check_picklist(node.args[0], args[0].info, node.args[1])
        if result.vtype is T.ANY:
            self.null_nodes.add(id(node))  # every argument is NULL: so is the result
        return result
