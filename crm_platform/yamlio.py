"""Metadata as YAML files: the format packs use and `crm metadata apply|dump` read and write.

Numbers with a fraction load as Decimal, never float, so a decimal default or
limit survives a dump and apply exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from .core import ValidationFailed

KIND_FOLDERS = {
    "objects": "object",
    "validation_rules": "validation_rule",
    "permission_sets": "permission_set",
    "roles": "role",
    "groups": "group",
    "queues": "queue",
    "sharing_rules": "sharing_rule",
    "approval_processes": "approval_process",
    "assignment_rules": "assignment_rule",
    "email_templates": "email_template",
    "triggers": "trigger",
    "business_hours": "business_hours",
    "milestones": "milestone",
    "reports": "report",
    "dashboards": "dashboard",
    "layouts": "layout",
    "list_views": "list_view",
    "apps": "app",
    "conversions": "conversion",
    "web_forms": "web_form",
    "inbound_addresses": "inbound_address",
    "duplicate_rules": "duplicate_rule",
    "predictions": "prediction",
}
YAML_SUFFIXES = {".yaml", ".yml"}


class _DecimalLoader(yaml.SafeLoader):
    pass


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    return Decimal(loader.construct_scalar(node).replace("_", ""))  # type: ignore[arg-type]


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    Decimal, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:float", str(value))
)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def yaml_documents(text: str) -> list[tuple[Any, yaml.Node]]:
    """Every non-empty document of ``text`` with its node, whose marks give line numbers
    (``node.start_mark.line`` counts from 0). Raises ``yaml.YAMLError`` on bad YAML."""
    loader = _DecimalLoader(text)
    try:
        documents = []
        while loader.check_node():
            node = loader.get_node()
            data = loader.construct_document(node)
            if data is not None:
                documents.append((data, node))
        return documents
    finally:
        loader.dispose()


def read_definitions(path: Path) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(kind, definition, source) for every document under ``path`` (a file or a folder).

    A document's kind is its ``kind`` key, else its folder's name (``objects/``),
    else ``object``.
    """
    files = (
        sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES) if path.is_dir() else [path]
    )
    if not files:
        raise ValidationFailed({str(path): "no YAML files found"})
    for file in files:
        try:
            documents = list(yaml.load_all(file.read_text(encoding="utf-8"), Loader=_DecimalLoader))
        except yaml.YAMLError as exc:
            raise ValidationFailed({str(file): f"not valid YAML: {exc}"}) from exc
        for index, document in enumerate(d for d in documents if d is not None):
            source = f"{file}" + (f"#{index + 1}" if len(documents) > 1 else "")
            if not isinstance(document, dict):
                raise ValidationFailed({source: "a definition must be a mapping"})
            document = dict(document)
            kind = document.pop("kind", None) or KIND_FOLDERS.get(file.parent.name, "object")
            yield kind, document, source


def write_definitions(by_folder: dict[str, list[dict[str, Any]]], out: Path) -> list[Path]:
    """Write each definition to ``out/<folder>/<name>.yaml``; returns the files written.

    ``by_folder`` maps a kind's folder (``objects``) to its definitions.
    """
    written = []
    for folder_name, definitions in by_folder.items():
        if not definitions:
            continue
        folder = out / folder_name
        folder.mkdir(parents=True, exist_ok=True)
        for definition in definitions:
            stem = ".".join(filter(None, [definition.get("object"), definition["api_name"]]))
            target = folder / f"{stem}.yaml"
            target.write_text(dump_yaml(definition), encoding="utf-8")
            written.append(target)
    return written
