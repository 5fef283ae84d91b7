"""The metadata API: objects and fields as JSON, with history, diff and rollback."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from crm_platform.core import Forbidden, NotFound, ValidationFailed
from crm_platform.metadata import ChangeResult
from crm_platform.runtime.security import setup_view

from .auth import current_access, current_org, current_user, require_admin
from .jsonio import read_json

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


def _require_setup() -> None:
    """Revisions, diffs and deleted definitions are setup: a user who does not administer
    the org sees the metadata only as it is now, as far as they may read it."""
    if not setup_view.sees_setup(current_access()):
        raise Forbidden("this needs the view_setup or customize_application permission")


def _shown_object(definition: dict[str, Any]) -> dict[str, Any]:
    shown = setup_view.object_definition(current_access(), definition)
    if shown is None:
        raise NotFound(f"no object '{definition['api_name']}'")
    return shown


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in {"1", "true", "yes"}


def _int_arg(name: str, *, required: bool = False) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        if required:
            raise ValidationFailed({name: "required"})
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ValidationFailed({name: "must be an integer"}) from exc


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
def list_objects() -> Response:
    access = current_access()
    objects = _service().list_objects(include_deleted=_flag("include_deleted"))
    shown = [setup_view.object_definition(access, o) for o in objects]
    return _respond({"objects": [o for o in shown if o is not None]})


@bp.post("/objects")
@require_admin
def create_object() -> Response:
    raw = read_json(request)
    result = _service().create_object(raw, author_id=_author())
    name = raw["api_name"]
    response = _respond(_service().get_object(name), result, 201)
    response.headers["Location"] = f"/api/v1/metadata/objects/{name}"
    return response


@bp.get("/objects/<name>")
def get_object(name: str) -> Response:
    return _respond(_shown_object(_service().get_object(name, include_deleted=True)))


@bp.patch("/objects/<name>")
@require_admin
def patch_object(name: str) -> Response:
    result = _service().patch_object(name, read_json(request), author_id=_author())
    return _respond(_service().get_object(name), result)


@bp.put("/objects/<name>")
@require_admin
def replace_object(name: str) -> Response:
    result = _service().replace_object(name, read_json(request), author_id=_author())
    return _respond(_service().get_object(name), result)


@bp.delete("/objects/<name>")
@require_admin
def delete_object(name: str) -> Response:
    """Soft delete (to the recycle bin); ``?purge=true&confirm=<name>`` drops it for good."""
    if _flag("purge"):
        result = _service().purge_object(
            name, confirm=request.args.get("confirm"), author_id=_author()
        )
        return _respond({"api_name": name, "status": "purged"}, result)
    result = _service().delete_object(name, author_id=_author())
    return _respond(_service().get_object(name, include_deleted=True), result)


@bp.post("/objects/<name>/restore")
@require_admin
def restore_object(name: str) -> Response:
    result = _service().restore_object(name, author_id=_author())
    return _respond(_service().get_object(name), result)


@bp.get("/objects/<name>/fields")
def list_fields(name: str) -> Response:
    if _flag("deleted"):
        _require_setup()
        _service().get_object(name)
        return _respond({"fields": _service().deleted_fields(name)})
    return _respond({"fields": _shown_object(_service().get_object(name))["fields"]})


@bp.post("/objects/<name>/fields")
@require_admin
def add_field(name: str) -> Response:
    raw = read_json(request)
    result = _service().add_field(name, raw, author_id=_author())
    field_name = raw["api_name"]
    response = _respond(_service().get_field(name, field_name), result, 201)
    response.headers["Location"] = f"/api/v1/metadata/objects/{name}/fields/{field_name}"
    return response


@bp.get("/objects/<name>/fields/<field_name>")
def get_field(name: str, field_name: str) -> Response:
    shown = setup_view.field_definition(
        current_access(), name, _service().get_field(name, field_name)
    )
    if shown is None:
        raise NotFound(f"no field '{field_name}' on '{name}'")
    return _respond(shown)


@bp.patch("/objects/<name>/fields/<field_name>")
@require_admin
def patch_field(name: str, field_name: str) -> Response:
    result = _service().patch_field(name, field_name, read_json(request), author_id=_author())
    return _respond(_service().get_field(name, field_name), result)


@bp.delete("/objects/<name>/fields/<field_name>")
@require_admin
def delete_field(name: str, field_name: str) -> Response:
    """Soft delete (data kept, restorable); ``?purge=true&confirm=<field>`` drops the column."""
    if _flag("purge"):
        result = _service().purge_field(
            name, field_name, confirm=request.args.get("confirm"), author_id=_author()
        )
        return _respond({"api_name": field_name, "status": "purged"}, result)
    result = _service().delete_field(name, field_name, author_id=_author())
    return _respond(_service().get_field(name, field_name), result)


@bp.post("/objects/<name>/fields/<field_name>/restore")
@require_admin
def restore_field(name: str, field_name: str) -> Response:
    result = _service().restore_field(name, field_name, author_id=_author())
    return _respond(_service().get_field(name, field_name), result)


@bp.get("/objects/<name>/history")
def object_history(name: str) -> Response:
    _require_setup()
    return _respond({"api_name": name, "history": _service().history(name)})


@bp.get("/objects/<name>/history/<int:revision>")
def object_at_revision(name: str, revision: int) -> Response:
    _require_setup()
    definition = _service().definition_at(name, revision)
    if definition is None:
        _service().history(name)  # 404 for an unknown object
    return _respond({"revision": revision, "definition": definition})


@bp.get("/objects/<name>/diff")
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
    _service().history(name)
    result = _service().rollback_object(name, revision, author_id=_author())
    return _respond(_service().get_object(name, include_deleted=True), result)


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
