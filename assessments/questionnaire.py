"""The assessment questionnaire: defined here and nowhere else.

Answers are stored as JSON next to the version they were given under, so an
old assessment keeps its meaning when the questions change: a change to keys,
types or choices is a new `QUESTIONNAIRE_VERSION` with its own definition in
`VERSIONS`. `AnswersForm` asks a version's questions as a Django form: the page renders it,
and the page, the API and the submission check all clean answers through it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
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


# --- the questionnaire as a Django form ------------------------------------------------------
#
# Each question becomes a form field; Django cleans the answer and words the error. The same
# form reads a page's POST (strings) and an API's JSON object (typed values), so the fields
# below accept both, and refuse a value of the wrong kind instead of coercing it.

_PRESENT = "__present"  # hidden marker: the form showed this question (unchecked boxes send nothing)


class _OptionIds:
    """Options get ids that say what they are (`q-housing-rented`), not their position."""

    def create_option(self, name: str, value: Any, label: Any, selected: bool, index: Any,
                      subindex: Any = None, attrs: dict | None = None) -> dict[str, Any]:
        option = super().create_option(  # type: ignore[misc]
            name, value, label, selected, index, subindex=subindex, attrs=attrs)
        base = {**self.attrs, **(attrs or {})}.get("id")  # type: ignore[attr-defined]
        if base:
            option["attrs"]["id"] = f"{base}-{value}"
        return option


class _Radios(_OptionIds, forms.RadioSelect):
    pass


class _Checkboxes(_OptionIds, forms.CheckboxSelectMultiple):
    """Ticked boxes; the page's hidden `<key>__present` marker tells "none ticked" from
    "question not on the form"."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if name not in data:
            return [] if f"{name}{_PRESENT}" in data else None
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and f"{name}{_PRESENT}" not in data


class _Checkbox(forms.CheckboxInput):
    """One box that must end up ticked (consent); unticked, with the page's marker, clears the
    answer. Its value is read as sent, so the yes/no field can refuse what is neither."""

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs, check_test=lambda value: value is True or value == "true")

    def format_value(self, value: Any) -> str:
        return "true"

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and f"{name}{_PRESENT}" not in data


class _YesNoField(forms.Field):
    """Yes or no; empty = not answered. Unlike `NullBooleanField`, anything else is an error."""

    YES = frozenset({"true", "1", "ya", "yes", "on"})
    NO = frozenset({"false", "0", "tidak", "no", "off"})
    default_error_messages = {
        "invalid": _("Pilih ya atau tidak."),
        "must_be_true": _("Wajib disetujui."),
    }

    def __init__(self, *, must_be_true: bool = False, **kwargs: Any) -> None:
        self.must_be_true = must_be_true
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> bool | None:
        if value in self.empty_values:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in self.YES:
            return True
        if isinstance(value, str) and value.strip().lower() in self.NO:
            return False
        raise ValidationError(self.error_messages["invalid"], code="invalid")

    def validate(self, value: Any) -> None:
        super().validate(value)
        if self.must_be_true and self.required and value is False:
            raise ValidationError(self.error_messages["must_be_true"], code="must_be_true")

    def prepare_value(self, value: Any) -> Any:
        return {True: "true", False: "false"}.get(value, value) if isinstance(value, bool) else value


class _MultipleChoiceField(forms.MultipleChoiceField):
    """A list of choices (one bare choice is a list of one), kept in the questionnaire's order."""

    def to_python(self, value: Any) -> list[str]:
        return super().to_python([value] if isinstance(value, str) else value)

    def __init__(self, *, choices: tuple[tuple[str, Any], ...], **kwargs: Any) -> None:
        super().__init__(choices=choices, **kwargs)
        self.order = [value for value, _label in choices]

    def clean(self, value: Any) -> list[str]:
        chosen = super().clean(value)
        return [v for v in self.order if v in chosen]


class _TextField(forms.CharField):
    default_error_messages = {"invalid": _("Masukkan teks.")}

    def to_python(self, value: Any) -> str | None:
        if value not in self.empty_values and not isinstance(value, str):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class _DateField(forms.DateField):
    def to_python(self, value: Any) -> dt.date | None:
        if value not in self.empty_values and not isinstance(value, str | dt.date):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


