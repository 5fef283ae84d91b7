"""The metadata API: objects and fields as JSON, with history, diff and rollback.

Objects and fields are answered in their presented form (``metadata.labels``): each
label resolved for the request's ``Accept-Language`` beside the map of all its
languages, every picklist value as a full map. Writes take that form back as well
as the plain definition format; revisions and diffs show definitions as stored.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from crm_platform.core import Forbidden, NotFound, ValidationFailed
from crm_platform.core.inputs import MAX_SQL_INTEGER as MAX_REVISION
from crm_platform.metadata import ChangeResult, fold_presented, present_field, present_object
from crm_platform.runtime.security import setup_view

from .auth import current_access, current_org, current_user, require_admin
from .jsonio import read_json
from .languages import label_chooser
from .params import query_params

bp = Blueprint("metadata_api", __name__, url_prefix="/metadata")

VERSION_HEADER = "X-Metadata-Version"


def _service():
    return current_org().metadata


def _author() -> str:
    return current_user().id


def _respond(body: Any, result: ChangeResult | None = None, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    version = result.version if result is not None else _service().version()
    response.headers[VERSION_HEADER] = str(version)
    return response


def _definition() -> Any:
    """The request's definition, folded back from the presented form if it is in it."""
    return fold_presented(read_json(request))


def _object(definition: dict[str, Any]) -> dict[str, Any]:
    """An object's definition as an administrator writes it, labels resolved."""
    return present_object(definition, label_chooser())


def _field(definition: dict[str, Any]) -> dict[str, Any]:
    return present_field(definition, label_chooser())


def _require_setup() -> None:
    """Revisions, diffs and deleted definitions are setup: a user who does not administer
    the org sees the metadata only as it is now, as far as they may read it."""
    if not setup_view.sees_setup(current_access()):
        raise Forbidden("this needs the view_setup or customize_application permission")


def _shown_object(definition: dict[str, Any]) -> dict[str, Any]:
    """The object as the caller may see it (404 when they may not read it), labels resolved."""
    shown = setup_view.object_definition(current_access(), definition)
    if shown is None:
        raise NotFound(f"no object '{definition['api_name']}'")
    return _object(shown)


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in {"1", "true", "yes"}


def _int_arg(name: str, *, required: bool = False) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        if required:
            raise ValidationFailed({name: "required"})
        return None
    try:
        return _revision_number(int(raw), name)
    except ValueError as exc:
        raise ValidationFailed({name: "must be an integer"}) from exc


def _revision_number(value: int, name: str) -> int:
    """A revision as the database can hold it (a 31-digit one must not reach the SQL)."""
    if abs(value) > MAX_REVISION:  # out of range: no such revision can exist
        raise ValidationFailed({name: f"a revision number is at most {MAX_REVISION}"})
    return value


@bp.get("")
def metadata_index() -> Response:
    """The metadata version and the kinds this server knows."""
    org = current_org()
    kinds = [
        {"kind": k.name, "path": f"/api/v1/metadata/{k.plural}"}
        for k in org.registry.kinds.values()
        if k.name != "field"
    ]
    return _respond({"version": _service().version(), "kinds": kinds})


@bp.get("/objects")
@query_params("include_deleted")
def list_objects() -> Response:
    access = current_access()
    objects = _service().list_objects(include_deleted=_flag("include_deleted"))
    shown = [setup_view.object_definition(access, o) for o in objects]
    choose = label_chooser()
    return _respond({"objects": [present_object(o, choose) for o in shown if o is not None]})


@bp.post("/objects")
@require_admin
def create_object() -> Response:
    raw = _definition()
    result = _service().create_object(raw, author_id=_author())
    name = raw["api_name"]
    response = _respond(_object(_service().get_object(name)), result, 201)
    response.headers["Location"] = f"/api/v1/metadata/objects/{name}"
    return response


@bp.get("/objects/<name>")
def get_object(name: str) -> Response:
    return _respond(_shown_object(_service().get_object(name, include_deleted=True)))


@bp.patch("/objects/<name>")
@require_admin
def patch_object(name: str) -> Response:
    """Change attributes; a new ``api_name`` renames the object (see ``metadata.renames``)."""
    result = _service().patch_object(name, _definition(), author_id=_author())
    return _respond(_object(_service().get_object(result.value)), result)


@bp.put("/objects/<name>")
@require_admin
def replace_object(name: str) -> Response:
    result = _service().replace_object(name, _definition(), author_id=_author())
    return _respond(_object(_service().get_object(name)), result)


