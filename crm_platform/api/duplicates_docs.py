"""The OpenAPI description of duplicates and merge (``duplicates_api``)."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from crm_platform.metadata import KindRegistry
from crm_platform.runtime import OrgModel

from .duplicates_api import MAX_CLUSTERS
from .openapi import ID_SCHEMA, JSON, error_responses, ref

CLUSTERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["object", "total", "clusters", "skipped_rules", "truncated_blocks"],
    "additionalProperties": False,
    "properties": {
        "object": {"type": "string"},
        "total": {"type": "integer", "minimum": 0, "description": "Clusters found."},
        "clusters": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["rule", "records"],
                "additionalProperties": False,
                "properties": {
                    "rule": {"type": "string", "description": "The duplicate rule matched."},
                    "records": {
                        "type": "array",
                        "minItems": 2,
                        "description": "The records of the cluster: their id, name and the "
                        "fields the rule compares (those the user may read).",
                        "items": {"type": "object", "required": ["id"]},
                    },
                },
            },
        },
        "skipped_rules": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Rules left out: they compare a field the user may not read.",
        },
        "truncated_blocks": {
            "type": "integer",
            "minimum": 0,
            "description": "Blocks of more than 500 records, of which only 500 were compared.",
        },
    },
}

MERGE_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["master", "others"],
    "additionalProperties": False,
    "properties": {
        "master": {**ID_SCHEMA, "description": "The record that stays."},
        "others": {
            "type": "array",
            "minItems": 1,
            "maxItems": 10,
            "uniqueItems": True,
            "items": dict(ID_SCHEMA),
            "description": "The records merged into the master (then in the recycle bin).",
        },
        "values": {
            "type": "object",
            "additionalProperties": dict(ID_SCHEMA),
            "description": "Per field, the id of the record whose value the master keeps "
            "(by default the master's own).",
        },
    },
}


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``/records/<object>/duplicates`` and ``/records/<object>/merge`` per object."""
    del registry
    spec.tag(
        {
            "name": "duplicates",
            "description": "Duplicate clusters and merge. A write that an allow-with-warning "
            'duplicate rule matches answers with a `Warning: 299 crm "..."` header.',
        }
    )
    spec.components.schema("DuplicateClusters", CLUSTERS_SCHEMA)
    spec.components.schema("MergeRequest", MERGE_REQUEST)
    for name in model.objects:
        spec.path(
            f"/records/{name}/duplicates",
            operations={
                "get": {
                    "operationId": f"duplicates_{name}",
                    "summary": f"Likely duplicate clusters of {name} records",
                    "description": "Blocking keys in SQL, the rules' criteria compared within "
                    "blocks; only records the user may see.",
                    "tags": ["duplicates"],
                    "parameters": [
                        {
                            "name": "rule",
                            "in": "query",
                            "description": "One duplicate rule (default: every active rule).",
                            "schema": {"type": "string", "minLength": 1},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_CLUSTERS,
                                "default": 100,
                            },
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The clusters",
                            "content": {JSON: {"schema": ref("DuplicateClusters")}},
                        },
                        **error_responses("BadRequest", "Unauthorized", "NotFound"),
                    },
                }
            },
        )
        spec.path(
            f"/records/{name}/merge",
            operations={
                "post": {
                    "operationId": f"merge_{name}",
                    "summary": f"Merge {name} records into one",
                    "description": "Children are re-parented to the master, chosen values "
                    "kept, the others moved to the recycle bin; restoring one of them "
                    "undoes its part of the merge.",
                    "tags": ["duplicates"],
                    "requestBody": {
                        "required": True,
                        "content": {JSON: {"schema": ref("MergeRequest")}},
                    },
                    "responses": {
                        "200": {
                            "description": "The merge",
                            "content": {
                                JSON: {
                                    "schema": {
                                        "type": "object",
                                        "required": [
                                            "merge_id",
                                            "master",
                                            "merged",
                                            "moved_children",
                                        ],
                                        "additionalProperties": False,
                                        "properties": {
                                            "merge_id": dict(ID_SCHEMA),
                                            "master": ref(name),
                                            "merged": {"type": "array", "items": dict(ID_SCHEMA)},
                                            "moved_children": {
                                                "type": "integer",
                                                "minimum": 0,
                                                "description": "Children re-parented that "
                                                "the user may see.",
                                            },
                                        },
                                    }
                                }
                            },
                        },
                        **error_responses("BadRequest", "Unauthorized", "NotFound", "Conflict"),
                    },
                }
            },
        )
