"""Platform-table migrations (Alembic scripts), run on one transaction: all or nothing."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from .database import Database

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported inside the functions: serving records never needs it, and it
# costs each worker about 10 MB of memory.

VERSION_TABLE = "sys_alembic_version"


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    location = resources.files("crm_platform").joinpath("migrations")
    config.set_main_option("script_location", str(location))
    return config


def head_revision() -> str | None:
    """The newest platform migration this code ships."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(db: Database) -> str | None:
    """The platform migration the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE}
        ).get_current_revision()


def upgrade_platform(db: Database, revision: str = "head") -> None:
    """Bring the platform tables to the newest migration (or to ``revision``: a restore
    loads a backup at the migration that made it). A failure changes nothing."""
    from alembic import command

    config = _config()
    with db.write(ddl=True) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def known_revision(revision: str) -> bool:
    """Whether this code ships the platform migration ``revision``."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except CommandError:
        return False
