"""The UI's own words: every language's compiled catalog matches its source, and every
message the code and templates ask for is translated (Flask-Babel, ``scripts/translations.sh``)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import crm_platform

TRANSLATIONS = Path(crm_platform.__file__).parent / "web" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}
METHODS = [
    ("crm_platform/**.py", "python"),
    ("crm_platform/**/templates/**.html", "jinja2"),
]


def _catalogs():
    for po_path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as po, po_path.with_suffix(".mo").open("rb") as mo:
            yield po_path.parent.parent.name, read_po(po), read_mo(mo)


def _asked_for() -> set[str]:
    root = Path(crm_platform.__file__).parent.parent
    found = extract_from_dir(root, METHODS, keywords=KEYWORDS)
    return {m if isinstance(m, str) else m[0] for _file, _line, m, _c, _ctx in found}


def _key(message) -> str:
    """A message's id (a plural one by its singular)."""
    return message.id if isinstance(message.id, str) else message.id[0]


def _text(message) -> tuple[str, ...]:
    """A message's translation (every plural form of a plural one)."""
    return (message.string,) if isinstance(message.string, str) else tuple(message.string)


def test_chinese_is_shipped_and_compiled_from_its_source():
    catalogs = {lang: (po, mo) for lang, po, mo in _catalogs()}
    assert "zh" in catalogs
    for _lang, (po, mo) in catalogs.items():
        source = {_key(m): _text(m) for m in po if m.id}
        compiled = {_key(m): _text(m) for m in mo if m.id}
        assert compiled == source, "run scripts/translations.sh"


def test_every_ui_message_is_translated():
    asked = _asked_for()
    assert "Sign out" in asked
    for lang, po, _mo in _catalogs():
        # a fuzzy entry (pybabel's guess, e.g. a message that became a plural) is not compiled
        translated = {_key(m) for m in po if m.id and all(_text(m)) and not m.fuzzy}
        missing = sorted(asked - translated)
        assert not missing, f"{lang}: untranslated {missing} (scripts/translations.sh)"
