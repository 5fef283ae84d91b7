"""Finding packs by name (shipped in the wheel, or beside the pack being installed) and
resolving a pack's dependencies into an install order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from packaging.version import Version

from crm_platform import __version__ as PLATFORM_VERSION
from crm_platform.core import CrmError
from crm_platform.metadata import KindRegistry

from .loader import MANIFEST, Pack, load_pack
from .manifest import satisfies


class DependencyError(CrmError):
    """A pack cannot be installed as asked: a dependency is missing or conflicts."""

    status = 409
    title = "Conflict"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems), extra={"problems": list(self.problems)})


def shipped_root() -> Path:
    """The folder of the packs shipped inside the installed package."""
    return Path(str(resources.files("crm_platform.packs").joinpath("shipped")))


def pack_folders(root: Path) -> dict[str, Path]:
    """The pack folders directly under ``root``, by the name their manifest gives."""
    found: dict[str, Path] = {}
    if not root.is_dir():
        return found
    for folder in sorted(root.iterdir()):
        manifest = folder / MANIFEST
        if not manifest.is_file():
            continue
        try:
            raw = yaml.safe_load(manifest.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            raw = None
        name = raw.get("name") if isinstance(raw, dict) else None
        found.setdefault(name if isinstance(name, str) else folder.name, folder)
    return found


@dataclass(frozen=True)
class ShippedPack:
    """What a shipped pack's manifest says of it, for listings."""

    name: str
    version: str
    label: object  # a label: a string or ``{en: …, zh: …}``
    description: str

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "label": self.label,
            "description": self.description,
        }


def shipped_packs() -> list[ShippedPack]:
    """Every pack shipped inside the installed package, by name."""
    out = []
    for name, folder in pack_folders(shipped_root()).items():
        manifest = yaml.safe_load((folder / MANIFEST).read_text(encoding="utf-8")) or {}
        out.append(
            ShippedPack(
                name,
                str(manifest.get("version")),
                manifest.get("label"),
                manifest.get("description", ""),
            )
        )
    return out


@dataclass
class Catalog:
    """Where packs are looked for by name: folders given first, then the shipped packs."""

    registry: KindRegistry
    search: tuple[Path, ...] = ()

    def folders(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for root in (*self.search, shipped_root()):
            for name, folder in pack_folders(root).items():
                found.setdefault(name, folder)
        return found

    def find(self, name: str) -> Pack | None:
        folder = self.folders().get(name)
        return None if folder is None else load_pack(folder, self.registry)

    def open(self, name_or_path: str | Path) -> Pack:
        """A pack by its folder or by name; a pack opened by folder adds the folder's
        parent to the places its dependencies are looked for."""
        path = Path(name_or_path)
        if path.is_dir():
            self.search = (path.resolve().parent, *self.search)
            return load_pack(path, self.registry)
        pack = self.find(str(name_or_path))
        if pack is None:
            known = ", ".join(sorted(self.folders())) or "none"
            raise CrmError(f"no pack '{name_or_path}' (packs found: {known})")
        return pack


def check_platform(pack: Pack) -> str | None:
    spec = pack.manifest.platform
    if spec is not None and not satisfies(Version(PLATFORM_VERSION), spec):
        return f"{pack.name} {pack.version} needs platform {spec}; this is {PLATFORM_VERSION}"
    return None


def resolve(pack: Pack, catalog: Catalog, installed: Mapping[str, str]) -> list[Pack]:
    """``pack`` and the dependencies it needs that are not installed, dependencies first.

    ``installed`` maps an installed pack's name to its version. A missing dependency, a
    version outside a range, a platform outside the pack's range or a cycle raises
    :class:`DependencyError` naming each.
    """
    order: list[Pack] = []
    chosen: dict[str, Pack] = {}
    problems: list[str] = []
    requirements: list[tuple[str, str, object]] = []  # (who, dependency, range)

    def visit(current: Pack, path: tuple[str, ...]) -> None:
        if problem := check_platform(current):
            problems.append(problem)
        for name, spec in current.manifest.depends.items():
            requirements.append((f"{current.name} {current.version}", name, spec))
            if name in path:
                problems.append(f"dependency cycle: {' -> '.join([*path, name])}")
                continue
            if name in installed or name in chosen:
                continue
            found = catalog.find(name)
            if found is None:
                problems.append(
                    f"{current.name} needs {name} {spec}, which is neither installed nor found"
                )
                continue
            chosen[name] = found
            visit(found, (*path, name))
            order.append(found)

    chosen[pack.name] = pack
    visit(pack, (pack.name,))
    order.append(pack)
    for who, name, spec in requirements:
        version = installed.get(name) or (chosen[name].version if name in chosen else None)
        if version is not None and not satisfies(Version(version), spec):  # type: ignore[arg-type]
            state = "installed" if name in installed else "available"
            problems.append(f"{who} needs {name} {spec}, but {version} is {state}")
    if problems:
        raise DependencyError(list(dict.fromkeys(problems)))
    return order
