"""Compilation to SQLAlchemy Core, for PostgreSQL and SQLite.

The result has the semantics of Python evaluation (the case table proves it):

* PostgreSQL computes with NUMERIC; ``/`` is an exact integer division of
  ``a * 10^11`` then ``round(…, 10)``: rounding half away from zero of the
  quotient truncated at 11 places equals rounding the exact quotient.
* SQLite calls the library's Python implementations (see sqlite.py), except
  where its own SQL already agrees (comparisons of text, dates and booleans, CASE,
  COALESCE, AND/OR/NOT). Comparisons of a scaled-integer column with another one
  or with a literal stay plain integer comparisons, so they can use an index.
* The returned element carries a SQLAlchemy type that reads the value back as
  the Python evaluator gives it (ExactDecimal at ``checked.scale`` for numbers),
  so the caller can select it, filter and ORDER BY it, and SUM it exactly.
"""

from __future__ import annotations

import ast
import operator
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause
from sqlalchemy.types import TypeEngine

from crm_platform.core import MAX_PRECISION, ExactDecimal, JSONValue, UTCDateTime

from . import native as nat
from . import numbers
from .checker import CheckedExpression
from .dateranges import range_of_call
from .errors import ExpressionError
from .evaluator import evaluate_part
from .functions import ADD_DAYS, LIBRARY, NOT_LITERAL, SUBTRACT_DAYS, PySql, pg_shift_date
from .limits import MAX_SCALE, MAX_SQL_COST
from .nodes import FieldRef, NodeInfo, call_name, fail
from .sqlite import NUM_CMP, NUM_IN, NUM_OPERATORS, NUM_OUT, UNSCALE, encode
from .types import EvalContext, FieldPath, ValueType

T = ValueType
DIALECTS = ("sqlite", "postgresql")

_COMPARISONS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%", ast.Pow: "**"}


@dataclass(frozen=True)
class Sql:
    """A compiled node.

    ``expr`` is the general form (for NUMBER on SQLite: decimal text or a SQLite
    number). ``native`` is, on SQLite, the same number as a scaled integer when one
    is at hand: a stored column or a literal (``safe``), or arithmetic on those in
    SQLite's integers (see native.py: exact unless it overflowed, which
    ``native.guarded`` checks).
    ``cost`` estimates the size of the SQL text, which grows when a function
    repeats an argument.
    """

    expr: ColumnElement[Any]
    vtype: ValueType
    cost: int = 1
    native: nat.Native | None = None
    literal: Any = NOT_LITERAL


def compile_sql(
    checked: CheckedExpression,
    columns: Callable[[FieldPath], ColumnElement[Any]],
    context: EvalContext,
    dialect_name: str,
    hierarchy: Callable[[FieldPath], FromClause] | None = None,
) -> ColumnElement[Any]:
    """A SQLAlchemy Core expression for ``dialect_name`` ("sqlite" or "postgresql").

    ``columns(path)`` returns each field's column as stored. TODAY()/NOW() become
    bound parameters computed from ``context``. ``hierarchy(path)`` returns the links
    of the self-lookup at the end of ``path`` as rows of ``id`` and ``parent`` (a new
    FROM each call), which IS_UNDER follows; without it IS_UNDER cannot compile. On
    SQLite the connection must have ``sqlite_functions()`` registered.
    """
    if dialect_name not in DIALECTS:
        raise ValueError(f"unsupported dialect {dialect_name!r}")
    if not checked.compiles_to_sql:
        python_only = sorted(n for n in checked.functions if LIBRARY[n].python_only)
        raise ExpressionError(
            f"{', '.join(python_only)} cannot run in the database (Python only)",
            name=python_only[0],
        )
    compiler = _Compiler(checked, columns, context, dialect_name, hierarchy)
    result = compiler.finish(compiler.compile(checked.tree))
    if dialect_name == "sqlite" and _depth(checked.tree) > SHALLOW_DEPTH:
        try:
            _check_sqlite_can_parse(result)
        except ExpressionError:
            if not compiler.uses_native:
                raise
            # The native arithmetic beside the exact path nests deeper: drop it.
            compiler = _Compiler(checked, columns, context, dialect_name, hierarchy, native=False)
            result = compiler.finish(compiler.compile(checked.tree))
            _check_sqlite_can_parse(result)
    return result


