"""Normalise and validate a chunk of raw arrears rows with polars expressions (no per-row Python).

`normalise_chunk(raw)` takes a frame with `row_number` and one String column
per canonical column present in the file, as read, and returns the rows with the
staging columns (`STAGING_COLUMN_NAMES`, normalised) plus `_ok`, and an error
frame `row, column, message, value` with one line per problem.

Two paths, one result: rows whose every cell is already in canonical form
(13-digit card, 16-digit NIK, `DD-MM-YYYY`/ISO dates, `73.22.01.2001`, plain
integers, ...) take a fast path of one cheap check per cell; the rest are
trimmed (blank rows dropped) and go through every rule below, in stages so that
each expression is computed once, and messages are built only for failing cells.

Rules of the arrears file:
- no_kartu: digits only (surrounding spaces, a leading apostrophe and a `.0`
  from a spreadsheet number are dropped), left-padded with zeros to 13; more
  than 13 digits, other characters or scientific notation are errors.
- nik / no_kk: exactly 16 digits. Scientific notation (`7.32207E+15`) is damaged
  data. A value that came through as a number (`7322012345678901.0`) is kept
  only when it still has 16 significant digits: Excel keeps 15, so a numeric
  NIK whose last digit is 0, or that has fewer digits, is damaged. no_kk may be
  empty.
- dates: `DD-MM-YYYY`, `DD/MM/YYYY`, `YYYY-MM-DD` (a time part is ignored);
  native XLSX dates arrive as ISO text; years outside 1900-2100 are errors.
- rupiah: `Rp`, spaces and apostrophes are ignored. A `.` or `,` followed by
  exactly three digits is a thousands separator; a `.` or `,` followed by one or
  two digits at the end is the decimal separator (`1.250.000`, `1,250,000`,
  `Rp1.250.000,00`, `1250000.0`). Anything else (e.g. `1250000.000`,
  `1.25.000`) is not recognised. The fraction must be zero: BPJS bills whole
  rupiah, so `1.250.000,50` is an error, not rounded. Negative is an error.
- bulan_tunggak: whole number 0..600 (`12.0` accepted).
- kode_wilayah: `73.22`, `7322`, `73.22.01`, `732201`, `73.22.01.2001`,
  `7322012001` (or a spreadsheet number `7322.0`) -> regency, district and
  village codes; a regency outside the branch is an error naming the code.
- kelas: 1/2/3, I/II/III, `KELAS 3`, `KLS III`, `3.0`; an empty cell is an error;
  a file without the column gets class 3 (the PBPU class nearly all arrears are in).
- segmen: PBPU (also MANDIRI, "PEKERJA BUKAN PENERIMA UPAH") or BP ("BUKAN
  PEKERJA"); an empty cell is an error; a file without the column gets PBPU.
- status_peserta: AKTIF -> active; TIDAK AKTIF, NON AKTIF, NONAKTIF -> inactive;
  empty -> inactive; anything else is an error.
- pemutihan / rehab (optional, 2026): Y, YA, YES, 1, TRUE (also `1.0`) -> true; N, TIDAK,
  TDK, NO, 0, FALSE (also `0.0`) -> false; empty -> null (unknown), as is a file without the
  column; case-insensitive; anything else is an error.
- sisa_cicilan (optional, 2026): whole number 0..24 (`3.0` accepted); empty -> null.
- segmen also PBI (PBI APBN, PBI APBD, PBI JK, PENERIMA BANTUAN IURAN): the participant has
  moved to PBI.
Rows billed above 24 months (`bill_warnings`) are accepted, and flagged as warnings.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from django.utils.translation import gettext as _

from participants.imports.columns import STAGING_COLUMN_NAMES
from participants.imports.problems import VALUE_MAX_CHARS

MAX_MONTHS = 600
MAX_INSTALMENTS = 24  # sisa_cicilan: REHAB has at most 12; a list may count the months owed
# At most 24 months of arrears are billed. A row above it is accepted, with a warning.
BILLED_MONTHS = 24
MAX_AMOUNT_DIGITS = 13  # Rp9,9 triliun: far beyond any participant's arrears

def _variants(mapping: dict[str, object]) -> dict[str, object]:
    """Each key also with `-`/`_`/no space between its words: one hash lookup instead of regexes."""
    out: dict[str, object] = {}
    for key, value in mapping.items():
        words = key.split()
        for sep in (" ", "-", "_", "", "  "):
            out[sep.join(words)] = value
    return out


SEX = _variants({"L": "L", "LAKI LAKI": "L", "LAKI": "L", "LAKI2": "L", "LK": "L", "PRIA": "L",
                 "P": "P", "PEREMPUAN": "P", "PR": "P", "WANITA": "P"})
RELATIONSHIP = _variants({
    "PESERTA": "PESERTA", "KEPALA KELUARGA": "PESERTA", "KEPALA": "PESERTA",
    "SUAMI": "SUAMI", "ISTRI": "ISTRI", "ISTERI": "ISTRI", "ANAK": "ANAK", "ANAK KANDUNG": "ANAK",
    "FAMILI LAIN": "FAMILI LAIN", "FAMILY LAIN": "FAMILI LAIN", "FAMILI": "FAMILI LAIN",
    "LAINNYA": "FAMILI LAIN",
})
CARE_CLASS = {
    f"{prefix}{value}": number
    for number, values in ((1, ("1", "I", "1.0")), (2, ("2", "II", "2.0")), (3, ("3", "III", "3.0")))
    for value in values
    for prefix in ("", "KELAS ", "KELAS", "KELAS. ", "KLS ", "KLS", "KLS. ", "KLS.")
}
SEGMENT = _variants({"PBPU": "PBPU", "BP": "BP", "MANDIRI": "PBPU", "PEKERJA BUKAN PENERIMA UPAH": "PBPU",
                     "BUKAN PEKERJA": "BP", "PBI": "PBI", "PBI APBN": "PBI", "PBI APBD": "PBI", "PBI JK": "PBI",
                     "PENERIMA BANTUAN IURAN": "PBI"})
# pemutihan / rehab: yes, no (empty = unknown)
FLAG = _variants({"Y": True, "YA": True, "YES": True, "1": True, "1.0": True, "TRUE": True,
                     "N": False, "TIDAK": False, "TDK": False, "NO": False, "0": False, "0.0": False,
                     "FALSE": False})
STATUS = _variants({"AKTIF": "active", "TIDAK AKTIF": "inactive", "NON AKTIF": "inactive",
                    "TDK AKTIF": "inactive", "TIDAK AKTIP": "inactive"})

TEXT_LIMITS = {"nama": 150, "kecamatan": 100, "desa": 100, "alamat": 255}

_NONE = pl.lit(None, dtype=pl.String)
_SCIENTIFIC = r"(?i)^[+-]?[0-9]+([.,][0-9]*)?e[+-]?[0-9]+$"


def clean_raw(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Trim every cell (Unicode spaces too); an empty cell becomes null. Keeps the originals as `_raw_<name>`."""
    exprs = []
    for name in names:
        stripped = pl.col(name).str.strip_chars()
        exprs.append(pl.when(stripped.str.len_bytes() > 0).then(stripped).alias(name))
        exprs.append(pl.col(name).alias(f"_raw_{name}"))
    return frame.with_columns(exprs)


