"""The areas of /api/v1: each is a blueprint and the function that documents its endpoints.

The API serves exactly these blueprints and the OpenAPI document describes exactly
these areas, in this order, so an area cannot be served without a description.
Each ``describe`` sits beside its views (in the views' module, or in the
``<area>_docs`` module next to it); the records area is described per object by
the ``openapi`` package. ``tests/api/test_openapi.py`` checks that every route an
area serves is an operation its description documents, and the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint

from . import (
    approvals_api,
    approvals_docs,
    assignment_api,
    audit_api,
    automation_api,
    automation_docs,
    composite_api,
    conversions_api,
    dashboards_api,
    data_quality_api,
    directory_api,
    directory_docs,
    duplicates_api,
    duplicates_docs,
    exports_api,
    expressions_api,
    feeds_api,
    feeds_docs,
    files_api,
    imports_api,
    mail_api,
    metadata_api,
    metadata_docs,
    notifications_api,
    openapi,
    packs_api,
    portal_api,
    predictions_api,
    records_api,
    report_outputs_api,
    reports_api,
    reports_docs,
    search_api,
    web_forms_api,
)


@dataclass(frozen=True)
class Area:
    """A blueprint of /api/v1 and the description of what it serves."""

    blueprint: Blueprint
    describe: openapi.Describe


AREAS: tuple[Area, ...] = (
    Area(metadata_api.bp, metadata_docs.describe),
    Area(expressions_api.bp, expressions_api.describe),
    Area(composite_api.bp, composite_api.describe),
    Area(search_api.bp, search_api.describe),
    Area(directory_api.bp, directory_docs.describe),
    Area(audit_api.bp, audit_api.describe),
    Area(approvals_api.bp, approvals_docs.describe),
    Area(mail_api.bp, mail_api.describe),
    Area(automation_api.bp, automation_docs.describe),
    Area(openapi.bp, openapi.serving.describe),
    Area(duplicates_api.bp, duplicates_docs.describe),
    Area(records_api.bp, openapi.describe_objects),
    Area(exports_api.bp, exports_api.describe),
    Area(feeds_api.bp, feeds_docs.describe),
    Area(data_quality_api.bp, data_quality_api.describe),
    Area(assignment_api.bp, assignment_api.describe),
    Area(conversions_api.bp, conversions_api.describe),
    Area(notifications_api.bp, notifications_api.describe),
    Area(report_outputs_api.bp, report_outputs_api.describe),
    Area(dashboards_api.bp, dashboards_api.describe),
    Area(reports_api.bp, reports_docs.describe),
    Area(packs_api.bp, packs_api.describe),
    Area(predictions_api.bp, predictions_api.describe),
    Area(files_api.bp, files_api.describe),
    Area(web_forms_api.bp, web_forms_api.describe),
    Area(imports_api.bp, imports_api.describe),
    Area(portal_api.bp, portal_api.describe),
)
