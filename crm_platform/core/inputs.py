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

_EXPONENT = 100  # the largest exponent written in a number literal (1E+100, 1E-100)
MAX_SQL_INTEGER = 2**31 - 1  # an INTEGER column (revisions, metadata versions) holds no more

# A JSON string, removed before brackets are counted (brackets inside strings do not nest).
# The closing quote is optional: an unterminated string then runs to the end (the parser
# refuses it later) instead of each later quote starting a new scan (quadratic time).
_JSON_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
# brackets as signed steps: [ and { go one level down, ] and } one up (255 is -1 signed)
_STEPS = bytes.maketrans(b"[{]}", bytes([1, 1, 255, 255]))
_EXPONENT = 100  # the largest exponent written in a number literal (1E+100, 1E-100)
MAX_SQL_INTEGER = 2**31 - 1  # an INTEGER column (revisions, metadata versions) holds no more

# A JSON string (so brackets inside strings are not counted) or one bracket. The closing
# quote is optional: an unterminated string then runs to the end (the parser refuses it
# later) instead of every later quote starting a new scan to the end (quadratic time).
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
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


def load_json(text: str, where: str = "(body)") -> Any:
    """Parse JSON within the gate's bounds (numbers with a fraction become ``Decimal``).

    Raises InputRefused naming ``where`` (or the path of the offending string inside the
    document, e.g. ``operations[0].url``) for anything out of bounds or malformed. The C
    parser stops a document nested about 1,000 deep with a RecursionError (caught here,
    at once); the walk of the parsed value refuses what nests beyond ``MAX_JSON_DEPTH``.
    Every step is linear in the size of the text.
    """
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
    except RecursionError:
        raise InputRefused({where: _TOO_DEEP}, detail=_TOO_DEEP) from None
    except ValueError as exc:
        raise InputRefused({where: f"malformed JSON: {exc}"}, detail="malformed JSON") from None
    strings_suspect = (
        "\\u" in text  # NUL and lone surrogates enter JSON text as escapes...
        or not text.isascii()  # ...or, from a caller that did not decode strictly, raw
        or len(text) > MAX_STRING_LENGTH
    )
    if strings_suspect:
        if isinstance(value, str):
            check_text(value, where)
        _check_container(value, (), where, 0)
    elif text.count("[") + text.count("{") > MAX_JSON_DEPTH:
        # every string is short, plain ASCII without escapes (raw control characters
        # are malformed JSON): only the nesting can be out of bounds, and walking the
        # containers alone is several times cheaper than checking each string too
        _check_depth(value, where, 0)
    return value


_TOO_DEEP = f"JSON nests more than {MAX_JSON_DEPTH} levels deep"


def _check_container(value: Any, parents: tuple[Any, ...], root: str, depth: int) -> None:
    """Check the nesting and every string (keys too) of a parsed array or object.

    The path of a bad string (``operations[0].url``) is only built when it is reported;
    a bad key is reported at its parent's path, as the key itself may not be printable.
    """
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    if depth >= MAX_JSON_DEPTH:
        raise InputRefused({root: _TOO_DEEP}, detail=_TOO_DEEP)
    for key, item in items:
        if isinstance(key, str) and (problem := text_problem(key)) is not None:
            raise InputRefused({_path(root, parents): f"an object key {problem}"})
        if isinstance(item, str):
            if (problem := text_problem(item)) is not None:
                raise InputRefused({_path(root, (*parents, key)): problem})
        elif isinstance(item, dict | list):
            _check_container(item, (*parents, key), root, depth + 1)


def _check_depth(value: Any, root: str, depth: int) -> None:
    """Refuse a parsed array or object nested deeper than MAX_JSON_DEPTH (as
    :func:`_check_container` does, without looking at strings)."""
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return
    if depth >= MAX_JSON_DEPTH:
        raise InputRefused({root: _TOO_DEEP}, detail=_TOO_DEEP)
    for item in items:
        if isinstance(item, dict | list):
            _check_depth(item, root, depth + 1)


def _path(root: str, parts: tuple[Any, ...]) -> str:
    """``a[0].b`` for the parts ("a", 0, "b") of a body; prefixed by ``root`` otherwise."""
    text = "" if root == "(body)" else root
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or root
