"""Parsing: Python expression syntax through ``ast``, then our own allow-list pass.

Only what the language means survives the pass; everything else is refused with
a message that points at it. Names and dotted attribute chains become
:class:`FieldRef` nodes, so no attribute access ever reaches the evaluator.
Number literals become ``Decimal`` (from their source text, never via float).
"""

from __future__ import annotations

import ast
import io
import re
import threading
import tokenize
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from . import numbers
from .errors import ExpressionError
from .functions import LIBRARY
from .limits import (
    MAX_ARGUMENTS,
    MAX_DEPTH,
    MAX_LIST_ITEMS,
    MAX_MAGNITUDE,
    MAX_NODES,
    MAX_POWER,
    MAX_SCALE,
    MAX_SOURCE_LENGTH,
)
from .nodes import FieldRef, fail, set_position
from .types import FieldPath, ValueType

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%", ast.Pow: "**"}
_REFUSED_BINARY = {
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
}
_COMPARE = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
_REFUSED_NODES = {
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.Subscript: "subscripts (x[...]) are not allowed",
    ast.Slice: "subscripts (x[...]) are not allowed",
    ast.NamedExpr: "assignment (:=) is not allowed",
    ast.Starred: "starred expressions are not allowed",
    ast.IfExp: "conditional expressions are not allowed: use IF(condition, a, b)",
    ast.Dict: "dicts are not allowed",
    ast.Set: "sets are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}
_PLAIN_DECIMAL = re.compile(r"^[0-9]*\.?[0-9]*$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, eq=False)  # identity: it holds a syntax tree
class ParsedExpression:
    """A syntactically valid expression, not yet type-checked."""

    source: str
    tree: ast.expr
    field_paths: frozenset[FieldPath]
    functions: frozenset[str]
    multiline: bool


def parse(source: str) -> ParsedExpression:
    """Parse ``source`` and apply the allow-list; raises ExpressionError."""
    if not isinstance(source, str):
        raise ExpressionError("an expression must be text")
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(
            f"expression is too long ({len(source)} characters, at most {MAX_SOURCE_LENGTH})"
        )
    if not source.strip():
        raise ExpressionError("expression is empty")
    lines = _LINE_BREAK.split(source)
    tree = _python_parse(source, lines)
    _check_size(tree, lines)
    return _Normaliser(source, lines).run(tree)


# CPython 3.11 counts the AST constructor's recursion in state the interpreter shares
# between threads: two threads parsing at once (a request and the work runner) can
# corrupt it, and a parse then fails with "SystemError: AST constructor recursion depth
# mismatch" (python/cpython#106905). Parses take turns; parsed expressions are cached.
_AST_TURNS = threading.Lock()


def python_tree(wrapped: str) -> ast.Expression:
    """``ast.parse(wrapped, mode="eval")``, one thread at a time."""
    with _AST_TURNS:
        return ast.parse(wrapped, mode="eval")


def _python_parse(source: str, lines: list[str]) -> ast.Expression:
    # The source goes inside parentheses on lines of their own, so an expression
    # may start with spaces and break lines anywhere; line 1 of the source is line
    # 2 of the wrapped text and columns are unchanged.
    wrapped = _wrapped(source)
    multiline = len(lines) > 1
    try:
        tree = python_tree(wrapped)
        _check_wrapping(wrapped)
    except SyntaxError as exc:
        line = max((exc.lineno or 2) - 1, 1)
        column = max(exc.offset or 1, 1)
        if line > len(lines):  # the error is at our closing parenthesis: the end
            line, column = len(lines), len(lines[-1]) + 1
        reason = f"syntax error: {exc.msg}"
        raise ExpressionError(reason, position=column, line=line, multiline=multiline) from None
    except (RecursionError, MemoryError):
        reason = f"expression is nested too deeply (at most {MAX_DEPTH} levels)"
        raise ExpressionError(reason) from None
    except ValueError as exc:  # e.g. NUL characters
        raise ExpressionError(f"syntax error: {exc}") from None
    return tree


def _check_wrapping(wrapped: str) -> None:
    """Refuse sources such as ``1) + (2`` that only parse thanks to our parentheses."""
    depth = 0
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(wrapped).readline))
    except tokenize.TokenError as exc:
        raise SyntaxError(str(exc)) from None
    significant = [t for t in tokens if t.type == tokenize.OP]
    for index, token in enumerate(significant):
        if token.string in "([{":
            depth += 1
        elif token.string in ")]}":
            depth -= 1
            if depth == 0 and index != len(significant) - 1:
                raise SyntaxError(
                    "unmatched ')'", ("<expression>", token.start[0], token.start[1] + 1, "")
                )


def _check_size(tree: ast.Expression, lines: list[str]) -> None:
    """Depth and node count, without recursion (the tree may be very deep)."""
    count = 0
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH or count > MAX_NODES:
            line, column = _position(node, lines)
            reason = (
                f"expression is nested too deeply (at most {MAX_DEPTH} levels)"
                if depth > MAX_DEPTH
                else f"expression is too large (at most {MAX_NODES} parts)"
            )
            raise ExpressionError(reason, position=column, line=line, multiline=len(lines) > 1)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr | ast.keyword | ast.comprehension | ast.arguments):
                stack.append((child, depth + 1))


