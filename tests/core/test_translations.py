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
    r"\b(yang|untuk|tidak|belum|sudah|dengan|atau|peserta|tunggakan|kabupaten|kota|janji|iuran|"
    r"masuk|simpan|unduh|jalankan|pengaturan|keluarga|baris|bulan|tahun|kesalahan|jumlah|donatur|"
    r"kampanye|sandi|anda|dan|dari|sampai|sejak|berlaku|hari|"
    r"januari|februari|maret|mei|juni|juli|agustus|oktober|desember)\b",
    re.IGNORECASE,
)
# Words that only English text has; none may be visible in the Indonesian page.
_ENGLISH = re.compile(
    r"\b(the|and|of|with|your|you|row|rows|participants?|pledges?|regency|city|count|settings|"
    r"download|sign|password|errors?|january|february|march|may|june|july|august|october|december)\b",
    re.IGNORECASE,
)


def _without_names(text: str) -> str:
    """The visible text without what is not translated: the product's name, the language names
    and the regencies' proper names ("Kabupaten Luwu Utara", "Kota Palopo")."""
    from regencies.models import Regency

    for regency in Regency.objects.all():
        text = text.replace(str(regency), " ").replace(regency.name, " ")
    for name in ("Satu untuk Satu", "Bahasa Indonesia", "English"):
        text = text.replace(name, " ")
    return text


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
    assert _INDONESIAN.findall(_without_names(_visible_text(content))) == []


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
    assert _INDONESIAN.findall(_without_names(text)) == []


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


# --- formats and stored messages in the reader's language -------------------------------------
def test_dates_numbers_and_money_follow_the_language():
    import datetime as dt

    from django.utils import translation

    from core.formatting import format_date, format_datetime, format_number, format_rupiah

    day = dt.date(2026, 12, 3)
    moment = dt.datetime(2026, 12, 9, 17, 16, tzinfo=dt.UTC)
    makassar = __import__("zoneinfo").ZoneInfo("Asia/Makassar")
    with translation.override("id"):
        assert format_date(day) == "3 Desember 2026"
        assert format_datetime(moment, makassar) == "10 Desember 2026 01.16 WITA"
        assert format_number(5000) == "5.000"
        assert format_rupiah(1_250_000) == "Rp1.250.000"
    with translation.override("en"):
        assert format_date(day) == "3 December 2026"
        assert format_datetime(moment, makassar) == "10 December 2026 01:16 WITA"
        assert format_number(5000) == "5,000"
        assert format_rupiah(-1_250_000) == "-Rp1,250,000"


def test_place_names_keep_kabupaten_and_kota_in_english(regency_a):
    from django.utils import translation

    from regencies.models import Regency

    regency_a.kind = Regency.Kind.KOTA
    with translation.override("en"):
        assert str(regency_a) == "Kota Luwu Utara"
        regency_a.kind = Regency.Kind.KABUPATEN
        assert str(regency_a) == "Kabupaten Luwu Utara"


def test_stored_import_errors_are_read_in_english():
    from django.utils import translation

    from participants.imports.messages import localise

    stored = [
        "NIK harus tepat 16 digit, ditemukan 15 digit.",
        "Nomor KK kosong.",
        "Nomor kartu hanya boleh berisi angka.",
        "Bulan tunggakan tidak wajar: 400 bulan (paling banyak 240).",
    ]
    with translation.override("id"):
        assert [localise(m) for m in stored] == stored
    with translation.override("en"):
        english = [localise(m) for m in stored]
    for message in english:
        assert _INDONESIAN.findall(message) == [], message
    assert "15" in english[0] and "16" in english[0]
    assert english[1] == _CATALOGUE["%(label)s kosong."] % {"label": _CATALOGUE["Nomor KK"]}
    assert "400" in english[3] and "240" in english[3]
    with translation.override("en"):
        assert localise("something no template made") == "something no template made"
        summary = localise("Nomor KK kosong.\nPemrosesan terhenti dua kali (pekerja mati atau basis data "
                           "terputus). Tidak ada data yang diubah. Unggah ulang berkas ini.")
    assert summary.count("\n") == 1 and _INDONESIAN.findall(summary) == []


