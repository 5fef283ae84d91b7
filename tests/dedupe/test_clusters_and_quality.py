"""Duplicate clusters and the data-quality report on a small known dataset: the figures
a data steward reads, computed over what each reader may see — the rep, who sees only
their own account and may not read ``tax_id``, is told nothing about the rest."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.dedupe.conftest import create


def _raw(dd, object_name: str, record_id: str, **values) -> None:
    """Old data that came in before the rules (a legacy import): written past the service."""
    from crm_platform.core import utc_now

    with dd.org.db.write() as conn:
        obj = dd.org.models.model_for(conn).objects[object_name]
        row = {}
        for name, value in values.items():
            if name == "updated_at":
                row["updated_at"] = utc_now() - timedelta(days=value)
            else:
                row[obj.fields[name].columns[""].name] = value
        conn.execute(obj.table.update().where(obj.table.c.id == record_id).values(row))


@pytest.fixture(scope="module")
def data(dd):
    api = dd.api
    a1 = create(
        api,
        "account",
        {
            "name": "Acme Corporation",
            "email": "ops@acme.com",
            "phone": "(650) 253-0000",
            "industry": "Technology",
            "tax_id": "T1",
        },
    ).get_json()["id"]
    a2 = create(
        api,
        "account",
        {
            "name": "ACME corporation",
            "email": "sales@acme.com",
            "industry": "Retail",
        },
    ).get_json()["id"]
    a3 = create(api, "account", {"name": "Globex", "email": "info@globex.com", "phone": "555 0100"})
    a3 = a3.get_json()["id"]
    # same_phone holds on create only: an update may give Globex Acme's number
    assert (
        api.patch(f"/api/v1/records/account/{a3}", json={"phone": "+1 650 253 0000"}).status_code
        == 200
    )
    a4 = create(api, "account", {"name": "Initech", "email": "x@initech.com"}).get_json()["id"]
    _raw(dd, "account", a4, email="not-an-email", phone="12", industry="Legacy", updated_at=400)
    _raw(dd, "account", a2, industry="Mystery")
    a5 = create(dd.rep, "account", {"name": "Acme Corporation", "email": "rep@acme.com"})
    a5 = a5.get_json()["id"]
    gone = create(api, "account", {"name": "Gone Ltd", "email": "gone@gone.com"}).get_json()["id"]
    create(api, "contact", {"name": "Carl", "account": a1})
    c2 = create(api, "contact", {"name": "Dana", "account": a2}).get_json()["id"]
    assert api.delete(f"/api/v1/records/account/{gone}").status_code == 204
    _raw(dd, "contact", c2, account=gone)  # a legacy link to a record in the recycle bin
    return {"a1": a1, "a2": a2, "a3": a3, "a4": a4, "a5": a5}


def test_clusters_join_the_records_each_rule_matches(dd, data):
    answer = dd.api.get("/api/v1/records/account/duplicates")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    found = {c["rule"]: sorted(r["id"] for r in c["records"]) for c in body["clusters"]}
    assert found == {
        "same_name": sorted([data["a1"], data["a2"], data["a5"]]),
        "same_phone": sorted([data["a1"], data["a3"]]),
    }
    assert body["total"] == 2 and body["skipped_rules"] == []
    one = dd.api.get("/api/v1/records/account/duplicates?rule=same_phone").get_json()
    assert [c["rule"] for c in one["clusters"]] == ["same_phone"]
    assert dd.api.get("/api/v1/records/account/duplicates?rule=nope").status_code == 404
    assert dd.api.get("/api/v1/records/account/duplicates?limit=0").status_code == 400


def test_a_reader_gets_clusters_only_among_what_they_may_see(dd, data):
    body = dd.rep.get("/api/v1/records/account/duplicates").get_json()
    assert body["clusters"] == [] and body["total"] == 0
    assert body["skipped_rules"] == ["same_tax_id"]  # it compares a field they may not read
    assert data["a1"] not in str(body)


def test_the_quality_report_gives_the_stewards_figures(dd, data):
    answer = dd.api.get("/api/v1/data-quality/account")
    assert answer.status_code == 200, answer.get_json()
    report = answer.get_json()
    assert report["total"] == 5 and report["stale"] == 1 and report["stale_days"] == 365
    completeness = {f["field"]: f["completeness"] for f in report["fields"]}
    assert completeness == {
        "name": 100.0,
        "email": 100.0,
        "phone": 60.0,
        "website": 0.0,
        "tax_id": 20.0,
        "industry": 60.0,
    }
    unique = {u["field"]: u for u in report["uniqueness"]}
    assert set(unique) == {"email", "phone", "tax_id"}
    assert unique["phone"] == {
        "field": "phone",
        "filled": 3,
        "distinct": 2,
        "duplicate_values": 1,
        "records_in_duplicates": 2,
    }
    assert unique["email"]["duplicate_values"] == 0 and unique["email"]["filled"] == 5
    invalid = {(i["field"], i["kind"]): i["count"] for i in report["invalid"]}
    assert invalid == {
        ("email", "malformed_email"): 1,
        ("phone", "malformed_phone"): 1,
        ("industry", "inactive_value"): 1,
        ("industry", "unknown_value"): 1,
    }
    clusters = {d["rule"]: d["clusters"] for d in report["duplicate_clusters"]}
    assert clusters == {"same_email": 0, "same_name": 1, "same_phone": 1, "same_tax_id": 0}
    stale = dd.api.get("/api/v1/data-quality/account?stale_days=1000").get_json()
    assert stale["stale"] == 0
    assert dd.api.get("/api/v1/data-quality/account?stale_days=x").status_code == 400
    contacts = dd.api.get("/api/v1/data-quality/contact").get_json()
    invalid = {(i["field"], i["kind"]): i["count"] for i in contacts["invalid"]}
    assert invalid == {("email", "malformed_email"): 0, ("account", "deleted_lookup"): 1}


def test_the_quality_report_counts_only_what_the_reader_may_see(dd, data):
    report = dd.rep.get("/api/v1/data-quality/account").get_json()
    assert report["total"] == 1
    fields = {f["field"] for f in report["fields"]}
    assert "tax_id" not in fields and "tax_id" not in {u["field"] for u in report["uniqueness"]}
    assert report["skipped_rules"] == ["same_tax_id"]
    assert {d["rule"]: d["clusters"] for d in report["duplicate_clusters"]} == {
        "same_email": 0,
        "same_name": 0,
        "same_phone": 0,
    }
    assert all(i["count"] == 0 for i in report["invalid"])


def test_the_cli_prints_the_report_and_the_clusters(dd, data):
    from click.testing import CliRunner

    from crm_platform.cli import main

    settings = dd.org.settings
    env = {
        "CRM_DATABASE_URL": settings.database_url,
        "CRM_INSTANCE_PATH": str(settings.instance_path),
    }
    runner = CliRunner()
    shown = runner.invoke(main, ["data-quality", "account"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "5 records, 1 not modified in 365 days" in shown.output
    assert "malformed_email" in shown.output
    clusters = runner.invoke(main, ["duplicates", "account"], env=env)
    assert clusters.exit_code == 0, clusters.output
    assert "2 likely duplicate clusters" in clusters.output and "Globex" in clusters.output
    as_rep = runner.invoke(main, ["duplicates", "account", "--as", "rep@example.com"], env=env)
    assert "0 likely duplicate clusters" in as_rep.output and "Globex" not in as_rep.output


def test_the_cli_says_when_a_block_was_too_large_to_compare_whole(dd, data, monkeypatch):
    """Records alike by a rule's blocking key are compared pairwise up to a limit; past it
    the report is incomplete, and the command says so (as the API's truncated_blocks)."""
    import json

    from click.testing import CliRunner

    import crm_platform.dedupe.clusters as clusters
    from crm_platform.cli import main

    monkeypatch.setattr(clusters, "MAX_BLOCK", 2)  # the three Acme Corporations are cut
    env = {
        "CRM_DATABASE_URL": dd.org.settings.database_url,
        "CRM_INSTANCE_PATH": str(dd.org.settings.instance_path),
    }
    runner = CliRunner()
    shown = runner.invoke(main, ["duplicates", "account"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "incomplete: " in shown.output and "group(s) of records alike" in shown.output
    as_json = runner.invoke(main, ["duplicates", "account", "--format", "json"], env=env)
    assert json.loads(as_json.output)["truncated_blocks"] >= 1


def test_completeness_never_rounds_to_complete_or_to_empty():
    from crm_platform.quality.report import _percent

    # 2 of 25,868 records lack the value: the steward must not read "100.0"
    assert _percent(25_866, 25_868) == 99.9
    assert _percent(1, 20_000) == 0.1
    assert (_percent(5, 5), _percent(0, 5), _percent(1, 3), _percent(0, 0)) == (
        100.0,
        0.0,
        33.3,
        0.0,
    )