def _position(node: ast.AST, lines: list[str]) -> tuple[int, int]:
    """(line, 1-based character column) in the source; ast gives UTF-8 byte offsets."""
    line = max(getattr(node, "lineno", 2) - 1, 1)
    if line > len(lines):
        return len(lines), len(lines[-1]) + 1
    offset = getattr(node, "col_offset", 0)
    text = lines[line - 1].encode("utf-8")[:offset].decode("utf-8", errors="ignore")
    return line, len(text) + 1


class _Normaliser:
    """The allow-list pass: builds the restricted tree, or raises at the first refusal."""

    def __init__(self, source: str, lines: list[str]) -> None:
        self.source = source
        self.wrapped = _wrapped(source)
        self.lines = lines
        self.multiline = len(lines) > 1
        self.paths: set[FieldPath] = set()
        self.functions: set[str] = set()

    def run(self, tree: ast.Expression) -> ParsedExpression:
        body = self.node(tree.body)
        return ParsedExpression(
            source=self.source,
            tree=body,
            field_paths=frozenset(self.paths),
            functions=frozenset(self.functions),
            multiline=self.multiline,
        )

    def locate(self, new: ast.AST, old: ast.AST) -> Any:
        line, column = _position(old, self.lines)
        set_position(new, line, column, self.multiline)
        return new

    def refuse(self, node: ast.AST, reason: str, name: str | None = None) -> Any:
        self.locate(node, node)
        fail(node, reason, name)

    # -- dispatch ---------------------------------------------------------------------

    def node(self, node: ast.AST) -> ast.expr:
        handler = getattr(self, f"visit_{type(node).__name__}", None)
        if handler is None:
            reason = _REFUSED_NODES.get(type(node), f"{type(node).__name__} is not allowed")
            return self.refuse(node, reason)
        return handler(node)

    def visit_Constant(self, node: ast.Constant) -> ast.expr:
        value = node.value
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return self.locate(ast.Constant(value=value), node)
        if isinstance(value, int):
            return self.number(Decimal(value), node)
        if isinstance(value, float):
            text = (ast.get_source_segment(self.wrapped, node) or "").replace("_", "")
            if not _PLAIN_DECIMAL.match(text):
                self.refuse(node, "write numbers in plain decimal notation, such as 1500.25")
            try:
                return self.number(Decimal(text), node)
            except InvalidOperation:
                self.refuse(node, f"invalid number {text!r}")
        kind = {bytes: "bytes are", complex: "complex numbers are"}.get(type(value), "this is")
        return self.refuse(node, f"{kind} not allowed")

    def number(self, value: Decimal, node: ast.AST) -> ast.expr:
        if abs(value) >= MAX_MAGNITUDE:
            self.refuse(node, "number is too large")
        if numbers.places(value) > MAX_SCALE:
            self.refuse(node, f"numbers have at most {MAX_SCALE} decimal places")
        return self.locate(ast.Constant(value=value), node)

    def visit_Name(self, node: ast.Name) -> ast.expr:
        self.check_name(node, node.id)
        if node.id in LIBRARY:
            self.refuse(node, f"{node.id} is a function: write {node.id}(...)", node.id)
        return self.field(node, (node.id,))

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        # A dotted path; a step may narrow a polymorphic lookup to one of its targets:
        # related_to[account].industry -> ("related_to[account]", "industry").
        parts: list[str] = []
        current: ast.AST = node
        narrowed: str | None = None
        while isinstance(current, ast.Attribute | ast.Subscript):
            if isinstance(current, ast.Subscript):
                if narrowed is not None or not isinstance(current.slice, ast.Name):
                    return self.refuse(current, "a path step is narrowed as lookup[object]")
                self.check_name(node, current.slice.id)
                narrowed = current.slice.id
                current = current.value
                continue
            parts.append(current.attr if narrowed is None else f"{current.attr}[{narrowed}]")
            narrowed = None
            current = current.value
        if not isinstance(current, ast.Name):
            return self.refuse(node, "attribute access is not allowed")
        parts.append(current.id if narrowed is None else f"{current.id}[{narrowed}]")
        path = tuple(reversed(parts))
        for part in path:
            self.check_name(node, part.split("[", 1)[0])
        return self.field(node, path)

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        if isinstance(node.slice, ast.Name):
            return self.refuse(
                node, "a narrowed lookup needs a field after it, such as related_to[account].name"
            )
        return self.refuse(node, _REFUSED_NODES[ast.Subscript])

    def check_name(self, node: ast.AST, name: str) -> None:
        if name.startswith("_"):
            self.refuse(node, f"names starting with '_' are not allowed: {name}", name)

    def field(self, node: ast.AST, path: FieldPath) -> ast.expr:
        self.paths.add(path)
        ref = FieldRef()
        ref.path = path
        return self.locate(ref, node)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        values = [self.node(v) for v in node.values]
        return self.locate(ast.BoolOp(op=node.op, values=values), node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        op_type = type(node.op)
        if op_type not in _BINARY:
            symbol = _REFUSED_BINARY.get(op_type, op_type.__name__)
            return self.refuse(node, f"operator '{symbol}' is not allowed")
        left, right = self.node(node.left), self.node(node.right)
        if op_type is ast.Pow and not _whole_literal(right, 0, MAX_POWER):
            fail(right, f"the exponent of ** must be a whole number from 0 to {MAX_POWER}")
        return self.locate(ast.BinOp(left=left, op=node.op, right=right), node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        if isinstance(node.op, ast.Invert):
            return self.refuse(node, "operator '~' is not allowed")
        operand = self.node(node.operand)
        if (
            isinstance(node.op, ast.USub | ast.UAdd)
            and isinstance(operand, ast.Constant)
            and isinstance(operand.value, Decimal)
        ):
            # Fold signed literals, so ROUND(x, -2) and lists of negative numbers are literals.
            value = -operand.value if isinstance(node.op, ast.USub) else operand.value
            return self.locate(ast.Constant(value=value), node)
        return self.locate(ast.UnaryOp(op=node.op, operand=operand), node)

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        if len(node.ops) > 1:
            return self.refuse(node, "chained comparisons are not allowed: write a < b and b < c")
        op = node.ops[0]
        if isinstance(op, ast.Is | ast.IsNot):
            return self.refuse(node, "'is' is not allowed: use ISBLANK(x) or ==")
        if not isinstance(op, _COMPARE):
            return self.refuse(node, f"{type(op).__name__} is not allowed")
        left = self.node(node.left)
        if isinstance(op, ast.In | ast.NotIn):
            right = self.in_right_side(node.comparators[0])
        else:
            right = self.node(node.comparators[0])
        return self.locate(ast.Compare(left=left, ops=[op], comparators=[right]), node)

    def visit_Call(self, node: ast.Call) -> ast.expr:
        if not isinstance(node.func, ast.Name):
            what = "methods cannot be called" if isinstance(node.func, ast.Attribute) else None
            return self.refuse(node, what or "only library functions can be called")
        name = node.func.id
        function = LIBRARY.get(name)
        if function is None:
            hint = f" (functions are written in capitals: {name.upper()})"
            known = name.upper() in LIBRARY and name != name.upper()
            return self.refuse(node, f"unknown function '{name}'{hint if known else ''}", name)
        if node.keywords:
            return self.refuse(node.keywords[0].value, "keyword arguments are not allowed", name)
        if len(node.args) > MAX_ARGUMENTS:
            return self.refuse(node, f"too many arguments (at most {MAX_ARGUMENTS})", name)
        self.functions.add(name)
        args = [
            self.literal_list(arg, name) if index == function.list_arg else self.node(arg)
            for index, arg in enumerate(node.args)
        ]
        func = self.locate(ast.Name(id=name, ctx=ast.Load()), node.func)
        return self.locate(ast.Call(func=func, args=args, keywords=[]), node)

    def in_right_side(self, node: ast.AST) -> ast.expr:
        """After ``in``: a literal list, or a call of a date range such as THIS_YEAR()."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            function = LIBRARY.get(node.func.id)
            if function is None or function.result is ValueType.DATE_RANGE:
                return self.node(node)  # a range, or "unknown function" with its hint
        if not isinstance(node, ast.List | ast.Tuple):
            return self.refuse(
                node,
                "'in' expects a list of literal values, such as ['a', 'b'], "
                "or a date range, such as THIS_YEAR()",
            )
        return self.literal_list(node, "'in'")

    def literal_list(self, node: ast.AST, where: str) -> ast.expr:
        if not isinstance(node, ast.List | ast.Tuple):
            return self.refuse(
                node, f"{where} expects a list of literal values, such as ['a', 'b']"
            )
        if not node.elts:
            return self.refuse(node, "the list is empty")
        if len(node.elts) > MAX_LIST_ITEMS:
            return self.refuse(node, f"the list is too long (at most {MAX_LIST_ITEMS} values)")
        items = []
        for element in node.elts:
            item = self.node(element)
            if not isinstance(item, ast.Constant):
                fail(item, "lists may only hold literal values")
            if item.value is None:
                fail(item, "a list may not hold None: use ISBLANK(x)")
            items.append(item)
        return self.locate(ast.List(elts=items, ctx=ast.Load()), node)

    def visit_List(self, node: ast.List) -> ast.expr:
        return self.refuse(node, "lists are only allowed after 'in' and as IN's second argument")

    visit_Tuple = visit_List


def _whole_literal(node: ast.expr, low: int, high: int) -> bool:
    value = node.value if isinstance(node, ast.Constant) else None
    return (
        isinstance(value, Decimal) and value == value.to_integral_value() and low <= value <= high
    )


def _wrapped(source: str) -> str:
    return "(\n" + source + "\n)"
