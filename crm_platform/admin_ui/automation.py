"""Automation runs: the outbox's runs listed by status (failed ones are the dead-letter
list), one run with its payload and the action that failed, and a retry from that
action — through ``workflow.runs`` and the automation service, as the API does."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from flask_admin import expose
from flask_babel import gettext, lazy_gettext

from crm_platform.core import Conflict, NotFound
from crm_platform.workflow import automation_of, outbox
from crm_platform.workflow.runs import STATUS_WORDS, RunQuery

from .base import SetupView

LIMIT = 100


class AutomationView(SetupView):
    area_name = lazy_gettext("Automation runs")
    area_url = "automation"
    area_category = lazy_gettext("History and audit")
    summary = lazy_gettext("Runs of triggers, emails and webhooks; retry the failed ones.")
    permission = "customize_application"

    @expose("/")
    def index(self) -> Any:
        """Runs, newest first, of the chosen status (``failed``: the dead-letter list)."""
        status = request.args.get("status", "").strip()
        source = request.args.get("source", "").strip() or None
        query = RunQuery.parse([status] if status else [], limit=LIMIT, source=source)
        with self.org.db.read() as conn:
            runs = query.run(conn)
        return self.page(
            "setup/automation.html",
            runs=runs,
            statuses=STATUS_WORDS,
            status=status,
            source=source or "",
            dead_letter=status == outbox.FAILED,
        )

    @expose("/runs/<run_id>")
    def run(self, run_id: str) -> Any:
        with self.org.db.read() as conn:
            found = outbox.get(conn, run_id)
        if found is None:
            raise NotFound(gettext("no automation run '%(id)s'", id=run_id))
        payload = json.dumps(found.payload, indent=2, ensure_ascii=False, default=str)
        return self.page(
            "setup/automation_run.html",
            title=gettext("Run %(id)s", id=run_id),
            run=found,
            payload=payload,
        )

    @expose("/runs/<run_id>/retry", methods=["POST"])
    def retry(self, run_id: str) -> Any:
        """Queue a failed run again, from the action that failed."""
        if automation_of(self.org).retry(run_id) is None:
            with self.org.db.read() as conn:
                existing = outbox.get(conn, run_id)
            if existing is None:
                raise NotFound(gettext("no automation run '%(id)s'", id=run_id))
            raise Conflict(
                gettext(
                    "Only a failed run can be retried; this one is %(status)s.",
                    status=existing.status,
                )
            )
        return self.saved(gettext("Run queued again."), ".run", run_id=run_id)
