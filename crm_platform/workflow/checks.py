"""Save-time checks of automation definitions against the candidate model: the
:class:`~.actions.ActionChecks` every action type's check is given, and the checks of
action lists shared by triggers and approval processes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from crm_platform.core import Settings
from crm_platform.expressions import ExpressionError, ValueType, check, parse
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import CandidateModel, Problem
from crm_platform.runtime.checks import ExpressionChecks
from crm_platform.runtime.model import ModelCompiler

from .catalog import ACTIONS

OWNER = "owner_id"


class WorkflowChecks:
    """Expression and field checks over a candidate model (one compile per validation run)."""

    def __init__(self, compiler: ModelCompiler, settings: Settings) -> None:
        self.expressions = ExpressionChecks(compiler)
        self.settings = settings

    def object_exists(self, model: CandidateModel, name: str) -> bool:
        return model.object(name) is not None

    def field(self, model: CandidateModel, object_name: str, name: str) -> Mapping[str, Any] | None:
        obj = model.object(object_name)
        if obj is None:
            return None
        return next((f for f in obj["fields"] if f["api_name"] == name), None)

    def lookup_target(self, model: CandidateModel, object_name: str, name: str) -> str | None:
        found = self.field(model, object_name, name)
        if found is None or found["type"] not in {"lookup", "master_detail"}:
            return None
        target = found.get("target")
        return target if isinstance(target, str) and model.object(target) is not None else None

    def writable_field(self, model: CandidateModel, object_name: str, name: str) -> bool:
        if name == OWNER:
            return model.object(object_name) is not None
        found = self.field(model, object_name, name)
        return found is not None and not field_type(found["type"]).read_only

    def expression(
        self,
        model: CandidateModel,
        object_name: str,
        source: str,
        assigns_to: tuple[str, str] | None,
        path: str,
    ) -> Iterable[Problem]:
        expected = None
        if assigns_to is not None and assigns_to[1] != OWNER:
            found = self.field(model, *assigns_to)
            expected = field_type(found["type"]).value_type if found else None
        yield from self._check(model, object_name, source, expected, path)

    def condition(
        self, model: CandidateModel, object_name: str, source: str, path: str
    ) -> Iterable[Problem]:
        yield from self._check(model, object_name, source, ValueType.BOOLEAN, path)

    def _check(
        self,
        model: CandidateModel,
        object_name: str,
        source: str,
        expected: ValueType | None,
        path: str,
    ) -> Iterator[Problem]:
        if model.object(object_name) is None:
            return
        scope = self.expressions.scope(model, object_name)
        try:
            check(parse(source), scope, expected)
        except ExpressionError as exc:
            yield (path, exc.detail)

    def actions(
        self,
        model: CandidateModel,
        object_name: str,
        actions: Sequence[Mapping[str, Any]],
        prefix: str,
        *,
        before_save: bool = False,
    ) -> Iterator[Problem]:
        """Problems of an action list on ``object_name`` (``before_save``: only actions that
        may run before the record is saved)."""
        for index, action in enumerate(actions):
            path = f"{prefix}[{index}]"
            action_type = ACTIONS.get(action.get("type", ""))
            if action_type is None:
                yield (f"{path}.type", f"no action type '{action.get('type')}'")
                continue
            if before_save and not action_type.before_save:
                yield (
                    f"{path}.type",
                    f"'{action_type.name}' cannot run before save: use timing after_save",
                )
                continue
            yield from action_type.check(model, object_name, action, path, self)


def action_schemas() -> list[Mapping[str, Any]]:
    """The JSON Schema of one action: one branch per action type (for the kinds' schemas)."""
    return [action.schema for action in ACTIONS.values()]
