"""A web form's post becoming a record: the rate limit, then the record service as the
form's guest user, then the form's assignment rule — and every refusal mapped back onto
the form's inputs.

The rate limit is counted in a transaction of its own (a refused or invalid post counts
too); the record, its assignment and everything automation does on create land in one
more transaction, or nothing does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crm_platform.core import CrmError, NotFound, ValidationFailed
from crm_platform.workflow.assignment.engine import assign
from crm_platform.workflow.assignment.rules import rules_of

from .guest import guest_access, guest_user
from .kind import WebForm, needs_input, web_forms_of
from .throttle import count_post, forget_old_posts

if TYPE_CHECKING:
    from crm_platform.runtime import Org

FORM = ""  # the key of messages about the form as a whole
REQUIRED = "required"  # the message of an input the form requires left empty


@dataclass(frozen=True)
class Submission:
    """What became of a post: ``created`` (with the record's id), ``invalid`` (messages
    per input, ``""`` for the form as a whole) or ``throttled`` (retry after seconds)."""

    outcome: str
    record_id: str | None = None
    errors: Mapping[str, list[str]] = field(default_factory=dict)
    retry_after: int = 0


def active_form(org: Org, name: str) -> WebForm:
    """The active form named ``name`` (404 when there is none)."""
    with org.db.read() as conn:
        form = web_forms_of(org.models.model_for(conn)).get(name)
    if form is None:
        raise NotFound(f"no web form '{name}'")
    return form


def submit(org: Org, form: WebForm, values: Mapping[str, Any], address: str) -> Submission:
    """Count the post of ``address``, then create the form's record from ``values`` (the
    inputs' values, empty ones left out) and the form's hidden values."""
    now = org.clock()
    with org.db.write() as conn:
        verdict = count_post(conn, form.name, address or "unknown", now, form.posts, form.window)
        if verdict.hits == 1:
            forget_old_posts(conn, now)
    if not verdict.allowed:
        return Submission("throttled", retry_after=verdict.retry_after)
    data = {k: v for k, v in values.items() if v is not None}
    data.update(form.hidden)
    try:
        record_id = _create(org, form, data)
    except CrmError as error:
        return Submission("invalid", errors=form_errors(form, error))
    return Submission("created", record_id=record_id)


def _missing(form: WebForm, data: Mapping[str, Any], obj: Any) -> dict[str, list[str]]:
    """The inputs left empty that the form requires, or the field requires with no
    default to fill it (named even when the service stops at another problem first)."""
    return {
        f.name: [REQUIRED]
        for f in form.fields
        if data.get(f.name) is None and (f.required or needs_input(obj.fields[f.name].definition))
    }


def _create(org: Org, form: WebForm, data: Mapping[str, Any]) -> str:
    with org.db.read() as conn:
        user = guest_user(conn, form)
    if user is None:  # the form was saved before its guest could be made: not serving
        raise NotFound(f"no web form '{form.name}'")
    with org.records.session(user) as session:
        session.access = guest_access(user, form, session.model)  # the form's set alone
        missing = _missing(form, data, session.object(form.object))
        try:
            record_id = session.create(form.object, data)["id"]
        except ValidationFailed as error:  # every problem at once: the empty inputs too
            raise ValidationFailed({**error.errors, **missing}) from error
        if missing:  # only the form requires them: what was made is rolled back
            raise ValidationFailed(missing)
        rules = rules_of(session.model)
        rule = rules.get(form.object, form.assignment_rule) if form.assignment_rule else None
        if rule is not None and rule is not rules.active(form.object):
            # the object's active rule already ran on create; the form's own runs now
            assign(session, session.object(form.object), record_id, rule)
    return record_id


def form_errors(form: WebForm, error: CrmError) -> dict[str, list[str]]:
    """The service's problems, each next to the form's input it is about; the rest (a
    hidden value refused, a conflict) about the form as a whole."""
    inputs = {f.name for f in form.fields}
    errors: dict[str, list[str]] = {}
    problems = error.errors if isinstance(error, ValidationFailed) else {}
    for path, messages in problems.items():
        name = path.split(".")[0].split("[")[0]
        if name in inputs:
            errors.setdefault(name, []).extend(messages)
        else:
            errors.setdefault(FORM, []).extend(f"{path}: {m}" for m in messages)
    if not problems:
        errors[FORM] = [error.detail]
    return errors
