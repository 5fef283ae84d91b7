"""JSON in and out without floats: decimals are parsed and written exactly (DESIGN §0)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import simplejson
from flask import Request
from flask.json.provider import JSONProvider

from crm_platform.core import ValidationFailed


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


class ExactJSONProvider(JSONProvider):
    """Flask's JSON provider, with Decimal kept exact and datetimes in ISO 8601."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return simplejson.dumps(
            obj, use_decimal=True, default=_default, ensure_ascii=False, **kwargs
        )

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return simplejson.loads(s, use_decimal=True, **kwargs)


def read_json(request: Request) -> Any:
    """The request body as JSON (numbers with a fraction become Decimal); 400 when malformed."""
    if not request.mimetype or not request.is_json:
        raise ValidationFailed(
            {"(body)": "send a JSON body with Content-Type: application/json"},
            detail="expected a JSON body",
        )
    raw = request.get_data(cache=True)
    try:
        return simplejson.loads(raw.decode("utf-8"), use_decimal=True)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            {"(body)": f"malformed JSON: {exc}"}, detail="malformed JSON"
        ) from exc
