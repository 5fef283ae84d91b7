"""The runtime: the org handle, the compiled org model, users and API tokens.

Also the platform data the API and the setup UI read and change: the directory
(users and their assignments, group and queue members), logins and the audit
trail. The record service lives in ``runtime.records``, security in ``runtime.security``.
"""

from . import audit, directory
from .logins import LoginOutcome, attempt_login
from .model import FieldModel, ModelCache, ObjectModel, OrgModel, compile_org_model
from .org import Org, initialise_org
from .passwords import hash_password, verify_password
from .sessions import end_sessions, session_generation
from .tokens import create_token, list_tokens, resolve_token, revoke_token, revoke_user_tokens
from .users import User, check_password, create_user, find_user, get_user, system_user

__all__ = [
    "FieldModel",
    "LoginOutcome",
    "ModelCache",
    "ObjectModel",
    "Org",
    "OrgModel",
    "User",
    "attempt_login",
    "audit",
    "check_password",
    "compile_org_model",
    "create_token",
    "create_user",
    "directory",
    "end_sessions",
    "find_user",
    "get_user",
    "hash_password",
    "initialise_org",
    "list_tokens",
    "resolve_token",
    "revoke_token",
    "revoke_user_tokens",
    "session_generation",
    "system_user",
    "verify_password",
]