def message_expr(template: str, *parts: pl.Expr) -> pl.Expr:
    """A translated message with `{}` placeholders filled from expressions, per row."""
    pieces = template.split("{}")
    items: list[pl.Expr] = []
    for i, piece in enumerate(pieces):
        if piece:
            items.append(pl.lit(piece))
        if i < len(parts):
            items.append(parts[i].cast(pl.String))
    return pl.concat_str(items)


@dataclass
class Check:
    """How one canonical column becomes staging values, in stages that each compute once.

    `prep`: helper columns (`_p_...`) from the trimmed cell. `values`: staging
    columns (null when invalid). `ok`: true when the cell is valid (or legitimately
    empty). `error`: the message, evaluated only on the rows where `ok` is false.
    """

    column: str
    prep: list[pl.Expr]
    values: list[pl.Expr]
    ok: pl.Expr
    error: pl.Expr


def _p(name: str, part: str) -> str:
    return f"_p_{name}_{part}"


def _digits_id(name: str, target: str, *, label: str, required: bool) -> Check:
    """NIK and KK: 16 digits; scientific notation and 15-digit spreadsheet numbers are damaged."""
    t = pl.col(name)
    v = t.str.strip_chars_start("'")
    digits, floaty = pl.col(_p(name, "d")), pl.col(_p(name, "f"))
    n = digits.str.len_chars()
    valid = digits.str.contains(r"^\d{16}$") & ~(floaty & digits.str.ends_with("0"))
    error = (
        pl.when(t.is_null()).then(pl.lit(_("%(label)s kosong.") % {"label": label}))
        .when(v.str.contains(_SCIENTIFIC)).then(pl.lit(
            _("%(label)s rusak: tertulis dalam notasi ilmiah (mis. 7.32207E+15) sehingga digit terakhirnya "
              "hilang. Format kolom sebagai teks di Excel lalu ekspor ulang.") % {"label": label}))
        .when(floaty & ((n < 16) | digits.str.ends_with("0"))).then(pl.lit(
            _("%(label)s rusak: tersimpan sebagai angka dengan kurang dari 16 digit bermakna (Excel hanya "
              "menyimpan 15 digit). Format kolom sebagai teks di Excel lalu ekspor ulang.") % {"label": label}))
        .when(~digits.str.contains(r"^\d+$")).then(pl.lit(_("%(label)s hanya boleh berisi angka.") % {"label": label}))
        .otherwise(message_expr(_("%(label)s harus tepat 16 digit, ditemukan {} digit.") % {"label": label}, n))
    )
    return Check(
        column=name,
        prep=[v.str.strip_suffix(".0").alias(_p(name, "d")), v.str.ends_with(".0").alias(_p(name, "f"))],
        values=[pl.when(valid).then(digits).when(t.is_null()).then(pl.lit("")).alias(target)],
        ok=valid | (t.is_null() & (not required)),
        error=error,
    )


