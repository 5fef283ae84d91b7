"""How approvals read in the API: a request with its steps, their approvers and the
history (who, when, which step, what, the comment)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from . import store


def request_view(conn: Connection, request: Mapping[str, Any]) -> dict[str, Any]:
    """One request as the API gives it."""
    steps = store.steps_of(conn, request["id"])
    approvers = {s["id"]: store.approvers_of(conn, s["id"]) for s in steps}
    history = store.history_of(conn, request["id"])
    names = store.user_names(
        conn,
        [request["submitted_by"]]
        + [a["user_id"] for rows in approvers.values() for a in rows]
        + [h["actor_id"] for h in history]
        + [h["target_id"] for h in history if h["target_id"]],
    )
    current = next((s["name"] for s in steps if s["status"] == store.PENDING), None)
    return {
        "id": request["id"],
        "process": request["process"].partition(".")[2],
        "status": request["status"],
        "locked": request["status"] == store.PENDING and request["lock_record"],
        "current_step": current,
        "submitted_by": _user(request["submitted_by"], names),
        "submitted_at": request["submitted_at"],
        "decided_at": request["decided_at"],
        "steps": [_step(s, approvers[s["id"]], names) for s in steps],
        "history": [_entry(h, names) for h in history],
    }


def _user(user_id: str | None, names: Mapping[str, str]) -> dict[str, Any] | None:
    if user_id is None:
        return None
    return {"id": user_id, "name": names.get(user_id)}


def _step(
    step: Mapping[str, Any], approvers: list[Mapping[str, Any]], names: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "name": step["name"],
        "status": step["status"],
        "mode": step["mode"],
        "started_at": step["started_at"],
        "decided_at": step["decided_at"],
        "escalated": step["escalated"],
        "approvers": [
            {
                "user": _user(a["user_id"], names),
                "status": a["status"],
                "comment": a["comment"],
                "decided_at": a["decided_at"],
            }
            for a in approvers
        ],
    }


def _entry(entry: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "at": entry["at"],
        "action": entry["action"],
        "step": entry["step"],
        "user": _user(entry["actor_id"], names),
        "target": _user(entry["target_id"], names),
        "comment": entry["comment"],
    }


def pending_view(row: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """One decision waiting for the current user."""
    return {
        "request_id": row["request_id"],
        "process": row["process"].partition(".")[2],
        "object": row["object"],
        "record_id": row["record_id"],
        "step": row["step"],
        "mode": row["mode"],
        "submitted_by": _user(row["submitted_by"], names),
        "submitted_at": row["submitted_at"],
        "assigned_at": row["assigned_at"],
    }
