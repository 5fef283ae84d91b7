"""The shipped packs' approval processes and assignment rules fit their forms, and the
form's inputs of each give back the same definition (saving one unchanged changes
nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import crm_platform
from crm_platform.admin_ui.approval_process_form import (
    approval_fits_form,
    approval_form_values,
    approval_from_form,
)
from crm_platform.admin_ui.assignment_rule_form import (
    assignment_fits_form,
    assignment_form_values,
    assignment_from_form,
)

SHIPPED = Path(crm_platform.__file__).parent / "packs" / "shipped"
FORMS = {
    "approval_processes": (approval_fits_form, approval_form_values, approval_from_form),
    "assignment_rules": (assignment_fits_form, assignment_form_values, assignment_from_form),
}
FILES = sorted(p for folder in FORMS for p in SHIPPED.glob(f"*/{folder}/*.yaml"))


def test_the_packs_ship_some():
    assert {p.parent.name for p in FILES} == set(FORMS)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_a_shipped_definition_round_trips_through_its_form(path):
    fits, values, definition = FORMS[path.parent.name]
    shipped = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert fits(shipped)
    assert definition(values(shipped)) == shipped