@bp.delete("/objects/<name>")
@query_params("purge", "confirm")
@require_admin
def delete_object(name: str) -> Response:
    """Soft delete (to the recycle bin); ``?purge=true&confirm=<name>`` drops it for good."""
    if _flag("purge"):
        result = _service().purge_object(
            name, confirm=request.args.get("confirm"), author_id=_author()
        )
        return _respond({"api_name": name, "status": "purged"}, result)
    result = _service().delete_object(name, author_id=_author())
    return _respond(_object(_service().get_object(name, include_deleted=True)), result)


@bp.post("/objects/<name>/restore")
@require_admin
def restore_object(name: str) -> Response:
    result = _service().restore_object(name, author_id=_author())
    return _respond(_object(_service().get_object(name)), result)


@bp.get("/objects/<name>/fields")
@query_params("deleted")
def list_fields(name: str) -> Response:
    choose = label_chooser()
    if _flag("deleted"):
        _require_setup()
        _service().get_object(name)
        deleted = _service().deleted_fields(name)
        return _respond({"fields": [present_field(f, choose) for f in deleted]})
    return _respond({"fields": _shown_object(_service().get_object(name))["fields"]})


@bp.post("/objects/<name>/fields")
@require_admin
def add_field(name: str) -> Response:
    raw = _definition()
    result = _service().add_field(name, raw, author_id=_author())
    field_name = raw["api_name"]
    response = _respond(_field(_service().get_field(name, field_name)), result, 201)
    response.headers["Location"] = f"/api/v1/metadata/objects/{name}/fields/{field_name}"
    return response


@bp.get("/objects/<name>/fields/<field_name>")
def get_field(name: str, field_name: str) -> Response:
    shown = setup_view.field_definition(
        current_access(), name, _service().get_field(name, field_name)
    )
    if shown is None:
        raise NotFound(f"no field '{field_name}' on '{name}'")
    return _respond(_field(shown))


@bp.patch("/objects/<name>/fields/<field_name>")
@require_admin
def patch_field(name: str, field_name: str) -> Response:
    result = _service().patch_field(name, field_name, _definition(), author_id=_author())
    return _respond(_field(_service().get_field(name, result.value)), result)


@bp.post("/objects/<name>/fields/<field_name>/type-change/preview")
@require_admin
def preview_type_change(name: str, field_name: str) -> Response:
    """What a change of the field's definition (its type) would do, changing nothing."""
    body = _definition()
    return _respond(_service().preview_type_change(name, field_name, body, author_id=_author()))


@bp.post("/objects/<name>/fields/<field_name>/type-change")
@require_admin
def change_type(name: str, field_name: str) -> Response:
    """Change the field's definition (its type), converting the values: the body is the
    new definition plus ``on_unconvertible`` (refuse, the default, or clear) and, for a
    lookup given a new target, ``mapping`` {old id: new id}."""
    result = _service().patch_field(name, field_name, _definition(), author_id=_author())
    return _respond(_field(_service().get_field(name, result.value)), result)


@bp.get("/objects/<name>/fields/<field_name>/usages")
def field_usages(name: str, field_name: str) -> Response:
    """Every component that refers to the field: kind, name and where (setup: it names
    rules and fields the caller may not be able to read)."""
    _require_setup()
    usages = _service().field_usages(name, field_name)
    return _respond({"object": name, "field": field_name, "usages": usages})


@bp.get("/objects/<name>/aliases")
def object_aliases(name: str) -> Response:
    """The old names the object and its fields still answer to in the record API."""
    _require_setup()
    return _respond(_service().aliases(name))


@bp.delete("/objects/<name>/aliases/<alias>")
@require_admin
def remove_object_alias(name: str, alias: str) -> Response:
    result = _service().remove_alias(name, alias, author_id=_author())
    return _respond(_service().aliases(name), result)


@bp.delete("/objects/<name>/fields/<field_name>/aliases/<alias>")
@require_admin
def remove_field_alias(name: str, field_name: str, alias: str) -> Response:
    result = _service().remove_alias(name, alias, field=field_name, author_id=_author())
    return _respond(_service().aliases(name), result)


@bp.delete("/objects/<name>/fields/<field_name>")
@query_params("purge", "confirm")
@require_admin
def delete_field(name: str, field_name: str) -> Response:
    """Soft delete (data kept, restorable); ``?purge=true&confirm=<field>`` drops the column."""
    if _flag("purge"):
        result = _service().purge_field(
            name, field_name, confirm=request.args.get("confirm"), author_id=_author()
        )
        return _respond({"api_name": field_name, "status": "purged"}, result)
    result = _service().delete_field(name, field_name, author_id=_author())
    return _respond(_field(_service().get_field(name, field_name)), result)


