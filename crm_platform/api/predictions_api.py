"""``/predictions``: the org's predictions, the quality of one, and training on demand.

A prediction is listed to those who may read its score field on its object (the one
field-access decision, ``UserAccess.readable_fields``): the score is visible only where
the target object is. The report holds aggregate figures only (counts, AUC, Brier
score, the reliability table). Training needs ``customize_application``; it runs in
the request (its run, its model and the scoring batches are transactions of their own).
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from flask import Blueprint, Response, jsonify, request

from crm_platform.core import NotFound, ValidationFailed
from crm_platform.metadata import KindRegistry, resolve_label
from crm_platform.predictions import Prediction, predictions_of, train_now
from crm_platform.predictions.report import prediction_report, prediction_summary
from crm_platform.runtime import OrgModel

from .auth import current_access, current_org, current_user, request_reading, require_admin
from .languages import label_chooser
from .openapi import JSON, error_responses, ref

bp = Blueprint("predictions_api", __name__, url_prefix="/predictions")


def _visible(model: OrgModel) -> dict[str, Prediction]:
    """The predictions whose score the caller may read."""
    access = current_access()
    return {
        name: p
        for name, p in predictions_of(model).predictions.items()
        if p.score_field in access.readable_fields(p.object)
    }


def _labelled(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "label": resolve_label(body["label"], label_chooser())}


@bp.get("")
def list_predictions() -> Response:
    """The predictions whose score the caller may read."""
    _conn, model = request_reading()
    found = [_labelled(prediction_summary(p)) for p in _visible(model).values()]
    return jsonify({"predictions": found})


@bp.get("/<name>")
def show_prediction(name: str) -> Response:
    """One prediction and its quality on held-out records (404 unless the caller may read
    its score)."""
    conn, model = request_reading()
    prediction = _visible(model).get(name)
    if prediction is None:
        raise NotFound(f"no prediction '{name}'")
    return jsonify(_labelled(prediction_report(conn, prediction)))


@bp.post("/<name>/train")
@require_admin
def train_prediction(name: str) -> Response:
    """Train now, report its quality and rescore the open records (409 on too thin a
    history, with the reason)."""
    if request.get_data() not in (b"", b"{}"):
        raise ValidationFailed({"(body)": "training takes no options: send no body"})
    run = train_now(current_org(), name, current_user())
    return jsonify(run.as_json())


# --- its documentation --------------------------------------------------------------

_TEXT = {"type": "string"}
_NUMBER_OR_NULL = {"type": ["number", "null"]}
_TIME = {"type": ["string", "null"], "format": "date-time"}
SUMMARY: dict[str, Any] = {
    "type": "object",
    "required": ["name", "label", "object", "score_field", "factors_field", "retrain_every_days"],
    "properties": {
        "name": _TEXT,
        "label": _TEXT,
        "object": _TEXT,
        "score_field": {**_TEXT, "description": "The field of `object` the score is written to."},
        "factors_field": {
            "type": ["string", "null"],
            "description": "The field the top three factors are written to, separated by `; `.",
        },
        "retrain_every_days": {"type": "integer", "description": "0: only when asked."},
    },
}
QUALITY: dict[str, Any] = {
    "type": "object",
    "description": "Figures on the held-out quarter of the examples (a trained run), and "
    "the records scored.",
    "properties": {
        "held_out": {"type": "integer"},
        "auc": {"type": "number", "description": "Area under the ROC curve (0.5: chance)."},
        "brier": {"type": "number", "description": "Mean squared error of the probabilities."},
        "base_rate": {"type": "number", "description": "The share of positive examples."},
        "reliability": {
            "type": "array",
            "description": "Per band of predicted probability: the records in it, their "
            "mean prediction and the share observed positive.",
            "items": {
                "type": "object",
                "required": ["band", "records", "predicted", "observed"],
                "properties": {
                    "band": _TEXT,
                    "records": {"type": "integer"},
                    "predicted": _NUMBER_OR_NULL,
                    "observed": _NUMBER_OR_NULL,
                },
            },
        },
        "scored": {"type": "integer"},
        "written": {"type": "integer"},
    },
}
RUN: dict[str, Any] = {
    "type": "object",
    "required": ["id", "prediction", "status", "reason", "examples", "positives", "quality"],
    "properties": {
        "id": _TEXT,
        "prediction": _TEXT,
        "status": {"enum": ["trained", "refused", "failed"]},
        "reason": {"enum": ["asked", "schedule"]},
        "started_at": _TIME,
        "finished_at": _TIME,
        "examples": {"type": "integer"},
        "positives": {"type": "integer"},
        "quality": QUALITY,
        "message": {"type": ["string", "null"], "description": "Why training was refused."},
    },
}
REPORT: dict[str, Any] = {
    "allOf": [ref("PredictionSummary")],
    "type": "object",
    "properties": {
        "features": {"type": "array", "items": _TEXT},
        "training": _TEXT,
        "target": _TEXT,
        "scoring": _TEXT,
        "min_examples": {"type": "integer"},
        "min_per_class": {"type": "integer"},
        "trained_at": _TIME,
        "next_training_at": _TIME,
        "quality": {"oneOf": [ref("PredictionRun"), {"type": "null"}]},
        "last_run": {"oneOf": [ref("PredictionRun"), {"type": "null"}]},
    },
}


def _json(description: str, schema: Any) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``/predictions``, ``/predictions/{name}`` and ``/predictions/{name}/train``."""
    del model, registry  # the same for every model
    spec.tag({"name": "predictions", "description": "Scores trained on the org's history."})
    spec.components.schema("PredictionSummary", SUMMARY)
    spec.components.schema("PredictionRun", RUN)
    spec.components.schema("PredictionReport", REPORT)
    name = {"name": "name", "in": "path", "required": True, "schema": _TEXT}
    listing = {"type": "array", "items": ref("PredictionSummary")}
    spec.path(
        "/predictions",
        operations={
            "get": {
                "operationId": "predictions_list",
                "summary": "The predictions whose score field the caller may read",
                "tags": ["predictions"],
                "responses": {
                    "200": _json(
                        "The predictions",
                        {
                            "type": "object",
                            "required": ["predictions"],
                            "properties": {"predictions": listing},
                        },
                    ),
                    **error_responses("Unauthorized"),
                },
            }
        },
    )
    spec.path(
        "/predictions/{name}",
        parameters=[name],
        operations={
            "get": {
                "operationId": "predictions_show",
                "summary": "A prediction and its quality on held-out records",
                "description": "Aggregate figures only. 404 unless the caller may read the "
                "score field.",
                "tags": ["predictions"],
                "responses": {
                    "200": _json("The prediction's report", ref("PredictionReport")),
                    **error_responses("Unauthorized", "NotFound"),
                },
            }
        },
    )
    spec.path(
        "/predictions/{name}/train",
        parameters=[name],
        operations={
            "post": {
                "operationId": "predictions_train",
                "summary": "Train a prediction now and rescore its open records",
                "description": "Needs `customize_application`. 409 when the history has "
                "too few examples (or too few of one outcome); the refused run is kept.",
                "tags": ["predictions"],
                "responses": {
                    "200": _json("The training run", ref("PredictionRun")),
                    **error_responses("BadRequest", "Unauthorized", "NotFound", "Conflict"),
                },
            }
        },
    )
