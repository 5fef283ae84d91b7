"""The ``prediction`` kind: its JSON Schema, save-time checks, field paths and compiled
part (``predictions/<api_name>.yaml``, ``/api/v1/metadata/predictions``).

A definition is checked when saved, each problem named by its path: the object exists,
``training``, ``target`` and ``scoring`` are boolean expressions over it, every feature
is an expression of a type a model can read (a number, a boolean, a text or picklist
value, a date), the score field is a percent or number field and the factors field a
text field of the object, and no feature reads the fields the prediction writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from crm_platform.expressions import ExpressionError, ValueType, check, parse
from crm_platform.metadata import CandidateModel, Kind, KindRegistry, Problem, Snapshot
from crm_platform.runtime.checks import ExpressionChecks
from crm_platform.runtime.model import ModelCompiler, OrgModel

from .definition import MAX_FEATURES, Prediction, read_prediction

KIND = "prediction"
PLURAL = "predictions"
EXTENSION = "predictions"
T = ValueType
FEATURE_TYPES = frozenset({T.NUMBER, T.BOOLEAN, T.TEXT, T.DATE, T.DATETIME})
SCORE_TYPES = frozenset({"percent", "decimal"})
FACTOR_TYPES = frozenset({"text", "long_text"})
_EXPRESSION = {"type": "string", "minLength": 1, "maxLength": 10_000}
_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 60}

SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "crm:prediction",
    "title": KIND,
    "description": "A prediction: a model trained on the records of one object whose outcome "
    "is known, scoring the open ones into one of the object's fields.",
    "type": "object",
    "required": ["api_name", "object", "training", "target", "scoring", "features", "score_field"],
    "additionalProperties": False,
    "properties": {
        "api_name": {"type": "string"},
        "label": {"$ref": "crm:label"},
        "description": {"type": "string", "maxLength": 1000},
        "object": {"type": "string"},
        "training": _EXPRESSION,
        "target": _EXPRESSION,
        "scoring": _EXPRESSION,
        "features": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_FEATURES,
            "uniqueItems": True,
            "items": {"type": "string", "minLength": 1, "maxLength": 2000},
        },
        "score_field": _NAME,
        "factors_field": _NAME,
        "retrain_every_days": {"type": "integer", "minimum": 0, "maximum": 366},
        "min_examples": {"type": "integer", "minimum": 10, "maximum": 1_000_000},
        "min_per_class": {"type": "integer", "minimum": 5, "maximum": 1_000_000},
    },
}


class PredictionChecks:
    """The checks of one prediction definition against the candidate model."""

    def __init__(self, compiler: ModelCompiler) -> None:
        self.expressions = ExpressionChecks(compiler)

    def __call__(self, model: CandidateModel, definition: Mapping[str, Any]) -> Iterator[Problem]:
        obj = model.object(definition["object"])
        if obj is None:
            yield ("object", f"no object '{definition['object']}'")
            return
        prediction = read_prediction(definition)
        fields = {f["api_name"]: f for f in obj["fields"]}
        yield from _field_problems(prediction, fields)
        scope = self.expressions.scope(model, prediction.object).scope
        for where in ("training", "target", "scoring"):
            yield from _expression_problems(scope, getattr(prediction, where), {T.BOOLEAN}, where)
        written = {prediction.score_field, prediction.factors_field}
        for index, feature in enumerate(prediction.features):
            where = f"features[{index}]"
            problems = list(_expression_problems(scope, feature, FEATURE_TYPES, where))
            yield from problems
            if not problems and written & {p[0] for p in parse(feature).field_paths}:
                yield (where, "a feature cannot read the fields the prediction writes")


def _field_problems(prediction: Prediction, fields: Mapping[str, Any]) -> Iterator[Problem]:
    score = fields.get(prediction.score_field)
    if score is None or score["type"] not in SCORE_TYPES:
        yield ("score_field", f"a percent or decimal field of {prediction.object}")
    if prediction.factors_field is not None:
        factors = fields.get(prediction.factors_field)
        if factors is None or factors["type"] not in FACTOR_TYPES:
            yield ("factors_field", f"a text or long text field of {prediction.object}")
    if prediction.factors_field == prediction.score_field:
        yield ("factors_field", "another field than score_field")


def _expression_problems(
    scope: Any, source: str, allowed: frozenset[ValueType] | set[ValueType], where: str
) -> Iterator[Problem]:
    try:
        checked = check(parse(source), scope, None)
    except ExpressionError as exc:
        yield (where, exc.detail)
        return
    if checked.value_type not in allowed:
        kinds = ", ".join(sorted(t.label for t in allowed))
        yield (where, f"must be {kinds}: '{source}' is {checked.value_type.label}")


def prediction_paths(definition: Mapping[str, Any]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(object, path) of every field a prediction reads or writes."""
    start = definition["object"]
    for name in ("score_field", "factors_field"):
        if definition.get(name):
            yield (start, (definition[name],))
    sources = [definition.get(k) for k in ("training", "target", "scoring")]
    for source in [*sources, *(definition.get("features") or ())]:
        try:
            paths = parse(source).field_paths if source else ()
        except ExpressionError:
            continue
        for path in paths:
            yield (start, tuple(path))


# --- the compiled part ------------------------------------------------------------------


@dataclass(frozen=True)
class PredictionsModel:
    """The predictions of one metadata version (``model.extensions['predictions']``)."""

    predictions: Mapping[str, Prediction]


def compile_predictions(snapshot: Snapshot, model: OrgModel) -> PredictionsModel:
    """Every prediction whose object exists, read."""
    found = {
        comp.name: read_prediction(comp.definition)
        for comp in snapshot.of_kind(KIND)
        if model.object(comp.definition["object"]) is not None
    }
    return PredictionsModel(MappingProxyType(found))


def predictions_of(model: OrgModel) -> PredictionsModel:
    """The compiled predictions of a model (none when the extension is not attached)."""
    return model.extensions.get(EXTENSION) or PredictionsModel(MappingProxyType({}))


@dataclass(frozen=True)
class PredictionKind:
    """Registers the kind, its checks, references, paths, renamer and compiled part."""

    def register(self, registry: KindRegistry, compiler: ModelCompiler) -> None:
        registry.register_kind(Kind(KIND, PLURAL, SCHEMA))
        registry.add_validator(KIND, PredictionChecks(compiler))
        registry.add_references(KIND, lambda d: [("object", d["object"])])
        registry.add_paths(KIND, prediction_paths)
        from .renames import rename_prediction

        registry.add_renamer(KIND, rename_prediction)
        compiler.add_extension(EXTENSION, compile_predictions)
