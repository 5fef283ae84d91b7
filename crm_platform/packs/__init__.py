"""The pack engine: read, validate, plan and install packs of metadata and records.

A pack is a folder: ``pack.yaml``, one folder per metadata kind (found through the kind
registry, so every kind any layer registers can travel in a pack), ``data/`` and
``sample/`` records. Depends on metadata and the runtime; the CLI and API sit on top.
"""

from .catalog import Catalog, DependencyError, pack_folders, resolve, shipped_root
from .install import InstallResult, install, plan
from .loader import Pack, PackDefinition, PackRecord, load_pack, read_pack
from .manifest import Manifest, parse_range, parse_version
from .plan import Plan, PlanItem
from .problems import PackInvalid, PackProblem, Source
from .state import InstalledPack, read_components, read_installed
from .validate import validate_pack

__all__ = [
    "Catalog",
    "DependencyError",
    "InstallResult",
    "InstalledPack",
    "Manifest",
    "Pack",
    "PackDefinition",
    "PackInvalid",
    "PackProblem",
    "PackRecord",
    "Plan",
    "PlanItem",
    "Source",
    "install",
    "load_pack",
    "pack_folders",
    "parse_range",
    "parse_version",
    "plan",
    "read_components",
    "read_installed",
    "read_pack",
    "resolve",
    "shipped_root",
    "validate_pack",
]
