"""The compiled view of the UI kinds (``model.extension('ui')``), and the layout and list
view an object gets when none is defined, so a brand-new object is usable at once."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from crm_platform.fieldtypes import field_type
from crm_platform.metadata import Snapshot

EXTENSION = "ui"
HOME = "home"
DEFAULT = "default"
SYSTEM_FIELDS = ("owner_id", "created_at", "updated_at")
LIST_COLUMNS = 6  # a derived list view shows the name and the next fields, up to this many


def layout_sections(definition: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(path, section) of every section of a layout, in tabs or not."""
    for index, section in enumerate(definition.get("sections", ())):
        yield f"sections[{index}]", section
    for tab_index, tab in enumerate(definition.get("tabs", ())):
        for index, section in enumerate(tab["sections"]):
            yield f"tabs[{tab_index}].sections[{index}]", section


def field_item(item: str | Mapping[str, Any]) -> Mapping[str, Any]:
    """A layout's field entry as a mapping (``name`` is ``{field: name}``)."""
    return {"field": item} if isinstance(item, str) else item


def split_sort(item: str) -> tuple[str, bool]:
    """(path, descending) of a sort entry such as ``-close_date``."""
    return item.lstrip("-"), item.startswith("-")


@dataclass(frozen=True)
class PlacedField:
    """One field in a section, with its conditions (expressions, evaluated by the server)."""

    name: str
    visible_if: str | None = None
    required_if: str | None = None
    read_only_if: str | None = None


@dataclass(frozen=True)
class Section:
    label: Any
    columns: int
    fields: tuple[PlacedField, ...]


@dataclass(frozen=True)
class RelatedList:
    child: str
    link: str
    label: Any
    columns: tuple[str, ...]
    sort: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    """A layout as pages use it: tabs of sections (one unnamed tab without tabs)."""

    object: str
    api_name: str
    tabs: tuple[tuple[Any, tuple[Section, ...]], ...]
    related: tuple[RelatedList, ...]
    derived: bool = False

    @property
    def fields(self) -> tuple[PlacedField, ...]:
        return tuple(f for _label, sections in self.tabs for s in sections for f in s.fields)


@dataclass(frozen=True)
class ListView:
    object: str
    api_name: str
    label: Any
    columns: tuple[str, ...]
    filter: str | None
    sort: tuple[str, ...]
    scope: str
    kanban_by: str | None = None
    derived: bool = False


@dataclass(frozen=True)
class App:
    api_name: str
    label: Any
    tabs: tuple[str, ...]
    dashboard: str | None = None  # what its home page shows
    profiles: tuple[str, ...] = ()  # who sees it (their permission sets); empty: everyone
    # object -> the list view its tab opens
    views: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class UIModel:
    """The layouts, list views and apps of one metadata version."""

    layouts: Mapping[str, Mapping[str, Layout]]  # object -> api_name -> layout
    list_views: Mapping[str, Mapping[str, ListView]]  # object -> api_name -> view
    apps: tuple[App, ...]


EMPTY = UIModel(MappingProxyType({}), MappingProxyType({}), ())


def _section(section: Mapping[str, Any]) -> Section:
    placed = []
    for item in section["fields"]:
        entry = field_item(item)
        placed.append(
            PlacedField(
                entry["field"],
                entry.get("visible_if"),
                entry.get("required_if"),
                entry.get("read_only_if"),
            )
        )
    return Section(section.get("label"), section.get("columns", 1), tuple(placed))


def compile_layout(definition: Mapping[str, Any]) -> Layout:
    """A stored layout definition as pages use it."""
    if "tabs" in definition:
        tabs = tuple(
            (tab["label"], tuple(_section(s) for s in tab["sections"]))
            for tab in definition["tabs"]
        )
    else:
        tabs = ((None, tuple(_section(s) for s in definition["sections"])),)
    related = []
    for entry in definition.get("related", ()):
        child, link = entry["relation"].split(".", 1)
        related.append(
            RelatedList(
                child,
                link,
                entry.get("label"),
                tuple(entry.get("columns", ())),
                tuple(entry.get("sort", ())),
            )
        )
    return Layout(definition["object"], definition["api_name"], tabs, tuple(related))


def compile_list_view(definition: Mapping[str, Any]) -> ListView:
    return ListView(
        definition["object"],
        definition["api_name"],
        definition.get("label"),
        tuple(definition["columns"]),
        definition.get("filter"),
        tuple(definition.get("sort", ())),
        definition.get("scope", "all"),
        definition.get("kanban_by"),
    )


