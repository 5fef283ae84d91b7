"""The platform tables of collaboration: feed posts (and their comments) on records, and
who follows which record. Their DDL is the Alembic script ``0019_feeds``.

A post and a comment are rows of one table (a comment names its post in ``parent_id``);
both name the record they are on, so a record's whole feed is read with one indexed
condition, and the record's sharing decides who may read it (never these rows alone).
"""

from __future__ import annotations

import sqlalchemy as sa

from crm_platform.core.ids import ID_LENGTH
from crm_platform.core.types import UTCDateTime

collab_metadata = sa.MetaData()

feed_posts = sa.Table(
    "sys_feed_post",
    collab_metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("object", sa.Text, nullable=False),
    sa.Column("record_id", sa.String(ID_LENGTH), nullable=False),
    # None for a post; the post's id for a comment on it
    sa.Column("parent_id", sa.String(ID_LENGTH)),
    sa.Column("author_id", sa.String(ID_LENGTH), nullable=False),
    # plain text, mentions kept in their canonical form ``@[user:ID]``/``@[group:NAME]``
    sa.Column("body", sa.Text, nullable=False),
    # [{"kind", "id", "delivered"}]: who was mentioned and whether they were told
    sa.Column("mentions", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_sys_feed_post_record", "object", "record_id", "id"),
    sa.Index("ix_sys_feed_post_parent", "parent_id"),
)

record_follows = sa.Table(
    "sys_record_follow",
    collab_metadata,
    sa.Column("object", sa.Text, primary_key=True),
    sa.Column("record_id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("user_id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_sys_record_follow_user", "user_id"),
)
