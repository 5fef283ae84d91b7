"""Validation of a whole candidate model: built-in checks plus registered validators."""

from __future__ import annotations

from crm_platform.core import ValidationFailed

from .candidate import CandidateModel
from .checks import object_problems
from .kinds import KindRegistry


def validate_candidate(model: CandidateModel, registry: KindRegistry, subject: str = "") -> None:
    """Refuse the candidate if any object in it has a problem.

    Paths are ``<object>.<path>``; those under ``subject`` (``project`` or
    ``project.fields.budget``) are given relative to it, so an error on the thing
    the request is about reads ``max_length``, not ``project.fields.budget.max_length``.
    """
    errors: dict[str, list[str]] = {}
    for name, obj in model.objects().items():
        problems = list(object_problems(model, obj))
        for validator in registry.validators.get("object", []):
            problems.extend(validator(model, obj))
        for path, message in problems:
            full = f"{name}.{path}"
            errors.setdefault(relative_path(full, subject), []).append(message)
    for kind, validators in registry.validators.items():
        if kind == "object":
            continue
        for comp in model.of_kind(kind):
            for validator in validators:
                for path, message in validator(model, comp.definition):
                    full = f"{comp.name}.{path}"
                    errors.setdefault(relative_path(full, subject), []).append(message)
    if errors:
        raise ValidationFailed(errors)


def relative_path(path: str, subject: str) -> str:
    if subject and path.startswith(subject + "."):
        return path[len(subject) + 1 :]
    return path
