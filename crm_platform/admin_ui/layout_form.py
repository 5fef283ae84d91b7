"""A layout as the layout editor's form carries it, and back.

A tabbed layout is edited as its sections, each naming its tab: sections naming the same
tab share it, in the order the tab first appears; a section naming none joins the tab
before it. Naming no tab anywhere makes the layout untabbed again.

The editor keeps no state on the server: the form posts every section and every placed
field (its section, position and conditions), so moving a field up or down with
JavaScript off is a post that answers the same form, rearranged and not yet saved; with
JavaScript on, the page moves rows itself (buttons or drag and drop) and renumbers the
positions. Saving turns the form into one layout definition (one change set).

Form keys, ``<i>`` a placed field's row and ``<s>`` a section's index::

    section_label_en:<s>, section_label_zh:<s>, section_columns:<s>, section_remove:<s>,
    section_tab_en:<s>, section_tab_zh:<s>
    field:<i>, section_of:<i>, position:<i>, visible_if:<i>, required_if:<i>,
    read_only_if:<i>, remove:<i>
    add_field, add_all, add_to_section, new_section_en
    related:<r>, related_columns:<r>, related_sort:<r>, related_remove:<r>, new_related
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .base import label_map, label_parts

CONDITIONS = ("visible_if", "required_if", "read_only_if")


@dataclass
class Row:
    """One placed field."""

    field: str
    conditions: dict[str, str] = field(default_factory=dict)


@dataclass
class SectionRows:
    """One section of the form: its labels, columns and fields in order."""

    label_en: str = ""
    label_zh: str = ""
    columns: int = 1
    rows: list[Row] = field(default_factory=list)
    tab_en: str = ""  # the tab it is shown in (none: the layout has no tabs, or the tab before)
    tab_zh: str = ""


@dataclass
class LayoutForm:
    """The whole editor: sections, related lists and the layout's other keys kept as is."""

    sections: list[SectionRows]
    related: list[dict[str, Any]]
    rest: dict[str, Any]

    def placed(self) -> set[str]:
        return {row.field for s in self.sections for row in s.rows}

    def numbered(self) -> list[tuple[int, SectionRows, list[tuple[int, Row]]]]:
        """Sections with their rows numbered across the form (the ``<i>`` of the keys)."""
        out, index = [], 0
        for number, section in enumerate(self.sections):
            rows = []
            for row in section.rows:
                rows.append((index, row))
                index += 1
            out.append((number, section, rows))
        return out

    def definition(self) -> dict[str, Any]:
        """The layout definition the form describes (with ``tabs`` when a section names one)."""
        kept = [s for s in self.sections if s.rows]  # the schema: a section needs a field
        definition = {**self.rest}
        definition.pop("tabs", None)
        definition.pop("sections", None)
        if any(s.tab_en or s.tab_zh for s in kept):
            definition["tabs"] = _tabs(kept)
        else:
            definition["sections"] = [_section(s) for s in kept]
        if self.related:
            definition["related"] = self.related
        else:
            definition.pop("related", None)
        return definition


def _section(section: SectionRows) -> dict[str, Any]:
    out: dict[str, Any] = {}
    label = label_map(section.label_en, section.label_zh)
    if label:
        out["label"] = label
    if section.columns == 2:
        out["columns"] = 2
    out["fields"] = [_item(row) for row in section.rows]
    return out


DEFAULT_TAB = ("Details", "详情")  # the first sections' tab when only later ones name one


def _tabs(sections: list[SectionRows]) -> list[dict[str, Any]]:
    """The sections grouped by the tab each names (one naming none joins the one before)."""
    tabs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    current = DEFAULT_TAB
    for section in sections:
        if section.tab_en or section.tab_zh:
            current = (section.tab_en, section.tab_zh)
        tabs.setdefault(current, []).append(_section(section))
    return [
        {"label": label_map(en, zh) or en or zh, "sections": found}
        for (en, zh), found in tabs.items()
    ]


def _item(row: Row) -> Any:
    conditions = {k: v for k, v in row.conditions.items() if v}
    return {"field": row.field, **conditions} if conditions else row.field


def from_definition(definition: Mapping[str, Any]) -> LayoutForm:
    """The editor's form for a stored layout (a tabbed one's sections name their tab)."""
    raw_sections = [(raw, ("", "")) for raw in definition.get("sections", [])]
    for tab in definition.get("tabs", []):
        tab_label = label_parts(tab.get("label"))
        raw_sections.extend((raw, tab_label) for raw in tab.get("sections", []))
    sections = []
    for raw, (tab_en, tab_zh) in raw_sections:
        label_en, label_zh = label_parts(raw.get("label"))
        rows = []
        for item in raw.get("fields", []):
            if isinstance(item, Mapping):
                conditions = {k: str(item[k]) for k in CONDITIONS if item.get(k)}
                rows.append(Row(str(item["field"]), conditions))
            else:
                rows.append(Row(str(item)))
        columns = int(raw.get("columns", 1))
        sections.append(SectionRows(label_en, label_zh, columns, rows, tab_en, tab_zh))
    rest = {k: v for k, v in definition.items() if k not in ("sections", "tabs", "related")}
    related = [dict(r) for r in definition.get("related", [])]
    return LayoutForm(sections or [SectionRows()], related, rest)


