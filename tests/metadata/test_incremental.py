"""Metadata at scale: a change set is checked where it can matter, and the model is
recompiled from the parts that did not change — with the same outcome as doing it all."""

from __future__ import annotations

import pytest

from crm_platform.core import Conflict, ValidationFailed
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.metadata import read_snapshot
from crm_platform.runtime import compile_org_model

AUTHOR = {"author_id": SYSTEM_USER_ID}


def _text(name: str) -> dict:
    return {"api_name": name, "type": "text"}


@pytest.fixture
def sales(org):
    """account <- deal (lookup, formula through it, roll-up back) and an unrelated note."""
    org.metadata.apply_objects(
        [
            {
                "api_name": "account",
                "name_field": "name",
                "fields": [
                    _text("name"),
                    _text("industry"),
                    {"api_name": "region", "type": "picklist", "values": ["North", "South"]},
                ],
            },
            {
                "api_name": "deal",
                "name_field": "name",
                "fields": [
                    _text("name"),
                    {"api_name": "amount", "type": "currency"},
                    {"api_name": "account", "type": "lookup", "target": "account"},
                    {
                        "api_name": "sector",
                        "type": "formula",
                        "return_type": "text",
                        "expression": "account.industry",
                    },
                ],
            },
            {"api_name": "note", "name_field": "name", "fields": [_text("name")]},
        ],
        **AUTHOR,
    )
    org.metadata.add_field(
        "account",
        {
            "api_name": "pipeline",
            "type": "rollup_summary",
            "relation": "deal.account",
            "function": "sum",
            "field": "amount",
        },
        **AUTHOR,
    )
    return org


def _in_use(call) -> list[str]:
    """The components a refused delete names as still using the field."""
    with pytest.raises(Conflict) as caught:
        call()
    return [f"{u['name']}.{u['where']}" for u in caught.value.extra["usages"]]


def _refused(call) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        call()
    return caught.value.errors


def test_a_change_that_breaks_a_formula_on_another_object_is_refused(sales):
    errors = _in_use(lambda: sales.metadata.delete_field("account", "industry", **AUTHOR))
    assert "deal.sector.expression" in errors
    assert sales.metadata.get_field("account", "industry")["type"] == "text"


def test_a_formula_two_lookups_away_is_checked_too(sales):
    sales.metadata.create_object(
        {
            "api_name": "visit",
            "name_field": "name",
            "fields": [
                _text("name"),
                {"api_name": "deal", "type": "lookup", "target": "deal"},
                {
                    "api_name": "sector",
                    "type": "formula",
                    "return_type": "text",
                    "expression": "deal.account.industry",
                },
            ],
        },
        **AUTHOR,
    )
    # visit points at deal only; its formula walks on to account
    errors = _in_use(lambda: sales.metadata.delete_field("account", "industry", **AUTHOR))
    assert "visit.sector.expression" in errors
    errors = _refused(
        lambda: sales.metadata.patch_field("deal", "account", {"target": "note"}, **AUTHOR)
    )
    assert "visit.fields.sector.expression" in errors


def test_a_change_that_breaks_a_rollup_on_another_object_is_refused(sales):
    errors = _refused(
        lambda: sales.metadata.patch_field("deal", "amount", {"type": "text"}, **AUTHOR)
    )
    assert any("pipeline" in path for path in errors), errors
    errors = _in_use(lambda: sales.metadata.delete_field("deal", "amount", **AUTHOR))
    assert "account.pipeline.field" in errors


def test_a_change_that_breaks_a_lookup_or_a_rule_is_refused(sales, put_metadata):
    put_metadata(
        "validation_rule",
        {
            "api_name": "northern",
            "object": "deal",
            "condition": "account.region == 'North'",
            "message": "Northern deals only",
        },
    )
    errors = _in_use(lambda: sales.metadata.delete_field("account", "region", **AUTHOR))
    assert "deal.northern.condition" in errors
    errors = _refused(lambda: sales.metadata.delete_object("account", **AUTHOR))
    assert "deal.fields.account.target" in errors


