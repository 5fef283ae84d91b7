"""The one error of the expression language: a 400 that names the place in the source."""

from __future__ import annotations

from crm_platform.core import ValidationFailed


class ExpressionError(ValidationFailed):
    """An expression was refused (syntax, type, bounds) or could not be evaluated.

    ``message`` is the full text, position included ("unknown field 'amout' at
    position 1"); ``reason`` is the same without the position. ``position`` is the
    1-based character column, ``line`` the 1-based line (given in the message only
    when the source has several lines), ``name`` the offending field or function.
    The problem+json body lists the message under ``errors[field]``.
    """

    def __init__(
        self,
        reason: str,
        *,
        position: int | None = None,
        line: int | None = None,
        name: str | None = None,
        multiline: bool = False,
        field: str = "expression",
    ) -> None:
        message = reason
        if position is not None:
            where = (
                f"line {line}, position {position}"
                if multiline and line
                else f"position {position}"
            )
            message = f"{reason} at {where}"
        super().__init__({field: [message]}, detail=message)
        self.reason = reason
        self.message = message
        self.position = position
        self.line = line
        self.name = name
        if position is not None:
            self.extra["position"] = position
            self.extra["line"] = line
        if name is not None:
            self.extra["name"] = name


class LimitExceeded(ArithmeticError):
    """A bound was hit while evaluating (a number too large, a text too long).

    Raised by the shared Python implementations; the evaluator turns it into an
    ExpressionError at the node's position, and inside SQLite it fails the query.
    """
