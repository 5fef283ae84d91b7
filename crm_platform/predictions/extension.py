"""The predictions extension: joins predictions to an org (see ``runtime.extensions``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crm_platform.metadata import KindRegistry
from crm_platform.runtime.model import ModelCompiler

from .kind import PredictionKind

if TYPE_CHECKING:
    from crm_platform.runtime import Org


@dataclass(frozen=True)
class PredictionsExtension:
    """The ``prediction`` kind and its scheduled retraining (a job of the automation
    engine, so it must be attached after the workflow extension)."""

    name: str = "predictions"

    def register(self, registry: KindRegistry, compiler: ModelCompiler) -> None:
        PredictionKind().register(registry, compiler)

    def attach(self, org: Org) -> None:
        from crm_platform.workflow import automation_of

        from .schedule import TrainJob

        automation_of(org).add_job(TrainJob())
