"""``/web-forms``: the web forms of the org and the HTML snippet that embeds one on
another site (for whoever sets the site up: needs ``view_setup``). The forms themselves
are metadata (the ``web_form`` kind, ``/metadata/web_forms``); their public pages are
``/f/<name>``, outside the API."""

from __future__ import annotations

from apispec import APISpec
from flask import Blueprint, Response, current_app, jsonify, request

from crm_platform.core import NotFound
from crm_platform.metadata import KindRegistry
from crm_platform.runtime import OrgModel
from crm_platform.webforms import WebForm, web_forms_of

from .auth import current_org, require_permission
from .openapi import JSON, error_responses
from .params import query_params

bp = Blueprint("web_forms_api", __name__, url_prefix="/web-forms")


def _model() -> OrgModel:
    with current_org().db.read() as conn:
        return current_org().models.model_for(conn)


def _summary(form: WebForm) -> dict:
    return {
        "name": form.name,
        "object": form.object,
        "label": form.label,
        "url": f"{request.host_url.rstrip('/')}/f/{form.name}",
        "fields": [f.name for f in form.fields],
        "assignment_rule": form.assignment_rule,
        "rate_limit": {"posts": form.posts, "minutes": int(form.window.total_seconds() // 60)},
        "max_bytes": form.max_bytes,
    }


@bp.get("")
@require_permission("view_setup")
def list_web_forms() -> Response:
    """The active web forms, with their public URLs."""
    forms = web_forms_of(_model()).by_name.values()
    return jsonify({"web_forms": [_summary(f) for f in forms]})


@bp.get("/<name>/snippet")
@query_params("language")
@require_permission("view_setup")
def web_form_snippet(name: str) -> Response:
    """The HTML to paste into another site's page (``?language=zh`` for its labels)."""
    # the page module builds on the web pages' widgets, which import this API package
    from crm_platform.webforms.page import snippet_for

    model = _model()
    form = web_forms_of(model).get(name)
    if form is None:
        raise NotFound(f"no web form '{name}'")
    html = snippet_for(
        model,
        form,
        request.host_url,
        current_app.config["SECRET_KEY"],
        request.args.get("language") or None,
    )
    return jsonify({"name": name, "url": _summary(form)["url"], "html": html})


# --- its documentation --------------------------------------------------------------

SUMMARY = {
    "type": "object",
    "required": ["name", "object", "url", "fields"],
    "properties": {
        "name": {"type": "string"},
        "object": {"type": "string", "description": "The object its posts create."},
        "label": {"description": "Its title: a string or a map of language to string."},
        "url": {"type": "string", "description": "Its public page."},
        "fields": {"type": "array", "items": {"type": "string"}},
        "assignment_rule": {"type": ["string", "null"]},
        "rate_limit": {
            "type": "object",
            "properties": {"posts": {"type": "integer"}, "minutes": {"type": "integer"}},
        },
        "max_bytes": {"type": "integer"},
    },
}


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``/web-forms`` and ``/web-forms/{name}/snippet``."""
    del model, registry  # the same for every model
    spec.tag({"name": "web forms", "description": "Public forms that create records."})
    spec.path(
        "/web-forms",
        operations={
            "get": {
                "operationId": "list_web_forms",
                "summary": "The active web forms and their public URLs (needs view_setup)",
                "tags": ["web forms"],
                "responses": {
                    "200": {
                        "description": "The forms",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["web_forms"],
                                    "properties": {
                                        "web_forms": {"type": "array", "items": SUMMARY}
                                    },
                                }
                            }
                        },
                    },
                    **error_responses("Unauthorized"),
                },
            }
        },
    )
    spec.path(
        "/web-forms/{name}/snippet",
        operations={
            "get": {
                "operationId": "web_form_snippet",
                "summary": "The HTML snippet that embeds a web form on another site",
                "description": (
                    "A plain HTML form (no script, no cookie) that posts to this platform's "
                    "`/f/{name}`, with the form's token and honeypot. Needs view_setup."
                ),
                "tags": ["web forms"],
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                    {
                        "name": "language",
                        "in": "query",
                        "description": "The language of its labels (default: the org's).",
                        "schema": {"type": "string", "maxLength": 20},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The snippet",
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["name", "url", "html"],
                                    "properties": {
                                        "name": {"type": "string"},
                                        "url": {"type": "string"},
                                        "html": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    **error_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )
