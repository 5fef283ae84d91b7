"""Errors every layer raises; the API renders them as problem+json (RFC 9457)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any


class LocalizedText(str):
    """A message an admin wrote in several languages (``{en: ..., zh: ...}``): as a string
    it is the English one (else the first), and ``labels`` keeps every language so that
    what shows it to a person (a page, a problem+json) picks the reader's."""

    labels: Mapping[str, str]

    def __new__(cls, labels: Mapping[str, str] | str) -> LocalizedText:
        if isinstance(labels, str):  # as copy and pickle rebuild one (labels come after)
            labels = {"en": labels}
        text = super().__new__(cls, labels.get("en") or next(iter(labels.values()), ""))
        text.labels = dict(labels)
        return text

    def choose(self, choose: Callable[[Sequence[str]], str | None]) -> str:
        """The message in the language ``choose`` picks among those written."""
        picked = choose(list(self.labels))
        return self.labels.get(picked, str(self)) if picked else str(self)


def localized(
    errors: Mapping[str, Sequence[str]], choose: Callable[[Sequence[str]], str | None]
) -> dict[str, list[str]]:
    """``errors`` with each :class:`LocalizedText` in the language ``choose`` picks."""
    return {
        path: [m.choose(choose) if isinstance(m, LocalizedText) else m for m in messages]
        for path, messages in errors.items()
    }


class CrmError(Exception):
    """Base of the platform's errors: an HTTP status, a short title and a detail."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = dict(extra or {})

    def __reduce__(self) -> tuple[Any, ...]:
        # as raised, whatever a subclass's constructor takes: an error crosses a process
        # boundary (an import's reading process) pickled
        return (_restored, (type(self), self.args, dict(self.__dict__)))

    def to_problem(self) -> dict[str, Any]:
        """The problem+json body for this error."""
        body: dict[str, Any] = {"type": "about:blank", "title": self.title, "status": self.status}
        body["detail"] = self.detail
        body.update(self.extra)
        return body


def _restored(cls: type[CrmError], args: tuple[Any, ...], state: dict[str, Any]) -> CrmError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ValidationFailed(CrmError):
    """Input was refused; ``errors`` maps a field path to its messages."""

    status = 400
    title = "Validation failed"

    def __init__(self, errors: Mapping[str, Sequence[str] | str], detail: str | None = None):
        normalised = {
            path: [msgs] if isinstance(msgs, str) else list(msgs) for path, msgs in errors.items()
        }
        first = next(iter(normalised.items()), None)
        summary = detail or (f"{first[0]}: {first[1][0]}" if first else "invalid input")
        super().__init__(summary, extra={"errors": normalised})
        self.errors = normalised


class Unauthorized(CrmError):
    status = 401
    title = "Unauthorized"


class Forbidden(CrmError):
    status = 403
    title = "Forbidden"


class NotFound(CrmError):
    status = 404
    title = "Not found"


class Conflict(CrmError):
    status = 409
    title = "Conflict"


class TooManyRequests(CrmError):
    """Throttled: try again after ``retry_after`` seconds (sent as ``Retry-After``)."""

    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, extra: Mapping[str, Any] | None = None):
        super().__init__(detail, extra=extra)
        self.retry_after = retry_after


class PreconditionFailed(CrmError):
    status = 412
    title = "Precondition failed"
