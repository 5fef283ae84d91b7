"""Predictions (issue 18): models trained on an org's own history — "will this deal be
won", "will this subscription churn" — scoring open records into ordinary fields.

Other layers may import what this module exports.
"""

from .definition import Prediction
from .extension import PredictionsExtension
from .kind import predictions_of
from .schedule import train_now
from .scoring import ScoringResult, score_records
from .training import TooFewExamples, TrainingRun, prediction_named, runs_of

__all__ = [
    "Prediction",
    "PredictionsExtension",
    "ScoringResult",
    "TooFewExamples",
    "TrainingRun",
    "prediction_named",
    "predictions_of",
    "runs_of",
    "score_records",
    "train_now",
]