def _date(name: str, target: str, *, label: str) -> Check:
    t = pl.col(name)
    # A time part (`2026-01-31 00:00:00`, from a spreadsheet) is ignored.
    d = pl.when(t.str.len_bytes() > 10).then(t.str.extract(r"^(\S{8,10})[ T]\d{1,2}[:.]\d{2}", 1)).otherwise(t)
    parsed = pl.col(_p(name, "d"))
    plausible = parsed.dt.year().is_between(1900, 2100)
    error = (
        pl.when(parsed.is_null()).then(pl.lit(
            _("%(label)s tidak dikenali: gunakan DD-MM-YYYY, DD/MM/YYYY atau YYYY-MM-DD.") % {"label": label}))
        .otherwise(message_expr(_("%(label)s tidak wajar: tahun {}.") % {"label": label}, parsed.dt.year()))
    )
    return Check(
        column=name,
        prep=[pl.coalesce(
            d.str.to_date("%Y-%m-%d", strict=False),
            d.str.to_date("%d-%m-%Y", strict=False),
            d.str.to_date("%d/%m/%Y", strict=False),
        ).alias(_p(name, "d"))],
        values=[pl.when(plausible).then(parsed).alias(target)],
        ok=t.is_null() | plausible.fill_null(False),
        error=error,
    )


def _mapped(name: str, target: str, mapping: dict, *, fold: pl.Expr, dtype: pl.DataType | type[pl.DataType], message: str,
            empty_message: str | None, default: object) -> Check:
    t = pl.col(name)
    mapped = pl.col(_p(name, "m"))
    return Check(
        column=name,
        prep=[fold.replace_strict(mapping, default=None, return_dtype=dtype).alias(_p(name, "m"))],
        values=[pl.when(t.is_null()).then(pl.lit(default, dtype=dtype)).otherwise(mapped).alias(target)],
        ok=mapped.is_not_null() | (t.is_null() & (empty_message is None)),
        error=pl.when(t.is_null()).then(pl.lit(empty_message or message)).otherwise(pl.lit(message)),
    )


def _upper(name: str) -> pl.Expr:
    return pl.col(name).str.to_uppercase()


def _text(name: str, target: str, *, label: str, required: bool) -> Check:
    t = pl.col(name)
    v = pl.col(_p(name, "v"))
    limit = TEXT_LIMITS[name]
    length = v.str.len_chars()
    return Check(
        column=name,
        prep=[(t.str.replace_all(r"\s+", " ") if name == "nama" else t).alias(_p(name, "v"))],
        values=[v.fill_null("").alias(target)],
        ok=(length <= limit) if required else (t.is_null() | (length <= limit)),
        error=pl.when(t.is_null()).then(pl.lit(_("%(label)s kosong.") % {"label": label})).otherwise(message_expr(
            _("%(label)s terlalu panjang: {} karakter, paling banyak %(limit)s.") % {"label": label, "limit": limit},
            length)),
    )


def _card_number() -> Check:
    t = pl.col("no_kartu")
    v = pl.col(_p("no_kartu", "v"))
    ok = v.str.contains(r"^\d{1,13}$")
    return Check(
        column="no_kartu",
        prep=[t.str.strip_chars_start("'").str.strip_suffix(".0").alias(_p("no_kartu", "v"))],
        values=[pl.when(ok).then(v.str.pad_start(13, "0")).alias("card_number")],
        ok=ok.fill_null(False),
        error=(
            pl.when(t.is_null()).then(pl.lit(_("Nomor kartu kosong.")))
            .when(v.str.contains(_SCIENTIFIC)).then(pl.lit(
                _("Nomor kartu rusak: tertulis dalam notasi ilmiah. Format kolom sebagai teks di Excel lalu "
                  "ekspor ulang.")))
            .when(~v.str.contains(r"^\d+$")).then(pl.lit(_("Nomor kartu hanya boleh berisi angka.")))
            .otherwise(message_expr(_("Nomor kartu paling banyak 13 digit, ditemukan {} digit."), v.str.len_chars()))
        ),
    )


