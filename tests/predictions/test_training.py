"""A prediction trained on generated history ranks open deals as the history's law says,
writes a score and its reasons to each open deal, and refuses too thin a history."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm_platform.predictions import TooFewExamples, runs_of, train_now
from crm_platform.runtime.users import system_user
from tests.predictions.history import build_history


@pytest.fixture
def deals(org, load_metadata):
    load_metadata("predictions")
    return org


def _system(org):
    with org.db.read() as conn:
        return system_user(conn)


def _open_deals(org):
    with org.reading() as (conn, model):
        obj = model.objects["deal"]
        c = {n: obj.fields[n].columns[""] for n in ("win_chance", "win_reasons", "stage")}
        rows = conn.execute(
            sa.select(obj.table.c.id, c["win_chance"], c["win_reasons"]).where(c["stage"] == "Open")
        ).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def test_a_trained_prediction_ranks_open_deals_as_the_history_says(deals):
    truth = build_history(deals)
    run = train_now(deals, "win_chance", _system(deals))
    assert run.status == "trained"
    assert run.examples == 300
    assert run.quality["auc"] > 0.8
    assert run.quality["brier"] < 0.2
    table = run.quality["reliability"]
    assert len(table) == 5 and sum(r["records"] for r in table) == run.quality["held_out"]
    assert run.quality["scored"] == 30

    scored = _open_deals(deals)
    assert set(scored) == set(truth)
    # the deals the law favours most get higher scores than the ones it favours least
    ranked = sorted(truth, key=truth.get)
    low, high = ranked[:8], ranked[-8:]
    assert max(float(scored[i][0]) for i in low) < min(float(scored[i][0]) for i in high)
    for score, reasons in scored.values():
        assert 0 <= score <= 100
        lines = reasons.split("; ")
        assert 1 <= len(lines) <= 3
        assert all(line.endswith(("(+)", "(\u2212)")) for line in lines)
    # a feature read through a lookup is named without its value: the reader of the
    # factors may not see the account
    industry = [r for _, r in scored.values() if "Account \u203a Industry" in r]
    assert industry and not any("Industry =" in r for r in industry)
    # the strongest signal (the amount) is among the reasons of the most certain deals
    assert any("Amount" in scored[i][1] for i in low + high)


def test_training_refuses_too_few_examples_and_says_why(deals):
    build_history(deals, closed=25, open_=2)
    with pytest.raises(TooFewExamples) as refused:
        train_now(deals, "win_chance", _system(deals))
    assert "needs at least 40 training examples" in refused.value.detail
    assert "there are 25" in refused.value.detail
    with deals.db.read() as conn:
        (run,) = runs_of(conn, "win_chance")
    assert run.status == "refused" and run.examples == 25
    assert all(score is None for score, _ in _open_deals(deals).values())


def test_training_refuses_when_one_outcome_is_too_rare(deals, put_metadata):
    build_history(deals, closed=60, open_=0)
    put_metadata(
        "prediction",
        {
            "api_name": "rare",
            "object": "deal",
            "training": "stage != 'Open'",
            "target": "stage == 'Won' and amount > 99000",
            "scoring": "stage == 'Open'",
            "features": ["amount"],
            "score_field": "win_chance",
            "min_examples": 40,
        },
    )
    with pytest.raises(TooFewExamples) as refused:
        train_now(deals, "rare", _system(deals))
    assert "at least 10 examples of each outcome" in refused.value.detail
