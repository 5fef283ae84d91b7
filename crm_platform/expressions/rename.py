"""Renaming field paths inside an expression's source, through its syntax tree.

A rename rewrites every expression that names the field. Text replacement would
also hit strings, function names and longer names that merely contain it, so the
source is parsed, each field path is found in the tree with its exact span, and
only those spans are replaced: spacing, comments-free layout and everything else
of the source stay as the author wrote them.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from .parser import _wrapped, parse, python_tree
from .types import FieldPath

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def rename_paths(source: str, rename: Callable[[FieldPath], FieldPath]) -> str:
    """``source`` with every field path ``p`` written as ``rename(p)``.

    Raises ExpressionError when ``source`` is not a valid expression.
    """
    parse(source)  # the allow-list pass: only valid expressions are rewritten
    wrapped = _wrapped(source)
    tree = python_tree(wrapped)
    starts = _line_starts(wrapped)
    edits: list[tuple[int, int, str]] = []
    stack: list[ast.AST] = [tree.body]
    while stack:
        node = stack.pop()
        path = _path(node)
        if path is not None:
            new = rename(path)
            if new != path:
                start = _offset(wrapped, starts, node.lineno, node.col_offset)
                end = _offset(wrapped, starts, node.end_lineno or 0, node.end_col_offset or 0)
                edits.append((start, end, ".".join(new)))
            continue
        if isinstance(node, ast.Call):
            stack.extend(node.args)  # the function's own name is not a field
            continue
        stack.extend(ast.iter_child_nodes(node))
    for start, end, text in sorted(edits, reverse=True):
        wrapped = wrapped[:start] + text + wrapped[end:]
    return wrapped[2:-2]  # without the parentheses and line breaks _wrapped added


def _path(node: ast.AST) -> FieldPath | None:
    """The field path a name or dotted chain spells, else None; a step narrowed to one
    target of a polymorphic lookup is one part, as the parser names it
    (``related_to[account].industry`` -> ``("related_to[account]", "industry")``)."""
    parts: list[str] = []
    narrowed: str | None = None
    current = node
    while isinstance(current, ast.Attribute | ast.Subscript):
        if isinstance(current, ast.Subscript):
            if narrowed is not None or not isinstance(current.slice, ast.Name):
                return None
            narrowed = current.slice.id
        else:
            parts.append(_step(current.attr, narrowed))
            narrowed = None
        current = current.value
    if not isinstance(current, ast.Name):
        return None
    parts.append(_step(current.id, narrowed))
    return tuple(reversed(parts))


def _step(name: str, narrowed: str | None) -> str:
    return name if narrowed is None else f"{name}[{narrowed}]"


def _line_starts(text: str) -> list[int]:
    starts, position = [], 0
    for match in _LINE.finditer(text):
        starts.append(position)
        position = match.end()
    return starts


def _offset(text: str, starts: list[int], line: int, byte_column: int) -> int:
    """A character offset in ``text`` from ast's (1-based line, UTF-8 byte column)."""
    begin = starts[line - 1]
    line_text = text[begin:]
    prefix = line_text.encode("utf-8")[:byte_column].decode("utf-8", errors="ignore")
    return begin + len(prefix)
