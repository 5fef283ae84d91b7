"""The model scored from its JSON export gives what scikit-learn's pipeline gives, and its
factors name the features that moved the score, largest first."""

from __future__ import annotations

import random

import numpy as np
import pytest

from crm_platform.predictions.dataset import AGE, CATEGORY, FLAG, NUMERIC, Dataset, Feature
from crm_platform.predictions.learner import _matrix, _pipeline, fit, score, top_factors

FEATURES = (
    Feature("amount", NUMERIC, "Amount"),
    Feature("opened_on", AGE, "Opened on"),
    Feature("industry", CATEGORY, "Industry"),
    Feature("referral", FLAG, "Referral"),
)


def _dataset(n: int = 400) -> Dataset:
    rnd = random.Random(3)
    rows, outcomes = [], []
    for _ in range(n):
        amount = rnd.uniform(0, 100) if rnd.random() > 0.1 else None  # some blanks
        industry = rnd.choice(["Retail", "Energy", None])
        referral = rnd.choice(["true", "false"])
        logit = -0.08 * (amount or 50) + 4 + (1.5 if industry == "Energy" else 0)
        outcomes.append(int(rnd.random() < 1 / (1 + np.exp(-logit))))
        rows.append((amount, float(rnd.randint(0, 300)), industry, referral))
    return Dataset(FEATURES, tuple(str(i) for i in range(n)), tuple(rows), tuple(outcomes))


def test_the_exported_model_scores_as_the_fitted_pipeline():
    data = _dataset()
    exported = fit(data)
    pipeline = _pipeline(FEATURES).fit(_matrix(FEATURES, data.rows), np.asarray(data.outcomes))
    unseen = [
        (10.0, 5.0, "Finance", "true"),
        (None, None, None, "false"),
        (90.0, 1.0, "Retail", "true"),
    ]
    expected = pipeline.predict_proba(_matrix(FEATURES, unseen))[:, 1]
    for row, want in zip(unseen, expected, strict=True):
        got, _factors = score(exported, row)
        assert got == pytest.approx(want, abs=1e-9)


def test_factors_read_as_people_read_them():
    exported = fit(_dataset())
    probability, factors = score(exported, (95.0, 10.0, "Retail", "false"))
    assert probability < 0.5
    assert factors[0].text == "Amount high (\u2212)"  # the strongest signal comes first
    text = top_factors(factors)
    assert len(text.split("; ")) == 3
    assert "Industry = Retail (\u2212)" in [f.text for f in factors]
    _p, factors = score(exported, (5.0, 10.0, "Energy", "false"))
    assert factors[0].text == "Amount low (+)"
    assert "Industry = Energy (+)" in [f.text for f in factors]
