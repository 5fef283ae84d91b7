"""The lowest layer: settings, the database handle and transactions, value types, ids, errors."""

from .aftercommit import AfterCommitQueue, after_commit
from .bound import in_list, list_param, list_value, unnested, unnested_rows
from .bulk import InsertPlan, insert_many, insert_plan
from .collection import batch_collection
from .database import Database, SqliteFunction, dialect_insert, normalise_url
from .errors import (
    Conflict,
    CrmError,
    Forbidden,
    LocalizedText,
    NotFound,
    PreconditionFailed,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
    localized,
)
from .ids import ID_LENGTH, new_id, new_ids
from .settings import DEFAULT_DATABASE_URL, Settings, load_settings
from .spreadsheet_text import guard_formula, unguard_formula
from .types import MAX_PRECISION, ExactDecimal, JSONValue, UTCDateTime, quantize, utc_now
from .valuetypes import FieldInfo, ValueType

__all__ = [
    "DEFAULT_DATABASE_URL",
    "ID_LENGTH",
    "MAX_PRECISION",
    "AfterCommitQueue",
    "Conflict",
    "CrmError",
    "Database",
    "ExactDecimal",
    "FieldInfo",
    "Forbidden",
    "InsertPlan",
    "JSONValue",
    "LocalizedText",
    "NotFound",
    "PreconditionFailed",
    "Settings",
    "SqliteFunction",
    "TooManyRequests",
    "UTCDateTime",
    "Unauthorized",
    "ValidationFailed",
    "ValueType",
    "after_commit",
    "batch_collection",
    "dialect_insert",
    "guard_formula",
    "in_list",
    "insert_many",
    "insert_plan",
    "list_param",
    "list_value",
    "load_settings",
    "localized",
    "new_id",
    "new_ids",
    "normalise_url",
    "quantize",
    "unguard_formula",
    "unnested",
    "unnested_rows",
    "utc_now",
]