def test_unrelated_changes_still_pass_and_the_broken_thing_is_named(sales):
    sales.metadata.add_field("note", _text("body"), **AUTHOR)
    sales.metadata.add_field("account", _text("website"), **AUTHOR)
    errors = _refused(
        lambda: sales.metadata.add_field(
            "note",
            {"api_name": "bad", "type": "formula", "return_type": "text", "expression": "nope"},
            **AUTHOR,
        )
    )
    assert list(errors) == ["expression"]


def _describe(model) -> dict:
    """Everything a compiled model says, in plain values (tables by column name and type)."""
    return {
        "objects": {
            name: (
                dict(obj.definition),
                obj.table.name,
                [(c.name, repr(c.type), c.primary_key) for c in obj.table.columns],
                {
                    f: (dict(fm.definition), {k: c.name for k, c in fm.columns.items()})
                    for f, fm in obj.fields.items()
                },
            )
            for name, obj in model.objects.items()
        },
        "relations": {k: list(v) for k, v in model.relations_to.items()},
        "rollups": {k: list(v) for k, v in model.rollups_over.items()},
        "rules": {k: [dict(r) for r in v] for k, v in model.validation_rules.items()},
        "security": repr(model.security),
    }


def test_a_model_built_step_by_step_equals_one_built_from_scratch(sales, put_metadata):
    with sales.db.read() as conn:
        first = sales.models.model_for(conn)
    sales.metadata.add_field("deal", _text("stage"), **AUTHOR)
    sales.metadata.patch_field("account", "industry", {"label": "Sector"}, **AUTHOR)
    sales.metadata.apply_objects(
        [
            {
                "api_name": "visit",
                "name_field": "name",
                "fields": [_text("name"), {"api_name": "deal", "type": "lookup", "target": "deal"}],
            }
        ],
        **AUTHOR,
    )
    put_metadata(
        "validation_rule",
        {
            "api_name": "named",
            "object": "visit",
            "condition": "ISBLANK(name)",
            "message": "Name it",
        },
    )
    sales.metadata.add_field("note", _text("body"), **AUTHOR)
    sales.metadata.delete_field("note", "body", **AUTHOR)
    with sales.db.read() as conn:
        stepwise = sales.models.model_for(conn)
        scratch = compile_org_model(read_snapshot(conn))
    assert stepwise.version == scratch.version > first.version
    assert _describe(stepwise) == _describe(scratch)


def test_an_unchanged_object_keeps_its_compiled_table(sales):
    with sales.db.read() as conn:
        before = sales.models.model_for(conn)
    sales.metadata.add_field("note", _text("body"), **AUTHOR)
    with sales.db.read() as conn:
        after = sales.models.model_for(conn)
    assert after.objects["account"] is before.objects["account"]
    assert after.objects["note"] is not before.objects["note"]
    assert "body" in after.objects["note"].fields
    assert [r.child for r in after.relations_to["account"]] == ["deal"]


def test_a_snapshot_caught_up_equals_one_read_whole(sales):
    with sales.db.read() as conn:
        old = read_snapshot(conn)
    sales.metadata.add_field("note", _text("body"), **AUTHOR)
    sales.metadata.delete_field("note", "body", **AUTHOR)
    sales.metadata.purge_field("note", "body", confirm="body", **AUTHOR)
    sales.metadata.add_field("note", _text("body"), **AUTHOR)  # same name, new component
    with sales.db.read() as conn:
        caught_up = read_snapshot(conn, since=old)
        whole = read_snapshot(conn)
    assert caught_up.version == whole.version
    assert caught_up.components == whole.components
    assert {k: dict(v) for k, v in caught_up.groups.items()} == {
        k: dict(v) for k, v in whole.groups.items()
    }
