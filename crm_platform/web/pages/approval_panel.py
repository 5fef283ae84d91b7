"""The record page's approval panel: submit the record for approval, approve or reject the
step waiting on the viewer with a comment, recall a submission, and the history with
people's names. The actions call the approval engine exactly as the approvals API does
(``/api/v1/records/<object>/<id>/approval/...``), in one transaction each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import flash, redirect, request
from flask_babel import gettext
from flask_wtf import FlaskForm

from crm_platform.core import CrmError, ValidationFailed
from crm_platform.runtime.model import ObjectModel
from crm_platform.workflow.approvals import store
from crm_platform.workflow.approvals.definition import EXTENSION
from crm_platform.workflow.approvals.engine import Approvals

from .context import Viewer, org, viewer, writing
from .frame import bp, object_or_404

MAX_COMMENT = 4000
ACTIONS = ("submit", "approve", "reject", "recall")


@dataclass
class Panel:
    """What the approval panel shows and offers this viewer."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[str, Any] | None = None  # the pending request, if any
    can_submit: bool = False
    can_decide: bool = False
    can_recall: bool = False

    @property
    def shown(self) -> bool:
        return bool(self.requests) or self.can_submit


def approval_panel(session, obj: ObjectModel, record_id: str, v: Viewer, editable: bool):
    """The panel for a record the viewer sees (``editable``: they may edit it)."""
    compiled = v.model.extensions.get(EXTENSION)
    processes = compiled.of(obj.api_name) if compiled is not None else {}
    approvals = Approvals(org(), session, v.user, v.access)
    view = approvals.view(obj.api_name, record_id)
    panel = Panel(requests=view["requests"])
    if view["pending"]:
        panel.pending = view["requests"][0]
        current = panel.pending["current_step"]
        panel.can_decide = any(
            a["user"]["id"] == v.user.id and a["status"] == "pending"
            for step in panel.pending["steps"]
            if step["name"] == current
            for a in step["approvers"]
        )
        panel.can_recall = panel.pending["submitted_by"]["id"] == v.user.id or (
            v.access.edits_all(obj.api_name)
        )
    else:
        panel.can_submit = bool(processes) and editable
    return panel


def _comment() -> str | None:
    comment = (request.form.get("comment") or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed({"comment": f"text of at most {MAX_COMMENT} characters"})
    return comment or None


@bp.post("/r/<object_name>/<record_id>/approval/<action>")
def approval_action(object_name: str, record_id: str, action: str) -> Any:
    """Submit, approve, reject or recall from the record page (a form post: works without
    JavaScript); a refusal (not eligible, decided meanwhile) comes back as a message."""
    v = viewer()
    obj = object_or_404(object_name)
    back = redirect(f"/r/{obj.api_name}/{record_id}")
    if action not in ACTIONS:
        raise ValidationFailed({"action": f"one of {', '.join(ACTIONS)}"})
    if not FlaskForm().validate_on_submit():
        raise ValidationFailed({"csrf_token": "the form expired: try again"})
    comment = _comment()
    try:
        with writing() as session:
            approvals = Approvals(org(), session, v.user, v.access)
            if action == "submit":
                approvals.submit(obj.api_name, record_id, comment=comment)
            elif action == "recall":
                approvals.recall(obj.api_name, record_id, comment=comment)
            else:
                decision = store.APPROVED if action == "approve" else store.REJECTED
                approvals.decide(obj.api_name, record_id, decision, comment=comment)
    except CrmError as error:
        if error.status not in (400, 403, 409):
            raise
        flash(error.detail, "danger")
        return back
    flash(
        {
            "submit": gettext("Submitted for approval."),
            "approve": gettext("You approved it."),
            "reject": gettext("You rejected it."),
            "recall": gettext("The submission was recalled."),
        }[action]
    )
    return back
