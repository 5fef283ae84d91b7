"""Reading a pack folder: ``pack.yaml``, one folder per kind (found through the kind
registry by its plural, so a kind added by any layer is a folder packs can carry), and
``data/`` (reference records) and ``sample/`` (demo records) in YAML or CSV.

Records may carry a local key (``_key``) and refer to each other in a lookup by it
(``account: {_key: acme}``) or by an external id of the target (``account: {code: ACME}``);
in CSV a column ``account._key`` or ``account.code`` says the same. A record may name its
owner by email (``owner_id: {email: rep@example.com}``, ``owner_id.email`` in CSV); when no
such active user exists the install's default owner owns it.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from crm_platform.metadata import KindRegistry
from crm_platform.yamlio import yaml_documents

from .manifest import Manifest, manifest_problems, parse_manifest
from .problems import PackInvalid, PackProblem, Source, node_line

MANIFEST = "pack.yaml"
DATA, SAMPLE = "data", "sample"
KEY = "_key"
YAML_SUFFIXES = (".yaml", ".yml")
IGNORED = {"README.md", "README", "LICENSE", "CHANGELOG.md"}


@dataclass(frozen=True)
class PackDefinition:
    """One definition of a pack: its kind, its definition and where it was read."""

    kind: str
    definition: Mapping[str, Any]
    source: Source
    node: Any = None  # the YAML node, for the line of a problem inside it


@dataclass(frozen=True)
class PackRecord:
    """One record of ``data/`` or ``sample/``: its object, values, local key and source."""

    object: str
    values: Mapping[str, Any]
    key: str | None
    source: Source
    sample: bool = False


@dataclass(frozen=True)
class Pack:
    """A pack read from a folder (not yet validated against the kinds' checks)."""

    root: Path
    manifest: Manifest
    definitions: tuple[PackDefinition, ...]
    records: tuple[PackRecord, ...]
    checksum: str  # of every file read: a changed pack folder has another

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version_text


def read_pack(root: Path, registry: KindRegistry) -> tuple[Pack | None, list[PackProblem]]:
    """The pack in ``root`` and the problems found reading it (the pack is None when its
    manifest is unusable)."""
    problems: list[PackProblem] = []
    digest = hashlib.sha256()
    if not root.is_dir():
        return None, [PackProblem(Source(str(root)), "not a folder")]
    manifest = _read_manifest(root, problems, digest)
    definitions: list[PackDefinition] = []
    records: list[PackRecord] = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.name in IGNORED or entry.name == MANIFEST:
            continue
        if not entry.is_dir():
            if entry.suffix in YAML_SUFFIXES:
                problems.append(
                    PackProblem(
                        Source(entry.name),
                        "definitions go in a folder per kind (objects/, permission_sets/ ...)",
                    )
                )
            continue
        if entry.name in (DATA, SAMPLE):
            records.extend(_read_records(root, entry, entry.name == SAMPLE, problems, digest))
            continue
        kind = registry.kind_for_plural(entry.name)
        if kind is None or kind.name == "field":
            known = sorted(k.plural for k in registry.kinds.values() if k.name != "field")
            why = " (fields go inside their object's definition)" if kind else ""
            problems.append(
                PackProblem(
                    Source(entry.name + "/"),
                    f"unknown kind folder '{entry.name}'{why}; known: "
                    + ", ".join([*known, DATA, SAMPLE]),
                )
            )
            continue
        definitions.extend(_read_definitions(root, entry, kind.name, problems, digest))
    if manifest is None:
        return None, problems
    pack = Pack(root, manifest, tuple(definitions), tuple(records), digest.hexdigest())
    return pack, problems


def load_pack(root: Path, registry: KindRegistry) -> Pack:
    """The pack in ``root``; :class:`PackInvalid` naming every problem reading it."""
    pack, problems = read_pack(root, registry)
    if problems or pack is None:
        raise PackInvalid(root.name, problems)
    return pack


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _read_text(path: Path, digest: Any) -> str:
    data = path.read_bytes()
    digest.update(path.name.encode() + b"\0" + data)
    return data.decode("utf-8-sig")


def _read_manifest(root: Path, problems: list[PackProblem], digest: Any) -> Manifest | None:
    path = root / MANIFEST
    if not path.is_file():
        problems.append(PackProblem(Source(MANIFEST), "missing: a pack needs a pack.yaml"))
        return None
    documents = _yaml(path, root, problems, digest)
    if documents is None:
        return None
    if len(documents) != 1:
        problems.append(PackProblem(Source(MANIFEST), "must hold exactly one YAML document"))
        return None
    raw, node = documents[0]
    found = manifest_problems(raw)
    for key, message in found:
        problems.append(PackProblem(Source(MANIFEST, node_line(node, key)), message))
    return None if found else parse_manifest(raw)


def _yaml(path: Path, root: Path, problems: list[PackProblem], digest: Any):
    try:
        return yaml_documents(_read_text(path, digest))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        problems.append(PackProblem(Source(_relative(root, path), line), f"bad YAML: {reason}"))
    except UnicodeDecodeError:
        problems.append(PackProblem(Source(_relative(root, path)), "not UTF-8 text"))
    return None


def _files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in suffixes)


