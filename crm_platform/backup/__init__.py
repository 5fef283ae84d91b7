"""Whole-org backup and restore: ``crm backup FILE`` and ``crm restore FILE`` (ADR 0043).

A backup is one zip: a manifest, one JSON Lines file per platform table and per object
table, and the org's files. A restore fills an empty database on either engine, so a
SQLite org moves to PostgreSQL this way. Others may import what is named here.
"""

from .archive import BackupSummary, backup_org
from .manifest import FORMAT, Manifest
from .restore import RestoreRefused, RestoreSummary, restore_org

__all__ = [
    "FORMAT",
    "BackupSummary",
    "Manifest",
    "RestoreRefused",
    "RestoreSummary",
    "backup_org",
    "restore_org",
]