def from_form(
    base: Mapping[str, Any], form: Mapping[str, str], fields: Sequence[str] = ()
) -> LayoutForm:
    """The editor's state after a post: sections and rows as the inputs say, fields in
    the order of their positions, removals dropped and additions appended (``add_all``:
    every one of the object's ``fields`` not placed yet, in their order)."""
    count = _count(form, "section_columns:")
    sections = []
    for s in range(count):
        if form.get(f"section_remove:{s}") == "on":
            sections.append(None)
            continue
        columns = 2 if form.get(f"section_columns:{s}") == "2" else 1
        sections.append(
            SectionRows(
                form.get(f"section_label_en:{s}", "").strip(),
                form.get(f"section_label_zh:{s}", "").strip(),
                columns,
                tab_en=form.get(f"section_tab_en:{s}", "").strip(),
                tab_zh=form.get(f"section_tab_zh:{s}", "").strip(),
            )
        )
    placed: list[tuple[int, float, int, Row]] = []
    for i in range(_count(form, "field:")):
        name = form.get(f"field:{i}", "").strip()
        if not name or form.get(f"remove:{i}") == "on":
            continue
        target = _int(form.get(f"section_of:{i}"), 0)
        conditions = {k: form.get(f"{k}:{i}", "").strip() for k in CONDITIONS}
        row = Row(name, {k: v for k, v in conditions.items() if v})
        placed.append((target, _float(form.get(f"position:{i}"), i), i, row))
    placed.sort(key=lambda item: (item[1], item[2]))
    live = [s for s in sections if s is not None] or [SectionRows()]
    for target, _, _, row in placed:
        chosen = sections[target] if 0 <= target < len(sections) else None
        (chosen or live[0]).rows.append(row)
    result = live
    _additions(result, form, fields)
    rest = {k: v for k, v in base.items() if k not in ("sections", "tabs", "related")}
    return LayoutForm(result, _related(form), rest)


def _additions(sections: list[SectionRows], form: Mapping[str, str], fields: Sequence[str]) -> None:
    new_section = form.get("new_section_en", "").strip()
    if new_section:
        # a new section of a tabbed layout goes in its last tab (its tab inputs move it)
        last = sections[-1] if sections else SectionRows()
        sections.append(
            SectionRows(
                new_section,
                form.get("new_section_zh", "").strip(),
                tab_en=last.tab_en,
                tab_zh=last.tab_zh,
            )
        )
    added = form.get("add_field", "").strip()
    if added:
        target = _int(form.get("add_to_section"), len(sections) - 1)
        target = target if 0 <= target < len(sections) else len(sections) - 1
        sections[target].rows.append(Row(added))
    if form.get("add_all") == "on":
        target = _int(form.get("add_to_section"), len(sections) - 1)
        target = target if 0 <= target < len(sections) else len(sections) - 1
        placed = {row.field for section in sections for row in section.rows}
        sections[target].rows.extend(Row(name) for name in fields if name not in placed)


def _related(form: Mapping[str, str]) -> list[dict[str, Any]]:
    out = []
    for r in range(_count(form, "related:")):
        relation = form.get(f"related:{r}", "").strip()
        if not relation or form.get(f"related_remove:{r}") == "on":
            continue
        entry: dict[str, Any] = {"relation": relation}
        for key in ("columns", "sort"):
            items = _names(form.get(f"related_{key}:{r}", ""))
            if items:
                entry[key] = items
        out.append(entry)
    new = form.get("new_related", "").strip()
    if new:
        out.append({"relation": new})
    return out


def move(layout: LayoutForm, row_index: int, step: int) -> None:
    """Move a placed field one place up (-1) or down (+1), across a section's edge into
    the neighbouring section when it is first or last."""
    numbered = layout.numbered()
    for number, section, rows in numbered:
        for position, (index, row) in enumerate(rows):
            if index != row_index:
                continue
            target = position + step
            if 0 <= target < len(section.rows):
                section.rows[position], section.rows[target] = section.rows[target], row
            elif 0 <= number + step < len(layout.sections):
                section.rows.pop(position)
                neighbour = layout.sections[number + step].rows
                neighbour.insert(len(neighbour) if step < 0 else 0, row)
            return


def related_text(entry: Mapping[str, Any], key: str) -> str:
    return ", ".join(entry.get(key, []))


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def _count(form: Mapping[str, str], prefix: str) -> int:
    found = [_int(key[len(prefix) :], -1) for key in form if key.startswith(prefix)]
    return max(found, default=-1) + 1


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw not in (None, "") else default
    except ValueError:
        return default


def _float(raw: str | None, default: float) -> float:
    try:
        return float(raw) if raw not in (None, "") else float(default)
    except ValueError:
        return float(default)