# --- a page never mixes the two languages -----------------------------------------------------
@pytest.fixture
def world(regency_a, district_a, village_a, branch_a, bpjs_a, admin_a):
    import datetime as dt

    from django.utils import timezone

    from donations.models import Audience, Campaign, CampaignStatus, Kind
    from participants.models import ImportRowError, ImportStatus
    from tests.factories import ArrearsImportFactory, FamilyFactory, ParticipantFactory

    family = FamilyFactory(regency=regency_a, village=village_a)
    people = [
        ParticipantFactory(regency=regency_a, family=family, district=district_a, village=village_a,
                           name=name, months_in_arrears=7, arrears_amount=245_000)
        for name in ("Andi Baso", "Besse Rahma")
    ]
    campaign = Campaign.objects.create(
        regency=regency_a, slug="lutra-peduli", title="Lutra Peduli", audience=Audience.PUBLIC, kind=Kind.BOTH,
        status=CampaignStatus.ACTIVE, starts_on=dt.date(2026, 12, 1), ends_on=None,
    )
    imp = ArrearsImportFactory(
        branch=branch_a, status=ImportStatus.APPLIED, progress=100, rows=5000, valid=4998, invalid=2,
        new=4000, updated=998, error_count=2, finished_at=timezone.now(), regency_counts={"73.22": 4998},
    )
    ImportRowError.objects.create(arrears_import=imp, row=5, column="nik",
                                  message="NIK harus tepat 16 digit, ditemukan 15 digit.", value="732201010180000")
    ImportRowError.objects.create(arrears_import=imp, row=9, column="no_kk", message="Nomor KK kosong.")
    data = [p.name for p in people] + [campaign.title, district_a.name, village_a.name, family.number,
                                       branch_a.name, imp.original_name, admin_a.get_full_name(),
                                       bpjs_a.get_full_name(), admin_a.email, bpjs_a.email]
    return {"campaign": campaign, "import": imp, "data": data}


def _mixed(client, url: str, language: str, data: list[str]) -> list[str]:
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    response = client.get(url)
    assert response.status_code == 200, url
    text = _without_names(_visible_text(response.content.decode()))
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    return (_INDONESIAN if language == "en" else _ENGLISH).findall(text)


@pytest.mark.django_db
def test_main_pages_speak_one_language(client, world, regency_a, branch_a, admin_a, bpjs_a):
    slug = regency_a.slug
    pages = {
        None: ["/accounts/login/", "/accounts/signup/", f"/c/{world['campaign'].slug}/"],
        admin_a: [f"/r/{slug}/", f"/r/{slug}/participants/", f"/r/{slug}/campaigns/", f"/r/{slug}/members/",
                  f"/r/{slug}/settings/", f"/r/{slug}/reconciliation/"],
        bpjs_a: [f"/branches/{branch_a.code}/imports/", f"/branches/{branch_a.code}/imports/{world['import'].pk}/"],
    }
    mixed = {}
    for user, urls in pages.items():
        client.logout()
        if user is not None:
            client.force_login(user)
        for url in urls:
            for language in ("en", "id"):
                words = _mixed(client, url, language, world["data"])
                if words:
                    mixed[(url, language)] = sorted(set(words))
    assert mixed == {}


@pytest.mark.django_db
def test_the_import_report_in_english_has_english_numbers_and_errors(client, world, bpjs_a, branch_a):
    client.force_login(bpjs_a)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    text = _visible_text(client.get(f"/branches/{branch_a.code}/imports/{world['import'].pk}/").content.decode())
    assert "5,000" in text and "5.000" not in text
    assert re.search(r"\brows\b", text) and not re.search(r"\brow\b(?! in)", text.replace("row error", ""))
    assert _CATALOGUE["%(label)s kosong."] % {"label": _CATALOGUE["Nomor KK"]} in text


def test_export_cells_and_headers_follow_the_language():
    from django.utils import translation
    from django.utils.translation import gettext

    from core.exports import Column, csv_lines

    def columns():
        return [Column(gettext("Nomor KK"), lambda r: r[0]), Column(gettext("Dana bersama"), lambda r: r[1])]

    with translation.override("en"):
        english = "".join(csv_lines([("7322", True)], columns()))
    with translation.override("id"):
        indonesian = "".join(csv_lines([("7322", False)], columns()))
    assert _CATALOGUE["Nomor KK"] in english and _CATALOGUE["ya"] in english
    assert "Nomor KK" in indonesian and "tidak" in indonesian
    assert _INDONESIAN.findall(english) == []