_SQLITE_DIALECT = sqlite_dialect.dialect()
_PROBE = threading.local()
SQLITE_PARSER_RESERVE = 20  # parser stack left for the query the caller wraps around it
# An expression this shallow compiles to SQL SQLite always parses (a few parentheses per
# level, native arithmetic included), so the probe, which renders the SQL, is skipped.
SHALLOW_DEPTH = 4


def _depth(node: ast.AST) -> int:
    children = list(ast.iter_child_nodes(node))
    return 1 + max((_depth(child) for child in children), default=0)


def _check_sqlite_can_parse(expr: ColumnElement[Any]) -> None:
    """Refuse what SQLite's parser cannot take (its stack holds about 100 symbols: some
    30 nested calls), instead of failing later in the caller's query. SQLite itself
    parses the SQL in an empty in-memory database; only a parser overflow matters
    (unknown columns and functions are reported after parsing)."""
    text = str(expr.compile(dialect=_SQLITE_DIALECT, compile_kwargs={"render_postcompile": True}))
    probe = getattr(_PROBE, "connection", None)
    if probe is None:
        probe = _PROBE.connection = sqlite3.connect(":memory:")
    reserve = SQLITE_PARSER_RESERVE
    try:
        probe.execute("SELECT " + "(" * reserve + text + ")" * reserve).close()
    except sqlite3.Error as exc:
        if "parser stack overflow" in str(exc):
            raise ExpressionError(
                "expression is nested too deeply for SQLite: flatten it "
                "(e.g. CONCAT(a, b, c) instead of CONCAT(CONCAT(a, b), c))"
            ) from None


def _pg_type(vtype: ValueType) -> TypeEngine[Any]:
    return {
        T.TEXT: sa.Text(),
        T.NUMBER: sa.Numeric(),
        T.BOOLEAN: sa.Boolean(),
        T.DATE: sa.Date(),
        T.DATETIME: sa.DateTime(timezone=True),
        T.TIME: sa.Time(),
        T.MULTI: JSONB(),
    }[vtype]


def result_type(vtype: ValueType, scale: int | None) -> TypeEngine[Any]:
    """The SQLAlchemy type that reads a compiled result back as Python evaluation gives it."""
    if vtype is T.NUMBER:
        return ExactDecimal(MAX_PRECISION, scale or 0)
    return {
        T.TEXT: sa.Text(),
        T.BOOLEAN: sa.Boolean(),
        T.DATE: sa.Date(),
        T.DATETIME: UTCDateTime(),
        T.TIME: sa.Time(),
        T.MULTI: JSONValue,
    }.get(vtype, sa.types.NullType())


