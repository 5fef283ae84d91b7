"""Validation of a candidate model: built-in checks plus registered validators."""

from __future__ import annotations

from crm_platform.core import ValidationFailed

from .candidate import CandidateModel
from .checks import object_problems
from .impact import ValidationScope, whole_model
from .kinds import KindRegistry


def validate_candidate(
    model: CandidateModel,
    registry: KindRegistry,
    subject: str = "",
    scope: ValidationScope | None = None,
) -> None:
    """Refuse the candidate if an object or component in ``scope`` has a problem.

    The scope defaults to the whole model; a change set passes the part its changes
    can affect (:func:`~.impact.change_scope`), checked against the whole candidate.
    Paths are ``<object>.<path>``; those under ``subject`` (``project`` or
    ``project.fields.budget``) are given relative to it, so an error on the thing
    the request is about reads ``max_length``, not ``project.fields.budget.max_length``.
    """
    scope = scope or whole_model(model, registry)
    errors: dict[str, list[str]] = {}
    for name in scope.objects:
        obj = model.object(name)
        if obj is None:
            continue
        problems = list(object_problems(model, obj))
        for validator in registry.validators.get("object", []):
            problems.extend(validator(model, obj))
        for path, message in problems:
            full = f"{name}.{path}"
            errors.setdefault(relative_path(full, subject), []).append(message)
    for comp in scope.components:
        for validator in registry.validators.get(comp.kind, []):
            for path, message in validator(model, comp.definition):
                full = f"{comp.name}.{path}"
                errors.setdefault(relative_path(full, subject), []).append(message)
    if errors:
        raise ValidationFailed(errors)


def relative_path(path: str, subject: str) -> str:
    if subject and path.startswith(subject + "."):
        return path[len(subject) + 1 :]
    return path
