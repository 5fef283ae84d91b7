"""How the directory API (``directory_api``) is documented: users, group and queue
members, and the caller's API tokens."""

from __future__ import annotations

from apispec import APISpec

from crm_platform.metadata import KindRegistry
from crm_platform.runtime import OrgModel
from crm_platform.runtime.directory import PUBLIC_COLUMNS
from crm_platform.runtime.passwords import MIN_PASSWORD_LENGTH

from .openapi import JSON, error_responses, ref


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """Users, group and queue memberships, and the caller's API tokens."""
    del model, registry  # the same for every model
    spec.tag({"name": "users", "description": "Users, group and queue members, API tokens."})
    _user_schemas(spec)
    tags = ["users"]
    user_param = {"name": "user_id", "in": "path", "required": True, "schema": {"type": "string"}}
    one_user = {"description": "The user", "content": {JSON: {"schema": ref("User")}}}
    spec.path(
        "/users",
        operations={
            "get": {
                "operationId": "directory_list_users",
                "summary": "Every user (needs manage_users or view_setup)",
                "tags": tags,
                "responses": {
                    "200": {
                        "description": "The users, by email",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["users"],
                                    "properties": {
                                        "users": {"type": "array", "items": ref("User")}
                                    },
                                    "additionalProperties": False,
                                }
                            }
                        },
                    },
                    **error_responses("Unauthorized"),
                },
            },
            "post": {
                "operationId": "directory_create_user",
                "summary": "Add a user (needs manage_users)",
                "tags": tags,
                "requestBody": {"required": True, "content": {JSON: {"schema": ref("UserInput")}}},
                "responses": {
                    "201": {
                        **one_user,
                        "headers": {
                            "Location": {
                                "description": "The user's URL.",
                                "schema": {"type": "string"},
                            }
                        },
                    },
                    **error_responses("BadRequest", "Unauthorized", "Conflict", "PayloadTooLarge"),
                },
            },
        },
    )
    spec.path(
        "/users/{user_id}",
        parameters=[user_param],
        operations={
            "get": {
                "operationId": "directory_get_user",
                "summary": "A user (others need manage_users or view_setup)",
                "tags": tags,
                "responses": {"200": one_user, **error_responses("Unauthorized", "NotFound")},
            },
            "patch": {
                "operationId": "directory_update_user",
                "summary": "Change a user (others, and assignments, need manage_users)",
                "description": "Changing your own password needs `current_password` (an "
                "administrator with manage_users resetting someone else's does not); wrong "
                "current passwords are throttled like sign-ins. A new password or "
                "`active: false` ends every UI session of the user; deactivation also "
                "revokes their API tokens for good.",
                "tags": tags,
                "requestBody": {"required": True, "content": {JSON: {"schema": ref("UserPatch")}}},
                "responses": {
                    "200": one_user,
                    **error_responses(
                        "BadRequest",
                        "Unauthorized",
                        "NotFound",
                        "Conflict",
                        "PayloadTooLarge",
                        "TooManyRequests",
                    ),
                },
            },
        },
    )
    spec.path(
        "/users/{user_id}/sessions/revoke",
        parameters=[user_param],
        operations={
            "post": {
                "operationId": "directory_sign_out_everywhere",
                "summary": "End every UI session of a user (others need manage_users)",
                "tags": tags,
                "responses": {
                    "204": {"description": "Every session of the user has ended"},
                    **error_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )
    members = {
        "description": "The members' user ids, sorted",
        "content": {
            JSON: {
                "schema": {
                    "type": "object",
                    "required": ["members"],
                    "properties": {"members": {"type": "array", "items": {"type": "string"}}},
                    "additionalProperties": False,
                }
            }
        },
    }
    for plural, singular in (("groups", "group"), ("queues", "queue")):
        name_param = {
            "name": "name",
            "in": "path",
            "required": True,
            "description": f"The {singular}'s api_name.",
            "schema": {"type": "string"},
        }
        spec.path(
            f"/{plural}/{{name}}/members",
            parameters=[name_param],
            operations={
                "get": {
                    "operationId": f"directory_list_{singular}_members",
                    "summary": f"A {singular}'s members (needs manage_users or view_setup)",
                    "tags": tags,
                    "responses": {"200": members, **error_responses("Unauthorized", "NotFound")},
                },
                "post": {
                    "operationId": f"directory_add_{singular}_member",
                    "summary": f"Add a user to a {singular} (needs manage_users)",
                    "tags": tags,
                    "requestBody": {
                        "required": True,
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["user_id"],
                                    "properties": {"user_id": {"type": "string"}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {**members, "description": "The members now"},
                        **error_responses(
                            "BadRequest", "Unauthorized", "NotFound", "PayloadTooLarge"
                        ),
                    },
                },
            },
        )
        spec.path(
            f"/{plural}/{{name}}/members/{{user_id}}",
            parameters=[name_param, user_param],
            operations={
                "delete": {
                    "operationId": f"directory_remove_{singular}_member",
                    "summary": f"Take a user out of a {singular} (needs manage_users)",
                    "tags": tags,
                    "responses": {
                        "204": {"description": "Removed"},
                        **error_responses("Unauthorized", "NotFound"),
                    },
                }
            },
        )
    token = {
        "type": "object",
        "required": ["id", "name", "created_at", "revoked_at"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "revoked_at": {"type": ["string", "null"], "format": "date-time"},
        },
        "additionalProperties": False,
    }
    spec.path(
        "/tokens",
        operations={
            "get": {
                "operationId": "directory_list_tokens",
                "summary": "The caller's API tokens (never their secrets)",
                "tags": tags,
                "responses": {
                    "200": {
                        "description": "The tokens, oldest first",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["tokens"],
                                    "properties": {"tokens": {"type": "array", "items": token}},
                                    "additionalProperties": False,
                                }
                            }
                        },
                    },
                    **error_responses("Unauthorized"),
                },
            },
            "post": {
                "operationId": "directory_create_token",
                "summary": "A new API token for the caller",
                "tags": tags,
                "requestBody": {
                    "required": True,
                    "content": {
                        JSON: {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "name": {
                                        "type": "string",
                                        "maxLength": 120,
                                        "pattern": r"\S",
                                        "default": "API token",
                                    }
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "The token: `token` is shown this once only",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["id", "name", "token"],
                                    "properties": {
                                        "id": {"type": "string"},
                                        "name": {"type": "string"},
                                        "token": {"type": "string"},
                                    },
                                    "additionalProperties": False,
                                }
                            }
                        },
                    },
                    **error_responses("BadRequest", "Unauthorized", "PayloadTooLarge"),
                },
            },
        },
    )
    spec.path(
        "/tokens/{token_id}",
        parameters=[
            {"name": "token_id", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        operations={
            "delete": {
                "operationId": "directory_revoke_token",
                "summary": "Revoke an API token (another user's needs manage_users)",
                "tags": tags,
                "responses": {
                    "204": {"description": "Revoked"},
                    **error_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )


def _user_schemas(spec: APISpec) -> None:
    """A user as read, as created and as changed."""
    text_or_null = {"type": ["string", "null"]}
    spec.components.schema(
        "User",
        {
            "type": "object",
            # what the directory returns for a user (runtime/directory.py)
            "required": [*PUBLIC_COLUMNS, "created_at", "permission_sets"],
            "properties": {
                "id": {"type": "string"},
                "email": {"type": "string"},
                "name": {"type": "string"},
                "active": {"type": "boolean"},
                "role": {**text_or_null, "description": "A role's name."},
                "manager_id": {**text_or_null, "description": "Another user's id."},
                "profile": {**text_or_null, "description": "A permission set's name."},
                "time_zone": text_or_null,
                "locale": text_or_null,
                "created_at": {"type": "string", "format": "date-time"},
                "permission_sets": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Extra permission sets, by name, sorted.",
                },
            },
            "additionalProperties": False,
        },
    )
    writable = {
        "email": {"type": "string", "description": "The login; stored in lower case."},
        "name": {"type": "string", "description": "By default the email's local part."},
        "password": {"type": "string", "minLength": MIN_PASSWORD_LENGTH},
        "active": {"type": "boolean"},
        "role": text_or_null,
        "manager_id": text_or_null,
        "profile": text_or_null,
        "permission_sets": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Replaces the user's extra permission sets.",
        },
        "time_zone": text_or_null,
        "locale": text_or_null,
    }
    spec.components.schema(
        "UserInput",
        {
            "type": "object",
            "required": ["email"],
            "properties": writable,
            "additionalProperties": False,
        },
    )
    spec.components.schema(
        "UserPatch",
        {
            "type": "object",
            "description": "The attributes to change. Without manage_users a user may change "
            "only their own name, time_zone, locale and password.",
            "properties": {
                **writable,
                "current_password": {
                    "type": "string",
                    "description": "Required with `password` when changing your own.",
                },
            },
            "additionalProperties": False,
        },
    )
