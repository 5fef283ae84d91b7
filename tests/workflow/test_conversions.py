"""An admin defines a conversion (any object may have one): the definition is checked
when saved, each problem named by its path; deleting an object a conversion uses is
refused while it does."""

from __future__ import annotations

import pytest

from crm_platform.core import ValidationFailed
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.metadata import ACTIVE

AUTHOR = {"author_id": SYSTEM_USER_ID}
GOOD = {
    "api_name": "to_customer",
    "object": "signup",
    "label": {"en": "Make a customer", "zh": "转为客户"},
    "when": "done == False",
    "targets": [
        {"name": "customer", "object": "customer", "values": {"name": "company"}},
        {
            "name": "person",
            "object": "person",
            "values": {"email": "email", "title": "'Owner'"},
            "links": {"customer": "customer"},
        },
    ],
    "source": {"values": {"done": "True"}, "links": {"customer": "customer"}},
}


@pytest.fixture
def objects(org):
    meta = org.metadata
    meta.create_object(
        {"api_name": "customer", "fields": [{"api_name": "name", "type": "text"}]}, **AUTHOR
    )
    meta.create_object(
        {
            "api_name": "person",
            "fields": [
                {"api_name": "email", "type": "email"},
                {"api_name": "title", "type": "text"},
                {"api_name": "customer", "type": "lookup", "target": "customer"},
            ],
        },
        **AUTHOR,
    )
    meta.create_object(
        {
            "api_name": "signup",
            "fields": [
                {"api_name": "company", "type": "text"},
                {"api_name": "email", "type": "email"},
                {"api_name": "done", "type": "boolean", "default": False},
                {"api_name": "customer", "type": "lookup", "target": "customer"},
            ],
        },
        **AUTHOR,
    )
    return org


def _errors(org, definition) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        org.metadata.put_component("conversion", definition, **AUTHOR)
    return caught.value.errors


def test_a_good_conversion_is_saved(objects):
    objects.metadata.put_component("conversion", GOOD, **AUTHOR)
    comp = objects.metadata.snapshot().get("conversion", "signup.to_customer")
    assert comp is not None and comp.status == ACTIVE


def test_each_problem_is_named_by_its_path(objects):
    bad = {
        **GOOD,
        "targets": [
            {"name": "customer", "object": "customer", "values": {"nickname": "company"}},
            {
                "name": "person",
                "object": "person",
                "values": {"email": "company + 1"},
                "links": {"customer": "nobody", "title": "customer"},
            },
            {"name": "customer", "object": "nowhere"},
        ],
    }
    errors = " ".join(f"{k}: {v}" for k, v in _errors(objects, bad).items())
    assert "targets[0].values.nickname" in errors
    assert "targets[1].values.email" in errors
    assert "targets[1].links.customer" in errors and "no earlier target" in errors
    assert "targets[1].links.title" in errors
    assert "targets[2].object" in errors and "nowhere" in errors
    assert "targets[2].name" in errors


def test_an_object_a_conversion_uses_cannot_be_deleted(objects):
    objects.metadata.put_component("conversion", GOOD, **AUTHOR)
    with pytest.raises(ValidationFailed) as caught:
        objects.metadata.delete_object("customer", **AUTHOR)
    assert "signup.to_customer.targets[0].object" in caught.value.errors
    assert objects.metadata.snapshot().get("object", "customer").status == ACTIVE
