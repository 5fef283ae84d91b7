"""Problems of a pack, each with the file (and line) it is in."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from crm_platform.core import ValidationFailed


@dataclass(frozen=True)
class Source:
    """Where something of a pack was read: a file relative to the pack's folder, a line."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class PackProblem:
    """One thing wrong with a pack, named by its file (and line where there is one)."""

    source: Source
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


class PackInvalid(ValidationFailed):
    """A pack that cannot be used: every problem, keyed by ``file:line``."""

    def __init__(self, name: str, problems: Iterable[PackProblem]) -> None:
        self.problems = tuple(problems)
        errors: dict[str, list[str]] = {}
        for problem in self.problems:
            errors.setdefault(str(problem.source), []).append(problem.message)
        count = len(self.problems)
        super().__init__(errors, detail=f"the pack {name} has {count} problem(s)")


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def node_line(node: yaml.Node | None, path: str) -> int | None:
    """The line (from 1) of what ``path`` names inside a YAML node, as deep as it goes.

    ``path`` uses the platform's error paths: ``fields[2].type`` (by position) or
    ``fields.budget.type`` (a list of definitions entered by ``api_name``).
    """
    if node is None:
        return None
    line = node.start_mark.line + 1
    for name, index in _STEP.findall(path):
        node = _step(node, name, index)
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _step(node: yaml.Node, name: str, index: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and name:
        return next((v for k, v in node.value if getattr(k, "value", None) == name), None)
    if isinstance(node, yaml.SequenceNode):
        if index:
            position = int(index)
            return node.value[position] if position < len(node.value) else None
        for item in node.value:
            if _api_name(item) == name:
                return item
    return None


def _api_name(node: Any) -> str | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == "api_name":
                return getattr(value, "value", None)
    return None
