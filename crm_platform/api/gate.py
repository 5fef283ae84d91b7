"""The input gate: every request's path, query and body are bounded before any handler runs.

The rules live in ``crm_platform.core.inputs`` (so keyset cursors, read by the runtime,
obey the same ones); this module applies them to a Flask request. A JSON body is parsed
here, once, and handlers take it from ``read_json``: no handler ever sees a body that
nests too deeply, holds an oversized number literal, a NUL character or a lone
surrogate. A refused request answers 400 problem+json naming the offending place and
changes nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request

from crm_platform.core.inputs import InputRefused, check_text, load_json, text_problem

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_UNPARSED = object()


def check_request() -> None:
    """Refuse the current request when its path, query, form or JSON body is out of bounds."""
    check_text(request.path, "(path)")
    _check_pairs(request.args.lists(), "query parameter")
    if request.mimetype in FORM_TYPES:
        _check_pairs(request.form.lists(), "form field")
    if request.is_json:
        raw = request.get_data(cache=True)
        if raw:
            g.crm_json_body = load_json(_utf8(raw))


def _check_pairs(pairs: Any, what: str) -> None:
    for key, values in pairs:
        problem = text_problem(key)
        if problem is not None:
            raise InputRefused({f"({what})": f"a {what} name {problem}"})
        for value in values:
            check_text(value, key)


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputRefused(
            {"(body)": f"malformed JSON: not UTF-8 ({exc.reason} at byte {exc.start})"},
            detail="malformed JSON",
        ) from None


def parsed_body() -> Any:
    """The JSON body the gate parsed for this request (parsing it now if the gate did not)."""
    body = g.get("crm_json_body", _UNPARSED)
    if body is _UNPARSED:
        body = g.crm_json_body = load_json(_utf8(request.get_data(cache=True)))
    return body


def install_input_gate(app: Flask) -> None:
    """Run the gate before every request, ahead of authentication and every blueprint."""
    app.before_request(check_request)
