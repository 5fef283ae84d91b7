"""Lookup type-ahead, ``/lookup/<object>/<field>?q=&target=``: the records of a lookup's
target that the signed-in user may see, by name, at most ``MAX_HITS`` — read through
the record service (its search index and list, sharing and field-level security in SQL),
never a table. The form's lookup stays a select (or a name typed and resolved) with
JavaScript off; ``static/lookup.js`` turns it into a type-ahead that asks this endpoint.

A polymorphic lookup names the target object it searches (``target=``), picked first.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext

from crm_platform.api.auth import request_reading
from crm_platform.core import CrmError, Forbidden, NotFound, ValidationFailed
from crm_platform.fieldtypes import USER, field_type
from crm_platform.runtime.directory import list_users
from crm_platform.runtime.model import FieldModel, ObjectModel
from crm_platform.runtime.records import ListRequest

from .context import Viewer, reading, viewer
from .frame import bp, object_or_404
from .present import Presenter
from .widgets import SEARCH_SUFFIX

MAX_HITS = 20
POLYMORPHIC = "polymorphic"  # a lookup widget whose target is picked first
PICKED_SUFFIX = "__id"  # the id the type-ahead picked beside a name typed (lookup.js)
MAX_QUERY = 200


def lookup_field(obj: ObjectModel, name: str, v: Viewer) -> FieldModel:
    """The lookup field the type-ahead is for (404 when absent, not a lookup, or
    unreadable: nothing tells a hidden field apart from a missing one)."""
    f = obj.fields.get(name)
    if f is None or not field_type(f.type).relation:
        raise NotFound(f"no lookup {name!r} on {obj.api_name}")
    if not v.access.field_readable(obj.api_name, name):
        raise NotFound(f"no lookup {name!r} on {obj.api_name}")
    return f


def chosen_target(f: FieldModel, asked: str | None) -> str:
    """The object searched: the lookup's one target, or the one asked of a polymorphic
    lookup's targets (a 400 naming ``target`` otherwise)."""
    if len(f.targets) == 1 and asked in (None, "", f.targets[0]):
        return f.targets[0]
    if asked in f.targets:
        return asked
    choices = ", ".join(f.targets)
    raise ValidationFailed({"target": f"pick one of {choices}"})


def _ranked(hits: list[dict[str, Any]], q: str) -> list[dict[str, str]]:
    """Hits with a visible name, those whose name starts with ``q`` first (the index
    ranks matches anywhere in the record's text)."""
    lowered = q.lower()
    named = [{"id": h["id"], "text": h["name"]} for h in hits if h.get("name")]
    return sorted(named, key=lambda h: (not h["text"].lower().startswith(lowered), h["text"]))


def user_hits(q: str) -> list[dict[str, str]]:
    """Active users whose name or email holds ``q`` (a lookup to ``user``)."""
    conn, _model = request_reading()
    lowered = q.lower()
    found = [
        {"id": u["id"], "text": u["name"] or u["email"]}
        for u in list_users(conn)
        if u["active"] and lowered in f"{u['name'] or ''} {u['email']}".lower()
    ]
    return sorted(found, key=lambda h: h["text"].lower())[:MAX_HITS]


def record_hits(target: ObjectModel, q: str, v: Viewer) -> list[dict[str, str]]:
    """Visible records of ``target`` matching ``q`` by the search index (the first by
    name when ``q`` is empty)."""
    if not v.access.can(target.api_name, "read"):
        raise Forbidden(gettext("You may not see these records."))
    if not v.access.field_readable(target.api_name, target.name_field):
        return []
    with reading() as session:
        if q:
            return _ranked(session.search(q, [target.api_name], MAX_HITS), q)
        page = session.list(
            target.api_name,
            ListRequest(fields=(target.name_field,), order_by=(target.name_field,), limit=MAX_HITS),
        )
    return [{"id": r["id"], "text": str(r.get(target.name_field) or r["id"])} for r in page.records]


@bp.get("/lookup/<object_name>/<field_name>")
def lookup_search(object_name: str, field_name: str) -> Any:
    """JSON ``{"results": [{"id", "text"}], "target"}`` for the type-ahead (select2's
    shape, so either script reads it)."""
    try:
        target_name, results = _search(object_name, field_name)
    except CrmError as error:  # a script reads it: problem+json, not the error page
        response = jsonify(error.to_problem())
        response.status_code = error.status
        response.mimetype = "application/problem+json"
        return response
    response = jsonify({"results": results, "target": target_name})
    response.headers["Cache-Control"] = "no-store"  # what one user may see: never cached
    return response


def _search(object_name: str, field_name: str) -> tuple[str, list[dict[str, str]]]:
    v = viewer()
    obj = object_or_404(object_name)
    f = lookup_field(obj, field_name, v)
    target_name = chosen_target(f, request.args.get("target"))
    q = request.args.get("q", "").strip()
    if len(q) > MAX_QUERY:
        raise ValidationFailed({"q": f"at most {MAX_QUERY} characters"})
    if target_name == USER:
        return target_name, user_hits(q)
    target = v.model.object(target_name)
    if target is None:
        raise NotFound(f"no object {target_name!r}")
    return target_name, record_hits(target, q, v)


