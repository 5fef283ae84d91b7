"""A mapping inferred from a file's headers (and its transforms from sample values).

A header matches a field when, compared without case, spaces, underscores or
punctuation, it is the field's API name, one of its labels (in any language the
metadata has), or a common synonym in English or Chinese (``Company`` / ``公司`` for a
lookup to accounts, ``E-mail`` / ``邮箱`` for the email field...). A header is placed
only when exactly one field matches it and no other header takes that field; the
others are named, so the user can finish the mapping file written for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crm_platform.fieldtypes import field_type
from crm_platform.runtime.records.codec import SYSTEM_FIELDS

from .mapping import ColumnSpec, ImportMapping
from .rejects import ERROR_COLUMN
from .transforms import infer_options

# synonyms by field API name, and by field type (any one field of that type)
NAME_SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "name": ("名称", "姓名", "名字", "full name", "company name", "公司名称", "客户名称"),
    "first_name": ("first", "given name", "forename", "名"),
    "last_name": ("last", "surname", "family name", "姓"),
    "title": ("job title", "position", "职位", "职务", "头衔"),
    "industry": ("sector", "行业"),
    "website": ("web", "web site", "homepage", "url", "网站", "网址", "主页"),
    "annual_revenue": ("revenue", "年收入", "营业额", "营收", "收入"),
    "description": ("notes", "note", "comments", "remarks", "描述", "备注", "说明"),
    "employees": ("number of employees", "headcount", "员工数", "员工人数"),
    "stage": ("阶段",),
    "amount": ("金额", "value"),
    "close_date": ("closing date", "成交日期", "结束日期"),
    "birthdate": ("birthday", "date of birth", "dob", "生日", "出生日期"),
    "external_id": ("external id", "legacy id", "外部编号", "外部id"),
    "city": ("城市",),
    "country": ("国家",),
    "status": ("状态",),
    "active": ("enabled", "是否有效", "有效", "启用"),
}
TYPE_SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "email": ("email", "e-mail", "mail", "email address", "邮箱", "电子邮件", "电子邮箱", "邮件"),
    "phone": (
        "phone",
        "telephone",
        "tel",
        "mobile",
        "phone number",
        "电话",
        "手机",
        "手机号",
        "联系电话",
    ),
    "url": ("website", "web", "url", "网站", "网址"),
}
# a lookup to one of these objects also answers to these words
TARGET_SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "account": ("company", "organization", "organisation", "公司", "客户", "单位", "企业"),
    "contact": ("person", "联系人"),
    "user": ("owner", "负责人", "所有人"),
}
SAMPLE_ROWS = 200
# why an import leaves an export's system columns (``codec.SYSTEM_FIELDS``) to the platform
SYSTEM_REASONS: Mapping[str, str] = {
    "id": "the record's id: new records get ids of their own (--upsert-on id updates it)",
    "owner_id": "the owner: the importing user owns the new records",
}
ID_TEXT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def normalise(text: str) -> str:
    """A header or name as compared: case-folded, without spaces and punctuation."""
    return re.sub(r"[\s_\-.:/()（）：·]+", "", str(text)).casefold()


def _labels(label: Any) -> Iterable[str]:
    if isinstance(label, Mapping):
        return [str(v) for v in label.values()]
    return [str(label)] if label else []


def field_keys(obj: Any) -> list[dict[str, set[str]]]:
    """The normalised names that point at each writable field, in tiers tried in order:
    API names, then labels (any language), then synonyms (so ``手机``, the label of
    ``mobile``, is not also taken as a synonym of every phone field)."""
    names: dict[str, set[str]] = {}
    labels: dict[str, set[str]] = {}
    synonyms: dict[str, set[str]] = {}
    for name, fld in obj.fields.items():
        ftype = field_type(fld.type)
        if ftype is None or ftype.read_only:
            continue
        names[name] = {normalise(name)}
        if ftype.compound:  # its API name only: the column of an export, a JSON object
            continue
        labels[name] = {normalise(w) for w in _labels(fld.definition.get("label")) if w}
        labels[name].add(normalise(name.replace("_", " ")))
        words = set(NAME_SYNONYMS.get(name, ())) | set(TYPE_SYNONYMS.get(fld.type, ()))
        for target in fld.targets:
            words.update(TARGET_SYNONYMS.get(target, ()))
            words.add(target)
        synonyms[name] = {normalise(w) for w in words if w}
    return [names, labels, synonyms]


def _matches(tiers: list[dict[str, set[str]]], header: str) -> list[str]:
    wanted = normalise(re.sub(r"\s*\(\d+\)$", "", header))
    for tier in tiers:
        found = sorted(name for name, words in tier.items() if wanted in words)
        if found:
            return found
    return []


@dataclass(frozen=True)
class Inferred:
    """An inferred mapping, the columns it could not place (header -> why), and those it
    leaves out on purpose: an export's system columns and read-only fields (header -> why,
    written as notes in the mapping file)."""

    mapping: ImportMapping
    unplaced: Mapping[str, str]
    left_out: Mapping[str, str] = field(default_factory=dict)

    @property
    def notes(self) -> dict[str, str]:
        """What the mapping file says beside its columns."""
        return {**self.left_out, **self.unplaced}

    @property
    def complete(self) -> bool:
        return not self.unplaced


def infer_mapping(obj: Any, headers: Sequence[str], samples: Sequence[Sequence[Any]]) -> Inferred:
    """The mapping the headers suggest, with transforms read from the sample rows."""
    tiers = field_keys(obj)
    found = {header: _matches(tiers, header) for header in headers}
    taken: dict[str, list[str]] = {}
    for header, names in found.items():
        if len(names) == 1:
            taken.setdefault(names[0], []).append(header)
    columns: dict[str, ColumnSpec] = {}
    unplaced: dict[str, str] = {}
    left_out: dict[str, str] = {}
    for index, header in enumerate(headers):
        names = found[header]
        if not names and header == ERROR_COLUMN:
            columns[header] = ColumnSpec(None)  # an error file's reasons, imported again
            continue
        if not names and (why := _left_out(obj, header)):
            columns[header] = ColumnSpec(None)  # an export's column, imported again
            left_out[header] = why
            continue
        if not names:
            unplaced[header] = "no field matches this header"
        elif len(names) > 1:
            unplaced[header] = f"matches several fields: {', '.join(names)}"
        elif len(taken[names[0]]) > 1:
            others = ", ".join(repr(h) for h in taken[names[0]])
            unplaced[header] = f"columns {others} all match {names[0]}"
        elif not _fits(obj.fields[names[0]], column := _column(samples, index)):
            unplaced[header] = (
                f"{names[0]} has several parts: map each to a column ({names[0]}.<part>), "
                "or give JSON objects as an export writes them"
            )
        else:
            fld = obj.fields[names[0]]
            options = _options(fld, column)
            columns[header] = ColumnSpec(names[0], options)
            continue
        columns[header] = ColumnSpec(None)
    return Inferred(ImportMapping(obj.api_name, columns), unplaced, left_out)


def _column(samples: Sequence[Sequence[Any]], index: int) -> list[Any]:
    """The sample cells of one column (a short row has none)."""
    return [row[index] for row in samples if index < len(row)]


def _fits(fld: Any, samples: list[Any]) -> bool:
    """Whether a column can go to the field whole: a compound field (an address) only
    from JSON objects, as ``crm export`` writes it (free text is no address's parts)."""
    if not field_type(fld.type).compound:
        return True
    given = [str(v).strip() for v in samples if v not in (None, "") and str(v).strip()]
    return all(v.startswith("{") and v.endswith("}") for v in given)


def _left_out(obj: Any, header: str) -> str | None:
    """Why an import leaves this column to the platform (an export's system column, or a
    field no import writes), or None."""
    if header in SYSTEM_FIELDS:
        return SYSTEM_REASONS.get(header, "set by the platform")
    fld = obj.fields.get(header)
    ftype = field_type(fld.type) if fld is not None else None
    if ftype is not None and ftype.read_only:
        return f"{fld.type}: computed by the platform"
    return None


def _options(fld: Any, samples: list[Any]) -> dict[str, Any]:
    if field_type(fld.type).relation:
        given = [str(v).strip() for v in samples if v not in (None, "")]
        if given and all(ID_TEXT.match(v) for v in given):  # an export's lookup column
            return {"lookup": "id"}
        return {"lookup": "email" if "user" in fld.targets else "name"}
    return infer_options(fld.type, samples)