def compile_ui(snapshot: Snapshot, model: Any) -> UIModel:
    """Every layout, list view and app whose objects exist in the model."""
    layouts: dict[str, dict[str, Layout]] = {}
    views: dict[str, dict[str, ListView]] = {}
    for comp in snapshot.of_kind("layout"):
        if model.object(comp.definition["object"]) is not None:
            layout = compile_layout(comp.definition)
            layouts.setdefault(layout.object, {})[layout.api_name] = layout
    for comp in snapshot.of_kind("list_view"):
        if model.object(comp.definition["object"]) is not None:
            view = compile_list_view(comp.definition)
            views.setdefault(view.object, {})[view.api_name] = view
    apps = sorted(
        (
            (comp.definition.get("position", 100), comp.name, comp.definition)
            for comp in snapshot.of_kind("app")
        ),
        key=lambda t: (t[0], t[1]),
    )
    return UIModel(
        MappingProxyType({k: MappingProxyType(v) for k, v in layouts.items()}),
        MappingProxyType({k: MappingProxyType(v) for k, v in views.items()}),
        tuple(
            App(
                name,
                d.get("label", name),
                tuple(t for t in d["tabs"] if t == HOME or model.object(t) is not None),
                d.get("dashboard"),
                tuple(d.get("profiles", ())),
                MappingProxyType(dict(d.get("views", {}))),
            )
            for _p, name, d in apps
        ),
    )


def ui_model(model: Any) -> UIModel:
    """The compiled UI of a model (empty when the extension is not attached)."""
    return model.extensions.get(EXTENSION) or EMPTY


# --- what an object gets when nothing is defined ---------------------------------------------


def _shown_fields(obj: Any) -> list[str]:
    return list(obj.fields)


def default_layout(obj: Any) -> Layout:
    """Every field of the object in one two-column section, the name field first, and a
    related list for every relation that points at it."""
    names = _shown_fields(obj)
    if obj.name_field in names:
        names.remove(obj.name_field)
        names.insert(0, obj.name_field)
    section = Section(None, 2, tuple(PlacedField(n) for n in names))
    return Layout(obj.api_name, DEFAULT, ((None, (section,)),), (), derived=True)


def default_related(model: Any, obj: Any) -> tuple[RelatedList, ...]:
    """A related list per relation pointing at ``obj``: the child's name and first fields."""
    out = []
    for relation in model.relations_to.get(obj.api_name, ()):
        child = model.objects[relation.child]
        columns = [
            child.name_field,
            *[
                n
                for n, f in child.fields.items()
                if n not in (child.name_field, relation.field) and _listable(f)
            ][:3],
        ]
        out.append(RelatedList(relation.child, relation.field, None, tuple(columns), ()))
    return tuple(out)


def _listable(field: Any) -> bool:
    kind = field_type(field.type)
    return (
        not kind.compound
        and not kind.encrypted
        and field.type not in {"json", "long_text", "rich_text", "multi_picklist", "file"}
    )


def default_list_view(obj: Any) -> ListView:
    """The name field and the next few listable fields, newest first."""
    columns = [
        obj.name_field,
        *[n for n, f in obj.fields.items() if n != obj.name_field and _listable(f)][
            : LIST_COLUMNS - 1
        ],
    ]
    return ListView(
        obj.api_name, "all", None, tuple(columns), None, ("-created_at",), "all", derived=True
    )


def layout_for(model: Any, obj: Any) -> Layout:
    """The object's layout: ``default`` or its first defined one, else a derived one
    (worked out once per metadata version: kept in the model's ``runtime_cache``)."""
    cache = model.runtime_cache.setdefault("ui_layout", {})
    found = cache.get(obj.api_name)
    if found is None:
        found = cache[obj.api_name] = _layout_for(model, obj)
    return found


def _layout_for(model: Any, obj: Any) -> Layout:
    defined = ui_model(model).layouts.get(obj.api_name, {})
    layout = defined.get(DEFAULT) or next(iter(defined.values()), None)
    if layout is None:
        layout = default_layout(obj)
    if not layout.related and layout.derived:
        layout = Layout(
            layout.object, layout.api_name, layout.tabs, default_related(model, obj), True
        )
    return layout


def list_views_for(model: Any, obj: Any) -> Sequence[ListView]:
    """The object's list views (a derived "all" view first when none is defined), once
    per metadata version."""
    cache = model.runtime_cache.setdefault("ui_list_views", {})
    found = cache.get(obj.api_name)
    if found is None:
        defined = tuple(ui_model(model).list_views.get(obj.api_name, {}).values())
        found = cache[obj.api_name] = defined or (default_list_view(obj),)
    return found
