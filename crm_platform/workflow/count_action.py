"""The ``count_records`` action: a record that stores a saved criteria expression (a
marketing segment, a watch list) gets the number of records matching it.

```yaml
- {type: count_records, object: target_object, where: criteria, into: member_count}
```

``object`` and ``where`` are expressions on the record giving the object's API name and
the criteria (usually just the fields that hold them); ``into`` is a number field of the
record. The count runs in SQL through the query layer as the person whose change fired
the action — their sharing and field access apply, so a criteria naming a field they may
not read is refused as if it did not exist — and a criteria that does not compile
refuses the save, naming ``into``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from crm_platform.core import ValidationFailed
from crm_platform.expressions import ValueType
from crm_platform.metadata import CandidateModel, Problem
from crm_platform.runtime.records.aggregates import aggregate_query

from .actions import ActionChecks, ActionContext

EXPRESSION = {"type": "string", "minLength": 1, "maxLength": 4000}


@dataclass(frozen=True)
class CountRecords:
    """``{type: count_records, object: <expr>, where: <expr>, into: <number field>}``."""

    name: str = "count_records"
    before_save: bool = False
    schema: Mapping[str, Any] = field(
        default_factory=lambda: {
            "type": "object",
            "properties": {
                "type": {"const": "count_records"},
                "object": EXPRESSION,
                "where": EXPRESSION,
                "into": {"type": "string", "minLength": 1},
            },
            "required": ["type", "object", "where", "into"],
            "additionalProperties": False,
        }
    )

    def check(
        self,
        model: CandidateModel,
        object_name: str,
        action: Mapping[str, Any],
        path: str,
        checks: ActionChecks,
    ) -> Iterable[Problem]:
        if not checks.writable_field(model, object_name, action["into"]):
            yield (f"{path}.into", f"{object_name} has no writable field '{action['into']}'")
        for key in ("object", "where"):
            yield from checks.expression(model, object_name, action[key], None, f"{path}.{key}")

    def run(self, ctx: ActionContext, action: Mapping[str, Any]) -> None:
        into = action["into"]
        target = ctx.evaluate(action["object"], ValueType.TEXT)
        criteria = ctx.evaluate(action["where"], ValueType.TEXT)
        obj = ctx.model.objects.get(str(target or ""))
        if obj is None:
            raise ValidationFailed({into: [f"no object '{target}' to count"]})
        reader = ctx.system.as_user(ctx.user)  # type: ignore[attr-defined]
        where = str(criteria).strip() if criteria else None
        # the aggregates' own query: live records the user may read, in SQL
        query = aggregate_query(reader, obj, reader.builder(obj), [sa.func.count()], where or None)
        count = ctx.conn.execute(query).scalar() or 0
        ctx.system.update(ctx.object.api_name, ctx.record_id, {into: count})