@bp.post("/objects/<name>/fields/<field_name>/restore")
@require_admin
def restore_field(name: str, field_name: str) -> Response:
    result = _service().restore_field(name, field_name, author_id=_author())
    return _respond(_field(_service().get_field(name, field_name)), result)


@bp.get("/objects/<name>/history")
def object_history(name: str) -> Response:
    _require_setup()
    return _respond({"api_name": name, "history": _service().history(name)})


@bp.get("/objects/<name>/history/<int:revision>")
def object_at_revision(name: str, revision: int) -> Response:
    _require_setup()
    _revision_number(revision, "revision")
    definition = _service().definition_at(name, revision)
    if definition is None:
        _service().history(name)  # 404 for an unknown object
    return _respond({"revision": revision, "definition": definition})


@bp.get("/objects/<name>/diff")
@query_params("from", "to")
def object_diff(name: str) -> Response:
    _require_setup()
    _service().history(name)
    start = _int_arg("from", required=True)
    assert start is not None
    return _respond(_service().diff(name, start, _int_arg("to")))


@bp.post("/objects/<name>/rollback")
@require_admin
def rollback_object(name: str) -> Response:
    body = read_json(request)
    revision = body.get("revision") if isinstance(body, dict) else None
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 1:
        raise ValidationFailed({"revision": "give the revision number to roll back to"})
    _revision_number(revision, "revision")
    _service().history(name)
    result = _service().rollback_object(name, revision, author_id=_author())
    return _respond(_object(_service().get_object(result.value, include_deleted=True)), result)


# --- every other kind (validation rules, and the kinds later work adds) -------------------


def _generic_kind(plural: str):
    kind = current_org().registry.kind_for_plural(plural)
    if kind is None or kind.name in {"object", "field"}:
        raise NotFound(f"no metadata kind '{plural}'")
    return kind


def _readable_kind(plural: str):
    """A kind the user may read components of (403 for a setup-only kind)."""
    kind = _generic_kind(plural)
    if not setup_view.kind_visible(current_access(), kind.name):
        raise Forbidden(f"{plural} are setup: this needs the view_setup permission")
    return kind


def _warned(response: Response, kind: str, definition: Any) -> Response:
    """A permission set that opens derived fields answers a warning naming what they show."""
    if kind == "permission_set" and isinstance(definition, dict):
        with current_org().reading() as (_conn, model):
            for text in setup_view.derived_grant_warnings(model, definition):
                response.headers.add("Warning", f'299 crm "{text}"')
    return response


@bp.get("/<plural>")
def list_components(plural: str) -> Response:
    kind = _readable_kind(plural)
    access = current_access()
    found = _service().list_components(kind.name)
    shown = [c for c in found if setup_view.component_visible(access, kind.name, c)]
    return _respond({plural: shown})


@bp.post("/<plural>")
@require_admin
def create_component(plural: str) -> Response:
    kind = _generic_kind(plural)
    raw = read_json(request)
    result = _service().put_component(kind.name, raw, author_id=_author(), create_only=True)
    name = kind.component_name(raw)
    response = _respond(_service().get_component(kind.name, name), result, 201)
    response.headers["Location"] = f"/api/v1/metadata/{plural}/{name}"
    return _warned(response, kind.name, raw)


@bp.get("/<plural>/<name>")
def get_component(plural: str, name: str) -> Response:
    kind = _readable_kind(plural)
    found = _service().get_component(kind.name, name)
    if not setup_view.component_visible(current_access(), kind.name, found):
        raise NotFound(f"no {kind.name} '{name}'")
    return _respond(found)


@bp.put("/<plural>/<name>")
@require_admin
def replace_component(plural: str, name: str) -> Response:
    kind = _generic_kind(plural)
    raw = read_json(request)
    names_itself = isinstance(raw, dict) and "api_name" in raw and "object" in raw
    if names_itself and kind.per_object and kind.component_name(raw) != name:
        raise ValidationFailed({"api_name": f"the definition names '{kind.component_name(raw)}'"})
    result = _service().put_component(kind.name, raw, author_id=_author())
    return _warned(_respond(_service().get_component(kind.name, name), result), kind.name, raw)


@bp.delete("/<plural>/<name>")
@require_admin
def delete_component(plural: str, name: str) -> Response:
    kind = _generic_kind(plural)
    result = _service().remove_component(kind.name, name, author_id=_author())
    return _respond({"name": name, "status": "deleted"}, result)