def _field(q: Question, *, required: bool) -> forms.Field:
    """The form field that asks `q`: its widget, choices, bounds and length."""
    common: dict[str, Any] = {"label": q.label, "help_text": q.help, "required": required}
    if required:
        common["error_messages"] = {"required": _("Wajib disetujui.") if q.must_be_true else _("Wajib diisi.")}
    widget_id = f"q-{q.key}-input"
    if q.type == INTEGER:
        return forms.IntegerField(min_value=q.min_value, max_value=q.max_value,
                                  widget=forms.NumberInput(attrs={"id": widget_id, "inputmode": "numeric"}),
                                  **common)
    if q.type == CHOICE:
        return forms.ChoiceField(choices=q.choices, widget=_Radios, **common)
    if q.type == MULTICHOICE:
        return _MultipleChoiceField(choices=q.choices, widget=_Checkboxes, **common)
    if q.type == BOOLEAN and q.must_be_true:
        return _YesNoField(must_be_true=True, widget=_Checkbox(attrs={"id": f"q-{q.key}-yes"}), **common)
    if q.type == BOOLEAN:
        return _YesNoField(widget=_Radios(choices=(("true", _("Ya")), ("false", _("Tidak")))), **common)
    if q.type == DATE:
        return _DateField(input_formats=["%Y-%m-%d"],
                          widget=forms.DateInput(attrs={"id": widget_id, "type": "date"}, format="%Y-%m-%d"),
                          **common)
    if q.type == TEXT:
        return _TextField(max_length=q.max_length, widget=forms.Textarea(attrs={"id": widget_id, "rows": 3}),
                          **common)
    raise ValueError(f"unknown question type {q.type!r}")


class AnswersForm(forms.Form):
    """The questionnaire of one version as a form.

    For a save (the default) only the questions present in `data` are fields, and none is
    required: an empty answer clears the stored one. With `complete=True` every question is
    a field and required questions must be answered (consent must be true): that is the check
    before a submission, run on the stored answers.
    """

    def __init__(self, data: Any = None, *, version: int = QUESTIONNAIRE_VERSION,
                 answers: dict[str, Any] | None = None, complete: bool = False) -> None:
        super().__init__(data, initial=answers or {}, auto_id="q-%s")
        self.questions = questions_by_key(version)
        for q in self.questions.values():
            required = complete and (q.required or q.must_be_true)
            self.fields[q.key] = _field(q, required=required)
            self.fields[q.key].question = q  # type: ignore[attr-defined]  # the template's badges read it
        if data is not None and not complete:
            for name in [n for n, f in self.fields.items() if f.widget.value_omitted_from_data(data, None, n)]:
                del self.fields[name]

    def answers(self) -> dict[str, Any]:
        """The cleaned answers as stored (JSON): None = cleared, dates as TTTT-BB-HH."""
        out: dict[str, Any] = {}
        for key, value in self.cleaned_data.items():
            if value in (None, "", []):
                out[key] = None
            elif isinstance(value, dt.date):
                out[key] = value.isoformat()
            else:
                out[key] = value
        return out

    def labelled_errors(self) -> dict[str, str]:
        """Each wrong answer's errors, after its question's label (for lists and the API)."""
        return {key: f"{self.questions[key].label}: {' '.join(str(e) for e in errors)}"
                for key, errors in self.errors.items()}


def validate_answers(answers: Any, *, version: int = QUESTIONNAIRE_VERSION) -> dict[str, Any]:
    """Check a partial set of answers; returns them cleaned (None = cleared).

    Unknown keys and wrong types raise `AnswerError` naming every bad key.
    """
    if not isinstance(answers, dict):
        raise AnswerError({"answers": str(_("harus berupa objek {kunci: jawaban}"))})
    form = AnswersForm(answers, version=version)
    form.is_valid()
    errors = form.labelled_errors()
    for key in answers:
        if key not in form.questions:
            errors[str(key)] = str(_("pertanyaan tidak dikenal"))
    if errors:
        raise AnswerError(errors)
    return form.answers()


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
    form = AnswersForm(answers or {}, version=version, complete=True)
    form.is_valid()
    return form.labelled_errors()


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
