"""The import pipeline's platform table: one row per import job.

A job remembers what it reads (the file, its encoding and dialect), how (the mapping and
options) and how far it got: ``position`` counts the source rows already handled, and is
committed in the same transaction as the records of each batch, so a resumed job starts
exactly after the last committed batch and never creates a row twice.

Its DDL is the Alembic scripts ``0013_import_jobs``, ``0022_import_job_warned`` and
``0023_import_job_runner``.
"""

from __future__ import annotations

import sqlalchemy as sa

from crm_platform.core.ids import ID_LENGTH
from crm_platform.core.types import UTCDateTime

import_metadata = sa.MetaData()

import_jobs = sa.Table(
    "sys_import_job",
    import_metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("object", sa.Text, nullable=False),
    # queued | running | done | failed | cancelled
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("source", sa.Text, nullable=False),  # the file's path
    sa.Column("source_size", sa.BigInteger, nullable=False),
    sa.Column("mapping", sa.JSON, nullable=False),
    sa.Column("options", sa.JSON, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),  # source rows handled
    sa.Column("created", sa.Integer, nullable=False),
    sa.Column("updated", sa.Integer, nullable=False),
    # rows that matched a record already holding their values (migration 0025)
    sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rejected", sa.Integer, nullable=False),
    # rows written with a notice (a duplicate rule that warns): migration 0022
    sa.Column("warned", sa.Integer, nullable=False, server_default="0"),
    sa.Column("total", sa.Integer),  # rows in the file, when known
    # the process running the job now (a token it drew when it claimed the job): each
    # batch commits only while it is still the runner (migration 0023)
    sa.Column("runner", sa.String(36)),
    # the error file's size after the rejected rows of the committed batches (0023)
    sa.Column("error_bytes", sa.BigInteger),
    sa.Column("error_file", sa.Text),
    sa.Column("message", sa.Text),
    sa.Column("cancel_requested", sa.Boolean, nullable=False),
    sa.Column("started_by", sa.String(ID_LENGTH), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_sys_import_job_created_at", "created_at"),
)
