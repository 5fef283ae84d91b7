"""The list view editor: a saved list's columns, filter (checked as it is typed), sort,
scope and Kanban grouping. Each save is one change set (one revision)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request
from flask_admin import expose
from flask_babel import gettext, lazy_gettext

from crm_platform.core import Conflict, ValidationFailed

from .base import SetupView, label_map, label_parts, problems_of

SCOPES = ("mine", "team", "all")


class ListViewsView(SetupView):
    area_name = lazy_gettext("List views")
    area_url = "list-views"
    area_category = lazy_gettext("User interface")
    summary = lazy_gettext("Saved lists: columns, filter, sort, scope and Kanban grouping.")
    permission = "customize_application"

    @expose("/")
    def index(self, problems=None, form=None, status: int = 200) -> Any:
        return self.page(
            "setup/list_views.html",
            status=status,
            views=self.metadata.list_components("list_view"),
            objects=self.metadata.list_objects(),
            problems=problems or {},
            form=form or {},
        )

    @expose("/new", methods=["POST"])
    def create(self) -> Any:
        """A new list view of an object showing its name field; the editor follows."""
        form = request.form
        object_name, api_name = form.get("object", ""), form.get("api_name", "").strip()
        obj = next((o for o in self.metadata.list_objects() if o["api_name"] == object_name), {})
        definition = {
            "api_name": api_name,
            "object": object_name,
            "columns": [obj.get("name_field") or "name"],
        }
        try:
            self.change(
                lambda m, who: m.put_component(
                    "list_view", definition, author_id=who, create_only=True
                )
            )
        except (ValidationFailed, Conflict) as error:
            return self.index(problems=problems_of(error), form=form, status=error.status)
        return self.saved(gettext("List view created."), ".edit", name=f"{object_name}.{api_name}")

    @expose("/<name>", methods=["GET", "POST"])
    def edit(self, name: str) -> Any:
        stored = self.metadata.get_component("list_view", name)
        if request.method == "GET":
            return self._editor(name, stored, form_of(stored))
        definition = from_form(stored, request.form)
        try:
            self.change(lambda m, who: m.put_component("list_view", definition, author_id=who))
        except (ValidationFailed, Conflict) as error:
            return self._editor(
                name, stored, request.form, problems=problems_of(error), status=error.status
            )
        return self.saved(gettext("List view saved."), ".edit", name=name)

    @expose("/<name>/delete", methods=["POST"])
    def delete(self, name: str) -> Any:
        self.change(lambda m, who: m.remove_component("list_view", name, author_id=who))
        return self.saved(gettext("List view deleted."), ".index")

    def _editor(
        self,
        name: str,
        stored: Mapping[str, Any],
        form: Mapping[str, str],
        *,
        problems: Mapping[str, list[str]] | None = None,
        status: int = 200,
    ) -> Any:
        obj = self.metadata.get_object(stored["object"])
        return self.page(
            "setup/list_view.html",
            status=status,
            title=gettext("List view %(name)s", name=name),
            name=name,
            obj=obj,
            form=form,
            scopes=SCOPES,
            picklists=[f["api_name"] for f in obj["fields"] if f.get("type") == "picklist"],
            problems=_short(problems or {}),
        )


def form_of(definition: Mapping[str, Any]) -> dict[str, str]:
    """A stored list view as the editor's inputs."""
    label_en, label_zh = label_parts(definition.get("label"))
    return {
        "label_en": label_en,
        "label_zh": label_zh,
        "columns": ", ".join(definition.get("columns", [])),
        "filter": definition.get("filter", ""),
        "sort": ", ".join(definition.get("sort", [])),
        "scope": definition.get("scope", ""),
        "kanban_by": definition.get("kanban_by", ""),
    }


def from_form(stored: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """The list view the editor's inputs describe (its name and object kept)."""
    out: dict[str, Any] = {
        k: v for k, v in stored.items() if k in ("api_name", "object", "description")
    }
    label = label_map(form.get("label_en", ""), form.get("label_zh", ""))
    if label:
        out["label"] = label
    out["columns"] = names(form.get("columns", ""))
    for key in ("filter", "scope", "kanban_by"):
        value = form.get(key, "").strip()
        if value:
            out[key] = value
    sort = names(form.get("sort", ""))
    if sort:
        out["sort"] = sort
    return out


def names(text: str) -> list[str]:
    """Comma- or line-separated names, in order."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def _short(problems: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Problems keyed by the input they belong to (``...columns[2]`` -> ``columns``)."""
    out: dict[str, list[str]] = {}
    for path, messages in problems.items():
        key = path.rsplit(".", 1)[-1].split("[", 1)[0]
        out.setdefault(key, []).extend(messages)
    return out
