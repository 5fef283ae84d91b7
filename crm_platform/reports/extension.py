"""The reports extension: joins reports to an org (see ``runtime.extensions``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from crm_platform.metadata import KindRegistry
from crm_platform.runtime.model import ModelCompiler

from .report_kind import ReportKind

if TYPE_CHECKING:
    from crm_platform.runtime import Org


class ReportsKind(Protocol):
    """One of the kinds of this package (reports, dashboards)."""

    def register(self, registry: KindRegistry, compiler: ModelCompiler) -> None: ...


def reports_kinds() -> Sequence[ReportsKind]:
    """The kinds the extension registers (dashboards name reports: reports first)."""
    return (ReportKind(),)


@dataclass(frozen=True)
class ReportsExtension:
    """The ``report`` kind (and, beside it, the ``dashboard`` kind): checks, renames and
    the compiled part of each metadata version. Reports run on demand, as their reader:
    nothing attaches to record events."""

    name: str = "reports"

    def register(self, registry: KindRegistry, compiler: ModelCompiler) -> None:
        for kind in reports_kinds():
            kind.register(registry, compiler)

    def attach(self, org: Org) -> None:
        del org  # nothing runs in the background
