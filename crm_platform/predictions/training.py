"""Training a prediction: read its examples, refuse too few, measure, fit, store, score.

Every attempt is a training run (``sys_prediction_run``): trained, refused (too few
examples, or too few of one outcome) or failed. A trained run replaces the stored model
(``sys_prediction_model``) and rescores the open records. The run keeps aggregate
figures only — counts, AUC, Brier score, the reliability table — never a record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from crm_platform.core import Conflict, NotFound, new_id
from crm_platform.runtime.users import User

from .dataset import read_examples
from .definition import Prediction
from .kind import predictions_of
from .learner import evaluate, fit
from .scoring import score_records
from .tables import prediction_models, prediction_runs

if TYPE_CHECKING:
    from crm_platform.runtime import Org

TRAINED, REFUSED, FAILED = "trained", "refused", "failed"


class TooFewExamples(Conflict):
    """Training was refused: the history is too thin to learn from (a 409)."""


@dataclass(frozen=True)
class TrainingRun:
    """One training run, as the CLI, the API and the show command report it."""

    id: str
    prediction: str
    status: str
    reason: str
    started_at: Any
    finished_at: Any
    examples: int
    positives: int
    quality: dict[str, Any]
    message: str | None

    def as_json(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name in ("started_at", "finished_at"):
            out[name] = out[name].isoformat()
        return out


def prediction_named(org: Org, name: str) -> Prediction:
    """The prediction ``name`` of the current metadata (404 when there is none)."""
    with org.reading() as (_conn, model):
        found = predictions_of(model).predictions.get(name)
    if found is None:
        raise NotFound(f"no prediction '{name}'")
    return found


def train(org: Org, name: str, user: User, *, reason: str = "asked") -> TrainingRun:
    """Train ``name`` on the org's history and rescore its open records.

    Raises :class:`TooFewExamples` (after recording the refused run) when there are
    fewer examples than the prediction's ``min_examples``, or fewer of either outcome
    than its ``min_per_class``."""
    prediction = prediction_named(org, name)
    started = org.clock()
    with org.records.session(user, write=False) as session:
        dataset = read_examples(session, prediction)
    positives, total = sum(dataset.outcomes), len(dataset.outcomes)

    def run_of(status: str, quality: dict[str, Any], message: str | None) -> TrainingRun:
        return TrainingRun(
            new_id(), name, status, reason, started, org.clock(), total, positives, quality, message
        )

    refusal = refusal_message(prediction, total, positives)
    if refusal is not None:
        run = run_of(REFUSED, {}, refusal)
        with org.db.write() as conn:
            _insert_run(conn, run, user)
        raise TooFewExamples(refusal, extra={"run": run.as_json()})
    quality = evaluate(dataset).as_json()
    fitted = fit(dataset)
    run = run_of(TRAINED, quality, None)
    with org.db.write() as conn:
        _insert_run(conn, run, user)
        _store_model(conn, prediction, run, fitted)
    result = score_records(org, prediction)
    return _with_scored(org, run, result.scored, result.written)


def refusal_message(prediction: Prediction, total: int, positives: int) -> str | None:
    """Why there is too little history to train on (None when there is enough)."""
    where = f"records of {prediction.object} where {prediction.training}"
    if total < prediction.min_examples:
        return (
            f"{prediction.name} needs at least {prediction.min_examples} training examples "
            f"({where}); there are {total}"
        )
    negatives = total - positives
    if min(positives, negatives) < prediction.min_per_class:
        return (
            f"{prediction.name} needs at least {prediction.min_per_class} examples of each "
            f"outcome; {positives} where {prediction.target} and {negatives} where not"
        )
    return None


def _insert_run(conn: sa.Connection, run: TrainingRun, user: User) -> None:
    values = {n: getattr(run, n) for n in run.__dataclass_fields__}
    conn.execute(prediction_runs.insert().values({**values, "user_id": user.id}))


def _store_model(conn, prediction: Prediction, run: TrainingRun, fitted: dict) -> None:
    conn.execute(
        prediction_models.delete().where(prediction_models.c.prediction == prediction.name)
    )
    conn.execute(
        prediction_models.insert().values(
            prediction=prediction.name,
            run_id=run.id,
            object=prediction.object,
            model=fitted,
            trained_at=run.finished_at,
        )
    )


def _with_scored(org: Org, run: TrainingRun, scored: int, written: int) -> TrainingRun:
    quality = {**run.quality, "scored": scored, "written": written}
    with org.db.write() as conn:
        conn.execute(
            prediction_runs.update().where(prediction_runs.c.id == run.id).values(quality=quality)
        )
    return TrainingRun(**{**run.__dict__, "quality": quality})


def runs_of(conn: sa.Connection, name: str, limit: int = 10) -> list[TrainingRun]:
    """The latest training runs of a prediction, newest first."""
    t = prediction_runs.c
    query = (
        sa.select(prediction_runs)
        .where(t.prediction == name)
        .order_by(t.started_at.desc(), t.id.desc())
        .limit(limit)
    )
    fields = TrainingRun.__dataclass_fields__
    return [TrainingRun(**{k: row[k] for k in fields}) for row in conn.execute(query).mappings()]
