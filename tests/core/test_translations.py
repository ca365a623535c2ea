"""The English translation is complete, current with the source, and what the pages show.

The .po is read with a small pure-Python parser (polib is not a dependency); the source is
scanned the way `makemessages` does (Python through its AST, templates through Django's own
`templatize`), so a string added without a new `makemessages` + translation pass fails here.
"""

import ast
import functools
import gettext
import html
import os
import re
from pathlib import Path

import pytest
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locale" / "en" / "LC_MESSAGES"
# What `makemessages --ignore=.venv --ignore=node_modules --ignore=var --ignore=tests` skips
# (it also skips every folder whose name starts with a dot).
SKIPPED_DIRS = {".venv", "node_modules", "var", "tests"}

_PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")


# --- the .po ----------------------------------------------------------------------------------
def _unquote(parts: list[str]) -> str:
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    raw = "".join(re.fullmatch(r'\s*"(.*)"\s*', part).group(1) for part in parts)
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), raw)


def parse_po(text: str) -> tuple[list[dict], list[str]]:
    """Entries as dicts (msgctxt, msgid, msgid_plural, msgstr or msgstr[N], flags) and obsolete lines."""
    entries, obsolete = [], []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, list[str]] = {}
        flags: set[str] = set()
        current = None
        for line in block.splitlines():
            if line.startswith("#~"):
                obsolete.append(line)
            elif line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith("msg"):
                current, _sep, rest = line.partition(" ")
                fields[current] = [rest]
            elif line.startswith('"') and current:
                fields[current].append(line)
        if "msgid" in fields:
            entry = {key: _unquote(parts) for key, parts in fields.items()}
            entry["flags"] = flags
            entries.append(entry)
    return entries, obsolete


PO_TEXT = (LOCALE / "django.po").read_text(encoding="utf-8")
ALL_ENTRIES, OBSOLETE = parse_po(PO_TEXT)
HEADER = next(e for e in ALL_ENTRIES if e["msgid"] == "" and "msgctxt" not in e)
ENTRIES = [e for e in ALL_ENTRIES if e is not HEADER]


def _translations(entry: dict) -> list[str]:
    return [value for key, value in entry.items() if key.startswith("msgstr")]


def test_the_parser_reads_the_catalogue():
    assert "Language: en" in HEADER["msgstr"]
    assert "nplurals=2" in HEADER["msgstr"]
    assert len(ENTRIES) > 500
    masuk = next(e for e in ENTRIES if e["msgid"] == "Masuk")
    assert masuk["msgstr"] == "Sign in"
    plurals = [e for e in ENTRIES if "msgid_plural" in e]
    assert plurals and all({"msgstr[0]", "msgstr[1]"} <= e.keys() for e in plurals)


