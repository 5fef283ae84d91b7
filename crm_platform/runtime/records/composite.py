"""Composite requests: up to 200 record operations in one transaction.

Later operations may use ids created by earlier ones: ``@{ref.id}`` (or any field
of an earlier result, ``@{ref.number}``) in a URL or a body value is replaced by
that value. With ``all_or_none`` the first failure undoes everything; otherwise
each operation runs in a savepoint and fails alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crm_platform.core import CrmError, NotFound, ValidationFailed

from .service import RecordSession

MAX_OPERATIONS = 200
REFERENCE = re.compile(r"@\{([a-zA-Z0-9_]+)\.([a-zA-Z0-9_.]+)\}")
CREATE_ROUTE = re.compile(r"^/records/(?P<object>[a-z0-9_]+)$")
RECORD_ROUTE = re.compile(r"^/records/(?P<object>[a-z0-9_]+)/(?P<id>[^/]+)$")
BATCHED = {"POST": CREATE_ROUTE, "PATCH": RECORD_ROUTE}  # the operations written set-based
ROUTES = [
    ("POST", CREATE_ROUTE, "create"),
    ("GET", RECORD_ROUTE, "get"),
    ("PATCH", RECORD_ROUTE, "update"),
    ("DELETE", RECORD_ROUTE, "delete"),
    (
        "PUT",
        re.compile(r"^/records/(?P<object>[a-z0-9_]+)/by/(?P<field>[a-z0-9_]+)/(?P<value>[^/]+)$"),
        "upsert",
    ),
]


BATCH_KEYS = ("operations", "all_or_none")
OPERATION_KEYS = ("method", "url", "body", "ref")


def _unknown_keys(given: Mapping[str, Any], known: tuple[str, ...], path: str) -> dict[str, str]:
    """An error per key the batch or an operation does not take (``reference_id`` for
    ``ref``): a misspelt key must not be silently ignored."""
    prefix, what = (f"{path}.", "an operation") if path else ("", "a batch")
    return {
        f"{prefix}{key}": f"unknown key ({what} takes {', '.join(known)})"
        for key in given
        if key not in known
    }


class CompositeFailed(CrmError):
    """An all-or-none batch failed: nothing was saved; ``results`` says which operation failed."""

    status = 400
    title = "Composite request failed"


@dataclass(frozen=True)
class Operation:
    method: str
    url: str
    body: Any
    ref: str | None


def parse_operations(payload: Any) -> tuple[list[Operation], bool]:
    """The operations of a composite body and its all-or-none flag."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("operations"), list):
        raise ValidationFailed({"operations": "give a list of operations"})
    if unknown := _unknown_keys(payload, BATCH_KEYS, ""):
        raise ValidationFailed(unknown)
    raw_ops = payload["operations"]
    if not 1 <= len(raw_ops) <= MAX_OPERATIONS:
        raise ValidationFailed({"operations": f"give 1 to {MAX_OPERATIONS} operations"})
    all_or_none = payload.get("all_or_none", True)
    if not isinstance(all_or_none, bool):
        raise ValidationFailed({"all_or_none": "must be true or false"})
    operations, errors, refs = [], {}, set()
    for index, op in enumerate(raw_ops):
        path = f"operations[{index}]"
        if not isinstance(op, Mapping):
            errors[path] = "an operation is an object with method and url"
            continue
        if unknown := _unknown_keys(op, OPERATION_KEYS, path):
            errors.update(unknown)
            continue
        method = str(op.get("method", "")).upper()
        url = op.get("url")
        ref = op.get("ref")
        if not isinstance(url, str) or not any(m == method for m, _, _ in ROUTES):
            errors[f"{path}.method"] = "method must be GET, POST, PATCH, PUT or DELETE with a url"
            continue
        if ref is not None and (
            not isinstance(ref, str) or not re.fullmatch(r"[a-zA-Z0-9_]+", ref)
        ):
            errors[f"{path}.ref"] = "a ref is letters, digits and underscores"
            continue
        if ref is not None:
            if ref in refs:
                errors[f"{path}.ref"] = f"ref '{ref}' is used twice"
            refs.add(ref)
        operations.append(Operation(method, url, op.get("body"), ref))
    if errors:
        raise ValidationFailed(errors)
    return operations, all_or_none


def run_composite(session: RecordSession, operations: list[Operation], all_or_none: bool):
    """Run the operations in order; returns one result per operation.

    Consecutive creates of one object whose references all point at earlier results
    are written as one batch (one INSERT, one read-back), and so are consecutive updates
    of distinct records of one object (one UPDATE per set of changed columns); should a
    batch fail, its savepoint is rolled back and its operations run one by one, so every
    result and error is exactly what running them singly gives.
    """
    results: list[dict[str, Any]] = []
    done: dict[str, Mapping[str, Any]] = {}
    index = 0
    while index < len(operations):
        batch = _next_batch(operations, index, done)
        if len(batch) > 1 and _run_batch(session, batch, done, results, index):
            index += len(batch)
            continue
        _run_single(session, operations, index, done, results, all_or_none)
        index += 1
    return results


