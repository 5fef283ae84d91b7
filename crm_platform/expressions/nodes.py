"""The node types of a parsed expression and how errors point into the source.

A parsed expression is a tree of standard ``ast`` nodes restricted by the parser
(constants, operators, comparisons, calls of library functions, literal lists)
plus :class:`FieldRef`, which replaces names and dotted attribute chains. Every
node carries ``crm_pos = (line, column, multiline)`` in source coordinates.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, NoReturn

from .errors import ExpressionError
from .types import FieldInfo, FieldPath, ValueType


class FieldRef(ast.expr):
    """A reference to a field, by path: ``amount`` -> ("amount",); ``account.industry``."""

    _fields = ("path",)
    path: FieldPath

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class NodeInfo:
    """What the type checker found out about one node."""

    vtype: ValueType
    scale: int | None = None  # decimal places of a NUMBER (an upper bound, exact for SQL)
    field: FieldInfo | None = None  # for a FieldRef


def set_position(node: ast.AST, line: int, column: int, multiline: bool) -> None:
    node.crm_pos = (line, column, multiline)  # type: ignore[attr-defined]


def fail(node: ast.AST | None, reason: str, name: str | None = None) -> NoReturn:
    """Raise ExpressionError at the node's position."""
    line, column, multiline = getattr(node, "crm_pos", (None, None, False))
    raise ExpressionError(reason, position=column, line=line, name=name, multiline=multiline)


def call_name(node: ast.Call) -> str:
    """The library name of a call (the parser guarantees a plain name)."""
    func: Any = node.func
    return str(func.id)
