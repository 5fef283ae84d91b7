"""Platform-table migrations (Alembic scripts), run on one transaction: all or nothing."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .database import Database

VERSION_TABLE = "sys_alembic_version"


def _config() -> Config:
    config = Config()
    location = resources.files("crm_platform").joinpath("migrations")
    config.set_main_option("script_location", str(location))
    return config


def head_revision() -> str | None:
    """The newest platform migration this code ships."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(db: Database) -> str | None:
    """The platform migration the database is at (None for an empty database)."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE}
        ).get_current_revision()


def upgrade_platform(db: Database) -> None:
    """Bring the platform tables to the newest migration. A failure changes nothing."""
    config = _config()
    with db.write(ddl=True) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