def _run_single(session, operations, index, done, results, all_or_none) -> None:
    op = operations[index]
    try:
        if all_or_none:
            status, body = _run_one(session, op, done)
        else:
            with session.conn.begin_nested():
                status, body = _run_one(session, op, done)
    except CrmError as error:
        result = {
            "index": index,
            "ref": op.ref,
            "status": error.status,
            "body": error.to_problem(),
        }
        results.append(result)
        if all_or_none:
            results.extend(
                {"index": i, "ref": o.ref, "status": 424, "body": None}
                for i, o in enumerate(operations[index + 1 :], start=index + 1)
            )
            raise CompositeFailed(
                f"operation {index} failed ({error.detail}); nothing was saved",
                extra={"results": results},
            ) from error
        return
    if op.ref and isinstance(body, Mapping):
        done[op.ref] = body
    results.append({"index": index, "ref": op.ref, "status": status, "body": body})


@dataclass(frozen=True)
class _Batched:
    operation: Operation
    object: str
    record_id: str | None  # None for a create
    body: Any


def _next_batch(operations: list[Operation], start: int, done) -> list[_Batched]:
    """The creates of one object, or the updates of distinct records of one object, from
    ``start`` on that need no result of each other."""
    batch: list[_Batched] = []
    method = operations[start].method
    route = BATCHED.get(method)
    for op in operations[start:]:
        if route is None or op.method != method:
            break
        try:
            match = route.match(_substitute(op.url, done))
            body = _substitute_values(op.body, done)
        except CrmError:
            break  # a reference to an operation of this batch, or to none: run it alone
        if match is None or (batch and match["object"] != batch[0].object):
            break
        record_id = match.groupdict().get("id")
        if record_id is not None and any(b.record_id == record_id for b in batch):
            break  # the same record twice: the second change sees the first
        batch.append(_Batched(op, match["object"], record_id, body))
    return batch


def _run_batch(session: RecordSession, batch: list[_Batched], done, results, start) -> bool:
    """Write the batch at once; False (and nothing written) when one of them fails."""
    creating = batch[0].record_id is None
    try:
        with session.conn.begin_nested():
            if creating:
                records = session.create_many(batch[0].object, [b.body for b in batch])
            else:
                items = [(b.record_id, b.body, None) for b in batch]
                records = session.update_many(batch[0].object, items)
    except CrmError:
        return False
    for offset, (item, record) in enumerate(zip(batch, records, strict=True)):
        op = item.operation
        if op.ref:
            done[op.ref] = record
        results.append(
            {
                "index": start + offset,
                "ref": op.ref,
                "status": 201 if creating else 200,
                "body": record,
            }
        )
    return True


def _run_one(session: RecordSession, op: Operation, done) -> tuple[int, Any]:
    url = _substitute(op.url, done)
    body = _substitute_values(op.body, done)
    for method, pattern, action in ROUTES:
        match = pattern.match(url)
        if method != op.method or match is None:
            continue
        args = match.groupdict()
        if action == "create":
            return 201, session.create(args["object"], body)
        if action == "get":
            return 200, session.get(args["object"], args["id"])
        if action == "update":
            return 200, session.update(args["object"], args["id"], body)
        if action == "delete":
            session.delete(args["object"], args["id"])
            return 204, None
        record, created = session.upsert(args["object"], args["field"], args["value"], body or {})
        return (201 if created else 200), record
    raise NotFound(f"no {op.method} operation at '{url}'")


def _lookup(done, ref: str, path: str) -> Any:
    if ref not in done:
        raise ValidationFailed({"url": f"@{{{ref}.{path}}} names no earlier operation"})
    value: Any = done[ref]
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise ValidationFailed({"url": f"@{{{ref}.{path}}}: the result has no '{part}'"})
        value = value[part]
    return value


def _substitute(text: str, done) -> str:
    return REFERENCE.sub(lambda m: str(_lookup(done, m.group(1), m.group(2))), text)


def _substitute_values(value: Any, done) -> Any:
    if isinstance(value, str):
        whole = REFERENCE.fullmatch(value)
        if whole:
            return _lookup(done, whole.group(1), whole.group(2))
        return _substitute(value, done)
    if isinstance(value, Mapping):
        return {k: _substitute_values(v, done) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute_values(v, done) for v in value]
    return value
