"""The runtime: the org handle, the compiled org model, users and API tokens.

(The record service, query engine and security compile here in later work.)
"""

from . import audit
from .model import FieldModel, ModelCache, ObjectModel, OrgModel, compile_org_model
from .org import Org, initialise_org
from .passwords import hash_password, verify_password
from .tokens import create_token, list_tokens, resolve_token, revoke_token
from .users import User, check_password, create_user, find_user, get_user, system_user

__all__ = [
    "FieldModel",
    "ModelCache",
    "ObjectModel",
    "Org",
    "OrgModel",
    "User",
    "audit",
    "check_password",
    "compile_org_model",
    "create_token",
    "create_user",
    "find_user",
    "get_user",
    "hash_password",
    "initialise_org",
    "list_tokens",
    "resolve_token",
    "revoke_token",
    "system_user",
    "verify_password",
]
