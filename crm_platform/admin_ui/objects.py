"""The object manager: objects with their fields, record counts and where each field is
used; create an object; edit an object's or a field's labels (English and Chinese),
description and help text."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_admin import expose
from flask_babel import gettext, lazy_gettext

from crm_platform.core import ValidationFailed
from crm_platform.web.pages.context import reading

from .base import SetupView, label_map, label_parts, problems_of

SHARING_DEFAULTS = ("private", "public_read", "public_read_write", "controlled_by_parent")


class ObjectsView(SetupView):
    area_name = lazy_gettext("Object manager")
    area_url = "objects"
    summary = lazy_gettext("Objects, their fields and where each field is used.")
    permission = "customize_application"

    @expose("/")
    def index(self) -> Any:
        objects = self.metadata.list_objects()
        counts = record_counts([o["api_name"] for o in objects])
        return self.page(
            "setup/objects.html",
            objects=objects,
            counts=counts,
            form={},
            problems={},
            sharing_defaults=SHARING_DEFAULTS,
        )

    @expose("/new", methods=["POST"])
    def create(self) -> Any:
        form = request.form
        raw: dict[str, Any] = {
            "api_name": form.get("api_name", "").strip(),
            "label": label_map(form.get("label_en", ""), form.get("label_zh", "")),
            "plural_label": label_map(form.get("plural_en", ""), form.get("plural_zh", "")),
            "sharing": form.get("sharing") or "private",
            "fields": [
                {
                    "api_name": "name",
                    "type": "text",
                    "label": label_map(gettext("Name"), ""),
                    "required": True,
                    "max_length": 255,
                }
            ],
            "name_field": "name",
        }
        raw = {k: v for k, v in raw.items() if v is not None}
        try:
            self.change(lambda m, who: m.create_object(raw, author_id=who))
        except ValidationFailed as error:
            objects = self.metadata.list_objects()
            return self.page(
                "setup/objects.html",
                status=400,
                objects=objects,
                counts=record_counts([o["api_name"] for o in objects]),
                form=form,
                problems=problems_of(error),
                sharing_defaults=SHARING_DEFAULTS,
            )
        return self.saved(gettext("Object created."), ".detail", name=raw["api_name"])

    @expose("/<name>")
    def detail(self, name: str) -> Any:
        obj = self.metadata.get_object(name)
        usages = {
            f["api_name"]: self.metadata.field_usages(name, f["api_name"]) for f in obj["fields"]
        }
        return self.page(
            "setup/object.html",
            obj=obj,
            title=self.viewer.label(obj.get("label"), name),
            count=record_counts([name]).get(name),
            usages=usages,
            deleted=self.metadata.deleted_fields(name),
            form=_object_form(obj),
            problems={},
            sharing_defaults=SHARING_DEFAULTS,
            apps=[a for a in self.metadata.list_components("app") if name in a.get("tabs", [])],
        )

    @expose("/<name>/labels", methods=["POST"])
    def labels(self, name: str) -> Any:
        form = request.form
        partial = {
            "label": label_map(form.get("label_en", ""), form.get("label_zh", "")),
            "plural_label": label_map(form.get("plural_en", ""), form.get("plural_zh", "")),
            "description": form.get("description", "").strip() or None,
        }
        obj = self.metadata.get_object(name)
        clean = {k: v for k, v in partial.items() if v is not None}
        try:
            self.change(lambda m, who: m.patch_object(name, clean, author_id=who))
        except ValidationFailed as error:
            return self.page(
                "setup/object.html",
                status=400,
                obj=obj,
                title=self.viewer.label(obj.get("label"), name),
                count=record_counts([name]).get(name),
                usages={},
                deleted=self.metadata.deleted_fields(name),
                form=form,
                problems=problems_of(error),
                sharing_defaults=SHARING_DEFAULTS,
            )
        return self.saved(gettext("Labels saved."), ".detail", name=name)


def _object_form(obj: dict[str, Any]) -> dict[str, str]:
    label_en, label_zh = label_parts(obj.get("label"))
    plural_en, plural_zh = label_parts(obj.get("plural_label"))
    return {
        "label_en": label_en,
        "label_zh": label_zh,
        "plural_en": plural_en,
        "plural_zh": plural_zh,
        "description": obj.get("description", ""),
    }


def record_counts(names: list[str]) -> dict[str, int]:
    """How many live records each object holds, counted by the record service (an
    administrator sees them all)."""
    counts: dict[str, int] = {}
    with reading() as session:
        for name in names:
            if session.model.object(name) is None:
                continue
            rows = session.aggregate(name, [], ["count"], None)
            counts[name] = int(next(iter(rows[0].values()))) if rows else 0
    return counts
