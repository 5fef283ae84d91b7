"""The baseline of ``http_bench.py``: a minimal Flask + raw SQL app on crm-platform's table.

It serves the bench object's physical table (the one crm-platform created) with the
five operations of the workload, each one hand-written SQLAlchemy Core statement in
one transaction, no authentication, no permissions, no history:

    POST /deals            create one row (201, the row back)
    POST /deals/batch      create a batch of rows (one executemany)
    GET  /deals            ?stage=&min_amount=&limit=: filtered, sorted list
    GET  /deals/sum        sum of amount grouped by stage
    GET  /deals/<id>       one row by id

Run by gunicorn, configured by the environment: ``RAW_BENCH_DATABASE_URL`` and
``RAW_BENCH_TABLE`` (a JSON object: ``table``, ``columns`` by field name,
``scaled_amount``: the currency is stored as an integer of cents, as crm-platform's
ExactDecimal does on SQLite)::

    gunicorn --chdir bench --workers 2 'raw_endpoint:create_app()'
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, jsonify, request

FIELDS = ("name", "amount", "stage", "quantity", "close_date", "notes")


class RawDeals:
    """The table and its hand-written statements."""

    def __init__(self, url: str, config: dict[str, Any]) -> None:
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine = sa.create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.columns: dict[str, str] = config["columns"]
        self.scaled = bool(config["scaled_amount"])
        self.table = sa.Table(config["table"], sa.MetaData(), autoload_with=self.engine)
        t, c = self.table, self.columns
        amount, stage, name = t.c[c["amount"]], t.c[c["stage"]], t.c[c["name"]]
        if not url.startswith("sqlite"):
            name = name.collate("C")  # the order crm-platform gives text
        self.get_query = sa.select(t).where(t.c.id == sa.bindparam("id"), t.c.deleted_at.is_(None))
        self.list_query = (
            sa.select(t)
            .where(
                t.c.deleted_at.is_(None),
                stage == sa.bindparam("stage"),
                amount > sa.bindparam("min_amount"),
            )
            .order_by(amount.desc().nulls_last(), name.asc().nulls_last(), t.c.id)
            .limit(sa.bindparam("limit"))
        )
        self.sum_query = (
            sa.select(stage, sa.func.sum(amount), sa.func.count())
            .where(t.c.deleted_at.is_(None))
            .group_by(stage)
            .order_by(stage.asc().nulls_last())
        )

    # --- values in and out --------------------------------------------------------
    def amount_in(self, value: Any) -> Any:
        if value is None:
            return None
        number = Decimal(str(value))
        return int(number * 100) if self.scaled else number

    def amount_out(self, value: Any) -> str | None:
        if value is None:
            return None
        return str(Decimal(value) / 100) if self.scaled else str(value)

    def row_in(self, body: dict[str, Any], user_id: str) -> dict[str, Any]:
        now = datetime.now(UTC)
        row: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "owner_id": user_id,
            "created_at": now,
            "created_by": user_id,
            "updated_at": now,
            "updated_by": user_id,
            "version": 1,
        }
        for name in FIELDS:
            value = body.get(name)
            if name == "amount":
                value = self.amount_in(value)
            elif name == "close_date" and value is not None:
                value = date.fromisoformat(value)
            row[self.columns[name]] = value
        return row

    def row_out(self, row: Any) -> dict[str, Any]:
        out = {"id": row["id"], "version": row["version"]}
        for name in FIELDS:
            value = row[self.columns[name]]
            if name == "amount":
                value = self.amount_out(value)
            elif isinstance(value, date):
                value = value.isoformat()
            out[name] = value
        return out


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_app(url: str | None = None, config: dict[str, Any] | None = None) -> Flask:
    """The app; ``url`` and ``config`` default to the environment (see the module doc)."""
    url = url or os.environ["RAW_BENCH_DATABASE_URL"]
    config = config or json.loads(os.environ["RAW_BENCH_TABLE"])
    deals = RawDeals(url, config)
    owner = config["owner_id"]
    app = Flask(__name__)
    app.extensions["raw_deals"] = deals

    @app.post("/deals")
    def create() -> tuple[Response, int]:
        row = deals.row_in(request.get_json(), owner)
        with deals.engine.begin() as conn:
            conn.execute(deals.table.insert(), row)
        return jsonify(deals.row_out(row)), 201

    @app.post("/deals/batch")
    def batch() -> tuple[Response, int]:
        rows = [deals.row_in(body, owner) for body in request.get_json()["records"]]
        with deals.engine.begin() as conn:
            conn.execute(deals.table.insert(), rows)
        return jsonify({"ids": [r["id"] for r in rows]}), 201

    @app.get("/deals")
    def list_deals() -> Response:
        params = {
            "stage": request.args["stage"],
            "min_amount": deals.amount_in(request.args["min_amount"]),
            "limit": int(request.args.get("limit", 50)),
        }
        with deals.engine.begin() as conn:
            rows = conn.execute(deals.list_query, params).mappings().all()
        return jsonify({"records": [deals.row_out(r) for r in rows]})

    @app.get("/deals/sum")
    def sum_by_stage() -> Response:
        with deals.engine.begin() as conn:
            rows = conn.execute(deals.sum_query).all()
        return jsonify(
            {
                "groups": [
                    {"stage": stage, "sum": deals.amount_out(total), "count": count}
                    for stage, total, count in rows
                ]
            }
        )

    @app.get("/deals/<record_id>")
    def get(record_id: str) -> Response:
        with deals.engine.begin() as conn:
            row = conn.execute(deals.get_query, {"id": record_id}).mappings().first()
        if row is None:
            return jsonify({"detail": "not found"}), 404
        return jsonify(deals.row_out(row))

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"ok": True})

    return app
