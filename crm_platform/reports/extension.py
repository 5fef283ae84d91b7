"""The reports extension: joins reports to an org (see ``runtime.extensions``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crm_platform.metadata import KindRegistry
from crm_platform.runtime.model import ModelCompiler

from .dashboard_kind import register_dashboard_kind
from .report_kind import ReportKind

if TYPE_CHECKING:
    from crm_platform.runtime import Org


@dataclass(frozen=True)
class ReportsExtension:
    """The ``report`` kind (and, beside it, the ``dashboard`` kind): checks, renames and
    the compiled part of each metadata version. Reports run on demand, as their reader:
    nothing attaches to record events."""

    name: str = "reports"

    def register(self, registry: KindRegistry, compiler: ModelCompiler) -> None:
        ReportKind().register(registry, compiler)
        register_dashboard_kind(registry, compiler)

    def attach(self, org: Org) -> None:
        del org  # nothing runs in the background
