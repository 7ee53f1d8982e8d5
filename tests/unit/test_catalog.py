"""The English catalog is complete: every message the code and templates mark is in it, translated,
none fuzzy, with the same placeholders; so the English UI never falls back to the Chinese msgid."""

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


def _catalog():
    with PO.open("rb") as handle:
        return read_po(handle)


def test_every_entry_is_translated_and_none_is_fuzzy():
    catalog = _catalog()
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []


def test_translations_keep_the_placeholders():
    wrong = [
        (m.id, m.string)
        for m in _catalog()
        if m.id and sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))
    ]
    assert wrong == []


def test_every_marked_message_is_in_the_catalog():
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    marked = {
        message
        for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map, keywords)
        if isinstance(message, str) and message
    }
    known = {m.id for m in _catalog() if m.id}
    assert sorted(marked - known) == []
