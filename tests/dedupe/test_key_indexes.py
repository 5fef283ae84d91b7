"""Each duplicate rule's blocking key is indexed, so the check a create runs probes the
index instead of reading the table (an import of 100,000 contacts under an email rule
read the table 500 times); the index comes and goes with the rule."""

from __future__ import annotations

import sqlalchemy as sa

from crm_platform.core import in_list
from crm_platform.dedupe.candidates import column
from crm_platform.dedupe.indexes import PREFIX, key_indexes_on
from crm_platform.dedupe.keys import blocking_criterion, criterion_keys
from crm_platform.dedupe.kind import rule_of

RULES = "/api/v1/metadata/duplicate_rules"


def key_indexes(dd, object_name: str) -> set[str]:
    with dd.org.reading() as (conn, model):
        return key_indexes_on(conn, model.objects[object_name].table.name)


def candidate_plan(dd, object_name: str, rule_name: str, value: str) -> str:
    """The plan of the query a create's check runs for ``value``, as the check writes it
    (PostgreSQL, with the table's statistics, told to avoid a full scan where it can: on
    a test's few rows it would rather read them all)."""
    with dd.org.db.write() as conn:
        model = dd.org.models.model_for(conn)
        obj = model.objects[object_name]
        criterion = blocking_criterion(rule_of(model, object_name, rule_name))
        key = criterion_keys(conn.dialect.name, criterion, column(obj, criterion.field))[0]
        query = sa.select(obj.table.c.id).where(
            obj.table.c.deleted_at.is_(None), in_list(conn.dialect.name, key, [value])
        )
        sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "sqlite":
            return " ".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
        conn.exec_driver_sql(f'ANALYZE "{obj.table.name}"')
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        return " ".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql))


def test_the_email_and_phone_checks_probe_an_index_of_their_key(dd):
    for rule, value in (("same_email", "a@example.com"), ("same_phone", "5550100")):
        plan = candidate_plan(dd, "account", rule, value)
        assert PREFIX in plan, plan


def test_a_key_index_comes_with_its_rule_and_goes_with_it(dd):
    before = key_indexes(dd, "contact")
    rule = {
        "api_name": "same_contact_email",
        "object": "contact",
        "criteria": [{"field": "email", "method": "email"}],
    }
    made = dd.api.post(RULES, json=rule)
    assert made.status_code == 201, made.get_json()
    with_rule = key_indexes(dd, "contact")
    assert len(with_rule - before) == 1
    assert PREFIX in candidate_plan(dd, "contact", "same_contact_email", "a@example.com")
    gone = dd.api.delete(f"{RULES}/contact.same_contact_email")
    assert gone.status_code == 200, gone.get_json()
    assert key_indexes(dd, "contact") == before


def test_rules_sharing_a_key_share_its_index(dd):
    """same_person (contact) blocks on its normalised name; a second rule on the contact's
    email adds one index, not one per rule."""
    before = key_indexes(dd, "contact")
    for name in ("email_one", "email_two"):
        rule = {
            "api_name": name,
            "object": "contact",
            "action": "warn",
            "criteria": [{"field": "email", "method": "email"}],
        }
        assert dd.api.post(RULES, json=rule).status_code == 201
    assert len(key_indexes(dd, "contact") - before) == 1
    assert dd.api.delete(f"{RULES}/contact.email_one").status_code == 200
    assert len(key_indexes(dd, "contact") - before) == 1  # email_two still needs it
    assert dd.api.delete(f"{RULES}/contact.email_two").status_code == 200
    assert key_indexes(dd, "contact") == before


def test_crm_upgrade_makes_the_key_indexes_an_org_lacks(dd):
    """An org whose rules were saved before key indexes existed gets them from `crm
    upgrade` (and a restored org from `crm restore`)."""
    from click.testing import CliRunner

    from crm_platform.cli import main

    wanted = key_indexes(dd, "account")
    with dd.org.db.write(ddl=True) as conn:
        for name in wanted:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
    assert key_indexes(dd, "account") == set()
    env = {
        "CRM_DATABASE_URL": dd.org.settings.database_url,
        "CRM_INSTANCE_PATH": str(dd.org.settings.instance_path),
    }
    done = CliRunner().invoke(main, ["upgrade"], env=env)
    assert done.exit_code == 0, done.output
    assert f"Indexed the keys of duplicate rules ({len(wanted)} indexes made)" in done.output
    assert key_indexes(dd, "account") == wanted
