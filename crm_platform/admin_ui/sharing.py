"""Sharing settings: each object's org-wide default, and sharing rules — criteria
checked as they are typed (the API's expression checker), shared with a role, a role and
its subordinates, or a group, for read or edit."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_admin import expose
from flask_babel import gettext, lazy_gettext

from crm_platform.core import Conflict, ValidationFailed

from .base import SetupView, label_map, problems_of
from .objects import SHARING_DEFAULTS

PRINCIPALS = ("role", "role_and_subordinates", "group")
ACCESS = ("read", "edit")


class SharingView(SetupView):
    area_name = lazy_gettext("Sharing settings")
    area_url = "sharing"
    summary = lazy_gettext("Org-wide defaults and sharing rules.")
    permission = "customize_application"

    @expose("/")
    def index(self, problems=None, form=None, status: int = 200) -> Any:
        return self.page(
            "setup/sharing.html",
            status=status,
            objects=self.metadata.list_objects(),
            rules=self.metadata.list_components("sharing_rule"),
            roles=[r["api_name"] for r in self.metadata.list_components("role")],
            groups=[g["api_name"] for g in self.metadata.list_components("group")],
            defaults=SHARING_DEFAULTS,
            principals=PRINCIPALS,
            access=ACCESS,
            problems=problems or {},
            form=form or {},
        )

    @expose("/defaults/<name>", methods=["POST"])
    def default(self, name: str) -> Any:
        """One object's org-wide default (a change set; records are reshared by it)."""
        chosen = request.form.get("sharing", "")
        try:
            self.change(lambda m, who: m.patch_object(name, {"sharing": chosen}, author_id=who))
        except (ValidationFailed, Conflict) as error:
            return self._refused(error)
        return self.saved(gettext("Org-wide default saved."), ".index")

    @expose("/rules", methods=["POST"])
    def create_rule(self) -> Any:
        form = request.form
        rule: dict[str, Any] = {
            "api_name": form.get("api_name", "").strip(),
            "object": form.get("object", ""),
            "criteria": form.get("criteria", "").strip(),
            "share_with": {form.get("principal", "role"): form.get("principal_name", "").strip()},
            "access": form.get("access", "read"),
        }
        label = label_map(form.get("label_en", ""), form.get("label_zh", ""))
        if label:
            rule["label"] = label
        try:
            self.change(
                lambda m, who: m.put_component(
                    "sharing_rule", rule, author_id=who, create_only=True
                )
            )
        except (ValidationFailed, Conflict) as error:
            return self._refused(error, form)
        return self.saved(gettext("Sharing rule saved."), ".index")

    @expose("/rules/<name>/delete", methods=["POST"])
    def delete_rule(self, name: str) -> Any:
        self.change(lambda m, who: m.remove_component("sharing_rule", name, author_id=who))
        return self.saved(gettext("Sharing rule deleted."), ".index")

    def _refused(self, error: Exception, form=None) -> Any:
        # a rule's criteria errors are shown beside its input, named by their last step
        problems = {p.rsplit(".", 1)[-1]: v for p, v in problems_of(error).items()}
        return self.index(problems=problems, form=form, status=getattr(error, "status", 400))