def _region(regency_codes: set[str]) -> tuple[Check, list[pl.Expr]]:
    t = pl.col("kode_wilayah")
    k = t.str.strip_chars_start("'").str.strip_suffix(".0")
    form = k.str.contains(r"^\d{2}\.?\d{2}(\.?\d{2}(\.?\d{4})?)?$")
    d = pl.col(_p("kode_wilayah", "d"))
    regency = pl.col("regency_code")
    district = pl.col("district_code")
    allowed = sorted(regency_codes)
    return Check(
        column="kode_wilayah",
        prep=[pl.when(form).then(k.str.replace_all(".", "", literal=True)).alias(_p("kode_wilayah", "d"))],
        values=[
            pl.concat_str([d.str.slice(0, 2), pl.lit("."), d.str.slice(2, 2)]).alias("regency_code"),
            pl.when(d.str.len_bytes() >= 6).then(
                pl.concat_str([d.str.slice(0, 2), pl.lit("."), d.str.slice(2, 2), pl.lit("."), d.str.slice(4, 2)])
            ).otherwise(pl.lit("")).alias("district_code"),
        ],
        ok=regency.is_in(allowed).fill_null(False),
        error=(
            pl.when(t.is_null()).then(pl.lit(_("Kode wilayah kosong.")))
            .when(d.is_null()).then(pl.lit(
                _("Kode wilayah tidak dikenali: gunakan 73.22, 7322, 73.22.01 atau 73.22.01.2001.")))
            .otherwise(message_expr(
                _("Kode wilayah {} berada di luar wilayah cabang ini (%(codes)s).")
                % {"codes": ", ".join(allowed) or "-"}, regency))
        ),
    ), [
        # needs district_code: a later stage
        pl.when(d.str.len_bytes() == 10).then(pl.concat_str([district, pl.lit("."), d.str.slice(6, 4)]))
        .otherwise(pl.lit("")).alias("village_code"),
    ]


def _whole_number(name: str, target: str, *, digits: int, dtype: type[pl.DataType], highest: int,
                  empty: str | None, negative: str, not_whole: str, too_large: str) -> Check:
    """A whole number 0..`highest` (a trailing `.0` from a spreadsheet is dropped). `empty` is the
    message for an empty cell; None: an empty cell is allowed (null). `too_large` has a `{}` for
    the value."""
    t = pl.col(name)
    m = pl.col(_p(name, "m"))
    n = pl.col(target)
    within = (n <= highest).fill_null(False)
    error = (
        pl.when(m.str.contains(r"^-\d+$")).then(pl.lit(negative))
        .when(n.is_null()).then(pl.lit(not_whole))
        .otherwise(message_expr(too_large, n))
    )
    return Check(
        column=name,
        prep=[t.str.strip_suffix(".0").alias(_p(name, "m"))],
        values=[pl.when(m.str.contains(rf"^\d{{1,{digits}}}$")).then(m.cast(dtype, strict=False)).alias(target)],
        ok=within if empty is not None else t.is_null() | within,
        error=error if empty is None else pl.when(t.is_null()).then(pl.lit(empty)).otherwise(error),
    )


def _months() -> Check:
    return _whole_number(
        "bulan_tunggak", "months_in_arrears", digits=6, dtype=pl.Int32, highest=MAX_MONTHS,
        empty=_("Bulan tunggakan kosong."),
        negative=_("Bulan tunggakan tidak boleh negatif."),
        not_whole=_("Bulan tunggakan harus bilangan bulat, mis. 12."),
        too_large=_("Bulan tunggakan tidak wajar: {} bulan (paling banyak %(max)s).") % {"max": MAX_MONTHS},
    )


