"""Extensions: how the layers above the runtime (automation, reports, packs) join an org.

The runtime never imports what builds on it (DESIGN §1). An extension is handed the
org's kind registry and model compiler when the org opens — to register its kinds,
their validators and the part of the compiled model it keeps per metadata version —
and then the org itself, to attach record-event handlers and background work. The
application and the CLI choose which extensions an org gets (``crm_platform.assembly``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from crm_platform.metadata import KindRegistry

from .model import ModelCompiler

if TYPE_CHECKING:
    from .org import Org


class Extension(Protocol):
    """A layer that joins an org: registers kinds, then attaches to the opened org."""

    name: str

    def register(self, registry: KindRegistry, compiler: ModelCompiler) -> None:
        """Add kinds, validators and compiled-model parts (once per registry)."""

    def attach(self, org: Org) -> None:
        """Attach record-event handlers and background work to an opened org."""
