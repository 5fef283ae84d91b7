"""Packs over HTTP: ``/api/v1/packs`` — list, plan, install, upgrade, uninstall, export.

Packs are named, never given as a server path: the API plans and installs the packs
shipped with the platform by name, or a pack uploaded as a zip file (``multipart/form-data``
with a ``file`` part, or an ``application/zip`` body), unpacked safely and validated before
anything changes (see :mod:`crm_platform.packs.archive`). Everything needs the
``manage_packs`` permission (an administrator holds it).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from apispec import APISpec
from flask import Blueprint, Response, jsonify, request, send_file

from crm_platform.core import ValidationFailed
from crm_platform.metadata import KindRegistry
from crm_platform.packs import (
    PackInvalid,
    export_changed,
    export_included,
    install,
    pack_folders,
    parse_include,
    plan,
    plan_upgrade,
    read_installed,
    shipped_packs,
    shipped_root,
    uninstall,
    upgrade,
    validate_folder,
)
from crm_platform.packs.archive import FIELD, MAX_ZIP_BYTES, extract_pack_zip
from crm_platform.runtime import OrgModel

from .auth import current_org, current_user, require_permission
from .jsonio import read_json
from .openapi import JSON, error_responses
from .params import query_params

bp = Blueprint("packs_api", __name__, url_prefix="/packs")

PERMISSION = "manage_packs"
NAME = r"^[a-z][a-z0-9_]{1,39}$"


def _body() -> dict[str, Any]:
    body = read_json(request)
    if not isinstance(body, dict):
        raise ValidationFailed({"(body)": "expected a JSON object"})
    return body


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise ValidationFailed({key: "true or false"})
    return value


def _text(body: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ValidationFailed({key: "a non-empty string"})
    return value


def _pack_name(body: dict[str, Any]) -> str:
    name = _text(body, "pack", required=True)
    assert name is not None
    if name not in pack_folders(shipped_root()):
        raise ValidationFailed({"pack": f"no shipped pack '{name}'"})
    return name


@bp.get("")
@require_permission(PERMISSION)
def list_packs() -> Response:
    """The packs shipped with the platform and those installed, with versions."""
    shipped = [pack.as_json() for pack in shipped_packs()]
    with current_org().db.read() as conn:
        installed = read_installed(conn)
    return jsonify(
        {
            "shipped": shipped,
            "installed": [{"name": p.name, "version": p.version} for p in installed.values()],
        }
    )


ZIP = "application/zip"
FORM = "multipart/form-data"


def _uploaded() -> bytes | None:
    """The zip of an uploaded pack, or None when the request names a shipped pack."""
    if request.mimetype == ZIP:
        return request.get_data()
    if request.mimetype != FORM:
        return None
    upload = request.files.get(FIELD)
    if upload is None:
        raise ValidationFailed({FIELD: "the pack's zip file is missing (a 'file' part)"})
    data = upload.read(MAX_ZIP_BYTES + 1)
    return data


def _form_flag(key: str) -> bool:
    raw = request.args.get(key) if request.mimetype == ZIP else request.form.get(key)
    if raw in (None, "", "false", "0"):
        return False
    if raw in ("true", "1", "on"):
        return True
    raise ValidationFailed({key: "true or false"})


def _with_pack(action: Any) -> Any:
    """Run ``action(target, with_sample)`` on the pack the request names or uploads; an
    upload is unpacked into a temporary folder and validated first (its problems, by
    file and line, refuse it before anything changes)."""
    data = _uploaded()
    if data is None:
        body = _body()
        return action(_pack_name(body), _flag(body, "with_sample_data"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = extract_pack_zip(data, Path(tmp) / "upload")
        pack, problems = validate_folder(folder, current_org().registry)
        if problems or pack is None:
            raise PackInvalid(pack.name if pack else folder.name, problems)
        return action(folder, _form_flag("with_sample_data"))


@bp.post("/plan")
@require_permission(PERMISSION)
@query_params("with_sample_data")
def plan_pack() -> Response:
    """What installing a shipped or an uploaded pack would do; changes nothing."""
    found = _with_pack(lambda target, sample: plan(current_org(), target, with_sample=sample))
    return jsonify(found.as_dict())


@bp.post("/install")
@require_permission(PERMISSION)
@query_params("with_sample_data")
def install_pack() -> Response:
    """Install a shipped or an uploaded pack and the dependencies it lacks, in one
    transaction."""
    result = _with_pack(
        lambda target, sample: install(
            current_org(),
            target,
            with_sample=sample,
            author_id=current_user().id,
            owner_id=current_user().id,  # the records are theirs
        )
    )
    out = {
        "packs": [{"name": n, "version": v} for n, v in result.packs],
        "already_installed": result.already,
        "components": result.components,
        "records": result.records,
        "metadata_version": result.version,
    }
    return jsonify(out), 200 if result.already else 201  # type: ignore[return-value]


def _choices(body: dict[str, Any]) -> tuple[str | None, dict[str, str]]:
    prefer = _text(body, "prefer")
    choices = body.get("choices") or {}
    if not isinstance(choices, dict) or not all(isinstance(v, str) for v in choices.values()):
        raise ValidationFailed({"choices": "a map of kind:name to pack or local"})
    return prefer, choices


@bp.post("/<name>/upgrade")
@require_permission(PERMISSION)
def upgrade_pack(name: str) -> Response:
    """Upgrade an installed pack to the shipped version by a three-way merge;
    ``dry_run`` gives the plan (conflicts included) and changes nothing."""
    body = _body()
    prefer, choices = _choices(body)
    org = current_org()
    if _flag(body, "dry_run"):
        return jsonify(plan_upgrade(org, name, prefer=prefer, choices=choices).as_dict())
    result = upgrade(org, name, prefer=prefer, choices=choices, author_id=current_user().id)
    return jsonify(
        {
            "pack": result.pack,
            "from_version": result.from_version,
            "to_version": result.to_version,
            "components": result.components,
            "resolved": [c.as_dict() for c in result.resolved],
            "deprecated": list(result.deprecated),
            "installed_dependencies": [{"name": n, "version": v} for n, v in result.dependencies],
            "data_records": result.records,
            "metadata_version": result.version,
        }
    )


@bp.delete("/<name>")
@require_permission(PERMISSION)
@query_params("delete_data")
def uninstall_pack(name: str) -> Response:
    """Uninstall a pack; ``?delete_data=true`` deletes its records after a backup."""
    raw = request.args.get("delete_data", "false")
    if raw not in ("true", "false"):
        raise ValidationFailed({"delete_data": "true or false"})
    result = uninstall(current_org(), name, delete_data=raw == "true", author_id=current_user().id)
    return jsonify(
        {
            "pack": result.pack,
            "version": result.version,
            "components": result.components,
            "records_deleted": result.records_deleted,
            "backup": str(result.backup) if result.backup else None,
        }
    )


@bp.post("/export")
@require_permission(PERMISSION)
def export() -> Response:
    """The org's configuration as a new pack folder, in a zip file."""
    body = _body()
    name = _text(body, "name", required=True)
    include = body.get("include") or []
    if not isinstance(include, list) or not all(isinstance(i, str) for i in include):
        raise ValidationFailed({"include": "a list of kind:name"})
    org = current_org()
    items = parse_include(include)
    since = _text(body, "changed_since_install")
    version = _text(body, "version") or "1.0.0"
    with tempfile.TemporaryDirectory() as tmp:
        if since:
            folder = export_changed(
                org, Path(tmp), name=name or "", pack=since, include=items, version=version
            )
        else:
            folder = export_included(
                org, Path(tmp), name=name or "", include=items, version=version
            )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder.parent).as_posix())
    buffer.seek(0)
    return send_file(
        buffer, mimetype="application/zip", as_attachment=True, download_name=f"{name}.zip"
    )


