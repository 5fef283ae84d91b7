"""Platform tables (prefix ``sys_``), as SQLAlchemy Core tables for queries.

Their DDL is owned by the Alembic scripts in ``crm_platform/migrations``
(``crm upgrade``); object tables use the ``o_`` prefix, so the two never collide.
"""

from __future__ import annotations

import sqlalchemy as sa

from .ids import ID_LENGTH
from .types import UTCDateTime

platform_metadata = sa.MetaData()

# Metadata columns are plain JSON, not JSONB: PostgreSQL's JSONB reorders keys, and
# definitions must read back exactly as stored (canonical key order included).

SYSTEM_USER_ID = "00000000-0000-7000-8000-000000000001"
SYSTEM_USER_EMAIL = "system@crm.invalid"

org = sa.Table(
    "sys_org",
    platform_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("time_zone", sa.Text, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("locale", sa.Text, nullable=False),
    sa.Column("fiscal_year_start_month", sa.Integer, nullable=False),
    sa.Column("week_start", sa.Integer, nullable=False),
    sa.Column("metadata_version", sa.BigInteger, nullable=False),
    # what a portal user sees: their own cases ("contact") or their account's ("account")
    sa.Column("portal_sharing", sa.Text, nullable=False, server_default="contact"),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

users = sa.Table(
    "sys_user",
    platform_metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("email", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text),
    sa.Column("is_system", sa.Boolean, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("time_zone", sa.Text),
    sa.Column("locale", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("role", sa.Text),
    sa.Column("manager_id", sa.String(ID_LENGTH)),
    sa.Column("profile", sa.Text),
    # A UI session carries the generation it was opened in; raising it ends them all.
    sa.Column("session_generation", sa.Integer, nullable=False, server_default="0"),
    # "standard", or "portal": a customer who signs in at /portal as the contact
    # ``contact_id`` and sees only records tied to that contact or its account (ADR 0046)
    sa.Column("user_type", sa.Text, nullable=False, server_default="standard"),
    sa.Column("contact_id", sa.String(ID_LENGTH), index=True),
)

STANDARD_USER = "standard"
PORTAL_USER = "portal"

# The columns of a user anyone may read (the users API, and lookups to ``user`` in dotted
# paths such as ``account_manager.email``): never the password hash or the system flag.
USER_PUBLIC_COLUMNS: tuple[str, ...] = (
    "id",
    "email",
    "name",
    "active",
    "role",
    "manager_id",
    "profile",
    "time_zone",
    "locale",
)

api_tokens = sa.Table(
    "sys_api_token",
    platform_metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("user_id", sa.String(ID_LENGTH), nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime),
    sa.Column("expires_at", UTCDateTime),
    sa.Column("revoked_at", UTCDateTime),
)

metadata_components = sa.Table(
    "sys_metadata_component",
    platform_metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("parent", sa.Text),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("physical", sa.JSON, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

metadata_revisions = sa.Table(
    "sys_metadata_revision",
    platform_metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("metadata_version", sa.BigInteger, nullable=False, index=True),
    sa.Column("component_id", sa.String(ID_LENGTH), nullable=False, index=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("parent", sa.Text),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("before", sa.JSON),
    sa.Column("after", sa.JSON),
    sa.Column("author_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

counters = sa.Table(
    "sys_counter",
    platform_metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

field_history = sa.Table(
    "sys_field_history",
    platform_metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("object", sa.Text, nullable=False),
    sa.Column("record_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("field", sa.Text, nullable=False),
    sa.Column("old_value", sa.JSON),
    sa.Column("new_value", sa.JSON),
    sa.Column("changed_by", sa.String(ID_LENGTH), nullable=False),
    sa.Column("changed_at", UTCDateTime, nullable=False),
)

# Lookups a delete set to null, so restoring the deleted batch links them again.
delete_links = sa.Table(
    "sys_delete_link",
    platform_metadata,
    sa.Column("batch_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("object", sa.Text, nullable=False),
    sa.Column("record_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("field", sa.Text, nullable=False),
    sa.Column("target_id", sa.String(ID_LENGTH), nullable=False),
)

user_permission_sets = sa.Table(
    "sys_user_permission_set",
    platform_metadata,
    sa.Column("user_id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("permission_set", sa.Text, primary_key=True),
)

group_members = sa.Table(
    "sys_group_member",
    platform_metadata,
    sa.Column("group_name", sa.Text, primary_key=True),
    sa.Column("user_id", sa.String(ID_LENGTH), primary_key=True),
)

queue_members = sa.Table(
    "sys_queue_member",
    platform_metadata,
    sa.Column("queue_name", sa.Text, primary_key=True),
    sa.Column("user_id", sa.String(ID_LENGTH), primary_key=True),
)

# Who else may see a record: a user, group or role id, or "sub:<role id>" for a role
# and its subordinates; ``reason`` is "manual" or "rule:<sharing rule>".
shares = sa.Table(
    "sys_share",
    platform_metadata,
    sa.Column("object", sa.Text, primary_key=True),
    sa.Column("record_id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("principal", sa.Text, primary_key=True),
    sa.Column("access", sa.String(8), nullable=False),
    sa.Column("reason", sa.Text, primary_key=True),
)

logins = sa.Table(
    "sys_login",
    platform_metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("user_id", sa.String(ID_LENGTH)),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("succeeded", sa.Boolean, nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("address", sa.Text),
    sa.Column("user_agent", sa.Text),
    sa.Column("at", UTCDateTime, nullable=False),
)

# Login throttle state, one row per key ("account:<email>" or "address:<ip>").
login_throttle = sa.Table(
    "sys_login_throttle",
    platform_metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failure_at", UTCDateTime, nullable=False),
    sa.Column("blocked_until", UTCDateTime),
)

# Background (re)indexing of an object's records: where it got to, so it resumes.
search_backfills = sa.Table(
    "sys_search_backfill",
    platform_metadata,
    sa.Column("object", sa.Text, primary_key=True),
    sa.Column("last_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("indexed", sa.BigInteger, nullable=False),
    sa.Column("requested_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("claimed_until", UTCDateTime),
)

# Automation's outbox (DESIGN §7): one row per piece of async work (a webhook, an email,
# a scheduled trigger's actions), written in the transaction of the change that asks for
# it and dispatched after commit. The row is the truth about the work: a broker only
# carries its id, a worker claims it with a lease, and a run whose lease ran out (its
# worker died) is claimed again; ``idempotency_key`` makes each piece of work unique.
automation_runs = sa.Table(
    "sys_automation_run",
    platform_metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("job", sa.String(40), nullable=False),  # what runs it: webhook, email...
    sa.Column("source", sa.Text, nullable=False),  # what asked for it, e.g. trigger:opportunity.won
    sa.Column("object", sa.Text),
    sa.Column("record_id", sa.String(ID_LENGTH)),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("late", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("step", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Column("failed_step", sa.Text),
    sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
    sa.Column("user_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime),
    sa.Column("finished_at", UTCDateTime),
    # When a broker was last asked to deliver it: the sweep queues a due run only when no
    # message for it can still be on its way (delivery, migration 0008).
    sa.Column("dispatched_at", UTCDateTime),
    sa.Index("ix_sys_automation_run_due", "status", "due_at"),
    sa.Index("ix_sys_automation_run_record", "object", "record_id"),
)

# Approval processes (DESIGN §7): a request per submission of a record, the instances of
# the process's steps it went through, each step's approvers with their decisions, and
# the history of everything that happened (who, when, which step, what, the comment).
# Processes are metadata; these rows are data, kept when a process changes later.
approval_requests = sa.Table(
    "sys_approval_request",
    platform_metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("process", sa.Text, nullable=False),  # the component name: <object>.<api_name>
    sa.Column("object", sa.Text, nullable=False),
    sa.Column("record_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending|approved|rejected|recalled
    sa.Column("lock_record", sa.Boolean, nullable=False),
    sa.Column("submitted_by", sa.String(ID_LENGTH), nullable=False),
    sa.Column("submitted_at", UTCDateTime, nullable=False),
    sa.Column("decided_at", UTCDateTime),
    sa.Index("ix_sys_approval_request_record", "object", "record_id", "status"),
)

approval_steps = sa.Table(
    "sys_approval_step",
    platform_metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("request_id", sa.String(ID_LENGTH), nullable=False, index=True),
    sa.Column("step_index", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),  # first_response | unanimous
    # pending | approved | rejected | skipped | recalled
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("decided_at", UTCDateTime),
    sa.Column("escalated", sa.Boolean, nullable=False, server_default=sa.false()),
)

approval_approvers = sa.Table(
    "sys_approval_approver",
    platform_metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("step_id", sa.String(ID_LENGTH), nullable=False, index=True),
    sa.Column("request_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("user_id", sa.String(ID_LENGTH), nullable=False),
    # pending | approved | rejected | reassigned | escalated | closed (the step ended
    # without this approver's decision)
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("comment", sa.Text),
    sa.Column("assigned_at", UTCDateTime, nullable=False),
    sa.Column("decided_at", UTCDateTime),
    sa.Index("ix_sys_approval_approver_user", "user_id", "status"),
)

approval_history = sa.Table(
    "sys_approval_history",
    platform_metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("request_id", sa.String(ID_LENGTH), nullable=False, index=True),
    sa.Column("step", sa.Text),  # the step's name (none for submit and the final outcome)
    # submitted | approved | rejected | recalled | reassigned | escalated | skipped
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("actor_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("target_id", sa.String(ID_LENGTH)),  # who a reassignment or escalation named
    sa.Column("comment", sa.Text),
    sa.Column("at", UTCDateTime, nullable=False),
)

# In-app notifications (DESIGN §7): one row per recipient, written in the transaction of
# the change that caused it (an assignment, a ``notify`` action), so a rolled-back change
# notifies nobody. Listed unread first, newest first (``ix_sys_notification_user``).
notifications = sa.Table(
    "sys_notification",
    platform_metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("user_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("object", sa.Text),
    sa.Column("record_id", sa.String(ID_LENGTH)),
    sa.Column("source", sa.Text, nullable=False),  # e.g. assignment_rule:case.routing
    sa.Column("read", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("read_at", UTCDateTime),
    sa.Index("ix_sys_notification_user", "user_id", "read", "id"),
)

# Automation's email (see ``workflow.mail``): each message is rendered and stored here in
# the transaction of the change that sent it, then the ``email`` outbox run delivers it
# by SMTP (``sent``) or, with no SMTP configured, leaves it for an admin (``kept``).
mail_messages = sa.Table(
    "sys_mail_message",
    platform_metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("run_id", sa.String(ID_LENGTH)),  # the outbox run that delivers it
    sa.Column("status", sa.String(16), nullable=False),  # queued, sent, kept, failed
    sa.Column("template", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),  # e.g. trigger:opportunity.won
    sa.Column("object", sa.Text),
    sa.Column("record_id", sa.String(ID_LENGTH)),
    sa.Column("sender", sa.Text),  # the From address it went out with
    sa.Column("to_addresses", sa.JSON, nullable=False),
    sa.Column("cc_addresses", sa.JSON, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body_text", sa.Text, nullable=False),
    sa.Column("body_html", sa.Text),
    sa.Column("message_id", sa.Text, nullable=False),  # the Message-ID header
    sa.Column("error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Index("ix_sys_mail_message_status", "status", "id"),
)

# Delivery checks (``crm automation ping``): a ping run's one effect, written by the worker
# that delivered it in the transaction that finishes the run, so it exists at most once.
automation_pings = sa.Table(
    "sys_automation_ping",
    platform_metadata,
    sa.Column("run_id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("delivered_by", sa.Text, nullable=False),  # host:pid of the worker
    sa.Column("delivered_at", UTCDateTime, nullable=False),
)