def _amount() -> tuple[Check, list[pl.Expr]]:
    t = pl.col("jumlah_tunggakan")
    a = pl.col(_p("jumlah_tunggakan", "a"))
    form = pl.col(_p("jumlah_tunggakan", "form"))
    whole = pl.col(_p("jumlah_tunggakan", "w"))
    fraction = pl.col(_p("jumlah_tunggakan", "f"))
    # form: 1 plain digits, 2 `1.250.000(,00)`, 3 `1,250,000(.00)`, 4 `1250000.0`, 5 `1250000,00`
    forms = (
        pl.when(a.str.contains(r"^\d+$")).then(1)
        .when(a.str.contains(r"^\d{1,3}(\.\d{3})+(,\d+)?$")).then(2)
        .when(a.str.contains(r"^\d{1,3}(,\d{3})+(\.\d+)?$")).then(3)
        .when(a.str.contains(r"^\d+\.\d{1,2}$")).then(4)
        .when(a.str.contains(r"^\d+,\d{1,2}$")).then(5)
    )
    no_zeros = whole.str.replace(r"^0+(\d)", "${1}")
    valid = form.is_not_null() & ~fraction.str.contains(r"[1-9]").fill_null(False) & (
        no_zeros.str.len_chars() <= MAX_AMOUNT_DIGITS)
    return Check(
        column="jumlah_tunggakan",
        prep=[t.str.to_uppercase().str.replace_all(r"RP\.?|IDR|[\s']", "").alias(_p("jumlah_tunggakan", "a"))],
        values=[
            forms.alias(_p("jumlah_tunggakan", "form")),
        ],
        ok=valid.fill_null(False),
        error=(
            pl.when(t.is_null()).then(pl.lit(_("Jumlah tunggakan kosong.")))
            .when(a.str.starts_with("-")).then(pl.lit(_("Jumlah tunggakan tidak boleh negatif.")))
            .when(form.is_null()).then(pl.lit(
                _("Jumlah tunggakan tidak dikenali: tulis rupiah bulat, mis. 1250000, 1.250.000 atau "
                  "Rp1.250.000,00.")))
            .when(fraction.str.contains(r"[1-9]")).then(message_expr(
                _("Jumlah tunggakan berisi pecahan rupiah ({}); BPJS menagih rupiah bulat."), fraction))
            .otherwise(pl.lit(_("Jumlah tunggakan tidak wajar.")))
        ),
    ), [
        # whole and fraction parts, by form (a later stage: needs `form`)
        pl.when(form == 1).then(a)
        .when(form == 2).then(a.str.replace(r",\d+$", "").str.replace_all(r"\.", ""))
        .when(form == 3).then(a.str.replace(r"\.\d+$", "").str.replace_all(",", ""))
        .when(form == 4).then(a.str.replace(r"\.\d+$", ""))
        .when(form == 5).then(a.str.replace(r",\d+$", ""))
        .alias(_p("jumlah_tunggakan", "w")),
        pl.when(form.is_in([2, 5])).then(a.str.extract(r",(\d+)$", 1))
        .when(form.is_in([3, 4])).then(a.str.extract(r"\.(\d+)$", 1))
        .alias(_p("jumlah_tunggakan", "f")),
    ]


def _flag(name: str, target: str, *, label: str) -> Check:
    """pemutihan / rehab: yes or no; empty (or no such column) is unknown (null)."""
    return _mapped(name, target, FLAG, fold=_upper(name), dtype=pl.Boolean,
                   message=_("%(label)s tidak dikenali: gunakan Y/YA/1/TRUE atau N/TIDAK/0/FALSE, atau kosongkan "
                             "bila tidak diketahui.") % {"label": label},
                   empty_message=None, default=None)


def _instalments() -> Check:
    """sisa_cicilan: REHAB instalments left, a whole number 0..24; empty is unknown (null)."""
    return _whole_number(
        "sisa_cicilan", "rehab_instalments_left", digits=4, dtype=pl.Int16, highest=MAX_INSTALMENTS,
        empty=None,
        negative=_("Sisa cicilan tidak boleh negatif."),
        not_whole=_("Sisa cicilan harus bilangan bulat, mis. 6."),
        too_large=_("Sisa cicilan tidak wajar: {} (paling banyak %(max)s).") % {"max": MAX_INSTALMENTS},
    )


def _constant(column: str, target: str, value: object, dtype: pl.DataType | type[pl.DataType]) -> Check:
    """A column the file does not have: its default for every row."""
    return Check(column=column, prep=[], values=[pl.lit(value, dtype=dtype).alias(target)],
                 ok=pl.lit(True), error=_NONE)


OPTIONAL_TEXT_COLUMNS = (
    "tgl_lahir", "jenis_kelamin", "no_kk", "hubungan_keluarga", "kelas", "segmen", "kecamatan",
    "desa", "alamat", "tgl_bayar_terakhir", "status_peserta", "pemutihan", "rehab", "sisa_cicilan",
)