class _Compiler:
    """Compiles one checked expression; implements functions.SqlCompiler."""

    def __init__(
        self,
        checked: CheckedExpression,
        columns: Callable[[FieldPath], ColumnElement[Any]],
        context: EvalContext,
        dialect: str,
        hierarchy: Callable[[FieldPath], FromClause] | None = None,
        native: bool = True,
    ) -> None:
        self.checked = checked
        self.columns = columns
        self.context = context
        self.dialect = dialect
        self.sqlite = dialect == "sqlite"
        self.in_constant = False  # compiling inside a part already evaluated in Python
        self._hierarchy = hierarchy
        self.native = native and self.sqlite  # integer arithmetic on scaled numbers
        self.uses_native = False  # a computed native expression was built

    # -- the SqlCompiler protocol --------------------------------------------------------

    def column(self, path: FieldPath) -> ColumnElement[Any]:
        return self.columns(path)

    def hierarchy(self, node: ast.AST, path: FieldPath) -> FromClause:
        if self._hierarchy is None:
            fail(node, "IS_UNDER cannot run in the database here", "IS_UNDER")
        return self._hierarchy(path)

    def info(self, node: ast.AST) -> NodeInfo:
        return self.checked.info(node)

    def call_py(self, sig: PySql, args: Sequence[Sql], *extra: Any) -> ColumnElement[Any]:
        return getattr(sa.func, sig.name)(*(a.expr for a in args), *extra)

    def bind(self, value: Any, vtype: ValueType) -> ColumnElement[Any]:
        if vtype is T.NUMBER:
            if self.sqlite:
                return sa.literal(encode(T.NUMBER, value), sa.String())
            return sa.literal(Decimal(value), sa.Numeric())
        return sa.literal(value, result_type(vtype, None))

    def null(self, vtype: ValueType) -> ColumnElement[Any]:
        if self.sqlite or vtype is T.ANY:
            return sa.null()
        return sa.cast(sa.null(), _pg_type(vtype))

    # -- nodes ---------------------------------------------------------------------------

    def compile(self, node: ast.expr) -> Sql:
        info = self.info(node)
        if id(node) in self.checked.null_nodes:
            return Sql(self.null(info.vtype), info.vtype)
        handler = getattr(self, f"compile_{type(node).__name__}")
        outer = self.in_constant
        if not outer and _is_constant(node):
            self.refuse_out_of_range(node)
            self.in_constant = True
        try:
            result: Sql = handler(node, info)
        finally:
            self.in_constant = outer
        if result.cost > MAX_SQL_COST:
            fail(node, "expression is too complex to compile to SQL")
        return result

    def refuse_out_of_range(self, node: ast.expr) -> None:
        """Evaluate a part without fields in Python: a bound it breaks (``9 ** 100``,
        ``VALUE('999…')``) is the same 400, with its position, on both databases —
        PostgreSQL's NUMERIC would not check it, SQLite would fail the whole query."""
        try:
            evaluate_part(self.checked, node, self.context)
        except ExpressionError:
            raise
        except (ArithmeticError, TypeError, ValueError):  # the SQL reports these its own way
            return

    def compile_Constant(self, node: ast.Constant, info: NodeInfo) -> Sql:
        value: Any = node.value
        native = None
        if self.sqlite and info.vtype is T.NUMBER:
            scale = numbers.places(value)
            scaled = int(value.scaleb(scale))
            if _fits_64_bits(scaled):  # else it stays decimal text: no OverflowError on bind
                native = nat.Native(sa.literal(scaled, sa.BigInteger()), scale)
        return Sql(self.bind(value, info.vtype), info.vtype, 1, native, value)

    def compile_FieldRef(self, node: FieldRef, info: NodeInfo) -> Sql:
        column = self.columns(node.path)
        field = info.field
        if self.sqlite and info.vtype is T.NUMBER and field is not None and field.sql_scaled:
            scale = field.scale or 0
            general = getattr(sa.func, UNSCALE.name)(column, sa.literal(scale, sa.Integer()))
            return Sql(general, info.vtype, 1, nat.Native(column, scale))
        return Sql(column, info.vtype)

    def compile_BoolOp(self, node: ast.BoolOp, info: NodeInfo) -> Sql:
        parts = [self.compile(v) for v in node.values]
        combine = sa.and_ if isinstance(node.op, ast.And) else sa.or_
        return Sql(combine(*(p.expr for p in parts)), T.BOOLEAN, _cost(parts))

    def compile_UnaryOp(self, node: ast.UnaryOp, info: NodeInfo) -> Sql:
        operand = self.compile(node.operand)
        if isinstance(node.op, ast.Not):
            return Sql(sa.not_(operand.expr), T.BOOLEAN, operand.cost + 1)
        if isinstance(node.op, ast.UAdd):
            return operand
        if self.sqlite:
            expr = self.call_py(NUM_OPERATORS["neg"], [operand])
            native = self.computed(nat.negate, operand.native) if operand.native else None
            return Sql(expr, T.NUMBER, operand.cost + 1, native)
        return Sql(-operand.expr, T.NUMBER, operand.cost + 1)

    def compile_BinOp(self, node: ast.BinOp, info: NodeInfo) -> Sql:
        if info.vtype is T.TEXT:
            return self.join_text(node)
        if info.vtype is T.DATE:
            return self.shift_date(node)
        symbol = _ARITHMETIC[type(node.op)]
        if self.sqlite:
            # a + b + c is one variadic call (a left fold, so the meaning is unchanged):
            # SQLite's parser only takes about 30 nested calls.
            operands = [self.compile(n) for n in self.chain(node)]
            expr = self.call_py(NUM_OPERATORS[symbol], operands)
            return Sql(expr, T.NUMBER, _cost(operands), self.native_arithmetic(symbol, operands))
        left, right = self.compile(node.left), self.compile(node.right)
        if symbol == "**":
            return self.pg_power(node, left, int(right.literal))
        a, b = left.expr, right.expr
        zero = self.bind(Decimal(0), T.NUMBER)
        if symbol == "+":
            expr = a + b
        elif symbol == "-":
            expr = a - b
        elif symbol == "*":
            expr = a * b
            if (self.info(node.left).scale or 0) + (self.info(node.right).scale or 0) > MAX_SCALE:
                expr = sa.func.round(expr, MAX_SCALE)
        elif symbol == "%":
            expr = sa.func.mod(a, sa.func.nullif(b, zero))
        else:
            # Exact: trunc(a * 10^11 / b) is computed by div() without rounding; rounding
            # that half away from zero at 10 places is the rounding of the exact quotient.
            shifted = sa.func.div(
                a * self.bind(Decimal(10) ** (MAX_SCALE + 1), T.NUMBER), sa.func.nullif(b, zero)
            )
            unshifted = shifted * self.bind(Decimal(1).scaleb(-(MAX_SCALE + 1)), T.NUMBER)
            expr = sa.func.round(unshifted, MAX_SCALE)
        return Sql(expr, T.NUMBER, _cost([left, right]))

    def computed(
        self, operation: Callable[..., nat.Native | None], *args: Any
    ) -> nat.Native | None:
        """``operation`` on natives, when native arithmetic is on (see native.py)."""
        if not self.native:
            return None
        result = operation(*args)
        self.uses_native = self.uses_native or result is not None
        return result

    def native_arithmetic(self, symbol: str, operands: list[Sql]) -> nat.Native | None:
        """A chain ``a op b op c`` in SQLite integers, left to right; None when an
        operand has no native form or the operator has no exact integer form here."""
        if not self.native or any(o.native is None for o in operands):
            return None
        if symbol == "/":
            left, right = operands
            assert left.native is not None and right.native is not None
            return self.computed(nat.divide, left.native, right.native, right.literal)
        if symbol not in "+-*":
            return None  # % and ** take the exact path
        result: nat.Native | None = operands[0].native
        for operand in operands[1:]:
            if result is None:
                return None
            assert operand.native is not None
            if symbol == "*":
                result = self.computed(nat.multiply, result, operand.native)
            else:
                result = self.computed(nat.add, result, operand.native, symbol == "-")
        return result

    def join_text(self, node: ast.BinOp) -> Sql:
        """``a + b`` on text: SQL's ``||``, NULL when either side is (on both databases)."""
        left, right = self.compile(node.left), self.compile(node.right)
        joined = left.expr.op("||", return_type=sa.String())(right.expr)
        return Sql(joined, T.TEXT, _cost([left, right]))

    def shift_date(self, node: ast.BinOp) -> Sql:
        """``date ± n``: whole days, NULL outside years 1-9999 (as DATE_ADD)."""
        left, right = self.compile(node.left), self.compile(node.right)
        date_first = self.info(node.left).vtype is T.DATE
        start, days = (left, right) if date_first else (right, left)
        subtract = isinstance(node.op, ast.Sub)
        if self.sqlite:
            expr = self.call_py(SUBTRACT_DAYS if subtract else ADD_DAYS, [start, days])
        else:
            expr = pg_shift_date(self, start.expr, days.expr, -1 if subtract else 1)
        return Sql(expr, T.DATE, _cost([left, right]))

    def chain(self, node: ast.BinOp) -> list[ast.expr]:
        """The operands of a left-leaning chain of one operator: ((a + b) + c) -> a, b, c."""
        op_type = type(node.op)
        operands: list[ast.expr] = []
        current: ast.expr = node
        while (
            isinstance(current, ast.BinOp)
            and type(current.op) is op_type
            and op_type in (ast.Add, ast.Sub, ast.Mult)
            and id(current) not in self.checked.null_nodes
        ):
            operands.append(current.right)
            current = current.left
        if isinstance(current, ast.BinOp) and current is node:  # not chainable (/, %, **)
            return [node.left, node.right]
        operands.append(current)
        return operands[::-1]

    def pg_power(self, node: ast.BinOp, base: Sql, exponent: int) -> Sql:
        # Repeated multiplication is exact on NUMERIC (power() rounds to ~16 digits).
        if exponent == 0:
            one = self.bind(Decimal(1), T.NUMBER)
            return Sql(base.expr * self.bind(Decimal(0), T.NUMBER) + one, T.NUMBER, base.cost + 1)
        expr = base.expr
        for _ in range(exponent - 1):
            expr = expr * base.expr
        if (self.info(node.left).scale or 0) * exponent > MAX_SCALE:
            expr = sa.func.round(expr, MAX_SCALE)
        cost = base.cost * exponent + 1
        if cost > MAX_SQL_COST:
            fail(node, "expression is too complex to compile to SQL")
        return Sql(expr, T.NUMBER, cost)

    def compile_Compare(self, node: ast.Compare, info: NodeInfo) -> Sql:
        op = node.ops[0]
        left = self.compile(node.left)
        if isinstance(op, ast.In | ast.NotIn):
            negate = isinstance(op, ast.NotIn)
            if self.info(node.comparators[0]).vtype is T.DATE_RANGE:
                return self.compile_in_range(left, node.comparators[0], negate)
            return self.compile_in(left, node.comparators[0], negate=negate)
        right = self.compile(node.comparators[0])
        compare = _COMPARISONS[type(op)]
        cost = _cost([left, right])
        if left.vtype is T.NUMBER and self.sqlite:
            native = _native_pair(left, right)
            if native is not None:
                return Sql(compare(*native), T.BOOLEAN, cost)
            difference = self.call_py(NUM_CMP, [left, right])
            return Sql(compare(difference, sa.literal(0, sa.Integer())), T.BOOLEAN, cost)
        a, b = left.expr, right.expr
        if left.vtype is T.TEXT and not self.sqlite and compare not in (operator.eq, operator.ne):
            a, b = sa.collate(a, "C"), sa.collate(b, "C")  # code point order, as in Python
        return Sql(compare(a, b), T.BOOLEAN, cost)

    def compile_in(self, left: Sql, items_node: ast.expr, negate: bool) -> Sql:
        assert isinstance(items_node, ast.List)
        items = [item.value for item in items_node.elts]  # type: ignore[attr-defined]
        vtype = left.vtype
        if vtype is T.NUMBER and self.sqlite:
            scaled = _scaled_items(left, items)
            if scaled is None:
                binds = [self.bind(v, T.NUMBER) for v in items]
                found = getattr(sa.func, NUM_IN.name)(left.expr, *binds)
                return Sql(sa.not_(found) if negate else found, T.BOOLEAN, left.cost + 1)
            column, values = scaled
            binds = [sa.literal(v, sa.BigInteger()) for v in values]
        else:
            column, binds = left.expr, [self.bind(v, vtype) for v in items]
        test = column.not_in(binds) if negate else column.in_(binds)
        return Sql(test, T.BOOLEAN, left.cost + 1)

    def compile_in_range(self, left: Sql, range_node: ast.expr, negate: bool) -> Sql:
        """``x in THIS_YEAR()``: ``x >= start AND x < end`` with the bounds computed in
        Python (bound literals: an index on x serves it); ``not in`` is the opposite."""
        assert isinstance(range_node, ast.Call)
        low, high = range_of_call(range_node, self.context).bounds(left.vtype)
        x = left.expr
        tests: list[ColumnElement[Any]] = []
        if low is not None:
            bound = self.bind(low, left.vtype)
            tests.append(x < bound if negate else x >= bound)
        if high is not None:
            bound = self.bind(high, left.vtype)
            tests.append(x >= bound if negate else x < bound)
        expr = sa.or_(*tests) if negate else sa.and_(*tests)
        return Sql(expr, T.BOOLEAN, left.cost * len(tests) + 1)

    def compile_Call(self, node: ast.Call, info: NodeInfo) -> Sql:
        name = call_name(node)
        function = LIBRARY[name]
        if name == "IN":
            return self.compile_in(self.compile(node.args[0]), node.args[1], negate=False)
        if name == "IF":
            return self.compile_if_chain(node, info)
        args = [self.compile(arg) for arg in node.args]
        hook = function.sqlite if self.sqlite else function.pg
        assert hook is not None, name
        expr = hook(self, node, args)
        repeats = 1 if self.sqlite else function.repeats  # SQLite calls Python once
        native = self.native_call(name, node, expr, args, info) if self.native else None
        return Sql(expr, info.vtype, 1 + sum(a.cost for a in args) * repeats, native)

    def native_call(
        self, name: str, node: ast.Call, expr: ColumnElement[Any], args: list[Sql], info: NodeInfo
    ) -> nat.Native | None:
        """The native form of a call whose SQLite SQL has one (see native.py)."""
        if info.vtype is not T.NUMBER:
            return None
        if name == "DAYS_BETWEEN":  # its SQLite SQL is a CAST to INTEGER already
            return nat.Native(expr, 0)
        natives = [a.native for a in args]
        if any(n is None for n in natives):
            return None
        present = [n for n in natives if n is not None]
        if name in ("BLANKVALUE", "NULLVALUE"):
            return self.computed(nat.coalesce, present)
        if name == "ROUND":
            places = int(args[1].literal) if len(args) > 1 else 0
            return self.computed(nat.round_to, present[0], places)
        return None

    def compile_if_chain(self, node: ast.Call, info: NodeInfo) -> Sql:
        """IF(a, x, IF(b, y, z)) as one flat CASE WHEN a THEN x WHEN b THEN y ELSE z END.

        Same meaning (a NULL condition falls through), but SQLite's parser, whose stack
        holds about 18 nested CASEs, then accepts long IF chains.
        """
        whens: list[tuple[ColumnElement[Any], ColumnElement[Any]]] = []
        parts: list[Sql] = []
        current: ast.expr | None = node
        while (
            isinstance(current, ast.Call)
            and call_name(current) == "IF"
            and id(current) not in self.checked.null_nodes
        ):
            condition, value = self.compile(current.args[0]), self.compile(current.args[1])
            whens.append((condition.expr, value.expr))
            parts += [condition, value]
            current = current.args[2] if len(current.args) > 2 else None
        otherwise = self.null(info.vtype)
        if current is not None:
            last = self.compile(current)
            parts.append(last)
            otherwise = last.expr
        return Sql(sa.case(*whens, else_=otherwise), info.vtype, _cost(parts))

    # -- the result ----------------------------------------------------------------------

    def finish(self, root: Sql) -> ColumnElement[Any]:
        vtype, scale = self.checked.value_type, self.checked.scale
        expr = root.expr
        if vtype is T.NUMBER:
            scale = scale or 0
            if self.sqlite:
                out = self.final_native(root.native, scale)
                exact = None
                if out is None or not out.safe:
                    exact = self.call_py(NUM_OUT, [root], sa.literal(scale, sa.Integer()))
                expr = exact if out is None else nat.guarded(out, exact)
            elif self.checked.rounds:
                expr = sa.func.round(expr, scale)
        elif vtype is T.TEXT and not self.sqlite:
            # ORDER BY a text result sorts by code point, as on SQLite (same keyset order).
            expr = sa.collate(expr, "C")
        return sa.type_coerce(expr, result_type(vtype, scale))

    def final_native(self, root: nat.Native | None, scale: int) -> nat.Native | None:
        """The result's native form at the result's scale: stored columns and literals
        always; computed arithmetic when native arithmetic is on."""
        if root is None:
            return None
        if root.scale == scale:
            return root
        if not self.native:
            return None
        if root.scale < scale:
            return self.computed(nat.upscale, root, scale)
        return self.computed(nat.round_to, root, scale)


