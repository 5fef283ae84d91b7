"""Security: permission sets, roles, groups, queues and sharing, enforced in SQL."""

from .access import UserAccess, load_access
from .model import ADMIN_PERMISSION_SET, SYSTEM_PERMISSIONS, SecurityModel, compile_security
from .visibility import access_clause

__all__ = [
    "ADMIN_PERMISSION_SET",
    "SYSTEM_PERMISSIONS",
    "SecurityModel",
    "UserAccess",
    "access_clause",
    "compile_security",
    "load_access",
]