def _checks(present: set[str], regency_codes: set[str]) -> tuple[list[Check], list[pl.Expr]]:
    amount, amount_parts = _amount()
    region, region_parts = _region(regency_codes)
    checks = [
        _card_number(),
        _digits_id("nik", "_v_nik", label=_("NIK"), required=True),  # renamed at the end
        _text("nama", "name", label=_("Nama"), required=True),
        _date("tgl_lahir", "birth_date", label=_("Tanggal lahir")),
        _mapped("jenis_kelamin", "sex", SEX, fold=_upper("jenis_kelamin"), dtype=pl.String,
                message=_("Jenis kelamin tidak dikenali: gunakan L atau P (LAKI-LAKI/PEREMPUAN)."),
                empty_message=None, default=""),
        _digits_id("no_kk", "family_number", label=_("Nomor KK"), required=False),
        _mapped("hubungan_keluarga", "relationship", RELATIONSHIP, fold=_upper("hubungan_keluarga"),
                dtype=pl.String,
                message=_("Hubungan keluarga tidak dikenali: gunakan PESERTA/KEPALA KELUARGA, SUAMI, ISTRI, "
                          "ANAK atau FAMILI LAIN."),
                empty_message=None, default=""),
        _mapped("kelas", "care_class", CARE_CLASS,
                fold=_upper("kelas"),
                dtype=pl.Int16, message=_("Kelas tidak dikenali: gunakan 1, 2, 3 (atau I, II, III)."),
                empty_message=_("Kelas kosong."), default=None)
        if "kelas" in present else _constant("kelas", "care_class", 3, pl.Int16),
        _mapped("segmen", "segment", SEGMENT, fold=_upper("segmen"), dtype=pl.String,
                message=_("Segmen tidak dikenali: gunakan PBPU, BP atau PBI."),
                empty_message=_("Segmen kosong."), default=None)
        if "segmen" in present else _constant("segmen", "segment", "PBPU", pl.String),
        region,
        _text("kecamatan", "district_name", label=_("Kecamatan"), required=False),
        _text("desa", "village_name", label=_("Desa/kelurahan"), required=False),
        _text("alamat", "address", label=_("Alamat"), required=False),
        _months(),
        amount,
        _date("tgl_bayar_terakhir", "last_paid_date", label=_("Tanggal bayar terakhir")),
        _mapped("status_peserta", "bpjs_status", STATUS, fold=_upper("status_peserta"), dtype=pl.String,
                message=_("Status peserta tidak dikenali: gunakan AKTIF, TIDAK AKTIF atau NON AKTIF."),
                empty_message=None, default="inactive"),
        _flag("pemutihan", "written_off", label=_("Status pemutihan")),
        _flag("rehab", "in_rehab", label=_("Status REHAB")),
        _instalments(),
    ]
    return checks, [*amount_parts, *region_parts]


