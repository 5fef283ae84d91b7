"""JSON in and out without floats: decimals are parsed and written exactly (DESIGN §0)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import simplejson
from flask import Request
from flask.json.provider import JSONProvider

from crm_platform.core import ValidationFailed
from crm_platform.core.inputs import load_json

from .gate import parsed_body


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
        """Parse within the input gate's bounds (``request.get_json`` included)."""
        del kwargs  # the gate's parser takes no options: every caller gets the same rules
        return load_json(s.decode("utf-8") if isinstance(s, bytes) else s)


def read_json(request: Request) -> Any:
    """The request body as the input gate parsed it (numbers with a fraction are Decimal).

    400 when the body is not JSON, malformed or out of the gate's bounds.
    """
    if not request.mimetype or not request.is_json:
        raise ValidationFailed(
            {"(body)": "send a JSON body with Content-Type: application/json"},
            detail="expected a JSON body",
        )
    return parsed_body()