def _read_definitions(
    root: Path, folder: Path, kind: str, problems: list[PackProblem], digest: Any
) -> list[PackDefinition]:
    out = []
    for path in _files(folder, YAML_SUFFIXES):
        documents = _yaml(path, root, problems, digest)
        for raw, node in documents or ():
            source = Source(_relative(root, path), node.start_mark.line + 1)
            if not isinstance(raw, dict):
                problems.append(PackProblem(source, "a definition must be a mapping"))
                continue
            raw = dict(raw)
            declared = raw.pop("kind", kind)
            if declared != kind:
                problems.append(
                    PackProblem(source, f"a '{declared}' definition in the {folder.name}/ folder")
                )
                continue
            out.append(PackDefinition(kind, raw, source, node))
    return out


def _read_records(
    root: Path, folder: Path, sample: bool, problems: list[PackProblem], digest: Any
) -> list[PackRecord]:
    out: list[PackRecord] = []
    for path in _files(folder, (*YAML_SUFFIXES, ".csv")):
        relative = _relative(root, path)
        object_name = path.stem
        if path.suffix == ".csv":
            rows = _csv_rows(_read_text(path, digest))
        else:
            documents = _yaml(path, root, problems, digest)
            if documents is None:
                continue
            rows = []
            for raw, node in documents:
                if not isinstance(raw, list):
                    problems.append(
                        PackProblem(
                            Source(relative, node.start_mark.line + 1),
                            "a record file holds a list of records",
                        )
                    )
                    continue
                rows.extend(
                    (item, sub.start_mark.line + 1)
                    for item, sub in zip(raw, node.value, strict=True)
                )
        for values, line in rows:
            source = Source(relative, line)
            if not isinstance(values, dict):
                problems.append(PackProblem(source, "a record must be a mapping of field values"))
                continue
            values = dict(values)
            key = values.pop(KEY, None)
            out.append(
                PackRecord(object_name, values, None if key is None else str(key), source, sample)
            )
    return out


def _csv_rows(text: str) -> list[tuple[dict[str, Any], int]]:
    """Rows of a CSV file as nested values (``account._key`` -> ``{account: {_key: ..}}``);
    empty cells are left out, so defaults apply."""
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    for row in reader:
        values: dict[str, Any] = {}
        for header, cell in row.items():
            if header is None or cell is None or cell == "":
                continue
            name, _, sub = header.strip().partition(".")
            if sub:
                values.setdefault(name, {})[sub] = cell
            else:
                values[name] = cell
        rows.append((values, reader.line_num))
    return rows
