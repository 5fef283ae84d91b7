"""Fitting a prediction's model with scikit-learn, and reading it back as plain numbers.

The model is a logistic regression in a scikit-learn ``Pipeline``: numbers (and dates,
as ages in days) are imputed with their median and standardised; text, picklist and
boolean values are one-hot encoded (an unseen value reads as none of the known ones)
and standardised too. Because it is linear, the fitted pipeline is exported as JSON —
medians, means, scales, categories, coefficients — and scoring, which needs no
scikit-learn, computes each record's probability and each feature's contribution
(coefficient × standardised value) from those numbers alone. Nothing is unpickled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .dataset import AGE, CATEGORY, FLAG, NUMERIC, Dataset, Feature

if TYPE_CHECKING:  # numpy and scikit-learn load when a model is trained, not at start-up
    import numpy as np

BLANK = "(blank)"
HOLDOUT = 0.25  # the share of examples kept back to measure quality
SEED = 20261203  # the same examples give the same split and the same model
BINS = 5  # the reliability table's rows: 0-20 %, 20-40 %, ...
MINUS = "\u2212"


@dataclass(frozen=True)
class Quality:
    """How well the model ranks and how well its probabilities hold, on held-out records."""

    held_out: int
    auc: float
    brier: float
    base_rate: float
    reliability: tuple[dict[str, Any], ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "held_out": self.held_out,
            "auc": round(self.auc, 4),
            "brier": round(self.brier, 4),
            "base_rate": round(self.base_rate, 4),
            "reliability": list(self.reliability),
        }


@dataclass(frozen=True)
class Factor:
    """One feature's part in a record's score."""

    text: str
    contribution: float


# --- fitting --------------------------------------------------------------------------


def _as_float(values: Any) -> Any:
    import numpy as np

    return np.asarray(values, dtype=float)


def _matrix(features: Sequence[Feature], rows: Sequence[Sequence[Any]]) -> np.ndarray:
    """The examples as one object array: floats (NaN when blank) and strings."""
    import numpy as np

    out = np.empty((len(rows), len(features)), dtype=object)
    for j, feature in enumerate(features):
        numeric = feature.kind in (NUMERIC, AGE)
        for i, row in enumerate(rows):
            value = row[j]
            out[i, j] = (np.nan if value is None else value) if numeric else (value or BLANK)
    return out


def _pipeline(features: Sequence[Feature]) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    numeric = [j for j, f in enumerate(features) if f.kind in (NUMERIC, AGE)]
    categorical = [j for j, f in enumerate(features) if f.kind in (CATEGORY, FLAG)]
    parts = []
    for j in numeric:  # one transformer per feature: the export reads them in order
        steps = [
            ("float", FunctionTransformer(_as_float)),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]
        parts.append((f"f{j}", Pipeline(steps), [j]))
    for j in categorical:
        steps = [
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
            ("scale", StandardScaler()),
        ]
        parts.append((f"f{j}", Pipeline(steps), [j]))
    columns = ColumnTransformer(parts)
    return Pipeline([("features", columns), ("model", LogisticRegression(max_iter=2000))])


def evaluate(dataset: Dataset) -> Quality:
    """Fit on three quarters of the examples (stratified) and measure on the rest."""
    import numpy as np
    from sklearn.metrics import brier_score_loss, roc_auc_score
    from sklearn.model_selection import train_test_split

    x = _matrix(dataset.features, dataset.rows)
    y = np.asarray(dataset.outcomes)
    x_fit, x_test, y_fit, y_test = train_test_split(
        x, y, test_size=HOLDOUT, stratify=y, random_state=SEED
    )
    pipeline = _pipeline(dataset.features).fit(x_fit, y_fit)
    p = pipeline.predict_proba(x_test)[:, 1]
    return Quality(
        held_out=len(y_test),
        auc=float(roc_auc_score(y_test, p)),
        brier=float(brier_score_loss(y_test, p)),
        base_rate=float(y.mean()),
        reliability=reliability_table(p, y_test),
    )


def reliability_table(p: np.ndarray, y: np.ndarray) -> tuple[dict[str, Any], ...]:
    """Per band of predicted probability: how many, the mean prediction, the observed rate
    (a calibrated model's two agree)."""
    rows = []
    for index in range(BINS):
        low, high = index / BINS, (index + 1) / BINS
        inside = (p >= low) & ((p < high) if index < BINS - 1 else (p <= high))
        count = int(inside.sum())
        rows.append(
            {
                "band": f"{round(low * 100)}-{round(high * 100)}%",
                "records": count,
                "predicted": round(float(p[inside].mean()), 4) if count else None,
                "observed": round(float(y[inside].mean()), 4) if count else None,
            }
        )
    return tuple(rows)


def fit(dataset: Dataset) -> dict[str, Any]:
    """Fit on every example; the fitted pipeline as JSON (see the module's docstring)."""
    import numpy as np

    x = _matrix(dataset.features, dataset.rows)
    pipeline = _pipeline(dataset.features).fit(x, np.asarray(dataset.outcomes))
    columns = pipeline.named_steps["features"]
    regression = pipeline.named_steps["model"]
    coefficients = [float(c) for c in regression.coef_[0]]
    exported, offset = {}, 0
    for name, transformer, _cols in columns.transformers_:
        if name == "remainder":
            continue
        scaler = transformer.named_steps["scale"]
        width = len(scaler.mean_)
        part: dict[str, Any] = {
            "means": [float(v) for v in scaler.mean_],
            "scales": [float(v) for v in scaler.scale_],
            "coefficients": coefficients[offset : offset + width],
        }
        if "impute" in transformer.named_steps:
            part["median"] = float(transformer.named_steps["impute"].statistics_[0])
        else:
            part["categories"] = [str(c) for c in transformer.named_steps["onehot"].categories_[0]]
        exported[name] = part
        offset += width
    return {
        "algorithm": "logistic_regression",
        "intercept": float(regression.intercept_[0]),
        "features": [
            {"source": f.source, "kind": f.kind, "label": f.label, **exported[f"f{j}"]}
            for j, f in enumerate(dataset.features)
        ],
    }


# --- scoring from the exported numbers -------------------------------------------------


def score(model: dict[str, Any], row: Sequence[Any]) -> tuple[float, list[Factor]]:
    """A record's probability and every feature's contribution to it, largest first."""
    total = model["intercept"]
    factors = []
    for feature, value in zip(model["features"], row, strict=True):
        contribution, text = _contribution(feature, value)
        total += contribution
        factors.append(Factor(text + (" (+)" if contribution > 0 else f" ({MINUS})"), contribution))
    factors.sort(key=lambda f: -abs(f.contribution))
    probability = 1 / (1 + math.exp(-max(min(total, 500), -500)))
    return probability, factors


def _contribution(feature: dict[str, Any], value: Any) -> tuple[float, str]:
    label = feature["label"]
    # a feature read through a lookup (account.industry) is named without its value: the
    # reader of the factors may not see the record it comes from (sharing is per record)
    through_lookup = "." in feature["source"]
    means, scales, coefficients = feature["means"], feature["scales"], feature["coefficients"]
    if "median" in feature:
        raw = feature["median"] if value is None else float(value)
        z = (raw - means[0]) / (scales[0] or 1.0)
        if through_lookup:
            return coefficients[0] * z, label
        if feature["kind"] == AGE:
            word = "long ago" if z > 0 else "recent"
        else:
            word = "high" if z > 0 else "low"
        return coefficients[0] * z, f"{label} {word}"
    shown = value or BLANK
    contribution = 0.0
    for category, mean, scale, coefficient in zip(
        feature["categories"], means, scales, coefficients, strict=True
    ):
        indicator = 1.0 if category == shown else 0.0
        contribution += coefficient * (indicator - mean) / (scale or 1.0)
    if through_lookup:
        return contribution, label
    if feature["kind"] == FLAG:
        shown = {"true": "yes", "false": "no"}.get(shown, shown)
    return contribution, f"{label} = {shown}"


def top_factors(factors: Sequence[Factor], count: int = 3) -> str:
    """The factors people read: the ``count`` largest contributions, largest first."""
    return "; ".join(f.text for f in factors[:count] if abs(f.contribution) > 1e-9)
