"""Query parameters: each view declares the ones it takes; /api/v1 refuses any other.

A typo such as ``?limt=1`` or a wish such as ``?format=csv`` must not silently answer
something else, so every request under /api/v1 is checked once, before its view runs
(:func:`refuse_unknown_query_params`, installed by the API blueprint), against what its
view declares with :func:`query_params` — a view that declares nothing takes none. What
a view declares is what its OpenAPI operation documents: ``tests/api/test_query_params.py``
compares the two for every operation, so the check and the docs cannot drift (ADR 0032).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request

from crm_platform.core import ValidationFailed

F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "crm_query_params"


def query_params(*known: str) -> Callable[[F], F]:
    """Declare the query parameters a view takes (none when called without names).

    It only marks the view (wrappers made with ``functools.wraps`` keep the mark), so it
    may sit anywhere among the view's decorators below the route."""

    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, tuple(known))
        return view

    return mark


def declared_query_params(view: Callable[..., Any]) -> tuple[str, ...] | None:
    """The query parameters a view declared, or None when it declared nothing."""
    return getattr(view, ATTRIBUTE, None)


def refuse_unknown_query_params() -> None:
    """400 problem+json naming each query parameter the request's view does not take."""
    if not request.args or request.endpoint is None:
        return
    known = declared_query_params(current_app.view_functions[request.endpoint]) or ()
    unknown = sorted(set(request.args) - set(known))
    if unknown:
        takes = f"it takes {', '.join(known)}" if known else "it takes none"
        raise ValidationFailed({name: f"unknown query parameter ({takes})" for name in unknown})
