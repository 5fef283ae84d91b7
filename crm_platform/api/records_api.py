"""The records API: a thin layer over the record service (one transaction per request)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from crm_platform.core import ValidationFailed
from crm_platform.runtime.records import ListRequest
from crm_platform.runtime.records.query import DEFAULT_LIMIT, MAX_LIMIT

from . import aliases
from .auth import (
    current_access,
    current_org,
    current_user,
    request_reading,
    take_request_writing,
    writes_in_request_transaction,
)
from .jsonio import read_json
from .params import query_params

bp = Blueprint("records_api", __name__, url_prefix="/records")
bp.after_request(aliases.add_deprecation_headers)


def _object(session, object_name: str):
    """The object's current name and model (an old name answers, deprecated)."""
    name = aliases.object_name(session.model, object_name)
    return name, session.model.object(name)


LIST_PARAMS = ("where", "order_by", "fields", "limit", "cursor", "count", "deleted")


def _session(write: bool = True):
    """A record session in the request's transaction: the write authentication opened for
    a view marked :func:`writes_in_request_transaction`, or the read it read the user in."""
    records, user, access = current_org().records, current_user(), current_access()
    if write:
        return records.session(user, access=access, writing=take_request_writing())
    return records.session(user, write=False, access=access, reading=request_reading())


