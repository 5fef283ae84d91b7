"""Which layers an org is opened with: the one place that names them all.

The runtime knows no layer above it (DESIGN §1); the application, the CLI and the
tests open orgs here, with automation (and, as they land, reports and packs) attached.
"""

from __future__ import annotations

from .collab import CollabExtension
from .core import Settings
from .dedupe import DedupeExtension
from .imports.background import ImportsExtension
from .mailin import MailInExtension
from .portal import PortalExtension
from .predictions import PredictionsExtension
from .reports.extension import ReportsExtension
from .runtime import Org
from .runtime.extensions import Extension
from .ui import UIExtension
from .webforms import WebFormsExtension
from .workflow import WorkflowExtension


def default_extensions(settings: Settings) -> tuple[Extension, ...]:
    """The extensions every org of this platform gets (with the deployment's settings)."""
    return (
        WorkflowExtension(settings=settings),
        ReportsExtension(),
        PredictionsExtension(),  # after workflow: its retraining is an automation job
        UIExtension(),
        WebFormsExtension(),
        ImportsExtension(),
        PortalExtension(),
        CollabExtension(),
        MailInExtension(),
        DedupeExtension(),
    )


def open_org(settings: Settings) -> Org:
    """Open an org with the platform's extensions attached (nothing is created)."""
    return Org.open(settings, extensions=default_extensions(settings))
