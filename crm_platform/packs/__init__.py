"""The pack engine: read, validate, plan and install packs of metadata and records.

Install, plan, upgrade (a three-way merge), uninstall and export are here too.
A pack is a folder: ``pack.yaml``, one folder per metadata kind (found through the kind
registry, so every kind any layer registers can travel in a pack), ``data/`` and
``sample/`` records. Depends on metadata and the runtime; the CLI and API sit on top.
"""

from .catalog import (
    Catalog,
    DependencyError,
    ShippedPack,
    pack_folders,
    resolve,
    shipped_packs,
    shipped_root,
)
from .export import (
    changed_since_install,
    export_changed,
    export_included,
    export_pack,
    parse_include,
)
from .install import InstallResult, install, plan
from .loader import Pack, PackDefinition, PackRecord, load_pack, read_pack
from .manifest import Manifest, parse_range, parse_version
from .plan import Plan, PlanItem
from .problems import PackInvalid, PackProblem, Source
from .state import InstalledPack, read_components, read_installed
from .uninstall import UninstallResult, uninstall
from .upgrade import UpgradePlan, UpgradeResult, plan_upgrade, upgrade
from .validate import validate_folder, validate_pack

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
    "ShippedPack",
    "Source",
    "UninstallResult",
    "UpgradePlan",
    "UpgradeResult",
    "changed_since_install",
    "export_changed",
    "export_included",
    "export_pack",
    "install",
    "load_pack",
    "pack_folders",
    "parse_include",
    "parse_range",
    "parse_version",
    "plan",
    "plan_upgrade",
    "read_components",
    "read_installed",
    "read_pack",
    "resolve",
    "shipped_packs",
    "shipped_root",
    "uninstall",
    "upgrade",
    "validate_folder",
    "validate_pack",
]
