"""How two values of a criterion are compared (in Python, within a block of candidates).

Each method has a normaliser and a test: ``exact`` (the values as stored),
``normalized`` (case- and space-insensitive), ``email`` (trimmed, case-insensitive),
``phone`` (parsed with ``phonenumbers`` into E.164, in the criterion's default region)
and ``fuzzy`` (``rapidfuzz`` token-sort similarity of the normalised texts, 0..100, at
or above the criterion's threshold). A blank value never matches anything: two records
without a phone are not duplicates by phone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

METHODS = ("exact", "normalized", "email", "phone", "fuzzy")
DEFAULT_THRESHOLD = 90
DEFAULT_REGION = "US"
_NOT_DIGITS = re.compile(r"\D+")


@dataclass(frozen=True)
class Criterion:
    """One field compared by one method (all criteria of a rule must match)."""

    field: str
    method: str
    threshold: int = DEFAULT_THRESHOLD
    region: str = DEFAULT_REGION


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def squeeze(value: str) -> str:
    """Case- and space-insensitive form: every kind of white space removed, case folded."""
    return "".join(value.split()).casefold()


def spaced(value: str) -> str:
    """Case-folded with runs of white space made one space (what fuzzy names compare)."""
    return " ".join(value.split()).casefold()


def email_key(value: str) -> str:
    return value.strip().lower()


def phone_key(value: str, region: str = DEFAULT_REGION) -> str:
    """E.164 when ``phonenumbers`` can read the number, else its digits alone."""
    import phonenumbers  # loaded by the first phone rule, not at start-up

    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return _NOT_DIGITS.sub("", value)
    if not phonenumbers.is_possible_number(parsed):
        return _NOT_DIGITS.sub("", value)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_valid(value: str, region: str = DEFAULT_REGION) -> bool:
    """Whether ``phonenumbers`` reads a possible number (what the quality report counts)."""
    import phonenumbers

    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(value, region))
    except phonenumbers.NumberParseException:
        return False


def similarity(a: str, b: str) -> float:
    """Token-sort similarity of two names, 0..100 ("Acme Corp" ~ "ACME  corp." ~ "Corp
    Acme"), after rapidfuzz's own preprocessing (lower case, punctuation as spaces)."""
    from rapidfuzz import fuzz, utils  # loaded by the first fuzzy rule, not at start-up

    return fuzz.token_sort_ratio(a, b, processor=utils.default_process)


def close_texts(criterion: Criterion, value: Any, texts: list[Any]) -> list[int]:
    """The indexes of ``texts`` at or above the fuzzy criterion's threshold from ``value``
    (scored in rapidfuzz's C loop: a block of thousands costs milliseconds)."""
    from rapidfuzz import fuzz, process, utils

    if blank(value):
        return []
    choices = [t if isinstance(t, str) and t.strip() else "" for t in texts]
    found = process.extract(
        str(value),
        choices,
        scorer=fuzz.token_sort_ratio,
        processor=utils.default_process,
        score_cutoff=criterion.threshold,
        limit=None,
    )
    return sorted(index for _choice, _score, index in found if choices[index])


def matches(criterion: Criterion, a: Any, b: Any) -> bool:
    """Whether two values match by the criterion's method (blank never matches)."""
    if blank(a) or blank(b):
        return False
    method = criterion.method
    if method == "exact":
        return a == b
    a, b = str(a), str(b)
    if method == "normalized":
        return squeeze(a) == squeeze(b)
    if method == "email":
        return email_key(a) == email_key(b)
    if method == "phone":
        return phone_key(a, criterion.region) == phone_key(b, criterion.region)
    if method == "fuzzy":
        return similarity(a, b) >= criterion.threshold
    raise ValueError(f"unknown method {method!r}")
