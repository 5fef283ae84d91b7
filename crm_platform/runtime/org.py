"""The org handle: everything that belongs to one org, passed down explicitly (DESIGN §2)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import Database, Settings, ValidationFailed
from crm_platform.core.aftercommit import after_commit
from crm_platform.core.migrate import current_revision, head_revision, upgrade_platform
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.core.tables import org as org_table
from crm_platform.core.types import utc_now
from crm_platform.expressions import sqlite_functions
from crm_platform.metadata import ACTIVE, KindRegistry, MetadataService, build_registry

from .checks import register_runtime_checks
from .extensions import Extension
from .model import ModelCache, OrgModel
from .records import RecordService
from .records.backfill import plan_backfills
from .security import ADMIN_PERMISSION_SET, SYSTEM_PERMISSIONS
from .users import User, create_system_user, create_user
from .work import WorkRunner

PLATFORM_OWNER = "platform"  # components the platform itself ships (not local, not a pack)


@dataclass
class Org:
    """One org: its settings, database, metadata service and compiled-model cache."""

    settings: Settings
    db: Database
    registry: KindRegistry
    metadata: MetadataService = field(init=False)
    records: RecordService = field(init=False)
    work: WorkRunner = field(init=False)
    models: ModelCache = field(default_factory=ModelCache)
    extensions: tuple[Extension, ...] = ()
    # What extensions keep per org (automation's outbox and dispatcher...), by name.
    services: dict[str, Any] = field(default_factory=dict)
    # What time it is for time-based security (the login throttle); tests drive it.
    clock: Callable[[], datetime] = utc_now

    def __post_init__(self) -> None:
        # The service and the model cache share one snapshot cache: a change set and the
        # model rebuild after it each read only the components stored since.
        self.metadata = MetadataService(self.db, self.registry, self.models.snapshots)
        self.records = RecordService(self)
        self.work = WorkRunner(self)

    def keep_search_current(self, conn: Connection, changes, model) -> None:
        """Apply hook: ask for the search backfills a change set needs, and start the
        work runner once it commits (see ``records.backfill``)."""
        if plan_backfills(conn, changes, model):
            after_commit(conn, self.work.kick)

    @classmethod
    def open(
        cls,
        settings: Settings,
        registry: KindRegistry | None = None,
        *,
        extensions: Sequence[Extension] = (),
    ) -> Org:
        """Connect to the org's database (nothing is created: see :func:`initialise_org`).

        ``extensions`` register their kinds on the org's own registry (a ``registry``
        given by the caller is taken as already holding them) and attach to the org.
        """
        models = ModelCache()
        own_registry = registry is None
        if registry is None:
            registry = build_registry()
            register_runtime_checks(registry, models.compiler)
            for extension in extensions:
                extension.register(registry, models.compiler)
        db = Database(settings.database_url, sqlite_functions=sqlite_functions())
        org = cls(
            settings=settings,
            db=db,
            registry=registry,
            models=models,
            extensions=tuple(extensions),
        )
        if own_registry:  # a registry shared by several orgs would call every org's hook
            registry.add_apply_hook(org.keep_search_current)
        for extension in extensions:
            extension.attach(org)
        return org

    def exists(self) -> bool:
        """Whether the database holds an initialised org."""
        inspector = sa.inspect(self.db.engine)
        if not inspector.has_table(org_table.name):
            return False
        with self.db.read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(org_table)).scalar_one() > 0

    def needs_upgrade(self) -> bool:
        return current_revision(self.db) != head_revision()

    @contextmanager
    def reading(self) -> Iterator[tuple[Connection, OrgModel]]:
        """A read transaction and the compiled model for the version it sees."""
        with self.db.read() as conn:
            yield conn, self.models.model_for(conn)

    def dispose(self) -> None:
        self.work.close()
        self.db.dispose()


def initialise_org(
    org: Org,
    *,
    admin_email: str,
    admin_password: str,
    name: str = "My Company",
    time_zone: str = "UTC",
    currency: str = "USD",
    locale: str = "en",
    fiscal_year_start_month: int = 1,
) -> User | None:
    """Create the platform tables, the org row, the system user and the first admin.

    ``fiscal_year_start_month`` (1-12) is the first month of the org's fiscal year
    (fiscal quarters in expressions and reports). Returns the admin, or None when the
    org already exists (nothing is changed then).
    """
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValidationFailed(
            {"fiscal_year_start_month": [f"must be 1 to 12, not {fiscal_year_start_month}"]}
        )
    upgrade_platform(org.db)
    with org.db.write() as conn:
        exists = conn.execute(sa.select(sa.func.count()).select_from(org_table)).scalar_one()
    if exists:
        ensure_admin_permission_set(org)
        return None
    with org.db.write() as conn:
        conn.execute(
            org_table.insert().values(
                id=1,
                name=name,
                time_zone=time_zone,
                currency=currency,
                locale=locale,
                fiscal_year_start_month=fiscal_year_start_month,
                week_start=1,
                metadata_version=0,
                created_at=utc_now(),
            )
        )
        create_system_user(conn)
        admin = create_user(
            conn,
            email=admin_email,
            name="Administrator",
            password=admin_password,
            profile=ADMIN_PERMISSION_SET,
        )
    ensure_admin_permission_set(org)
    return admin


def ensure_admin_permission_set(org: Org, *, repair: bool = False) -> None:
    """The administrators' permission set (every system permission), owned by the platform.

    With ``repair`` an existing set that lost system permissions gets them all back (the
    recovery of ``crm user grant-admin``).
    """
    existing = org.metadata.snapshot().get("permission_set", ADMIN_PERMISSION_SET)
    if existing is not None and existing.status == ACTIVE:
        missing = set(SYSTEM_PERMISSIONS) - set(existing.definition.get("system", ()))
        if repair and missing:
            repaired = {**existing.definition, "system": list(SYSTEM_PERMISSIONS)}
            org.metadata.put_component(
                "permission_set", repaired, author_id=SYSTEM_USER_ID, owner=existing.owner
            )
        return
    definition = {
        "api_name": ADMIN_PERMISSION_SET,
        "label": "System administrator",
        "description": "Everything: every object, field and setting, whoever owns the data.",
        "system": list(SYSTEM_PERMISSIONS),
    }
    org.metadata.put_component(
        "permission_set", definition, author_id=SYSTEM_USER_ID, owner=PLATFORM_OWNER
    )
