"""The layout editor: an object's record-page layout as sections of one or two columns,
the fields in each in order (up/down buttons, drag and drop when JavaScript is on),
``visible_if`` / ``required_if`` / ``read_only_if`` checked as they are typed, and the
related lists. Each save is one change set (one revision)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request
from flask_admin import expose
from flask_babel import gettext, lazy_gettext

from crm_platform.core import Conflict, ValidationFailed

from . import layout_form
from .base import SetupView, problems_of

LINKS = frozenset({"lookup", "master_detail"})


class LayoutsView(SetupView):
    area_name = lazy_gettext("Layouts")
    area_url = "layouts"
    area_category = lazy_gettext("User interface")
    summary = lazy_gettext("Record page layouts: sections, field order, conditions, related lists.")
    permission = "customize_application"

    @expose("/")
    def index(self, problems=None, form=None, status: int = 200) -> Any:
        return self.page(
            "setup/layouts.html",
            status=status,
            layouts=self.metadata.list_components("layout"),
            objects=self.metadata.list_objects(),
            problems=problems or {},
            form=form or {},
        )

    @expose("/new", methods=["POST"])
    def create(self) -> Any:
        """A new layout for an object, starting with its name field."""
        form = request.form
        object_name = form.get("object", "")
        api_name = form.get("api_name", "").strip()
        obj = next((o for o in self.metadata.list_objects() if o["api_name"] == object_name), None)
        first = (obj or {}).get("name_field") or "name"
        definition = {
            "api_name": api_name,
            "object": object_name,
            "sections": [{"fields": [first]}],
        }
        try:
            self.change(
                lambda m, who: m.put_component(
                    "layout", definition, author_id=who, create_only=True
                )
            )
        except (ValidationFailed, Conflict) as error:
            return self.index(problems=problems_of(error), form=form, status=error.status)
        return self.saved(gettext("Layout created."), ".edit", name=f"{object_name}.{api_name}")

    @expose("/<name>", methods=["GET", "POST"])
    def edit(self, name: str) -> Any:
        stored = self.metadata.get_component("layout", name)
        if request.method == "GET":
            return self._editor(name, layout_form.from_definition(stored))
        fields = [f["api_name"] for f in self.metadata.get_object(stored["object"])["fields"]]
        state = layout_form.from_form(stored, request.form, fields)
        action = request.form.get("action", "save")
        if action.startswith(("up:", "down:")):
            direction, _, index = action.partition(":")
            row = int(index) if index.isdigit() else -1
            layout_form.move(state, row, -1 if direction == "up" else 1)
            return self._editor(name, state, unsaved=True)
        if action != "save":
            return self._editor(name, state, unsaved=True)
        definition = state.definition()
        try:
            self.change(lambda m, who: m.put_component("layout", definition, author_id=who))
        except (ValidationFailed, Conflict) as error:
            return self._editor(name, state, problems=problems_of(error), status=error.status)
        return self.saved(gettext("Layout saved."), ".edit", name=name)

    @expose("/<name>/delete", methods=["POST"])
    def delete(self, name: str) -> Any:
        self.change(lambda m, who: m.remove_component("layout", name, author_id=who))
        return self.saved(gettext("Layout deleted."), ".index")

    def _editor(
        self,
        name: str,
        state: layout_form.LayoutForm,
        *,
        problems: Mapping[str, list[str]] | None = None,
        unsaved: bool = False,
        status: int = 200,
    ) -> Any:
        object_name = state.rest.get("object", name.split(".", 1)[0])
        obj = self.metadata.get_object(object_name)
        return self.page(
            "setup/layout.html",
            status=status,
            title=gettext("Layout %(name)s", name=name),
            name=name,
            obj=obj,
            state=state,
            unplaced=[f for f in obj["fields"] if f["api_name"] not in state.placed()],
            relations=relations_to(self.metadata.list_objects(), object_name),
            related_text=layout_form.related_text,
            conditions=layout_form.CONDITIONS,
            problems=problems or {},
            unsaved=unsaved,
        )


def relations_to(objects: list[dict[str, Any]], target: str) -> list[str]:
    """Every ``object.field`` lookup that points at ``target`` (a related list's choices)."""
    return [
        f"{o['api_name']}.{f['api_name']}"
        for o in objects
        for f in o.get("fields", [])
        if f.get("type") in LINKS and f.get("target") == target
    ]
