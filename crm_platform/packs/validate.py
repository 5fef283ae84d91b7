"""Validating a pack: every problem, each named by its file (and line).

The definitions go through their kind's JSON Schema, then into a candidate model (an
empty org plus the pack's dependencies, or a given org) where every check the metadata
service runs on a change set runs on them; the records are checked against the objects
that result (their object, their fields, the local keys and external ids they refer to).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from crm_platform.core import ValidationFailed
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import CandidateModel, KindRegistry, Snapshot, api_name_problem
from crm_platform.metadata import operations as ops
from crm_platform.metadata.validate import validate_candidate

from .components import component_name, locate_paths, put_pack
from .loader import KEY, MANIFEST, Pack, PackRecord, read_pack
from .problems import PackInvalid, PackProblem, Source, node_line

RECORD_SYSTEM_FIELDS = {"owner_id"}


def validate_pack(
    pack: Pack,
    registry: KindRegistry,
    dependencies: Sequence[Pack] = (),
    base: Snapshot | None = None,
) -> list[PackProblem]:
    """Every problem of ``pack`` (read problems are the loader's: see ``read_pack``)."""
    problems = definition_problems(pack, registry)
    if problems:
        return problems  # the model checks need definitions of the right shape
    model = CandidateModel(base or Snapshot(version=0, components={}))
    try:
        put_pack(model, registry, [*dependencies, pack])
        ops.settle_rollup_storage(model)
        validate_candidate(model, registry)
    except PackInvalid as error:
        return list(error.problems)
    except ValidationFailed as error:
        return locate_paths(error.errors, [*dependencies, pack], registry)
    return record_problems(pack, model)


def validate_folder(path: Path, registry: KindRegistry) -> tuple[Pack | None, list[PackProblem]]:
    """Read and validate the pack folder ``path`` with the dependencies found beside it or
    shipped (one not found is a problem of ``pack.yaml``): the pack and every problem."""
    from .catalog import Catalog

    pack, problems = read_pack(path, registry)
    if pack is None or problems:
        return pack, problems
    catalog = Catalog(registry, (path.resolve().parent,))
    dependencies: dict[str, Pack] = {}
    visiting = {pack.name}  # a cycle is the installer's to refuse; here it ends the walk

    def gather(current: Pack) -> None:
        for name, spec in current.manifest.depends.items():
            if name in dependencies or name in visiting:
                continue
            visiting.add(name)
            found = catalog.find(name)
            if found is None:
                problems.append(
                    PackProblem(
                        Source(MANIFEST),
                        f"{current.name} depends on {name} {spec}, which is found neither "
                        "beside it nor shipped",
                    )
                )
                continue
            gather(found)
            dependencies[name] = found  # after its own: dependencies first

    gather(pack)
    return pack, [*problems, *validate_pack(pack, registry, list(dependencies.values()))]


def definition_problems(
    pack: Pack, registry: KindRegistry, *, shapes: bool = True
) -> list[PackProblem]:
    """Shape problems (the kind's JSON Schema, API names) and names defined twice.

    ``shapes=False`` leaves out the JSON Schema (the slow part), for callers whose edit
    checks each definition's shape anyway (an install: ``components.put_pack``)."""
    problems = []
    seen: dict[tuple[str, str], Source] = {}
    for item in pack.definitions:
        found = registry.schema_problems(item.kind, item.definition) if shapes else []
        for key in ("api_name", "object") if registry.kind(item.kind).per_object else ("api_name",):
            if not found and not isinstance(item.definition.get(key), str):
                found = [(key, f"'{key}' is a required string")]
        for path, message in found:
            line = node_line(item.node, path) or item.source.line
            problems.append(PackProblem(Source(item.source.file, line), f"{path}: {message}"))
        if found:
            continue
        if problem := api_name_problem(item.definition["api_name"]):
            line = node_line(item.node, "api_name")
            problems.append(PackProblem(Source(item.source.file, line), f"api_name: {problem}"))
            continue
        key = (item.kind, component_name(registry, item))
        if key in seen:
            problems.append(
                PackProblem(item.source, f"the {key[0]} '{key[1]}' is also defined in {seen[key]}")
            )
        seen.setdefault(key, item.source)
    return problems


def record_problems(pack: Pack, model: CandidateModel) -> list[PackProblem]:
    """Records whose object, fields or references do not exist."""
    problems: list[PackProblem] = []
    keys: dict[str, PackRecord] = {}
    for record in pack.records:
        if record.key is None:
            continue
        if record.key in keys:
            where = keys[record.key].source
            problems.append(PackProblem(record.source, f"_key '{record.key}' is also at {where}"))
        keys.setdefault(record.key, record)
    for record in pack.records:
        problems.extend(_record_problems(record, model, keys))
    return problems


def _record_problems(
    record: PackRecord, model: CandidateModel, keys: Mapping[str, PackRecord]
) -> list[PackProblem]:
    obj = model.object(record.object)
    if obj is None:
        return [
            PackProblem(
                record.source,
                f"no object '{record.object}' in this pack or its dependencies "
                "(a record file is named after its object)",
            )
        ]
    fields = {f["api_name"]: f for f in obj["fields"]}
    problems = []
    for name, value in record.values.items():
        field = fields.get(name)
        if field is None:
            if name not in RECORD_SYSTEM_FIELDS:
                problems.append(
                    PackProblem(record.source, f"no field '{name}' on '{obj['api_name']}'")
                )
            continue
        if field_type(field["type"]).relation and isinstance(value, Mapping):
            message = reference_problem(value, field, model, keys, record.sample)
            if message:
                problems.append(PackProblem(record.source, f"{name}: {message}"))
    return problems


def reference_problem(
    value: Mapping[str, Any],
    field: Mapping[str, Any],
    model: CandidateModel,
    keys: Mapping[str, PackRecord],
    sample: bool,
) -> str | None:
    """Why a reference (``{_key: k}`` or ``{<external id field>: value}``) leads nowhere."""
    target = field.get("target")
    if target is None:
        return "a reference needs a lookup with one target"
    if len(value) != 1:
        return f"a reference names one thing: {{{KEY}: ...}} or {{<field of {target}>: ...}}"
    ((how, wanted),) = value.items()
    if how == KEY:
        found = keys.get(str(wanted))
        if found is None or (found.sample and not sample):
            where = "" if found is None else " (a data/ record cannot refer to a sample/ record)"
            return f"refers to _key '{wanted}', which no record of this pack has{where}"
        if found.object != target:
            return f"_key '{wanted}' is a {found.object} record, not a {target}"
        return None
    target_def = model.object(target)
    if target_def is None or how not in {f["api_name"] for f in target_def["fields"]}:
        return f"no field '{how}' on '{target}' to find the record by"
    return None
