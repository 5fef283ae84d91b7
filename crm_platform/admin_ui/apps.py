"""The app editor: an app's labels and its tabs (``home`` and objects, each object tab
with the list view it opens), chosen and ordered. Each save is one change set (one
revision)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request
from flask_admin import expose
from flask_babel import gettext, lazy_gettext

from crm_platform.core import Conflict, ValidationFailed

from .base import SetupView, label_map, label_parts, problems_of

HOME = "home"


class AppsView(SetupView):
    area_name = lazy_gettext("Apps")
    area_url = "apps"
    area_category = lazy_gettext("User interface")
    summary = lazy_gettext("Apps of the end-user UI and their tabs.")
    permission = "customize_application"

    @expose("/")
    def index(self, problems=None, form=None, status: int = 200) -> Any:
        return self.page(
            "setup/apps.html",
            status=status,
            apps=self.metadata.list_components("app"),
            problems=problems or {},
            form=form or {},
        )

    @expose("/new", methods=["POST"])
    def create(self) -> Any:
        form = request.form
        definition: dict[str, Any] = {"api_name": form.get("api_name", "").strip(), "tabs": [HOME]}
        label = label_map(form.get("label_en", ""), form.get("label_zh", ""))
        if label:
            definition["label"] = label
        try:
            self.change(
                lambda m, who: m.put_component("app", definition, author_id=who, create_only=True)
            )
        except (ValidationFailed, Conflict) as error:
            return self.index(problems=problems_of(error), form=form, status=error.status)
        return self.saved(gettext("App created."), ".edit", name=definition["api_name"])

    @expose("/<name>", methods=["GET", "POST"])
    def edit(self, name: str) -> Any:
        stored = self.metadata.get_component("app", name)
        if request.method == "GET":
            return self._editor(name, stored, stored)
        definition = from_form(stored, request.form)
        try:
            self.change(lambda m, who: m.put_component("app", definition, author_id=who))
        except (ValidationFailed, Conflict) as error:
            return self._editor(
                name, stored, definition, problems=problems_of(error), status=error.status
            )
        return self.saved(gettext("App saved."), ".edit", name=name)

    @expose("/<name>/delete", methods=["POST"])
    def delete(self, name: str) -> Any:
        self.change(lambda m, who: m.remove_component("app", name, author_id=who))
        return self.saved(gettext("App deleted."), ".index")

    def _editor(
        self,
        name: str,
        stored: Mapping[str, Any],
        shown: Mapping[str, Any],
        *,
        problems: Mapping[str, list[str]] | None = None,
        status: int = 200,
    ) -> Any:
        label_en, label_zh = label_parts(shown.get("label"))
        objects = self.metadata.list_objects()
        return self.page(
            "setup/app.html",
            status=status,
            title=gettext("App %(name)s", name=name),
            name=name,
            rows=tab_rows(
                shown.get("tabs", []),
                [o["api_name"] for o in objects],
                shown.get("views", {}),
                self._views_by_object(),
            ),
            tab_labels={
                o["api_name"]: self.viewer.label(
                    o.get("plural_label") or o.get("label"), o["api_name"]
                )
                for o in objects
            },
            form={"label_en": label_en, "label_zh": label_zh},
            problems=problems or {},
        )

    def _views_by_object(self) -> dict[str, list[str]]:
        """The list views of each object that has some."""
        found: dict[str, list[str]] = {}
        for definition in self.metadata.list_components("list_view"):
            found.setdefault(definition["object"], []).append(definition["api_name"])
        return found


def tab_rows(
    tabs: list[str],
    objects: list[str],
    opens: Mapping[str, str] | None = None,
    views: Mapping[str, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """Every possible tab: the app's in their order (ticked), then the others; an object
    tab with the list views it may open and the one it opens (``opens``)."""
    opens, views = opens or {}, views or {}

    def row(tab: str, on: bool) -> dict[str, Any]:
        return {"name": tab, "on": on, "views": views.get(tab, []), "opens": opens.get(tab, "")}

    chosen = [row(t, True) for t in tabs]
    rest = [row(t, False) for t in [HOME, *objects] if t not in tabs]
    return chosen + rest


def from_form(stored: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """The app the editor's inputs describe: ticked tabs in the order of their positions."""
    out = {k: v for k, v in stored.items() if k not in ("label", "tabs", "views")}
    label = label_map(form.get("label_en", ""), form.get("label_zh", ""))
    if label:
        out["label"] = label
    ticked = []
    for key, value in form.items():
        if key.startswith("tab:") and value == "on":
            tab = key.split(":", 1)[1]
            ticked.append((_position(form.get(f"position:{tab}")), tab))
    ticked.sort(key=lambda item: item[0])
    out["tabs"] = [tab for _, tab in ticked]
    # the list view a ticked object tab opens (left empty: the object's first)
    views = {tab: form.get(f"view:{tab}", "") for tab in out["tabs"] if tab != HOME}
    if any(views.values()):
        out["views"] = {tab: view for tab, view in views.items() if view}
    return out


def _position(raw: str | None) -> float:
    try:
        return float(raw) if raw else 1e9
    except ValueError:
        return 1e9
