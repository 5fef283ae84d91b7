"""The record service's messages in the viewer's language, where a form shows them.

The services speak English to every caller (the API's problem+json is for programs);
a page shows a person the same message in their language: an admin's validation rule
written per language (:class:`LocalizedText`) in the viewer's, and the platform's and
marshmallow's own messages through the UI's catalog (an exact message, or one of a few
shapes with a value in it). A message the catalog does not know is shown as it is."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext, lazy_gettext

from crm_platform.core import LocalizedText

# The platform's and marshmallow's fixed messages a form can show.
EXACT = {
    "required": lazy_gettext("required"),
    "Missing data for required field.": lazy_gettext("required"),
    "Field may not be null.": lazy_gettext("required"),
    "Not a valid number.": lazy_gettext("Not a valid number."),
    "Not a valid integer.": lazy_gettext("Not a valid whole number."),
    "Not a valid date.": lazy_gettext("Not a valid date."),
    "Not a valid datetime.": lazy_gettext("Not a valid date and time."),
    "Not a valid time.": lazy_gettext("Not a valid time."),
    "Not a valid email address.": lazy_gettext("Not a valid email address."),
    "Not a valid URL.": lazy_gettext("Not a valid URL."),
    "Not a valid boolean.": lazy_gettext("Not a valid yes or no."),
    "Not a valid string.": lazy_gettext("must be text"),
    "must be text": lazy_gettext("must be text"),
    "must be a number": lazy_gettext("must be a number"),
    "must be an integer": lazy_gettext("must be a whole number"),
    "already used by another record": lazy_gettext("already used by another record"),
    "read-only field": lazy_gettext("read-only field"),
    "you may not edit this field": lazy_gettext("you may not edit this field"),
    "the record does not meet a validation rule": lazy_gettext(
        "the record does not meet a validation rule"
    ),
}

# Messages with a value in them: the pattern, and the catalog's message of its groups.
SHAPES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"^required \(when (?P<condition>.+)\)$"),
        lambda m: gettext("required (when %(condition)s)", condition=m["condition"]),
    ),
    (
        re.compile(r"^Longer than maximum length (?P<max>\d+)\.$"),
        lambda m: gettext("Longer than %(max)s characters.", max=m["max"]),
    ),
    (
        re.compile(r"^Shorter than minimum length (?P<min>\d+)\.$"),
        lambda m: gettext("Shorter than %(min)s characters.", min=m["min"]),
    ),
    (
        re.compile(r"^(?P<value>.+) is not an active picklist value$"),
        lambda m: gettext("%(value)s is not an active value", value=m["value"]),
    ),
    (
        re.compile(r"^(?P<value>.+) is not one of the picklist values$"),
        lambda m: gettext("%(value)s is not one of the values", value=m["value"]),
    ),
)


def for_viewer(message: str, choose: Callable[[list[str]], str | None]) -> str:
    """``message`` as the viewer reads it (``choose`` picks among a rule's languages)."""
    if isinstance(message, LocalizedText):
        return message.choose(choose)
    if message in EXACT:
        return str(EXACT[message])
    for pattern, say in SHAPES:
        if found := pattern.match(message):
            return say(found)
    return message
