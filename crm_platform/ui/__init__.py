"""The end-user app's metadata: the ``layout``, ``list_view`` and ``app`` kinds, their
save-time checks, renames and compiled view (``ui_model(model)``), and the layout and
list view an object gets when none is defined (ADR 0033).

An extension of its own (``UIExtension``), not part of ``web``: the CLI and the metadata
API validate and apply these kinds without the web pages being loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crm_platform.metadata import Kind, KindRegistry
from crm_platform.runtime.checks import ExpressionChecks
from crm_platform.runtime.model import ModelCompiler
from crm_platform.runtime.records.events import RecordEvent

from .checks import UIChecks
from .file_events import FileEvents
from .file_storage import FileStorage, LocalFileStorage
from .renames import (
    app_references,
    layout_paths,
    list_view_paths,
    rename_app,
    rename_layout,
    rename_list_view,
)
from .rules import enforce_required_if
from .schemas import APP_SCHEMA, LAYOUT_SCHEMA, LIST_VIEW_SCHEMA
from .shapes import (
    EXTENSION,
    HOME,
    App,
    Layout,
    ListView,
    PlacedField,
    RelatedList,
    Section,
    UIModel,
    compile_ui,
    default_layout,
    default_list_view,
    layout_for,
    list_views_for,
    ui_model,
)

if TYPE_CHECKING:
    from crm_platform.runtime import Org

__all__ = [
    "HOME",
    "App",
    "Layout",
    "ListView",
    "PlacedField",
    "RelatedList",
    "Section",
    "UIExtension",
    "UIModel",
    "default_layout",
    "default_list_view",
    "files_of",
    "layout_for",
    "list_views_for",
    "ui_model",
]


FILES_SERVICE = "files"


@dataclass(frozen=True)
class UIExtension:
    """Registers the UI kinds and compiles them with every metadata version."""

    name: str = EXTENSION

    def register(self, registry: KindRegistry, compiler: ModelCompiler) -> None:
        checks = UIChecks(ExpressionChecks(compiler))
        registry.register_kind(Kind("layout", "layouts", LAYOUT_SCHEMA, per_object=True))
        registry.register_kind(Kind("list_view", "list_views", LIST_VIEW_SCHEMA, per_object=True))
        registry.register_kind(Kind("app", "apps", APP_SCHEMA))
        registry.add_validator("layout", checks.layout)
        registry.add_validator("list_view", checks.list_view)
        registry.add_validator("app", checks.app)
        for kind in ("layout", "list_view"):
            registry.add_references(kind, lambda d: [("object", d["object"])])
        registry.add_references("app", app_references)
        registry.add_paths("layout", layout_paths)
        registry.add_paths("list_view", list_view_paths)
        registry.add_renamer("layout", rename_layout)
        registry.add_renamer("list_view", rename_list_view)
        registry.add_renamer("app", rename_app)
        compiler.add_extension(EXTENSION, compile_ui)

    def attach(self, org: Org) -> None:
        """``required_if`` is enforced before every save, on every path (after automation's
        before-save field updates, whose extension attaches first)."""
        org.records.events.on(
            (RecordEvent.BEFORE_CREATE, RecordEvent.BEFORE_UPDATE),
            enforce_required_if,
            name="layout_required_if",
        )
        org.services[FILES_SERVICE] = LocalFileStorage(org.settings.instance_path / "files")
        FileEvents(lambda: files_of(org)).register(org.records.events)


def files_of(org: Org) -> FileStorage:
    """The org's file storage (a folder under the instance path unless replaced)."""
    return org.services[FILES_SERVICE]