def _is_constant(node: ast.expr) -> bool:
    """A computed part (an operator or a call) that reads no field."""
    if not isinstance(node, ast.BinOp | ast.UnaryOp | ast.Call):
        return False
    return not any(isinstance(part, FieldRef) for part in ast.walk(node))


def _cost(parts: Sequence[Sql]) -> int:
    return 1 + sum(p.cost for p in parts)


def _rescale(value: Any, scale: int) -> int | None:
    """A literal as an integer at ``scale``, when that is exact."""
    if value is NOT_LITERAL or numbers.places(value) > scale:
        return None
    scaled = int(value.scaleb(scale))
    return scaled if _fits_64_bits(scaled) else None


def _fits_64_bits(value: int) -> bool:
    """Whether SQLite can take ``value`` as an INTEGER (sqlite3 raises OverflowError else)."""
    return -(2**63) <= value < 2**63


def _native_pair(left: Sql, right: Sql) -> tuple[ColumnElement[Any], ColumnElement[Any]] | None:
    """Both sides as integers at one scale (SQLite), when no rounding or overflow can occur."""
    if left.native is None or right.native is None:
        return None
    if not (left.native.safe and right.native.safe):  # computed: it may have overflowed
        return None
    a, sa_ = left.native.expr, left.native.scale
    b, sb = right.native.expr, right.native.scale
    if sa_ == sb:
        return a, b
    if right.literal is not NOT_LITERAL and (value := _rescale(right.literal, sa_)) is not None:
        return a, sa.literal(value, sa.BigInteger())
    if left.literal is not NOT_LITERAL and (value := _rescale(left.literal, sb)) is not None:
        return sa.literal(value, sa.BigInteger()), b
    return None


def _scaled_items(left: Sql, items: list[Any]) -> tuple[ColumnElement[Any], list[int]] | None:
    if left.native is None or left.literal is not NOT_LITERAL or not left.native.safe:
        return None
    column, scale = left.native.expr, left.native.scale
    values = [_rescale(v, scale) for v in items]
    if any(v is None for v in values):
        return None
    return column, [v for v in values if v is not None]
