"""Labels in several languages, and the presented form of object and field definitions.

A label is a string or a map of language to string (``{en: Deal, zh: 商机}``). A
reader gets one string: the language they prefer among those the label has, else
the org's default language, else any. Which language a reader prefers is the
caller's business (the API asks ``Accept-Language``): it passes a :data:`Chooser`.

The *presented* form is what the metadata API answers with: each label resolved to
a string beside the map of all its languages (``label`` + ``labels``, ``labels`` empty
for a plain-string label), and every picklist value as a full map. :func:`fold_presented`
turns a presented definition back into the definition it came from, so what a
client reads can be sent back unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from crm_platform.core import ValidationFailed
from crm_platform.fieldtypes import value_entry

Chooser = Callable[[Sequence[str]], str | None]
"""Picks the reader's language among those offered (a label's), or None for none of them."""

# Each label-valued key and the key its map of every language is presented under.
LABEL_KEYS: Mapping[str, str] = {
    "label": "labels",
    "plural_label": "plural_labels",
    "help_text": "help_texts",
}


def resolve_label(label: str | Mapping[str, str], choose: Chooser) -> str:
    """The label as one string: the chosen language's, else the first given."""
    if isinstance(label, str):
        return label
    key = choose(list(label))
    return label[key] if key is not None and key in label else next(iter(label.values()))


def label_languages(definitions: Iterable[Mapping[str, Any]]) -> set[str]:
    """Every language any label of these object or field definitions is written in."""
    found: set[str] = set()
    for definition in definitions:
        for key in LABEL_KEYS:
            if isinstance(definition.get(key), Mapping):
                found.update(definition[key])
        for value in definition.get("values") or ():
            label = value_entry(value).get("label")
            if isinstance(label, Mapping):
                found.update(label)
        found |= label_languages(definition.get("fields") or ())
    return found


def present_object(definition: Mapping[str, Any], choose: Chooser) -> dict[str, Any]:
    """An object definition (with its fields) as the metadata API answers it."""
    presented = _present_labels(definition, choose)
    if "fields" in definition:
        presented["fields"] = [present_field(f, choose) for f in definition["fields"]]
    return presented


def present_field(definition: Mapping[str, Any], choose: Chooser) -> dict[str, Any]:
    """A field definition as the metadata API answers it (picklist values as full maps)."""
    presented = _present_labels(definition, choose)
    if "values" in definition:
        presented["values"] = [present_value(v, choose) for v in definition["values"]]
    return presented


def present_value(value: str | Mapping[str, Any], choose: Chooser) -> dict[str, Any]:
    """One picklist value as a full map; its label defaults to the value itself."""
    entry = value_entry(value)
    label = entry.get("label", entry["value"])
    presented: dict[str, Any] = {
        "value": entry["value"],
        "label": resolve_label(label, choose),
        "labels": dict(label) if isinstance(label, Mapping) else {},
        "active": entry.get("active", True),
        "default": entry.get("default", False),
    }
    if "color" in entry:
        presented["color"] = entry["color"]
    presented["attributes"] = dict(entry.get("attributes", {}))
    if "valid_for" in entry:
        presented["valid_for"] = list(entry["valid_for"])
    return presented


def fold_presented(raw: Any, path: str = "") -> Any:
    """A definition as written, from its presented form (or from a plain definition, which
    comes back as it is): each ``labels`` map that is not empty becomes the label, and a
    picklist value's label that only repeats the value is dropped.

    A ``label`` string sent beside a non-empty ``labels`` must be one of its languages'
    texts (as read): an edited ``label`` that ``labels`` would silently overwrite is
    refused (400), naming it. ``path`` prefixes the paths of such errors.
    """
    if not isinstance(raw, Mapping):
        return raw
    folded = _fold_labels(raw, path)
    fields = folded.get("fields")
    if isinstance(fields, list):
        folded["fields"] = [
            fold_presented(f, _join(path, f"fields.{f.get('api_name')}"))
            if isinstance(f, Mapping)
            else f
            for f in fields
        ]
    if isinstance(folded.get("values"), list):
        folded["values"] = [
            _fold_value(v, _join(path, f"values[{i}]")) for i, v in enumerate(folded["values"])
        ]
    return folded


def _present_labels(definition: Mapping[str, Any], choose: Chooser) -> dict[str, Any]:
    presented = dict(definition)
    for key, all_key in LABEL_KEYS.items():
        if key in definition:
            label = definition[key]
            presented[key] = resolve_label(label, choose)
            presented[all_key] = dict(label) if isinstance(label, Mapping) else {}
    return presented


def _fold_labels(raw: Mapping[str, Any], path: str) -> dict[str, Any]:
    folded = dict(raw)
    for key, all_key in LABEL_KEYS.items():
        languages = folded.get(all_key)
        if not isinstance(languages, Mapping):
            continue  # absent, or not a map: the schema names it
        del folded[all_key]
        if not languages:
            continue
        label = folded.get(key)
        if isinstance(label, str) and label not in languages.values():
            raise ValidationFailed(
                {
                    _join(path, key): f"{label!r} is none of the texts in {all_key}: change "
                    f"{all_key}, or send {key} alone"
                }
            )
        folded[key] = dict(languages)
    return folded


def _fold_value(value: Any, path: str) -> Any:
    if not isinstance(value, Mapping):
        return value
    folded = _fold_labels(value, path)
    if folded.get("label") == folded.get("value"):
        del folded["label"]
    return folded


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part
