"""The assessment questionnaire: defined here and nowhere else.

Answers are stored as JSON next to the version they were given under, so an
old assessment keeps its meaning when the questions change: a change to keys,
types or choices is a new `QUESTIONNAIRE_VERSION` with its own definition in
`VERSIONS`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

QUESTIONNAIRE_VERSION = 2

INTEGER = "integer"
CHOICE = "choice"
MULTICHOICE = "multichoice"
BOOLEAN = "boolean"
DATE = "date"
TEXT = "text"


@dataclass(frozen=True)
class Question:
    key: str
    type: str
    label: Any
    required: bool = True
    choices: tuple[tuple[str, Any], ...] = ()
    help: Any = ""
    min_value: int | None = None
    max_value: int | None = None
    max_length: int = 1000
    # Health data: specific personal data (UU 27/2022).
    sensitive: bool = False
    # Must be exactly true before the assessment can be submitted.
    must_be_true: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def choice_values(self) -> list[str]:
        return [value for value, _label in self.choices]

    def as_api(self) -> dict:
        return {
            "key": self.key,
            "type": self.type,
            "required": self.required,
            "choices": [{"value": v, "label": str(label)} for v, label in self.choices],
            "label": str(self.label),
            "help": str(self.help),
            "min": self.min_value,
            "max": self.max_value,
            "sensitive": self.sensitive,
        }


_V1: tuple[Question, ...] = (
    Question("visit_date", DATE, _("Tanggal kunjungan lapangan")),
    Question("household_size", INTEGER, _("Jumlah anggota rumah tangga"), min_value=1, max_value=30),
    Question(
        "dependants", INTEGER, _("Jumlah tanggungan (tidak bekerja)"), min_value=0, max_value=30,
        help=_("Anak, lansia, atau anggota lain yang dibiayai rumah tangga."),
    ),
    Question(
        "main_occupation", CHOICE, _("Pekerjaan utama kepala keluarga"),
        choices=(
            ("farmer", _("Petani/pekebun")),
            ("fisher", _("Nelayan")),
            ("labourer", _("Buruh harian")),
            ("trader", _("Pedagang kecil")),
            ("driver", _("Ojek/sopir")),
            ("entrepreneur", _("Wiraswasta/usaha")),
            ("housewife", _("Mengurus rumah tangga")),
            ("unemployed", _("Tidak bekerja")),
            ("other", _("Lainnya")),
        ),
    ),
    Question(
        "income_band", CHOICE, _("Penghasilan rumah tangga per bulan dibanding UMK"),
        choices=(
            ("below_half", _("Kurang dari ½ UMK")),
            ("half_to_umk", _("½ UMK sampai UMK")),
            ("umk_to_double", _("UMK sampai 2× UMK")),
            ("above_double", _("Lebih dari 2× UMK")),
        ),
    ),
    Question(
        "assets", MULTICHOICE, _("Aset yang dimiliki"), required=False,
        choices=(
            ("motorbike", _("Sepeda motor")),
            ("car", _("Mobil")),
            ("land", _("Tanah/kebun/sawah")),
            ("livestock", _("Ternak")),
            ("jewellery", _("Emas/perhiasan")),
            ("none", _("Tidak ada")),
        ),
    ),
    Question(
        "housing", CHOICE, _("Tempat tinggal"),
        choices=(
            ("own_permanent", _("Milik sendiri, permanen")),
            ("own_simple", _("Milik sendiri, semi/non permanen")),
            ("rented", _("Sewa/kontrak")),
            ("staying", _("Menumpang")),
        ),
    ),
    Question(
        "dtsen_decile", INTEGER, _("Desil DTSEN (jika diketahui)"), required=False,
        min_value=1, max_value=10, help=_("Desil 1–5: usulkan menjadi PBI ke Dinas Sosial."),
    ),
    Question(
        "arrears_reason", CHOICE, _("Alasan menunggak"),
        choices=(
            ("cannot_afford", _("Tidak mampu membayar")),
            ("irregular_income", _("Penghasilan tidak tetap")),
            ("not_sick", _("Merasa belum perlu (tidak sakit)")),
            ("unaware", _("Tidak tahu/lupa cara membayar")),
            ("other", _("Lainnya")),
        ),
    ),
    Question("arrears_reason_note", TEXT, _("Keterangan alasan menunggak"), required=False, max_length=500),
    Question(
        "recent_hospitalisation", BOOLEAN, _("Ada anggota keluarga dirawat inap dalam 12 bulan terakhir"),
        sensitive=True,
    ),
    Question(
        "under_treatment", BOOLEAN, _("Ada anggota keluarga sedang dalam pengobatan rutin"),
        sensitive=True,
    ),
    Question(
        "keep_paying", CHOICE, _("Kesediaan dan kemampuan membayar iuran setelah aktif kembali"),
        choices=(
            ("willing_able", _("Bersedia dan mampu")),
            ("willing_unable", _("Bersedia tetapi belum mampu")),
            ("unwilling", _("Tidak bersedia")),
        ),
    ),
    Question(
        "consent", BOOLEAN, _("Peserta menyetujui pemrosesan data pribadinya (UU 27/2022)"),
        must_be_true=True,
        help=_("Wajib dicentang sebelum diajukan; petugas dan waktunya dicatat."),
    ),
    Question("notes", TEXT, _("Catatan asesor"), required=False, max_length=2000),
)


def _v2() -> tuple[Question, ...]:
    """Version 2 (2026): the DTSEN decile drives the write-off route (empty = not known), and
    whether the household can carry a monthly instalment drives the REHAB route. Keys and
    types of version 1 are unchanged, so version 1 answers read the same."""
    out: list[Question] = []
    for q in _V1:
        if q.key == "dtsen_decile":
            q = Question(
                "dtsen_decile", INTEGER, _("Desil DTSEN rumah tangga (1–10; kosongkan jika tidak tahu)"),
                required=False, min_value=1, max_value=10,
                help=_("Desil 1–4: tunggakan dihapus program pemutihan dan diusulkan PBI; "
                       "desil 5 ke atas dapat mengajukan pemutihan."),
            )
        out.append(q)
        if q.key == "keep_paying":
            out.append(Question(
                "can_pay_instalment", CHOICE, _("Apakah rumah tangga sanggup membayar cicilan bulanan?"),
                required=False, choices=(("yes", _("Ya")), ("no", _("Tidak"))),
                help=_("Jika ya dan menunggak 4–24 bulan: rujuk ke program REHAB BPJS Kesehatan."),
            ))
            out.append(Question(
                "instalment_capacity", INTEGER, _("Jika ya: sanggup berapa per bulan (Rp)?"),
                required=False, min_value=0, max_value=100_000_000,
            ))
    return tuple(out)


_V2 = _v2()

VERSIONS: dict[int, tuple[Question, ...]] = {1: _V1, 2: _V2}


def questions(version: int = QUESTIONNAIRE_VERSION) -> tuple[Question, ...]:
    return VERSIONS[version]


def questions_by_key(version: int = QUESTIONNAIRE_VERSION) -> dict[str, Question]:
    return {q.key: q for q in questions(version)}


class AnswerError(Exception):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def _clean_value(q: Question, value: Any) -> Any:
    """One answer in its stored form, or ValueError with a message for people."""
    if value is None or value == "" or value == []:
        return None
    if q.type == INTEGER:
        if isinstance(value, bool):
            raise ValueError(_("harus berupa bilangan bulat"))
        if isinstance(value, str):
            value = value.strip()
            if not value.lstrip("-").isdigit():
                raise ValueError(_("harus berupa bilangan bulat"))
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise ValueError(_("harus berupa bilangan bulat"))
        if q.min_value is not None and value < q.min_value:
            raise ValueError(_("paling kecil %(n)s") % {"n": q.min_value})
        if q.max_value is not None and value > q.max_value:
            raise ValueError(_("paling besar %(n)s") % {"n": q.max_value})
        return value
    if q.type == CHOICE:
        if not isinstance(value, str) or value not in q.choice_values:
            raise ValueError(_("pilihan tidak dikenal; pilih salah satu dari %(c)s") % {"c": ", ".join(q.choice_values)})
        return value
    if q.type == MULTICHOICE:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(_("harus berupa daftar pilihan"))
        unknown = [v for v in value if v not in q.choice_values]
        if unknown:
            raise ValueError(_("pilihan tidak dikenal: %(u)s") % {"u": ", ".join(unknown)})
        # Keep the questionnaire's order, drop repeats.
        return [v for v in q.choice_values if v in value]
    if q.type == BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "1", "ya", "on", "yes"}:
            return True
        if isinstance(value, str) and value.lower() in {"false", "0", "tidak", "off", "no"}:
            return False
        raise ValueError(_("harus ya atau tidak (true/false)"))
    if q.type == DATE:
        if not isinstance(value, str):
            raise ValueError(_("harus berupa tanggal TTTT-BB-HH"))
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(_("harus berupa tanggal TTTT-BB-HH")) from None
        return day.isoformat()
    if q.type == TEXT:
        if not isinstance(value, str):
            raise ValueError(_("harus berupa teks"))
        value = value.strip()
        if len(value) > q.max_length:
            raise ValueError(_("paling banyak %(n)s karakter") % {"n": q.max_length})
        return value or None
    raise ValueError(_("jenis pertanyaan tidak dikenal"))


def validate_answers(answers: Any, *, version: int = QUESTIONNAIRE_VERSION) -> dict[str, Any]:
    """Check a partial set of answers; returns them cleaned (None = cleared).

    Unknown keys and wrong types raise `AnswerError` naming every bad key.
    """
    if not isinstance(answers, dict):
        raise AnswerError({"answers": str(_("harus berupa objek {kunci: jawaban}"))})
    by_key = questions_by_key(version)
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for key, value in answers.items():
        q = by_key.get(key)
        if q is None:
            errors[str(key)] = str(_("pertanyaan tidak dikenal"))
            continue
        try:
            cleaned[key] = _clean_value(q, value)
        except ValueError as exc:
            errors[key] = f"{q.label}: {exc}"
    if errors:
        raise AnswerError(errors)
    return cleaned


def merge_answers(current: dict, cleaned: dict) -> dict:
    merged = dict(current or {})
    for key, value in cleaned.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def missing_for_submit(answers: dict, *, version: int = QUESTIONNAIRE_VERSION) -> dict[str, str]:
    """What stops a submission: required answers not given, consent not true."""
    missing: dict[str, str] = {}
    for q in questions(version):
        value = (answers or {}).get(q.key)
        if q.must_be_true and value is not True:
            missing[q.key] = str(_("%(label)s: wajib disetujui") % {"label": q.label})
        elif q.required and (value is None or value == "" or value == []):
            missing[q.key] = str(_("%(label)s: wajib diisi") % {"label": q.label})
    return missing


def form_to_answers(data, *, version: int = QUESTIONNAIRE_VERSION) -> dict[str, Any]:
    """A submitted HTML form (QueryDict) as raw answers for `validate_answers`.

    Only keys of the questionnaire are read; an unchecked checkbox is `false`
    when its hidden `<key>__present` marker came with the form.
    """
    raw: dict[str, Any] = {}
    for q in questions(version):
        if q.type == MULTICHOICE:
            if q.key in data or f"{q.key}__present" in data:
                raw[q.key] = data.getlist(q.key)
        elif q.type == BOOLEAN:
            if q.key in data:
                raw[q.key] = data.get(q.key)
            elif f"{q.key}__present" in data:
                raw[q.key] = None
        elif q.key in data:
            raw[q.key] = data.get(q.key)
    return raw


def display_answer(q: Question, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "–"
    if q.type == CHOICE:
        return str(dict(q.choices).get(value, value))
    if q.type == MULTICHOICE:
        labels = dict(q.choices)
        return ", ".join(str(labels.get(v, v)) for v in value)
    if q.type == BOOLEAN:
        return str(_("Ya")) if value else str(_("Tidak"))
    if q.type == DATE:
        from core.formatting import format_date

        try:
            return format_date(dt.date.fromisoformat(value))
        except (TypeError, ValueError):
            return str(value)
    return str(value)