def _with_etag(record: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(record)
    response.status_code = status
    response.headers["ETag"] = f'"{record["version"]}"'
    return response


def _if_match() -> int | None:
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    try:
        return int(text)
    except ValueError as exc:
        raise ValidationFailed({"If-Match": "give the record's version (its ETag)"}) from exc


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in {"1", "true", "yes"}


def _list_request(session=None, obj=None) -> ListRequest:
    args = request.args
    try:
        limit = int(args.get("limit", DEFAULT_LIMIT))
    except ValueError as exc:
        raise ValidationFailed({"limit": "must be an integer"}) from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed({"limit": f"must be between 1 and {MAX_LIMIT}"})
    fields = tuple(f for f in args.get("fields", "").split(",") if f.strip()) or None
    order_by = tuple(o for o in args.get("order_by", "").split(",") if o.strip())
    where = args.get("where") or None
    if obj is not None:
        model = session.model
        fields = tuple(aliases.dotted(model, obj, f) for f in fields) if fields else None
        order_by = tuple(aliases.dotted(model, obj, o) for o in order_by)
        where = aliases.expression(model, obj, where)
    return ListRequest(
        where=where,
        order_by=order_by,
        fields=fields,
        limit=limit,
        cursor=args.get("cursor") or None,
        count=_flag("count"),
        include_deleted=_flag("deleted"),
    )


def page_body(page) -> dict[str, Any]:
    body: dict[str, Any] = {"records": page.records, "next_cursor": page.next_cursor}
    if page.total is not None:
        body["total"] = page.total
        if page.total_capped:
            body["total_capped"] = True
    return body


@bp.get("/<object_name>")
@query_params(*LIST_PARAMS)
def list_records(object_name: str) -> Response:
    with _session(write=False) as session:
        name, obj = _object(session, object_name)
        page = session.list(name, _list_request(session, obj))
    return jsonify(page_body(page))


@bp.post("/<object_name>")
@writes_in_request_transaction
@query_params()
def create_record(object_name: str) -> Response:
    data = read_json(request)
    with _session() as session:
        name, obj = _object(session, object_name)
        record = session.create(name, aliases.body(session.model, obj, data) if obj else data)
    response = _with_etag(record, 201)
    response.headers["Location"] = f"/api/v1/records/{name}/{record['id']}"
    return response


@bp.get("/<object_name>/<record_id>")
@query_params("fields", "deleted")
def get_record(object_name: str, record_id: str) -> Response:
    fields = [f for f in request.args.get("fields", "").split(",") if f.strip()] or None
    with _session(write=False) as session:
        name, obj = _object(session, object_name)
        if obj is not None and fields:
            fields = [aliases.dotted(session.model, obj, f) for f in fields]
        record = session.get(name, record_id, fields, include_deleted=_flag("deleted"))
    return _with_etag(record)


@bp.patch("/<object_name>/<record_id>")
@writes_in_request_transaction
@query_params()
def update_record(object_name: str, record_id: str) -> Response:
    data = read_json(request)
    with _session() as session:
        name, obj = _object(session, object_name)
        data = aliases.body(session.model, obj, data) if obj else data
        record = session.update(name, record_id, data, if_match=_if_match())
    return _with_etag(record)


@bp.delete("/<object_name>/<record_id>")
@writes_in_request_transaction
@query_params("purge")
def delete_record(object_name: str, record_id: str) -> Response:
    """To the recycle bin; ``?purge=true`` removes a record in the bin for good."""
    with _session() as session:
        name, _obj = _object(session, object_name)
        if _flag("purge"):
            session.purge(name, record_id)
        else:
            session.delete(name, record_id)
    return Response(status=204)


@bp.post("/<object_name>/<record_id>/restore")
@writes_in_request_transaction
@query_params()
def restore_record(object_name: str, record_id: str) -> Response:
    with _session() as session:
        record = session.restore(_object(session, object_name)[0], record_id)
    return _with_etag(record)


@bp.get("/<object_name>/<record_id>/history")
@query_params()
def record_history(object_name: str, record_id: str) -> Response:
    with _session(write=False) as session:
        entries = session.history(_object(session, object_name)[0], record_id)
    return jsonify({"history": entries})


@bp.get("/<object_name>/<record_id>/related/<relation>")
@query_params(*LIST_PARAMS)
def related_records(object_name: str, record_id: str, relation: str) -> Response:
    with _session(write=False) as session:
        name, _obj = _object(session, object_name)
        page = session.related(name, record_id, relation, _list_request())
    return jsonify(page_body(page))


@bp.put("/<object_name>/by/<field_name>/<value>")
@writes_in_request_transaction
@query_params()
def upsert_record(object_name: str, field_name: str, value: str) -> Response:
    data = read_json(request)
    with _session() as session:
        name, obj = _object(session, object_name)
        if obj is not None:
            field_name = aliases.dotted(session.model, obj, field_name)
            data = aliases.body(session.model, obj, data)
        record, created = session.upsert(name, field_name, value, data)
    response = _with_etag(record, 201 if created else 200)
    if created:
        response.headers["Location"] = f"/api/v1/records/{name}/{record['id']}"
    return response


@bp.get("/<object_name>/aggregate")
@query_params("group_by", "metrics", "where")
def aggregate_records(object_name: str) -> Response:
    """``?group_by=stage&metrics=count,sum(amount)&where=...``: grouped figures in SQL."""
    group_by = [g for g in request.args.get("group_by", "").split(",") if g.strip()]
    metrics = [m for m in request.args.get("metrics", "count").split(",") if m.strip()]
    with _session(write=False) as session:
        name, obj = _object(session, object_name)
        where = request.args.get("where")
        if obj is not None:
            group_by = [aliases.dotted(session.model, obj, g) for g in group_by]
            metrics = [aliases.metric(session.model, obj, m) for m in metrics]
            where = aliases.expression(session.model, obj, where)
        groups = session.aggregate(name, group_by, metrics, where)
    return jsonify({"groups": groups})


@bp.get("/<object_name>/<record_id>/shares")
@query_params()
def list_shares(object_name: str, record_id: str) -> Response:
    with _session(write=False) as session:
        name = _object(session, object_name)[0]
        return jsonify({"shares": session.list_shares(name, record_id)})


@bp.post("/<object_name>/<record_id>/shares")
@writes_in_request_transaction
@query_params()
def add_share(object_name: str, record_id: str) -> Response:
    data = read_json(request)
    with _session() as session:
        share = session.add_share(_object(session, object_name)[0], record_id, data)
    response = jsonify(share)
    response.status_code = 201
    return response


@bp.delete("/<object_name>/<record_id>/shares/<path:key>")
@writes_in_request_transaction
@query_params()
def remove_share(object_name: str, record_id: str, key: str) -> Response:
    with _session() as session:
        session.remove_share(_object(session, object_name)[0], record_id, key)
    return Response(status=204)