def prefill(session, widget: Any) -> None:
    """Fill a lookup widget from ``?<field>=<id>`` (a related list's "new"): the target's
    name shown, in select and type-the-name modes alike; a record the user may not see
    (or a polymorphic or user lookup's value) leaves the input empty, never an id."""
    record_id = widget.value
    targets = widget.field.targets
    if widget.lookup_mode == POLYMORPHIC:
        _prefill_polymorphic(session, widget, record_id)
        return
    if targets == (USER,):  # every active user is already a choice
        widget.value = record_id if record_id in {c[0] for c in widget.choices} else ""
        return
    target = session.model.object(targets[0]) if len(targets) == 1 else None
    widget.value, widget.lookup_name = "", ""
    if target is None or not record_id:
        return
    try:
        record = session.get(target.api_name, record_id, [target.name_field])
    except CrmError:
        return
    name = str(record.get(target.name_field) or record["id"])
    widget.value, widget.lookup_name = record["id"], name
    if widget.lookup_mode == "select" and record["id"] not in {c[0] for c in widget.choices}:
        widget.choices.insert(0, (record["id"], name))


def picked(session, target_name: str, text: str, widget: Any, form: Any) -> str | None:
    """The id the type-ahead picked (``<field>__id``), when it is a record of the target
    the user may see and still bears the name in the box (else the name is resolved as
    typed): two records of the same name stay apart."""
    record_id = form.get(widget.name + PICKED_SUFFIX, "")
    target = session.model.object(target_name)
    if not record_id or not text.strip() or target is None:
        return None
    try:
        record = session.get(target_name, record_id, [target.name_field])
    except CrmError:
        return None
    name = str(record.get(target.name_field) or "")
    return record["id"] if name.strip().lower() == text.strip().lower() else None


def make_polymorphic(session, widget: Any, v: Viewer) -> None:
    """A polymorphic lookup in a form: a select of the targets the viewer may read, picked
    first, then the record's name typed (a type-ahead on that target with JavaScript).
    The current value's target is found by reading its id in each target (ids are unique
    across objects); none readable leaves the field read-only."""
    present = Presenter(v)
    choices = []
    for name in widget.field.targets:
        if name == USER:
            choices.append((USER, gettext("User")))
            continue
        target = v.model.object(name)
        if target is not None and v.access.can(name, "read"):
            choices.append((name, present.object_label(target)))
    if not choices:
        widget.read_only = True
        return
    widget.lookup_mode = POLYMORPHIC
    widget.choices = choices
    widget.target = choices[0][0]
    record_id = widget.value if isinstance(widget.value, str) else ""
    for name, _label in choices:
        if not record_id or name == USER:
            continue
        try:
            session.get(name, record_id, [v.model.object(name).name_field])
        except CrmError:
            continue
        widget.target = name
        return
    if record_id and any(c[0] == USER for c in choices):
        widget.target = USER


def collect_polymorphic(session, widget: Any, form: Any) -> dict[str, str] | None:
    """``{object, id}`` for the target picked and the name typed (the one visible record
    of that name; a 400 naming the field otherwise). Keeps both to show them again."""
    widget.target = form.get(f"{widget.name}.object", "")
    widget.lookup_name = text = form.get(widget.name + SEARCH_SUFFIX, "").strip()
    if not text:
        return None
    if widget.target not in {c[0] for c in widget.choices}:
        raise ValidationFailed({widget.name: gettext("Pick what it points at first.")})
    chosen = picked(session, widget.target, text, widget, form)
    if chosen:
        return {"object": widget.target, "id": chosen}
    if widget.target == USER:
        hits = [h for h in user_hits(text) if h["text"].lower() == text.lower()]
    else:
        found = session.search(text, [widget.target], MAX_HITS)
        hits = [{"id": h["id"], "text": h["name"]} for h in found if h.get("name")]
        exact = [h for h in hits if h["text"].strip().lower() == text.lower()]
        hits = exact or hits
    if len(hits) != 1:
        names = ", ".join(sorted({h["text"] for h in hits})[:5])
        message = (
            gettext("several records match: %(names)s — type the full name", names=names)
            if hits
            else gettext("no record named “%(name)s”", name=text)
        )
        raise ValidationFailed({widget.name: message})
    return {"object": widget.target, "id": hits[0]["id"]}


def _prefill_polymorphic(session, widget: Any, record_id: str) -> None:
    """The target and name of a polymorphic lookup's pre-filled record (the first of its
    readable targets that holds the id); not found, the input starts empty."""
    widget.value, widget.lookup_name = "", ""
    for name, _label in widget.choices:
        target = session.model.object(name)
        if target is None or not record_id:
            continue
        try:
            record = session.get(name, record_id, [target.name_field])
        except CrmError:
            continue
        widget.target, widget.lookup_name = name, str(record.get(target.name_field) or "")
        widget.value = record_id
        return
