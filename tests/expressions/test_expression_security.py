"""Hostile input: every attempt must end in ExpressionError (a 400), never in code
execution, a RecursionError, a MemoryError or an endless computation."""

from __future__ import annotations

import ast
import dataclasses

import pytest
import sqlalchemy as sa

from crm_platform.expressions import ExpressionError, ValueType, check, parse

from .conftest import SqlEnv, python_scope, run_python

ATTACKS = [
    "__import__('os')",
    "__import__('os').system('true')",
    "().__class__",
    "().__class__.__bases__[0].__subclasses__()",
    '"a".upper()',
    "name.upper()",
    "amount.__class__",
    "account.__dict__",
    "__builtins__",
    "_private",
    "[x for x in y]",
    "{x for x in y}",
    "(x for x in y)",
    "lambda: 1",
    'f"{x}"',
    'f"{amount.__class__}"',
    "x[0]",
    "name[0:2]",
    "9**9**9",
    "2 ** -1",
    "2 ** 101",
    "2 ** amount",
    "'a' * 10**9",
    "10 ** 100",
    "99999999999999999999999999999999999999999999",
    "1e308",
    "1.5e3",
    "0.00000000001",
    "1j",
    "b'x'",
    "...",
    "1; DROP TABLE x",
    "1 -- DROP TABLE x",
    "name == 'x'; DROP TABLE expression_cases",
    "(x := 1)",
    "CONCAT(*names)",
    "ROUND(amount, places=1)",
    "getattr(amount, 'real')",
    "eval('1')",
    "exec('1')",
    "open('/etc/passwd')",
    "1 if flag else 2",
    "{1: 2}",
    "{1}",
    "~1",
    "1 << 100",
    "7 // 2",
    "amount is None",
    "1 < amount < 3",
    "[1, 2]",
    "(1, 2)",
    "name in names",
    "yield 1",
    "await x",
    "amount\x00",
    "",
    "   ",
    "x" * 4_001,
    "(" * 10_000 + "1" + ")" * 10_000,
    "NOT(" * 10_000 + "flag" + ")" * 10_000,
    "(" * 1_000 + "1" + ")" * 1_000,
    "NOT(" * 100 + "flag" + ")" * 100,
    "not " * 900 + "flag",
    "-" * 3_999 + "1",
    "+".join(["1"] * 1_000),
    "CONCAT(" + ", ".join(["'a'"] * 101) + ")",
    "qty in (" + ",".join(["1"] * 201) + ")",
    "+".join(["qty"] * 501),
]


@pytest.mark.parametrize("source", ATTACKS, ids=lambda s: repr(s[:40]))
def test_attack_is_refused(source: str) -> None:
    with pytest.raises(ExpressionError):
        run_python(source, {"amount": 1, "flag": True, "name": "n"})


def test_text_results_are_bounded() -> None:
    long_text = "x" * 60_000
    with pytest.raises(ExpressionError, match="text longer than 100000"):
        run_python("CONCAT(name, name)", {"name": long_text})
    with pytest.raises(ExpressionError, match="text longer than 100000"):
        run_python("UPPER(CONCAT(name, title))", {"name": "ß" * 50_000, "title": "a"})


def test_numbers_are_bounded() -> None:
    with pytest.raises(ExpressionError, match="number out of range"):
        run_python("amount * amount * amount", {"amount": 10**15})
    assert run_python("1.0000001 ** 100") is not None  # small bases with big exponents are fine


def test_the_evaluator_itself_refuses_nodes_outside_the_allow_list() -> None:
    # Defence in depth: even a tree that skipped the parser cannot reach attributes.
    checked = check(parse("amount"), python_scope())
    for hostile in ("().__class__", "amount.real", "[c for c in 'ab']", "x[0]"):
        tree = ast.parse(hostile, mode="eval").body
        tampered = dataclasses.replace(checked, tree=tree)
        from crm_platform.expressions import evaluate

        from .conftest import CONTEXT

        with pytest.raises(ExpressionError):
            evaluate(tampered, lambda path: 1, CONTEXT)


def test_sql_fragments_in_literals_are_bound_parameters(sql_env: SqlEnv) -> None:
    payload = "'); DROP TABLE expression_cases; --"
    row = sql_env.insert({"name": "x"})
    source = f'name == "{payload}" or CONTAINS(name, "\\" OR 1=1 --")'
    assert sql_env.select_one(source, row) is False
    _checked, expr = sql_env.compile(source)
    compiled = str(expr.compile(sql_env.db.engine))
    assert "DROP" not in compiled
    with sql_env.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sql_env.table)).scalar() == 1


def test_type_checked_sources_cannot_name_python_builtins() -> None:
    for name in ("print", "len", "str", "int", "type", "globals", "locals", "vars", "dir"):
        with pytest.raises(ExpressionError, match="unknown function"):
            check(parse(f"{name}(1)"), python_scope(), ValueType.TEXT)
