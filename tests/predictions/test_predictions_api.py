"""The predictions through the API: who sees a prediction and its scores, training on
demand, refusals, triggers left alone by score writes, and retraining on the schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm_platform.core.tables import automation_runs
from crm_platform.predictions import runs_of
from crm_platform.runtime import create_user
from tests.clock import Clock
from tests.predictions.history import build_history


@pytest.fixture
def deals(org, load_metadata):
    load_metadata("predictions")
    return org


def _an_open_deal(api) -> dict:
    found = api.get("/api/v1/records/deal?where=stage == 'Open'&limit=1").get_json()
    return found["data"][0] if "data" in found else found["records"][0]


def test_an_admin_trains_and_reads_the_quality_of_a_prediction(deals, api):
    build_history(deals)
    trained = api.post("/api/v1/predictions/win_chance/train")
    assert trained.status_code == 200, trained.get_json()
    run = trained.get_json()
    assert run["status"] == "trained" and run["quality"]["auc"] > 0.8

    listed = api.get("/api/v1/predictions").get_json()["predictions"]
    assert [p["name"] for p in listed] == ["win_chance"]
    assert listed[0]["label"] == "Win chance"
    report = api.get("/api/v1/predictions/win_chance").get_json()
    assert report["quality"]["id"] == run["id"]
    assert report["next_training_at"] is not None
    # aggregate figures only: no record, id or value of one leaves the report
    assert "Deal " not in str(report)


def test_scores_are_readable_only_by_those_who_may_read_the_score_fields(deals, api, make_user):
    build_history(deals)
    assert api.post("/api/v1/predictions/win_chance/train").status_code == 200
    rep = make_user("rep@example.com", profile="rep")
    blind = make_user("blind@example.com", profile="blind_rep")

    seen = _an_open_deal(rep)
    assert seen["win_chance"] is not None and seen["win_reasons"]
    hidden = _an_open_deal(blind)
    assert "win_chance" not in hidden and "win_reasons" not in hidden

    assert [p["name"] for p in rep.get("/api/v1/predictions").get_json()["predictions"]] == [
        "win_chance"
    ]
    assert blind.get("/api/v1/predictions").get_json()["predictions"] == []
    assert blind.get("/api/v1/predictions/win_chance").status_code == 404
    # training is for admins
    assert rep.post("/api/v1/predictions/win_chance/train").status_code == 403


def test_training_on_too_thin_a_history_is_refused_with_the_reason(deals, api):
    build_history(deals, closed=12, open_=3)
    refused = api.post("/api/v1/predictions/win_chance/train")
    assert refused.status_code == 409
    problem = refused.get_json()
    assert "needs at least 40 training examples" in problem["detail"]
    report = api.get("/api/v1/predictions/win_chance").get_json()
    assert report["quality"] is None
    assert report["last_run"]["status"] == "refused"
    assert api.post("/api/v1/predictions/nothing/train").status_code == 404


def test_score_writes_fire_no_triggers(deals, api, put_metadata):
    build_history(deals)
    put_metadata(
        "trigger",
        {
            "api_name": "touched",
            "object": "deal",
            "events": ["update"],
            "when": "discount != 99",
            "timing": "after_save",
            "actions": [{"type": "update_record", "values": {"discount": "99"}}],
        },
    )
    assert api.post("/api/v1/predictions/win_chance/train").status_code == 200
    deal = _an_open_deal(api)
    assert deal["win_chance"] is not None
    assert float(deal["discount"]) != 99  # the scores' update fired no trigger
    # a person's change still does
    changed = api.patch(f"/api/v1/records/deal/{deal['id']}", json={"name": "Renamed"})
    assert changed.status_code == 200
    assert float(api.get(f"/api/v1/records/deal/{deal['id']}").get_json()["discount"]) == 99


def test_a_prediction_retrains_on_its_schedule(deals, api):
    clock = Clock()
    deals.clock = clock
    build_history(deals)
    assert api.post("/api/v1/predictions/win_chance/train").status_code == 200
    with deals.db.read() as conn:
        planned = conn.execute(
            sa.select(automation_runs.c.due_at, automation_runs.c.status).where(
                automation_runs.c.job == "prediction.train"
            )
        ).all()
    assert [(due, status) for due, status in planned] == [(clock.now + timedelta(days=7), "queued")]
    clock.advance(days=6)
    deals.work.run_pending()
    with deals.db.read() as conn:
        assert len(runs_of(conn, "win_chance")) == 1  # not yet due

    clock.advance(days=2)
    deals.work.run_pending()
    with deals.db.read() as conn:
        runs = runs_of(conn, "win_chance")
    assert [(r.status, r.reason) for r in runs] == [("trained", "schedule"), ("trained", "asked")]
    report = api.get("/api/v1/predictions/win_chance").get_json()
    assert report["quality"]["reason"] == "schedule"
    assert report["next_training_at"].startswith(str((clock.now + timedelta(days=7)).date()))


def test_score_writes_tell_no_follower(deals, api):
    build_history(deals, closed=120, open_=10)  # the admin made them, so follows them
    assert api.post("/api/v1/predictions/win_chance/train").status_code == 200
    assert _an_open_deal(api)["win_chance"] is not None
    told = api.get("/api/v1/notifications?limit=200").get_json()["notifications"]
    assert [n["message"] for n in told if "changed" in n["message"]] == []
    # a colleague's change to a followed deal still tells its follower
    with deals.db.write() as conn:
        colleague = create_user(conn, email="pat@example.com", profile="system_administrator")
    with deals.records.session(colleague) as session:
        session.update("deal", _an_open_deal(api)["id"], {"name": "Renamed by Pat"})
    told = api.get("/api/v1/notifications?limit=200").get_json()["notifications"]
    assert any("changed" in n["message"] for n in told)
