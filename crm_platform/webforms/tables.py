"""The web forms' platform table: submissions per form and address in the current window
(the rate limit's state, shared by every worker). Its DDL is the Alembic script
``0016_web_forms``."""

from __future__ import annotations

import sqlalchemy as sa

from crm_platform.core.types import UTCDateTime

web_form_metadata = sa.MetaData()

# one row per "<form>|<address>": when its window started and how many posts it holds
web_form_hits = sa.Table(
    "sys_web_form_hit",
    web_form_metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("window_start", UTCDateTime, nullable=False),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Index("ix_sys_web_form_hit_window", "window_start"),
)
