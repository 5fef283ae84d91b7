"""The sales org of the end-user app's tests, with what the record page's panels need:
the activities pack (tasks, events, notes) linked to opportunities, two file fields on
opportunities (one hidden from reps), a ``required_if`` in the layout, and an approval
process whose approver is the reps' manager."""

from __future__ import annotations

from types import SimpleNamespace

from tests.web.sales_org import MANAGER_EMAIL, build_sales_org

RULE = "amount > 10000"
PROCESS = {
    "api_name": "big_deal",
    "object": "opportunity",
    "entry": "amount > 0",
    "steps": [{"name": "manager", "approver": {"user": MANAGER_EMAIL}}],
}
FILE_FIELDS = [
    {"api_name": "contract", "type": "file", "max_bytes": 2000, "accept": [".pdf", "text/plain"]},
    {"api_name": "nda", "type": "file"},
]


def _edit(definitions):
    """The sales metadata without its own note (the pack brings one), with file fields,
    the rep's access to activities and a condition in the opportunity layout."""
    out = []
    for kind, d in definitions:
        if kind == "object" and d["api_name"] == "note":
            continue
        if kind == "object" and d["api_name"] == "opportunity":
            d = {**d, "fields": [*d["fields"], *FILE_FIELDS]}
        if kind == "permission_set" and d["api_name"] == "rep":
            crud = {"read": True, "create": True, "edit": True, "delete": True}
            d = {
                **d,
                "objects": {**d["objects"], "task": crud, "event": crud, "note": crud},
                "fields": {**d["fields"], "opportunity.nda": {"read": False}},
            }
        if kind == "layout" and d["object"] == "opportunity":
            details = list(d["sections"][1]["fields"])
            details[details.index("contact_email")] = {
                "field": "contact_email",
                "required_if": RULE,
            }
            sections = [d["sections"][0], {**d["sections"][1], "fields": [*details, "contract"]}]
            d = {**d, "sections": sections}
        out.append((kind, d))
    return out


def build_records_org(org) -> SimpleNamespace:
    """Install the activities pack, build the sales org on it, link the activities to
    opportunities and add the approval process."""
    from crm_platform.core.tables import SYSTEM_USER_ID
    from crm_platform.packs.catalog import Catalog
    from crm_platform.packs.install import install_packs

    pack = Catalog(org.registry).open("core_activities")
    install_packs(org, [pack], with_sample=False, author_id=SYSTEM_USER_ID)
    data = build_sales_org(org, edit=_edit)
    for activity in ("task", "note"):
        org.metadata.add_field(
            activity,
            {"api_name": "opportunity", "type": "lookup", "target": "opportunity"},
            author_id=SYSTEM_USER_ID,
        )
    org.metadata.put_component("approval_process", PROCESS, author_id=SYSTEM_USER_ID)
    return data