# --- its documentation --------------------------------------------------------------

SELECT_PACK = {
    "type": "object",
    "required": ["pack"],
    "properties": {
        "pack": {"type": "string", "pattern": NAME, "description": "A shipped pack's name."},
        "with_sample_data": {"type": "boolean", "description": "Load its sample/ records."},
    },
}
PLAN = {
    "type": "object",
    "properties": {
        "packs": {"type": "array", "items": {"type": "object"}},
        "already_installed": {"type": "array", "items": {"type": "string"}},
        "summary": {"type": "object"},
        "components": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "pack": {"type": "string"},
                    "kind": {"type": "string"},
                    "name": {"type": "string"},
                    "action": {"type": "string"},
                    "diff": {"type": "string", "description": "A unified diff of a change."},
                },
            },
        },
        "records": {"type": "object", "additionalProperties": {"type": "integer"}},
        "collisions": {"type": "array", "items": {"type": "string"}},
        "problems": {"type": "array", "items": {"type": "string"}},
    },
}
CHOICE = {"type": "string", "enum": ["pack", "local"]}
UPLOAD = {
    "type": "object",
    "required": [FIELD],
    "properties": {
        FIELD: {
            "type": "string",
            "format": "binary",
            "description": "A zip of one pack folder (pack.yaml at its top or in its one top "
            f"folder), at most {MAX_ZIP_BYTES // (1024 * 1024)} MB; absolute paths, '..' and "
            "symbolic links are refused. It is validated before anything changes.",
        },
        "with_sample_data": {"type": "string", "enum": ["true", "false"]},
    },
}
SAMPLE_PARAMETER = {
    "name": "with_sample_data",
    "in": "query",
    "description": "With an application/zip body: load its sample/ records.",
    "schema": {"type": "string", "enum": ["true", "false"]},
}