def test_every_entry_is_translated_and_none_is_fuzzy_or_obsolete():
    untranslated = [
        e["msgid"] for e in ENTRIES if not all(_translations(e)) or not _translations(e)
    ]
    fuzzy = [e["msgid"] for e in ENTRIES if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []
    assert OBSOLETE == []


def test_placeholders_in_the_translation_are_those_of_the_source():
    problems = []
    for entry in ENTRIES:
        singular = sorted(_PLACEHOLDER.findall(entry["msgid"]))
        if "msgid_plural" in entry:
            plural = sorted(_PLACEHOLDER.findall(entry["msgid_plural"]))
            # Named placeholders may be dropped in the singular ("one day"), never invented.
            allowed = set(singular) | set(plural)
            for key in ("msgstr[0]", "msgstr[1]"):
                found = _PLACEHOLDER.findall(entry[key])
                if not set(found) <= allowed or (key == "msgstr[1]" and sorted(found) != plural):
                    problems.append((entry["msgid"], entry[key]))
        elif sorted(_PLACEHOLDER.findall(entry["msgstr"])) != singular:
            problems.append((entry["msgid"], entry["msgstr"]))
    assert problems == []


def test_the_compiled_catalogue_is_the_po():
    with (LOCALE / "django.mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    stale = []
    for entry in ENTRIES:
        context = entry.get("msgctxt")
        if "msgid_plural" in entry:
            got = [
                catalogue.npgettext(context, entry["msgid"], entry["msgid_plural"], n)
                if context
                else catalogue.ngettext(entry["msgid"], entry["msgid_plural"], n)
                for n in (1, 2)
            ]
            want = [entry["msgstr[0]"], entry["msgstr[1]"]]
        else:
            got = (
                catalogue.pgettext(context, entry["msgid"])
                if context
                else catalogue.gettext(entry["msgid"])
            )
            want = entry["msgstr"]
        if got != want:
            stale.append((entry["msgid"], got, want))
    assert stale == [], "run `manage.py compilemessages` after editing the .po"


# --- the source -------------------------------------------------------------------------------
_PY_KEYWORDS = {
    # name: (index of msgctxt or None, indexes of msgid / msgid_plural) as in Django's makemessages
    "_": (None, (0,)),
    "gettext": (None, (0,)),
    "gettext_lazy": (None, (0,)),
    "gettext_noop": (None, (0,)),
    "ngettext": (None, (0, 1)),
    "ngettext_lazy": (None, (0, 1)),
    "pgettext": (0, (1,)),
    "pgettext_lazy": (0, (1,)),
    "npgettext": (0, (1, 2)),
    "npgettext_lazy": (0, (1, 2)),
}
# `templatize` writes each string with repr(): in single quotes, or double ones if it holds a '.
_TEMPLATE_STRING_RE = r"""u?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_TEMPLATE_CALL = re.compile(
    rf"\b(npgettext|pgettext|ngettext|gettext)\(((?:\s*{_TEMPLATE_STRING_RE}\s*,?)+)"
)
_TEMPLATE_STRING = re.compile(_TEMPLATE_STRING_RE)


def _source_files(*suffixes: str):
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(suffixes):
                path = Path(folder) / name
                yield path.relative_to(ROOT), path


@functools.cache
def _python_messages() -> tuple:
    return tuple(_scan_python())


@functools.cache
def _template_messages() -> tuple:
    return tuple(_scan_templates())


def _scan_python():
    for relative, path in _source_files(".py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(relative))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = (
                node.func.id
                if isinstance(node.func, ast.Name)
                else getattr(node.func, "attr", None)
            )
            if name not in _PY_KEYWORDS:
                continue
            context_at, ids_at = _PY_KEYWORDS[name]
            args = node.args
            wanted = ([context_at] if context_at is not None else []) + list(ids_at)
            if len(args) <= max(wanted) or not all(
                isinstance(args[i], ast.Constant) and isinstance(args[i].value, str) for i in wanted
            ):
                continue  # a call on a variable: nothing to extract (as for xgettext)
            context = args[context_at].value if context_at is not None else None
            yield f"{relative}:{node.lineno}", context, args[ids_at[0]].value


def _scan_templates():
    for relative, path in _source_files(".html", ".txt"):
        code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        for match in _TEMPLATE_CALL.finditer(code):
            strings = [ast.literal_eval(s) for s in _TEMPLATE_STRING.findall(match.group(2))]
            context = strings[0] if match.group(1).startswith(("p", "np")) else None
            msgid = strings[1] if context is not None else strings[0]
            yield str(relative), context, msgid


def test_the_scan_finds_strings_of_both_kinds():
    python = _python_messages()
    templates = _template_messages()
    assert len(python) > 200 and len(templates) > 200
    assert any(msgid == "Masuk" for _where, _ctx, msgid in python + templates)


def test_every_string_in_the_source_is_in_the_catalogue():
    known = {(e.get("msgctxt"), e["msgid"]) for e in ENTRIES}
    missing = sorted(
        {
            (where, msgid)
            for where, context, msgid in [*_python_messages(), *_template_messages()]
            if msgid and (context, msgid) not in known
        }
    )
    assert missing == [], (
        "new strings: run `manage.py makemessages -l en --ignore=.venv --ignore=node_modules "
        "--ignore=var --ignore=tests`, translate them, then `compilemessages`"
    )


def test_the_catalogue_holds_nothing_the_source_no_longer_has():
    in_source = {
        (context, msgid) for _where, context, msgid in [*_python_messages(), *_template_messages()]
    }
    leftover = sorted(
        (e.get("msgctxt") or "", e["msgid"])
        for e in ENTRIES
        if (e.get("msgctxt"), e["msgid"]) not in in_source
    )
    assert leftover == [], "run `manage.py makemessages` (same options) to drop them"


# --- the pages --------------------------------------------------------------------------------
_CATALOGUE = {e["msgid"]: e["msgstr"] for e in ENTRIES if "msgctxt" not in e and "msgstr" in e}
# Words that only Indonesian text has; none may be visible once English is chosen.
_INDONESIAN = re.compile(
    r"\b(yang|untuk|tidak|belum|sudah|dengan|atau|peserta|tunggakan|kabupaten|janji|iuran|"
    r"masuk|simpan|unduh|jalankan|pengaturan|keluarga)\b",
    re.IGNORECASE,
)


def _visible_text(content: str) -> str:
    content = re.sub(r"<(script|style)\b.*?</\1>", " ", content, flags=re.S | re.I)
    content = re.sub(r"<[^>]+>", " ", content)
    return html.unescape(content)


def _in_english(client, url: str) -> str:
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Language"] == "en"
    return response.content.decode()


def _assert_english(content: str, msgids: list[str]):
    for msgid in msgids:
        assert html.escape(_CATALOGUE[msgid]) in content or _CATALOGUE[msgid] in content, msgid
    text = _visible_text(content)
    # The names of places and the product name are not translated.
    text = text.replace("Satu untuk Satu", "").replace("Bahasa Indonesia", "")
    assert _INDONESIAN.findall(text) == []


@pytest.mark.django_db
def test_the_sign_in_page_in_both_languages(client):
    indonesian = client.get("/accounts/login/").content.decode()
    assert "Masuk" in indonesian
    english = _in_english(client, "/accounts/login/")
    assert "Sign in" in english
    _assert_english(english, ["Masuk"])


@pytest.mark.django_db
def test_a_failed_sign_in_explains_itself_in_english(client, admin_a):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.post(
        "/accounts/login/", {"login": admin_a.email, "password": "not the password"}
    )
    assert response.status_code == 200
    text = _visible_text(response.content.decode())
    assert "incorrect" in text.lower() or "not correct" in text.lower()
    assert (
        _INDONESIAN.findall(text.replace("Satu untuk Satu", "").replace("Bahasa Indonesia", ""))
        == []
    )


@pytest.mark.django_db
def test_the_regency_dashboard_in_english(client, admin_a, regency_a):
    client.force_login(admin_a)
    content = _in_english(client, f"/r/{regency_a.slug}/")
    _assert_english(content, ["Tunggakan", "Peserta menunggak", "Total tunggakan"])


@pytest.mark.django_db
def test_the_reconciliation_page_in_english(client, admin_a, regency_a):
    client.force_login(admin_a)
    content = _in_english(client, f"/r/{regency_a.slug}/reconciliation/")
    _assert_english(content, ["Jalankan rekonsiliasi sekarang", "Terverifikasi", "Unduh XLSX"])
