"""Fields: the new-field wizard (type, settings, who may read and edit it, which layouts
get it — saved as one change set) and changing a field safely (labels and help text, a
type change with its preview, picklist values, the recycle bin)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_admin import expose
from flask_babel import gettext, lazy_gettext

from crm_platform.core import Conflict, ValidationFailed
from crm_platform.metadata import field_name_problem

from .base import SetupView, label_map, label_parts, problems_of
from .drafts import (
    ON_DELETE,
    ROLLUP_FUNCTIONS,
    STEPS,
    Draft,
    formula_returns,
    type_choices,
    with_field_on_layout,
    with_grant,
)
from .picklists import values_from_form


class FieldsView(SetupView):
    area_name = lazy_gettext("Fields")
    area_url = "fields"
    permission = "customize_application"

    def is_visible(self) -> bool:
        return False  # reached from an object's page, not the navigation

    @expose("/")
    def index(self) -> Any:
        return self.saved(gettext("Choose an object first."), "setup_objects.index")

    # --- the wizard ----------------------------------------------------------------------
    @expose("/<name>/new", methods=["GET", "POST"])
    def new(self, name: str) -> Any:
        obj = self.metadata.get_object(name)
        draft = Draft(request.form if request.method == "POST" else {})
        step = request.form.get("step", "") if request.method == "POST" else ""
        if not step:
            return self._wizard(obj, draft, "type")
        if request.form.get("back"):
            return self._wizard(obj, draft, STEPS[max(STEPS.index(step) - 1, 0)])
        if step in ("type", "settings"):
            problems = self._check(name, draft, final=step == "settings")
            if problems:
                return self._wizard(obj, draft, step, problems, status=400)
        if step != STEPS[-1]:
            return self._wizard(obj, draft, STEPS[STEPS.index(step) + 1])
        try:
            self.change(
                lambda m, who: m.add_field_with(
                    name, draft.definition(), self._components(name, draft), author_id=who
                )[0]
            )
        except ValidationFailed as error:
            return self._wizard(obj, draft, "settings", short_paths(error.errors), status=400)
        return self.saved(
            gettext("Field saved: it is live now."), "setup_objects.detail", name=name
        )

    def _check(self, name: str, draft: Draft, *, final: bool) -> dict[str, list[str]]:
        """What refuses the field so far: on the first step its name, on the second the
        whole definition as the metadata service would validate it."""
        if not final:
            return _name_problems(self.metadata, name, draft)
        _result, problems = self.metadata.add_field_with(
            name, draft.definition(), [], author_id=self.author(), preview=True
        )
        return short_paths(problems)

    def _components(self, name: str, draft: Draft) -> list[tuple[str, dict]]:
        """What the change set changes beside the field: its grants, the layouts."""
        definition = draft.definition()
        key = f"{name}.{definition['api_name']}"
        sets = [
            s for s in self.metadata.list_components("permission_set") if _grants_object(s, name)
        ]
        grants = draft.grants([s["api_name"] for s in sets])
        chosen = set(draft.layouts())
        layouts = [lay for lay in _layouts_of(self.metadata, name) if lay["api_name"] in chosen]
        granted = [with_grant(s, key, grants[s["api_name"]]) for s in sets]
        return [
            *(("permission_set", s) for s in granted if s is not None),
            *(("layout", with_field_on_layout(lay, definition["api_name"])) for lay in layouts),
        ]

    def _wizard(self, obj: dict, draft: Draft, step: str, problems=None, status: int = 200) -> Any:
        name = obj["api_name"]
        sets = [
            s for s in self.metadata.list_components("permission_set") if _grants_object(s, name)
        ]
        return self.page(
            "setup/field_wizard.html",
            status=status,
            obj=obj,
            draft=draft,
            step=step,
            steps=STEPS,
            first_visit=request.method == "GET" or (step == "type" and not draft.form.get("step")),
            problems=problems or {},
            types=type_choices(),
            returns=formula_returns(),
            on_delete=ON_DELETE,
            functions=ROLLUP_FUNCTIONS,
            targets=[o["api_name"] for o in self.metadata.list_objects()],
            relations=_relations_to(self.model, name),
            permission_sets=sets,
            layouts=_layouts_of(self.metadata, name),
            title=gettext(
                "New field on %(object)s", object=self.viewer.label(obj.get("label"), name)
            ),
        )

    # --- one field -----------------------------------------------------------------------
    @expose("/<name>/<field>")
    def detail(self, name: str, field: str, problems=None, status: int = 200, form=None) -> Any:
        obj = self.metadata.get_object(name)
        definition = self.metadata.get_field(name, field)
        label_en, label_zh = label_parts(definition.get("label"))
        help_en, help_zh = label_parts(definition.get("help_text"))
        return self.page(
            "setup/field.html",
            status=status,
            obj=obj,
            fld=definition,
            usages=self.metadata.field_usages(name, field),
            form=form
            or {"label_en": label_en, "label_zh": label_zh, "help_en": help_en, "help_zh": help_zh},
            problems=problems or {},
            types=type_choices(),
            preview=None,
            title=self.viewer.label(definition.get("label"), field),
        )

    @expose("/<name>/<field>/labels", methods=["POST"])
    def labels(self, name: str, field: str) -> Any:
        form = request.form
        partial: dict[str, Any] = {
            "label": label_map(form.get("label_en", ""), form.get("label_zh", ""))
        }
        help_text = label_map(form.get("help_en", ""), form.get("help_zh", ""))
        if help_text:
            partial["help_text"] = help_text
        partial = {k: v for k, v in partial.items() if v is not None}
        try:
            self.change(lambda m, who: m.patch_field(name, field, partial, author_id=who))
        except ValidationFailed as error:
            return self.detail(name, field, problems=problems_of(error), status=400, form=form)
        return self.saved(gettext("Field saved."), ".detail", name=name, field=field)

    @expose("/<name>/<field>/values", methods=["POST"])
    def values(self, name: str, field: str) -> Any:
        """Reorder, relabel, deactivate or add picklist values."""
        definition = self.metadata.get_field(name, field)
        values = values_from_form(definition.get("values", []), request.form)
        try:
            self.change(
                lambda m, who: m.patch_field(name, field, {"values": values}, author_id=who)
            )
        except ValidationFailed as error:
            return self.detail(name, field, problems=problems_of(error), status=400)
        return self.saved(gettext("Values saved."), ".detail", name=name, field=field)

    @expose("/<name>/<field>/type", methods=["POST"])
    def change_type(self, name: str, field: str) -> Any:
        """Preview a type change (how many values convert, which do not); a second post
        with ``confirm`` makes it, clearing what does not convert only when asked."""
        definition = self.metadata.get_field(name, field)
        partial: dict[str, Any] = {"type": request.form.get("type", definition["type"])}
        if request.form.get("max_length"):
            partial["max_length"] = _int_or_text(request.form["max_length"])
        if not request.form.get("confirm"):
            preview = self.metadata.preview_type_change(
                name, field, partial, author_id=self.author()
            )
            obj = self.metadata.get_object(name)
            return self.page(
                "setup/field.html",
                obj=obj,
                fld=definition,
                usages=self.metadata.field_usages(name, field),
                form={},
                problems={},
                types=type_choices(),
                preview=preview,
                wanted=partial,
                title=self.viewer.label(definition.get("label"), field),
            )
        if request.form.get("on_unconvertible") == "clear":
            partial["on_unconvertible"] = "clear"
        try:
            self.change(lambda m, who: m.patch_field(name, field, partial, author_id=who))
        except ValidationFailed as error:
            return self.detail(name, field, problems=problems_of(error), status=400)
        except Conflict as error:  # values that do not convert, and no word to clear them
            return self.detail(name, field, problems={"type": [error.detail]}, status=409)
        return self.saved(gettext("Type changed."), ".detail", name=name, field=field)

    @expose("/<name>/<field>/delete", methods=["POST"])
    def delete(self, name: str, field: str) -> Any:
        try:
            self.change(lambda m, who: m.delete_field(name, field, author_id=who))
        except Conflict as error:
            return self.detail(name, field, problems={"delete": [error.detail]}, status=409)
        return self.saved(
            gettext("Field moved to the recycle bin."), "setup_objects.detail", name=name
        )

    @expose("/<name>/<field>/restore", methods=["POST"])
    def restore(self, name: str, field: str) -> Any:
        self.change(lambda m, who: m.restore_field(name, field, author_id=who))
        return self.saved(gettext("Field restored."), ".detail", name=name, field=field)


def _int_or_text(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text


def _name_problems(service, object_name: str, draft: Draft) -> dict[str, list[str]]:
    """The first step's check: a label or name, a valid name, not taken on the object."""
    name = draft.api_name
    if not name:
        return {"label": [gettext("Give the field a label.")]}
    problem = field_name_problem(name)
    if problem:
        return {"api_name": [problem]}
    taken = {f["api_name"] for f in service.get_object(object_name)["fields"]}
    taken |= {f["api_name"] for f in service.deleted_fields(object_name)}
    if name in taken:
        return {"api_name": [gettext("The object already has a field '%(name)s'.", name=name)]}
    return {}


def short_paths(problems: dict[str, list]) -> dict[str, list[str]]:
    """Problems keyed by the field's own option (``expression``, ``values``), as the form
    names its inputs; the object and field prefix of a change set's paths dropped."""
    out: dict[str, list[str]] = {}
    for path, messages in problems.items():
        key = path.rsplit(".fields.", 1)[-1]
        key = key.split(".", 1)[1] if "." in key else "(field)"
        out.setdefault(key.split(".")[0], []).extend(str(m) for m in messages)
    return out


def _grants_object(permission_set: dict, object_name: str) -> bool:
    grant = permission_set.get("objects", {}).get(object_name, {})
    return bool(grant.get("read") or grant.get("view_all") or grant.get("modify_all"))


def _layouts_of(service, object_name: str) -> list[dict]:
    return [lay for lay in service.list_components("layout") if lay.get("object") == object_name]


def _relations_to(model, object_name: str) -> list[str]:
    """``child.lookup`` relations a roll-up on the object can summarise."""
    return sorted(f"{r.child}.{r.field}" for r in model.relations_to.get(object_name, ()))
