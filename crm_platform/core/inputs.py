"""What any input may hold before the platform looks at it: the input gate's rules.

Every request passes the gate (``crm_platform.api.gate``) before a handler runs, and
everything else that reads text from outside (keyset cursors) uses the same rules:

* JSON nests at most ``MAX_JSON_DEPTH`` levels, checked on the raw text before it is
  parsed (so 100,000 brackets cost a scan, not a ``RecursionError``);
* a number literal has at most ``MAX_NUMBER_LENGTH`` characters and an exponent of at
  most ``MAX_EXPONENT``, checked on the literal before it becomes a ``Decimal`` or an
  ``int`` (converting ``1E+400000`` to an integer costs seconds of CPU); NaN and
  Infinity are not JSON;
* a string (a JSON string or object key, a path, a query parameter) holds at most
  ``MAX_STRING_LENGTH`` characters, no NUL character (PostgreSQL cannot store one and
  no user means one) and only valid Unicode (no lone surrogate, which no database can
  store).

Each bound is far above what any field can hold, so only attacks and accidents meet it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import simplejson

from .errors import ValidationFailed

MAX_JSON_DEPTH = 64  # nested arrays and objects in one JSON document
MAX_STRING_LENGTH = 1_000_000  # characters of one string: a long text field's largest max_length
MAX_NUMBER_LENGTH = 100  # characters of one number literal (a field holds at most 19 digits)
MAX_EXPONENT = 100  # the largest exponent written in a number literal (1E+100, 1E-100)
MAX_SQL_INTEGER = 2**31 - 1  # an INTEGER column (revisions, metadata versions) holds no more

# A JSON string (so brackets inside strings are not counted) or one bracket.
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_EXPONENT = re.compile(r"[eE]([+-]?[0-9]+)$")


class InputRefused(ValidationFailed):
    """An input broke one of the gate's bounds (a 400 that names where)."""


def text_problem(text: str) -> str | None:
    """Why ``text`` may not enter the platform, or None when it may."""
    if len(text) > MAX_STRING_LENGTH:
        return f"is longer than {MAX_STRING_LENGTH} characters"
    if "\x00" in text:
        return "must not contain NUL characters"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "is not valid Unicode (it holds a lone surrogate)"
    return None


def check_text(text: str, where: str) -> str:
    """``text`` itself, or InputRefused naming ``where``."""
    problem = text_problem(text)
    if problem is not None:
        raise InputRefused({where: problem})
    return text


def number_problem(literal: str) -> str | None:
    """Why a number literal is refused, judged on its text before any conversion."""
    if len(literal) > MAX_NUMBER_LENGTH:
        return f"a number has at most {MAX_NUMBER_LENGTH} characters"
    match = _EXPONENT.search(literal)
    if match is not None and abs(int(match.group(1))) > MAX_EXPONENT:
        return f"a number's exponent is at most {MAX_EXPONENT} (1E+{MAX_EXPONENT})"
    return None


class _NumberRefused(ValueError):
    pass


def _decimal(literal: str) -> Decimal:
    problem = number_problem(literal)
    if problem is not None:
        raise _NumberRefused(problem)
    return Decimal(literal)


def _integer(literal: str) -> int:
    problem = number_problem(literal)
    if problem is not None:
        raise _NumberRefused(problem)
    return int(literal)


def _no_constant(name: str) -> Any:
    raise _NumberRefused(f"{name} is not a JSON number")


def json_depth_problem(text: str) -> str | None:
    """Why ``text`` nests too deeply, found by a scan that stops at the first excess."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return None  # the usual case: too few brackets to nest too deeply
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return f"JSON nests more than {MAX_JSON_DEPTH} levels deep"
        elif char in "]}":
            depth -= 1
    return None


def load_json(text: str, where: str = "(body)") -> Any:
    """Parse JSON within the gate's bounds (numbers with a fraction become ``Decimal``).

    Raises InputRefused naming ``where`` (or the path of the offending string inside the
    document, e.g. ``operations[0].url``) for anything out of bounds or malformed.
    """
    problem = json_depth_problem(text)
    if problem is not None:
        raise InputRefused({where: problem}, detail=problem)
    try:
        value = simplejson.loads(
            text,
            use_decimal=False,
            parse_float=_decimal,
            parse_int=_integer,
            parse_constant=_no_constant,
        )
    except _NumberRefused as exc:
        raise InputRefused({where: str(exc)}, detail=str(exc)) from None
    except (ValueError, RecursionError) as exc:
        raise InputRefused({where: f"malformed JSON: {exc}"}, detail="malformed JSON") from None
    _check_strings(value, where, where)
    return value


def _check_strings(value: Any, path: str, root: str) -> None:
    """Check every string of a parsed document, keys too, naming its path (depth is bounded).

    A bad key is reported at its parent's path: the key itself may not be printable.
    """
    if isinstance(value, str):
        check_text(value, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = text_problem(key)
            if problem is not None:
                raise InputRefused({path: f"an object key {problem}"})
            _check_strings(item, key if path == root == "(body)" else f"{path}.{key}", root)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_strings(item, f"{path}[{index}]", root)