def _fast_path(present: set[str], regency_codes: set[str]) -> tuple[pl.Expr, list[pl.Expr]]:
    """(mask, staging values) for cells already in canonical form, straight from the raw text.

    Every value the mask accepts is accepted by the full path with the same
    result (tests/participants/test_import_normalise.py runs both and compares);
    the rest of the rows take the full path.
    """
    def col(name: str) -> pl.Expr:
        return pl.col(name) if name in present else pl.lit(None, dtype=pl.String)

    def date(name: str) -> tuple[pl.Expr, pl.Expr]:
        t = col(name)
        parsed = pl.coalesce(t.str.to_date("%Y-%m-%d", strict=False), t.str.to_date("%d-%m-%Y", strict=False),
                             t.str.to_date("%d/%m/%Y", strict=False))
        return t.is_null() | parsed.dt.year().is_between(1900, 2100).fill_null(False), parsed

    def text(name: str, *, required: bool = False) -> pl.Expr:
        t = col(name)
        ok = ~t.str.contains(r"^\s|\s$") & (t.str.len_chars() <= TEXT_LIMITS[name])
        if name == "nama":
            ok = t.str.contains(r"^\S+( \S+)*$") & (t.str.len_chars() <= TEXT_LIMITS[name])
        return ok.fill_null(not required)

    def optional_in(name: str, values: list[str]) -> pl.Expr:
        return col(name).is_null() | col(name).is_in(values).fill_null(False)

    def flag(name: str) -> pl.Expr:
        return (pl.when(col(name).is_in(["Y", "1"])).then(pl.lit(True))
                .when(col(name).is_in(["N", "0"])).then(pl.lit(False))
                .otherwise(pl.lit(None, dtype=pl.Boolean)))

    instalments = col("sisa_cicilan")

    allowed = sorted(regency_codes)
    code = col("kode_wilayah")
    birth_ok, birth = date("tgl_lahir")
    paid_ok, paid = date("tgl_bayar_terakhir")
    months = col("bulan_tunggak").str.contains(r"^\d{1,3}$") & (col("bulan_tunggak").cast(pl.Int32, strict=False) <= MAX_MONTHS)
    oks = [
        col("no_kartu").str.contains(r"^\d{13}$").fill_null(False),
        col("nik").str.contains(r"^\d{16}$").fill_null(False),
        text("nama", required=True),
        birth_ok,
        optional_in("jenis_kelamin", ["L", "P"]),
        col("no_kk").is_null() | col("no_kk").str.contains(r"^\d{16}$").fill_null(False),
        optional_in("hubungan_keluarga", ["PESERTA", "SUAMI", "ISTRI", "ANAK", "FAMILI LAIN"]),
        col("kelas").is_in(["1", "2", "3"]).fill_null(False) if "kelas" in present else pl.lit(True),
        col("segmen").is_in(["PBPU", "BP"]).fill_null(False) if "segmen" in present else pl.lit(True),
        (code.str.contains(r"^\d{2}\.\d{2}(\.\d{2}(\.\d{4})?)?$") & code.str.slice(0, 5).is_in(allowed)).fill_null(False),
        text("kecamatan"), text("desa"), text("alamat"),
        months.fill_null(False),
        col("jumlah_tunggakan").str.contains(r"^\d{1,13}$").fill_null(False),
        paid_ok,
        optional_in("status_peserta", ["AKTIF", "TIDAK AKTIF", "NON AKTIF"]),
        optional_in("pemutihan", ["Y", "N", "1", "0"]),
        optional_in("rehab", ["Y", "N", "1", "0"]),
        instalments.is_null() | (instalments.str.contains(r"^\d{1,2}$")
                                 & (instalments.cast(pl.Int16, strict=False) <= MAX_INSTALMENTS)).fill_null(False),
    ]
    values = [
        pl.col("row_number").cast(pl.Int32),
        code.str.slice(0, 5).alias("regency_code"),
        pl.when(code.str.len_bytes() >= 8).then(code.str.slice(0, 8)).otherwise(pl.lit("")).alias("district_code"),
        pl.when(code.str.len_bytes() == 13).then(code).otherwise(pl.lit("")).alias("village_code"),
        col("no_kartu").alias("card_number"),
        col("nik").alias("nik"),
        col("nama").alias("name"),
        birth.alias("birth_date"),
        col("jenis_kelamin").fill_null("").alias("sex"),
        col("no_kk").fill_null("").alias("family_number"),
        col("hubungan_keluarga").fill_null("").alias("relationship"),
        (col("kelas").cast(pl.Int16, strict=False) if "kelas" in present else pl.lit(3, dtype=pl.Int16)).alias("care_class"),
        (col("segmen") if "segmen" in present else pl.lit("PBPU")).alias("segment"),
        col("kecamatan").fill_null("").alias("district_name"),
        col("desa").fill_null("").alias("village_name"),
        col("alamat").fill_null("").alias("address"),
        col("bulan_tunggak").cast(pl.Int16, strict=False).alias("months_in_arrears"),
        col("jumlah_tunggakan").cast(pl.Int64, strict=False).alias("arrears_amount"),
        paid.alias("last_paid_date"),
        pl.when(col("status_peserta") == "AKTIF").then(pl.lit("active")).otherwise(pl.lit("inactive"))
        .alias("bpjs_status"),
        flag("pemutihan").alias("written_off"),
        flag("rehab").alias("in_rehab"),
        instalments.cast(pl.Int16, strict=False).alias("rehab_instalments_left"),
        pl.lit(True).alias("_ok"),
        col("no_kartu").alias("_raw_no_kartu"),
    ]
    return pl.all_horizontal(oks), values


def normalise_chunk(raw: pl.DataFrame, *, present: set[str], regency_codes: set[str]
                    ) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """(rows with the staging columns, `_ok` and `_raw_no_kartu`; errors `row, column, message,
    value`; the number of non-blank rows) for one chunk of raw text.

    `raw` has `row_number` and one String column per present canonical column,
    as read. Rows already in canonical form take a fast path (one check per
    cell); the others are trimmed, blank ones dropped, and normalised in full.
    """
    names = [c for c in raw.columns if c != "row_number"]
    mask, fast_values = _fast_path(present, regency_codes)
    flagged = raw.with_columns(mask.alias("_fast"))
    fast = flagged.filter(pl.col("_fast")).select(fast_values).select(*STAGING_COLUMN_NAMES, "_ok", "_raw_no_kartu")
    rest = flagged.filter(~pl.col("_fast")).drop("_fast")
    if not rest.height:
        return fast, _no_errors(), fast.height
    rest = clean_raw(rest, names)
    rest = rest.filter(~pl.all_horizontal([pl.col(n).is_null() for n in names]))
    if not rest.height:
        return fast, _no_errors(), fast.height
    rows, errors = _normalise_full(rest, present=present, regency_codes=regency_codes)
    if fast.height:
        rows = pl.concat([fast, rows]).sort("row_number")
    return rows, errors, fast.height + rest.height


