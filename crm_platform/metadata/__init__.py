"""Metadata: definitions of objects and fields, their store, history and runtime DDL.

Others import from here only: the service that changes metadata, the kind
registry higher layers add validators to, and the read-only helpers below.
"""

from crm_platform.fieldtypes import SIMPLE, field_type, is_stored, storage_of, sub_columns

from .candidate import CandidateModel
from .canonical import canonical_field, canonical_object
from .ddl import keep_key_statistics
from .kinds import Kind, KindRegistry, Problem, build_registry, load_schema
from .labels import (
    Chooser,
    fold_presented,
    label_languages,
    present_field,
    present_object,
    resolve_label,
)
from .names import SYSTEM_COLUMNS, api_name_problem, field_name_problem
from .service import ChangeResult, MetadataService
from .snapshots import SnapshotCache
from .store import (
    ACTIVE,
    DELETED,
    LOCAL_OWNER,
    Component,
    Snapshot,
    lock_version,
    read_snapshot,
    read_version,
    share_version,
)

__all__ = [
    "ACTIVE",
    "DELETED",
    "LOCAL_OWNER",
    "SIMPLE",
    "SYSTEM_COLUMNS",
    "CandidateModel",
    "ChangeResult",
    "Chooser",
    "Component",
    "Kind",
    "KindRegistry",
    "MetadataService",
    "Problem",
    "Snapshot",
    "SnapshotCache",
    "api_name_problem",
    "build_registry",
    "canonical_field",
    "canonical_object",
    "field_name_problem",
    "field_type",
    "fold_presented",
    "is_stored",
    "keep_key_statistics",
    "label_languages",
    "load_schema",
    "lock_version",
    "present_field",
    "present_object",
    "read_snapshot",
    "read_version",
    "resolve_label",
    "share_version",
    "storage_of",
    "sub_columns",
]