def _operation(operation_id: str, summary: str, responses: dict[str, Any], **extra: Any):
    return {
        "operationId": operation_id,
        "summary": f"{summary} (needs {PERMISSION})",
        "tags": ["packs"],
        "responses": responses,
        **extra,
    }


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema or {"type": "object"}}}}


def _body_of(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": schema}}}


def _pack_body() -> dict[str, Any]:
    """A shipped pack by name (JSON), or an uploaded zip (a form, or the zip itself)."""
    return {
        "required": True,
        "content": {
            JSON: {"schema": SELECT_PACK},
            FORM: {"schema": UPLOAD},
            ZIP: {"schema": {"type": "string", "format": "binary"}},
        },
    }


NAME_PARAMETER = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``/packs``: list, plan, install, upgrade, uninstall, export."""
    del model, registry  # the same for every model
    spec.tag({"name": "packs", "description": "Packs of metadata and records."})
    errors = error_responses("BadRequest", "Unauthorized", "Conflict")
    not_found = error_responses("NotFound")
    spec.path(
        "/packs",
        operations={
            "get": _operation(
                "list_packs",
                "The shipped and the installed packs",
                {"200": _json("The packs"), **error_responses("Unauthorized")},
            )
        },
    )
    spec.path(
        "/packs/plan",
        operations={
            "post": _operation(
                "plan_pack",
                "What installing a shipped or uploaded pack would do; changes nothing",
                {"200": _json("The plan", PLAN), **errors},
                requestBody=_pack_body(),
                parameters=[SAMPLE_PARAMETER],
            )
        },
    )
    spec.path(
        "/packs/install",
        operations={
            "post": _operation(
                "install_pack",
                "Install a shipped or uploaded pack with the dependencies it lacks, in one "
                "transaction",
                {
                    "201": _json("Installed"),
                    "200": _json("Installed already at this version: nothing changed"),
                    **errors,
                },
                requestBody=_pack_body(),
                parameters=[SAMPLE_PARAMETER],
            )
        },
    )
    upgrade_body = {
        "type": "object",
        "properties": {
            "prefer": {**CHOICE, "description": "How to settle every conflict."},
            "choices": {
                "type": "object",
                "description": "How to settle the conflicts of one component, by kind:name.",
                "additionalProperties": CHOICE,
            },
            "dry_run": {"type": "boolean", "description": "Give the plan; change nothing."},
        },
    }
    spec.path(
        "/packs/{name}/upgrade",
        operations={
            "post": _operation(
                "upgrade_pack",
                "Upgrade an installed pack by a three-way merge; conflicts need a choice",
                {"200": _json("Upgraded, or the plan of a dry run"), **errors, **not_found},
                parameters=[NAME_PARAMETER],
                requestBody={"content": {JSON: {"schema": upgrade_body}}},
            )
        },
    )
    spec.path(
        "/packs/{name}",
        operations={
            "delete": _operation(
                "uninstall_pack",
                "Uninstall a pack (refused while its objects hold records, unless delete_data)",
                {"200": _json("Uninstalled"), **errors, **not_found},
                parameters=[
                    NAME_PARAMETER,
                    {
                        "name": "delete_data",
                        "in": "query",
                        "description": "Delete its records too, after writing a backup file.",
                        "schema": {"type": "string", "enum": ["true", "false"]},
                    },
                ],
            )
        },
    )
    export_body = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "pattern": NAME, "description": "The new pack's name."},
            "include": {
                "type": "array",
                "items": {"type": "string"},
                "description": "kind:name of each component (object:project brings its fields).",
            },
            "changed_since_install": {
                "type": "string",
                "description": "Add what the org changed in this installed pack, with what "
                "it needs: the pack then installs alone into a fresh org.",
            },
            "version": {"type": "string", "description": "The new pack's version (1.0.0)."},
        },
    }
    spec.path(
        "/packs/export",
        operations={
            "post": _operation(
                "export_pack",
                "The org's configuration as a new pack folder, zipped",
                {
                    "200": {
                        "description": "The pack folder as a zip file",
                        "content": {
                            "application/zip": {"schema": {"type": "string", "format": "binary"}}
                        },
                    },
                    **errors,
                },
                requestBody=_body_of(export_body),
            )
        },
    )
