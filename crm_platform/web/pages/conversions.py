"""Converting a record from its page: a button per conversion of its object (the
``conversion`` kind) that the record meets, posting to ``/r/<object>/<id>/convert/<name>``;
the conversion runs as the viewer in one transaction, then the page of the first record
it made opens."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect
from flask_babel import gettext
from flask_wtf import FlaskForm

from crm_platform.core import CrmError, ValidationFailed
from crm_platform.runtime.model import ObjectModel
from crm_platform.workflow.conversions import conversions_of, convert

from .context import Viewer, writing
from .frame import bp, object_or_404


def record_conversions(
    session: Any, v: Viewer, obj: ObjectModel, record: dict[str, Any]
) -> list[tuple[str, str]]:
    """(name, label) of the conversions the viewer may run on this record now."""
    out = []
    for name, conversion in conversions_of(v.model).of(obj.api_name).items():
        if conversion.when:
            what = f"conversion {obj.api_name}.{name}"
            try:
                meets = session.evaluate_on(obj, conversion.when, record, what, None)
            except CrmError:
                meets = False
            if meets is not True:
                continue
        out.append((name, v.label(conversion.label, name)))
    return out


@bp.post("/r/<object_name>/<record_id>/convert/<name>")
def convert_page(object_name: str, record_id: str, name: str) -> Any:
    """Run the conversion ``name`` on the record, as the viewer."""
    obj = object_or_404(object_name)
    form = FlaskForm()
    if not form.validate_on_submit():
        raise ValidationFailed({"csrf_token": "the form expired: try again"})
    back = f"/r/{obj.api_name}/{record_id}"
    try:
        with writing() as session:
            conversion = conversions_of(session.model).of(obj.api_name).get(name)
            if conversion is None:
                raise ValidationFailed({"conversion": f"no conversion '{name}'"})
            result = convert(session, obj, record_id, conversion)
    except CrmError as error:
        flash(gettext("Not converted: %(why)s", why=error.detail), "danger")
        return redirect(back)
    made = [(o, i) for o, i, created in result.records.values() if created]
    flash(gettext("Converted: %(count)d record(s) made.", count=len(made)))
    return redirect(f"/r/{made[0][0]}/{made[0][1]}" if made else back)
