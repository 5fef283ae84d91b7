"""Security: permission sets, roles, groups, queues and sharing, enforced in SQL."""

from .access import UserAccess, access_for, load_access
from .model import ADMIN_PERMISSION_SET, SYSTEM_PERMISSIONS, SecurityModel, compile_security
from .principals import Principal, principal_for_token, read_principal
from .visibility import access_clause

__all__ = [
    "ADMIN_PERMISSION_SET",
    "SYSTEM_PERMISSIONS",
    "Principal",
    "SecurityModel",
    "UserAccess",
    "access_clause",
    "access_for",
    "compile_security",
    "load_access",
    "principal_for_token",
    "read_principal",
]
