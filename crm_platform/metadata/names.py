"""API names and the physical names chosen from them (DESIGN §0 "Names and identity").

Physical names are chosen once, when a component is created, stored in the
metadata and never derived again: renaming a field changes metadata only.
"""

from __future__ import annotations

import hashlib
import keyword
import re
from collections.abc import Collection

API_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
API_NAME_MIN, API_NAME_MAX = 2, 40

OBJECT_TABLE_PREFIX = "o_"  # object tables; platform tables use "sys_", so they never collide
POSTGRES_IDENTIFIER_MAX = 63

SYSTEM_COLUMNS: tuple[str, ...] = (
    "id",
    "owner_id",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "version",
    "deleted_at",
    "deleted_batch",
)

# `owner` names the owner lookup in expressions (`owner.name`).
PLATFORM_RESERVED: frozenset[str] = frozenset({"owner"})

# The directory's own objects: an object of that name would shadow `target: user`
# lookups, the sharing principals and the directory endpoints.
DIRECTORY_OBJECT_NAMES: frozenset[str] = frozenset({"user", "group", "queue", "role"})


def _is_python_keyword(name: str) -> bool:
    """Python's hard keywords only: soft keywords (`case`, `match`, `type`) are valid names
    in an expression, so the expression language can still name such a field."""
    return keyword.iskeyword(name)


def api_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be an API name, or None when it can.

    SQL's reserved words (`case`, `order`, `to`, `select`...) are fine: every identifier
    we emit is quoted and physical names are stored apart from API names (DESIGN §0).
    """
    if not isinstance(name, str):
        return "must be a string"
    if not API_NAME_MIN <= len(name) <= API_NAME_MAX:
        return f"must be {API_NAME_MIN} to {API_NAME_MAX} characters long"
    if not API_NAME_PATTERN.match(name):
        return (
            "must be lowercase snake_case: a letter first, then letters, digits and single "
            "underscores, not ending in an underscore"
        )
    if _is_python_keyword(name):
        return f"'{name}' is a Python keyword, reserved: the expression language could not name it"
    return None


def object_name_problem(name: object) -> str | None:
    """Like :func:`api_name_problem`, and refuses the directory's own object names too."""
    problem = api_name_problem(name)
    if problem:
        return problem
    if name in DIRECTORY_OBJECT_NAMES:
        return f"'{name}' is reserved: it names the platform's own {name} directory"
    return None


def field_name_problem(name: object) -> str | None:
    """Like :func:`api_name_problem`, and refuses the system column names too."""
    problem = api_name_problem(name)
    if problem:
        return problem
    if name in SYSTEM_COLUMNS or name in PLATFORM_RESERVED:
        return f"'{name}' is reserved by the platform"
    return None


def choose_physical_name(base: str, taken: Collection[str], *, prefix: str = "") -> str:
    """A new identifier ``prefix + base`` not in ``taken``, shortened with a hash if too long."""
    candidate = _fit(prefix + base)
    if candidate not in taken:
        return candidate
    for attempt in range(1, 1000):
        digest = hashlib.sha1(f"{base}:{attempt}".encode()).hexdigest()[:6]
        candidate = _fit(f"{prefix}{base}", suffix=f"_{digest}")
        if candidate not in taken:
            return candidate
    raise RuntimeError(f"no free physical name for {base!r}")


def _fit(name: str, suffix: str = "") -> str:
    limit = POSTGRES_IDENTIFIER_MAX - len(suffix)
    if len(name) > limit:
        digest = hashlib.sha1(name.encode()).hexdigest()[:6]
        name = name[: limit - 7] + "_" + digest
    return name + suffix
