"""How the feeds API (``feeds_api``) is documented: per object, like its records."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from crm_platform.collab import MAX_BODY, feed
from crm_platform.metadata import KindRegistry
from crm_platform.runtime import OrgModel

from .openapi import JSON, error_responses, ref

MENTIONS = (
    "Mention people as `@[user:ID]`, `@[user:EMAIL]` or `@EMAIL`, and groups as "
    "`@[group:NAME]`; they are stored as `@[user:ID]`/`@[group:NAME]`. A mentioned "
    "person who can see the record is notified; one who cannot is not (nor is the record "
    "named to them), and only the author sees `delivered: false` on that mention."
)

POST = {
    "type": "object",
    "required": [
        "id",
        "object",
        "record_id",
        "parent_id",
        "author",
        "body",
        "html",
        "mentions",
        "created_at",
        "updated_at",
        "edited",
        "mine",
    ],
    "properties": {
        "id": {"type": "string"},
        "object": {"type": "string"},
        "record_id": {"type": "string"},
        "parent_id": {"type": ["string", "null"], "description": "The post a comment is on."},
        "author": {
            "type": "object",
            "required": ["id", "name"],
            "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
        },
        "body": {"type": "string", "description": "Plain text, mentions in canonical form."},
        "html": {"type": "string", "description": "The body escaped, mentions as links."},
        "mentions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["kind", "id", "name"],
                "properties": {
                    "kind": {"enum": ["user", "group"]},
                    "id": {"type": "string", "description": "A user's id or a group's name."},
                    "name": {"type": "string"},
                    "delivered": {
                        "type": "boolean",
                        "description": "To the author only: whether everyone was told.",
                    },
                    "not_delivered": {
                        "type": "integer",
                        "description": "To the author only: how many could not see the record.",
                    },
                },
            },
        },
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "edited": {"type": "boolean"},
        "mine": {"type": "boolean", "description": "Whether the caller wrote it."},
        "comments": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/FeedPost"},
            "description": "A post's comments, oldest first (in the feed's list).",
        },
    },
}

BODY = {
    "required": True,
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "required": ["body"],
                "additionalProperties": False,
                "properties": {"body": {"type": "string", "maxLength": MAX_BODY}},
            }
        }
    },
}


def _param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """The feed and follow endpoints of every object's records."""
    del registry
    spec.tag({"name": "feeds", "description": "Posts, comments, mentions and follows."})
    spec.components.schema("FeedPost", POST)
    for name in model.objects:
        _describe_object(spec, name)


def _describe_object(spec: APISpec, name: str) -> None:
    tags = ["feeds"]
    record = _param("id", f"The {name} record's id.")
    one = {"description": "The post", "content": {JSON: {"schema": ref("FeedPost")}}}
    created = {**one, "headers": {"Location": {"schema": {"type": "string"}}}}
    writes = error_responses("BadRequest", "Unauthorized", "NotFound", "PayloadTooLarge")
    page = {
        "type": "object",
        "required": ["posts", "next_cursor", "following"],
        "additionalProperties": False,
        "properties": {
            "posts": {"type": "array", "items": ref("FeedPost")},
            "next_cursor": {"type": ["string", "null"]},
            "following": {"type": "boolean", "description": "Whether the caller follows it."},
        },
    }
    limit = {"type": "integer", "minimum": 1, "maximum": feed.MAX_LIMIT}
    spec.path(
        f"/records/{name}/{{id}}/feed",
        parameters=[record],
        operations={
            "get": {
                "operationId": f"feed_list_{name}",
                "summary": f"The {name} record's feed, newest first (404 if you cannot see it)",
                "tags": tags,
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {**limit, "default": 20}},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {"description": "A page of posts", "content": {JSON: {"schema": page}}},
                    **error_responses("BadRequest", "Unauthorized", "NotFound"),
                },
            },
            "post": {
                "operationId": f"feed_post_{name}",
                "summary": f"Post on the {name} record's feed",
                "description": MENTIONS,
                "tags": tags,
                "requestBody": BODY,
                "responses": {"201": created, **writes},
            },
        },
    )
    post_id = _param("post_id", "The post's (or comment's) id.")
    spec.path(
        f"/records/{name}/{{id}}/feed/{{post_id}}",
        parameters=[record, post_id],
        operations={
            "get": {
                "operationId": f"feed_get_{name}",
                "summary": "One post or comment",
                "tags": tags,
                "responses": {"200": one, **error_responses("Unauthorized", "NotFound")},
            },
            "patch": {
                "operationId": f"feed_edit_{name}",
                "summary": "Change your own post or comment (new mentions are notified)",
                "tags": tags,
                "requestBody": BODY,
                "responses": {"200": one, **writes},
            },
            "delete": {
                "operationId": f"feed_delete_{name}",
                "summary": "Delete your own post (with its comments) or comment",
                "tags": tags,
                "responses": {
                    "204": {"description": "Deleted"},
                    **error_responses("Unauthorized", "NotFound"),
                },
            },
        },
    )
    spec.path(
        f"/records/{name}/{{id}}/feed/{{post_id}}/comments",
        parameters=[record, post_id],
        operations={
            "post": {
                "operationId": f"feed_comment_{name}",
                "summary": "Comment on a post",
                "description": MENTIONS,
                "tags": tags,
                "requestBody": BODY,
                "responses": {"201": created, **writes},
            }
        },
    )
    following = {
        "type": "object",
        "required": ["object", "record_id", "following"],
        "properties": {
            "object": {"type": "string"},
            "record_id": {"type": "string"},
            "following": {"type": "boolean"},
        },
    }
    spec.path(
        f"/records/{name}/{{id}}/follow",
        parameters=[record],
        operations={
            "post": {
                "operationId": f"follow_{name}",
                "summary": "Follow the record: be told of its changes you may read, and posts",
                "tags": tags,
                "responses": {
                    "200": {"description": "Following", "content": {JSON: {"schema": following}}},
                    **error_responses("Unauthorized", "NotFound"),
                },
            },
            "delete": {
                "operationId": f"unfollow_{name}",
                "summary": "Stop following the record",
                "tags": tags,
                "responses": {
                    "204": {"description": "Not following"},
                    **error_responses("Unauthorized", "NotFound"),
                },
            },
        },
    )
