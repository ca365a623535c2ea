"""The English translation is complete and the committed .mo matches the .po."""

import gettext
import re
from pathlib import Path

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES"
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _unquote(block: str) -> str:
    raw = "".join(_STRING.findall(block))
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), raw)


def _entries() -> list[dict]:
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    entries = []
    for block in text.split("\n\n"):
        if block.startswith("#~") or "\nmsgid " not in "\n" + block:
            continue
        fields: dict[str, str] = {}
        current = None
        for line in block.splitlines():
            if line.startswith("#,"):
                fields["flags"] = line
            elif line.startswith("msg"):
                current, _sep, rest = line.partition(" ")
                fields[current] = rest
            elif line.startswith('"') and current:
                fields[current] += "\n" + line
        entries.append({key: (_unquote(v) if key != "flags" else v) for key, v in fields.items()})
    return [e for e in entries if e.get("msgid")]


ENTRIES = _entries()


def test_there_are_many_entries():
    assert len(ENTRIES) > 500


def test_every_entry_is_translated_with_the_same_placeholders():
    problems = []
    for entry in ENTRIES:
        translations = [v for k, v in entry.items() if k.startswith("msgstr")]
        allowed = set(_PLACEHOLDER.findall(entry["msgid"] + entry.get("msgid_plural", "")))
        if "fuzzy" in entry.get("flags", ""):
            problems.append(("fuzzy", entry["msgid"]))
        elif not translations or not all(translations):
            problems.append(("untranslated", entry["msgid"]))
        elif any(not set(_PLACEHOLDER.findall(t)) <= allowed for t in translations):
            problems.append(("placeholders", entry["msgid"]))
    assert problems == []


def test_the_compiled_catalogue_matches_the_po():
    with (LOCALE / "django.mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    for entry in ENTRIES:
        if "msgid_plural" in entry:
            assert catalogue.ngettext(entry["msgid"], entry["msgid_plural"], 1) == entry["msgstr[0]"]
        elif "msgctxt" not in entry:
            assert catalogue.gettext(entry["msgid"]) == entry["msgstr"]
