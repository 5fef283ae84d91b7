"""Duplicate rules, duplicate clusters and merge (ADR 0042).

The ``duplicate_rule`` kind is enforced by a before-create and before-update handler of
the record events, so every write path meets it; :func:`duplicate_clusters` lists the
likely duplicates a reader may see; :func:`merge_records` merges records into a master,
and a restore from the recycle bin undoes it. Warnings of allow-with-warning rules reach
the client through :mod:`.notices`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crm_platform.metadata import KindRegistry
from crm_platform.runtime.model import ModelCompiler
from crm_platform.runtime.records.events import RecordEvent

from . import notices
from .clusters import MAX_BLOCK, Cluster, ClusterReport, duplicate_clusters
from .enforce import enforce_duplicate_rules
from .kind import EXTENSION, KIND, DuplicateRule, dedupe_model, register_kind
from .matchers import Criterion, matches, phone_valid
from .merge import MergeResult, merge_records, undo_on_restore
from .notices import DuplicateNotice

if TYPE_CHECKING:
    from crm_platform.runtime import Org

__all__ = [
    "KIND",
    "MAX_BLOCK",
    "Cluster",
    "ClusterReport",
    "Criterion",
    "DedupeExtension",
    "DuplicateNotice",
    "DuplicateRule",
    "MergeResult",
    "dedupe_model",
    "duplicate_clusters",
    "matches",
    "merge_records",
    "notices",
    "phone_valid",
]


@dataclass(frozen=True)
class DedupeExtension:
    """The ``duplicate_rule`` kind, its enforcement on every write and merge's undo."""

    name: str = EXTENSION

    def register(self, registry: KindRegistry, compiler: ModelCompiler) -> None:
        register_kind(registry, compiler)

    def attach(self, org: Org) -> None:
        """Attached after automation and the UI rules, so a rule sees the values their
        before-save updates leave."""
        org.records.events.on(
            (RecordEvent.BEFORE_CREATE, RecordEvent.BEFORE_UPDATE),
            enforce_duplicate_rules,
            name="duplicate_rules",
        )
        org.records.events.on(RecordEvent.AFTER_RESTORE, undo_on_restore, name="merge_undo")
