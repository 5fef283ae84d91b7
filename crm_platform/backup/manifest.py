"""A backup's manifest (``manifest.json`` in the zip): what made it, what it holds."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT = 1  # the layout of the zip; a restore refuses a format it does not know
MANIFEST = "manifest.json"
PLATFORM_FOLDER = "platform"
OBJECTS_FOLDER = "objects"
FILES_FOLDER = "files"


@dataclass(frozen=True)
class TableEntry:
    """One table in the backup: its JSON Lines member, columns in order, row count."""

    member: str
    columns: tuple[str, ...]
    rows: int


@dataclass(frozen=True)
class Manifest:
    """What a backup holds and what made it.

    ``platform_revision``: the platform migration of the source (a restore brings the
    new database to it, loads, then upgrades to this code's newest). ``encryption_check``:
    a value encrypted with the source's key when the org has encrypted fields (a restore
    whose key cannot read it refuses: the values would be unreadable)."""

    format: int
    created_at: str
    crm_platform_version: str
    platform_revision: str | None
    source_engine: str
    org_name: str
    metadata_version: int
    tables: Mapping[str, TableEntry] = field(default_factory=dict)
    objects: Mapping[str, TableEntry] = field(default_factory=dict)
    object_tables: Mapping[str, str] = field(default_factory=dict)  # object -> table
    files: int = 0
    encryption_check: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        raw: dict[str, Any] = json.loads(text)
        raw["tables"] = {k: _entry(v) for k, v in raw.get("tables", {}).items()}
        raw["objects"] = {k: _entry(v) for k, v in raw.get("objects", {}).items()}
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in raw.items() if k in known})


def _entry(raw: Mapping[str, Any]) -> TableEntry:
    return TableEntry(raw["member"], tuple(raw["columns"]), int(raw["rows"]))
