"""A prediction's definition, read from its metadata (``predictions/<api_name>.yaml``).

```yaml
api_name: win_probability
label: {en: Win probability, zh: 赢单概率}
object: opportunity
training: "is_closed"                 # which records are examples (their outcome is known)
target: "stage == 'Closed Won'"       # the outcome predicted, over the examples
scoring: "NOT is_closed"              # which records get a score
features: [amount, lead_source, account.industry, close_date, "probability / 100"]
score_field: win_score                # a percent (0-100) or decimal (0-1) field
factors_field: win_factors            # a text or long text field: the top three reasons
retrain_every_days: 7                 # 0: only when asked
min_examples: 50
min_per_class: 10
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_MIN_EXAMPLES = 50
DEFAULT_MIN_PER_CLASS = 10
DEFAULT_RETRAIN_DAYS = 7
MAX_FEATURES = 50


@dataclass(frozen=True)
class Prediction:
    """One prediction, as the trainer and the scorer read it."""

    name: str
    label: Any
    object: str
    training: str
    target: str
    scoring: str
    features: tuple[str, ...]
    score_field: str
    factors_field: str | None
    retrain_every_days: int
    min_examples: int
    min_per_class: int


def read_prediction(definition: Mapping[str, Any]) -> Prediction:
    """The definition as a :class:`Prediction` (it passed its JSON Schema)."""
    return Prediction(
        name=definition["api_name"],
        label=definition.get("label", definition["api_name"]),
        object=definition["object"],
        training=definition["training"],
        target=definition["target"],
        scoring=definition["scoring"],
        features=tuple(str(f).strip() for f in definition["features"]),
        score_field=definition["score_field"],
        factors_field=definition.get("factors_field"),
        retrain_every_days=int(definition.get("retrain_every_days", DEFAULT_RETRAIN_DAYS)),
        min_examples=int(definition.get("min_examples", DEFAULT_MIN_EXAMPLES)),
        min_per_class=int(definition.get("min_per_class", DEFAULT_MIN_PER_CLASS)),
    )
