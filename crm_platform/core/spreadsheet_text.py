"""Text in CSV cells as spreadsheets take it: a value that starts like a formula is
written with an apostrophe before it, so a spreadsheet shows it as text and never runs it
(CSV injection), and the apostrophe is taken off again when such a file is imported."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard_formula(text: str) -> str:
    """``text`` as a CSV cell: an apostrophe before a value that starts like a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unguard_formula(text: str) -> str:
    """A CSV cell's text without the apostrophe :func:`guard_formula` put before it (a
    phone number ``'+86 138…`` exported and imported again stays ``+86 138…``)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
