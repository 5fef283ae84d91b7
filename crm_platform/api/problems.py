"""Every error under /api/ is application/problem+json (RFC 9457), 500s included."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from crm_platform.core import CrmError, LocalizedText, TooManyRequests, localized

from .languages import label_chooser

PROBLEM_JSON = "application/problem+json"
BUSY_SIGNS = ("database is locked", "lock timeout", "could not obtain lock", "deadlock detected")
log = logging.getLogger(__name__)


def problem_response(status: int, title: str, detail: str, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _written_in_languages(errors: dict[str, Any]) -> bool:
    return any(isinstance(m, LocalizedText) for ms in errors.values() for m in ms)


def _request_chooser() -> Any:
    """The request's language among a message's (``Accept-Language``, else English)."""
    return label_chooser("en")


def install_problem_handlers(app: Flask) -> None:
    """Render errors as problem+json for API paths; other paths keep Flask's pages."""

    @app.errorhandler(CrmError)
    def _crm_error(error: CrmError) -> Response:
        body = error.to_problem()
        if isinstance(body.get("errors"), dict) and _written_in_languages(body["errors"]):
            body["errors"] = localized(body["errors"], _request_chooser())
        response = Response(json.dumps(body), status=error.status, mimetype=PROBLEM_JSON)
        if isinstance(error, TooManyRequests):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        if not _is_api():
            return error
        response = problem_response(error.code or 500, error.name, error.description or error.name)
        allowed = getattr(error, "valid_methods", None)
        if error.code == 405 and allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.errorhandler(OperationalError)
    def _busy(error: OperationalError) -> Response:
        text = str(error.orig) if error.orig is not None else str(error)
        if any(sign in text for sign in BUSY_SIGNS):
            # The database stayed busy past our timeouts: a retry is the right answer.
            response = problem_response(503, "Service unavailable", "the database is busy: retry")
            response.headers["Retry-After"] = "1"
            return response
        return _unexpected(error)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        # Never a traceback: the log has it, the client gets a plain problem.
        return problem_response(500, "Internal server error", "an unexpected error occurred")
