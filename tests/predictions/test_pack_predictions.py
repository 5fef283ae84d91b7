"""The shipped predictions: win probability on the sales pack's opportunities (trained on
its sample deals, shown on the layout and the open-deals list) and churn risk on the
subscription pack's subscriptions (learnt from those that ended and those that lasted)."""

from __future__ import annotations

from crm_platform.predictions import train_now
from crm_platform.runtime import find_user
from crm_platform.runtime.users import system_user
from tests.packs.shipped_helpers import all_records, install_shipped, person


def _system(org):
    with org.db.read() as conn:
        return system_user(conn)


def test_win_probability_scores_the_sample_pipeline(org):
    install_shipped(org, "subscription")  # sales and core_activities come first
    # the subscription pack's automation may open a renewal deal in the background (when
    # a sample subscription nears its end on today's date): every deal there before the
    # training is scored; one opened meanwhile may or may not be, until the next scoring
    before = {d["id"] for d in all_records(org, "opportunity")}
    run = train_now(org, "win_probability", _system(org))
    everything = all_records(org, "opportunity")
    deals = [d for d in everything if d["id"] in before]
    closed = [d for d in deals if d["is_closed"]]
    assert run.status == "trained" and run.examples == len(closed) >= 180
    assert run.positives == sum(1 for d in closed if d["is_won"])
    assert 0 <= run.quality["auc"] <= 1 and len(run.quality["reliability"]) == 5

    open_deals = [d for d in deals if not d["is_closed"]]
    scored = [d for d in everything if d["win_probability"] is not None]
    assert run.quality["scored"] == len(scored) >= len(open_deals) >= 50
    assert all(d["win_probability"] is not None and d["win_factors"] for d in open_deals)
    assert all(d["win_probability"] is None for d in deals if d["is_closed"])

    # a rep reads the score on their deals and cannot type one
    rep = person(org, "predict-rep@example.com", "sales_rep")
    with org.db.read() as conn:
        rep = find_user(conn, rep.email)
    with org.records.session(rep, write=False) as session:
        access = session.access
    assert "win_probability" in access.readable_fields("opportunity")
    assert not access.field_editable("opportunity", "win_probability")

    # churn risk learns from the sample's ended and year-old subscriptions and scores the
    # live ones; its sample carries a signal (usage drops, escalations), so it beats chance
    churn = train_now(org, "churn_risk", _system(org))
    subs = all_records(org, "subscription")
    ended = [s for s in subs if s["status"] in ("Cancelled", "Expired")]
    assert churn.status == "trained" and churn.positives == len(ended) >= 10
    assert churn.quality["auc"] > 0.6
    live = [s for s in subs if s["status"] in ("Active", "Trial")]
    assert all(s["churn_score"] is not None and s["churn_factors"] for s in live)
