"""Text in CSV cells as spreadsheets take it: a value that starts like a formula is
written with an apostrophe before it, so a spreadsheet shows it as text and never runs it
(CSV injection), and the apostrophe is taken off again when such a file is imported."""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# a signed number alone is read as that number, never run: "-5" stays as it is (an error
# file's rejected amounts), while "+1 555 0100" is taken for a formula by a spreadsheet
PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)*")


def guard_formula(text: str) -> str:
    """``text`` as a CSV cell: an apostrophe before a value that starts like a formula."""
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def unguard_formula(text: str) -> str:
    """A CSV cell's text without the apostrophe :func:`guard_formula` put before it (a
    phone number ``'+86 138…`` exported and imported again stays ``+86 138…``)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