def _no_errors() -> pl.DataFrame:
    return pl.DataFrame(schema={"row": pl.Int32, "column": pl.String, "message": pl.String, "value": pl.String})


def _normalise_full(raw: pl.DataFrame, *, present: set[str], regency_codes: set[str]
                    ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every rule, for rows that are not in canonical form. `raw` is cleaned (`clean_raw`)."""
    missing = [c for c in OPTIONAL_TEXT_COLUMNS if c not in present]
    lazy = raw.lazy()
    if missing:
        lazy = lazy.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in missing])
    checks, later = _checks(present, regency_codes)
    frame = (
        lazy.with_columns(e for c in checks for e in c.prep)
        .with_columns(e for c in checks for e in c.values)
        .with_columns(later)
        .with_columns(
            pl.col(_p("jumlah_tunggakan", "w")).str.replace(r"^0+(\d)", "${1}").cast(pl.Int64, strict=False)
            .alias("arrears_amount"),
            *[c.ok.fill_null(False).alias(f"_ok_{c.column}") for c in checks],
        )
        .with_columns(
            pl.col("row_number").cast(pl.Int32),
            pl.col("months_in_arrears").cast(pl.Int16, strict=False),
            pl.col("care_class").cast(pl.Int16),
            pl.col("written_off").cast(pl.Boolean),
            pl.col("in_rehab").cast(pl.Boolean),
            pl.col("rehab_instalments_left").cast(pl.Int16, strict=False),
            pl.all_horizontal([pl.col(f"_ok_{c.column}") for c in checks]).alias("_ok"),
        )
        .collect()
    )
    bad = frame.filter(~pl.col("_ok"))
    parts = []
    if bad.height:
        for check in checks:
            raw_name = f"_raw_{check.column}"
            value = (pl.col(raw_name).fill_null("").str.slice(0, VALUE_MAX_CHARS) if raw_name in bad.columns
                     else pl.lit(""))
            parts.append(
                bad.lazy().filter(~pl.col(f"_ok_{check.column}")).select(
                    pl.col("row_number").alias("row"), pl.lit(check.column).alias("column"),
                    check.error.cast(pl.String).alias("message"), value.alias("value"),
                )
            )
        errors = pl.concat(parts).collect().sort("row", maintain_order=True)
    else:
        errors = _no_errors()
    rows = frame.select(
        *[pl.col("_v_nik").alias("nik") if c == "nik" else pl.col(c) for c in STAGING_COLUMN_NAMES],
        "_ok", "_raw_no_kartu",
    )
    return rows, errors


def bill_warnings(valid: pl.DataFrame, *, monthly_tariffs: dict[int, int]) -> list[tuple[int, str, str, str]]:
    """Valid rows billed above 24 months: (row, column, message, value) for each.

    More than 24 months (`bulan_tunggak`), or an amount above 24 months at the row's class
    tariff (`jumlah_tunggakan`; only when the class's tariff is known). The row is accepted
    (at most 24 months are billed; a donor is asked for no more).
    """
    from core.formatting import format_rupiah

    if not valid.height:
        return []
    tariffs = {int(k): int(v) for k, v in (monthly_tariffs or {}).items()}
    cap = (pl.col("care_class").cast(pl.Int64).replace_strict(tariffs, default=None, return_dtype=pl.Int64)
           * BILLED_MONTHS) if tariffs else pl.lit(None, dtype=pl.Int64)
    flagged = valid.lazy().select(
        "row_number", "months_in_arrears", "arrears_amount", "care_class", cap.alias("cap"),
    ).filter(
        (pl.col("months_in_arrears") > BILLED_MONTHS) | (pl.col("arrears_amount") > pl.col("cap")).fill_null(False)
    ).collect()
    out: list[tuple[int, str, str, str]] = []
    for row, months, amount, care_class, cap_amount in flagged.iter_rows():
        if months > BILLED_MONTHS:
            out.append((row, "bulan_tunggak", _(
                "Tunggakan %(n)s bulan, lebih dari %(max)s bulan: diterima, tetapi yang ditagih paling banyak "
                "%(max)s bulan.") % {"n": months, "max": BILLED_MONTHS}, str(months)))
        if cap_amount is not None and amount > cap_amount:
            out.append((row, "jumlah_tunggakan", _(
                "Jumlah tunggakan %(amount)s di atas tagihan %(max)s bulan kelas %(cls)s (%(cap)s): diterima, "
                "tetapi yang ditagih paling banyak %(cap)s.") % {
                    "amount": format_rupiah(amount), "max": BILLED_MONTHS, "cls": care_class,
                    "cap": format_rupiah(cap_amount)}, str(amount)))
    return out
