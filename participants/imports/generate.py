"""A synthetic but realistic arrears file for a BPJS branch (`manage.py generate_arrears`).

Deterministic per seed: the same arguments give the same bytes (CSV and XLSX).
What makes it realistic:
- families of 1-6 members share one KK number, village and class; the head is
  PESERTA, then ISTRI/SUAMI, ANAK, sometimes FAMILI LAIN;
- NIK = region of issue `PPRRDD` + birth date `DDMMYY` (women DD+40) + serial;
- card numbers are 13 digits with leading zeros, unique in the file;
- districts from the reference data, villages generated per district from the
  district code alone (the same villages whatever the seed), codes
  `PP.RR.DD.2VVV` (desa) or `1VVV` (kelurahan; every village of a kota);
- class III for ~85%, PBPU for ~90%, a long tail of months in arrears (at most
  24 billed), amount = billed months x the class's monthly contribution
  (class III at Rp35.000), some families paid up (0, AKTIF);
- last paid dates consistent with the months in arrears.
With `columns_2026` the file also has `pemutihan`, `rehab` and `sisa_cicilan`:
about 3 % of class III families in arrears written off (Y), about 5 % of families with 4-24
months in REHAB with the instalments left, the rest N (some left empty: unknown), and the
first family 30 months in arrears (a row the import flags: at most 24 months are billed).
These come from a separate random stream: the other columns are the same bytes as without.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from participants.imports.columns import ALIASES, COLUMNS_2026
from participants.imports.names import NAMES_BY_CULTURE, STREET_WORDS, VILLAGE_PARTS

# Monthly contribution per class that the generator bills (class III: the participant's share).
TARIFF_BY_CLASS: dict[int, int] = {1: 150_000, 2: 100_000, 3: 35_000}
MAX_BILLED_MONTHS = 24

# canonical names, in the contract's order (the optional columns of 2026 only with `columns_2026`)
HEADER: tuple[str, ...] = tuple(c for c in ALIASES if c not in COLUMNS_2026)
HEADER_2026: tuple[str, ...] = (*HEADER, *COLUMNS_2026)
WRITTEN_OFF_SHARE = 0.03  # of class III families in arrears
REHAB_SHARE = 0.05  # of families with 4-24 months in arrears
LONG_ARREARS_MONTHS = 30  # the first family's months with `columns_2026`


@dataclass(frozen=True)
class VillageSpec:
    code: str
    name: str


@dataclass(frozen=True)
class DistrictSpec:
    code: str
    name: str
    villages: tuple[VillageSpec, ...]


@dataclass(frozen=True)
class RegencySpec:
    code: str
    name: str
    kind: str  # kabupaten | kota
    districts: tuple[DistrictSpec, ...]

    @property
    def culture(self) -> str:
        return culture_for(self.code)


@dataclass
class GenerateResult:
    path: str
    rows: int
    format: str
    branch: str
    seed: int
    families: int
    regencies: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "path": self.path, "rows": self.rows, "format": self.format, "branch": self.branch,
            "seed": self.seed, "families": self.families, "regencies": self.regencies,
        }


def culture_for(regency_code: str) -> str:
    """Sasak names for Lombok (NTB, 52.xx), Bugis/Luwu names elsewhere (the demo's Sulawesi)."""
    return "sasak" if regency_code.startswith("52.") else "bugis"


def make_villages(district_code: str, *, culture: str, kota: bool, capital: bool) -> tuple[VillageSpec, ...]:
    """The villages of a district, from its code alone: 6-17 names, unique in the district.

    A kota has only kelurahan (`1VVV`); a kabupaten's capital district has a few
    kelurahan, the rest are desa (`2VVV`).
    """
    rng = random.Random(f"villages:{district_code}")
    firsts, seconds = VILLAGE_PARTS[culture]
    count = rng.randint(6, 17)
    names: list[str] = []
    while len(names) < count:
        name = f"{rng.choice(firsts)} {rng.choice(seconds)}".strip()
        if name not in names:
            names.append(name)
    kelurahan = count if kota else (rng.randint(2, 4) if capital else 0)
    villages = []
    for i, name in enumerate(names):
        if i < kelurahan:
            code = f"{district_code}.{1001 + i}"
        else:
            code = f"{district_code}.{2001 + i - kelurahan}"
        villages.append(VillageSpec(code=code, name=name))
    return tuple(villages)


def regency_spec(*, code: str, name: str, kind: str, district_names: Sequence[str]) -> RegencySpec:
    culture = culture_for(code)
    if not district_names:
        rng = random.Random(f"districts:{code}")
        firsts, seconds = VILLAGE_PARTS[culture]
        generated: list[str] = []
        while len(generated) < 8:
            candidate = f"{rng.choice(firsts)} {rng.choice(seconds)}".strip().title()
            if candidate not in generated:
                generated.append(candidate)
        district_names = generated
    districts = []
    for i, district_name in enumerate(district_names):
        district_code = f"{code}.{i + 1:02d}"
        districts.append(DistrictSpec(
            code=district_code, name=district_name.upper(),
            villages=make_villages(district_code, culture=culture, kota=kind == "kota", capital=i == 0),
        ))
    return RegencySpec(code=code, name=name, kind=kind, districts=tuple(districts))


# --- values -------------------------------------------------------------------------------------

def _months_in_arrears(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.08:
        return 0
    if roll < 0.58:
        return rng.randint(1, 6)
    if roll < 0.83:
        return rng.randint(7, 12)
    if roll < 0.95:
        return rng.randint(13, 24)
    return rng.randint(25, 60)


def _care_class(rng: random.Random) -> int:
    roll = rng.random()
    return 3 if roll < 0.85 else (2 if roll < 0.95 else 1)


def _family_size(rng: random.Random) -> int:
    return rng.choices((1, 2, 3, 4, 5, 6), weights=(25, 20, 20, 18, 10, 7))[0]


def _add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier (negative) or later, clamped to the month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def _birth_date(rng: random.Random, as_of: dt.date, min_age: float, max_age: float) -> dt.date:
    days = rng.randint(int(min_age * 365.25), int(max_age * 365.25))
    return as_of - dt.timedelta(days=days)


class _Ids:
    """Unique NIK, KK and card numbers within one file."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.niks: set[str] = set()
        self.kks: set[str] = set()
        self.cards: set[str] = set()

    def nik(self, region: str, birth: dt.date, sex: str) -> str:
        day = birth.day + (40 if sex == "P" else 0)
        return self._serial(f"{region}{day:02d}{birth.month:02d}{birth.year % 100:02d}", 2999, self.niks)

    def kk(self, region: str, issued: dt.date) -> str:
        return self._serial(f"{region}{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}", 4999, self.kks)

    def _serial(self, stem: str, highest: int, taken: set[str]) -> str:
        """`stem` and a four-digit serial from 1..`highest`, the next free one where it is taken."""
        serial = self.rng.randint(1, highest)
        while f"{stem}{serial:04d}" in taken:
            serial += 1
        value = f"{stem}{serial:04d}"
        taken.add(value)
        return value

    def card(self) -> str:
        while True:
            value = f"000{self.rng.randint(1_000_000_000, 9_999_999_999)}"
            if value not in self.cards:
                self.cards.add(value)
                return value


@dataclass
class Member:
    card: str
    nik: str
    name: str
    birth: dt.date
    sex: str
    relationship: str


def _family_members(rng: random.Random, ids: _Ids, *, size: int, culture: str, region: str,
                    as_of: dt.date) -> list[Member]:
    males, females, seconds = NAMES_BY_CULTURE[culture]
    family_name = rng.choice(seconds)

    def person(sex: str, birth: dt.date, relationship: str, second: str | None = None) -> Member:
        given = rng.choice(males if sex == "L" else females)
        if culture == "sasak" and given in {"LALU", "BAIQ", "AMAQ", "INAQ"}:
            given = f"{given} {rng.choice(males if sex == 'L' else females)}"
        name = f"{given} {second or rng.choice(seconds)}"
        if given.split()[-1] == name.split()[-1]:
            name = f"{given} {rng.choice(seconds)}"
        return Member(card=ids.card(), nik=ids.nik(region, birth, sex), name=name, birth=birth,
                      sex=sex, relationship=relationship)

    head_sex = "L" if (size > 1 and rng.random() < 0.9) or rng.random() < 0.6 else "P"
    head_birth = _birth_date(rng, as_of, 24, 72)
    members = [person(head_sex, head_birth, "PESERTA", family_name)]
    head_age = (as_of - head_birth).days / 365.25
    mother_age = head_age
    if size > 1 and rng.random() < 0.9:
        spouse_sex = "P" if head_sex == "L" else "L"
        gap = rng.uniform(-2, 10) if head_sex == "L" else rng.uniform(-10, 2)
        spouse_age = max(19.0, min(80.0, head_age - gap))
        spouse = person(spouse_sex, _birth_date(rng, as_of, spouse_age - 0.5, spouse_age + 0.5),
                        "ISTRI" if spouse_sex == "P" else "SUAMI")
        members.append(spouse)
        mother_age = spouse_age if spouse_sex == "P" else head_age
    while len(members) < size:
        if len(members) >= 3 and rng.random() < 0.12:
            other_age = min(95.0, head_age + rng.uniform(20, 28))
            sex = rng.choice("LP")
            members.append(person(sex, _birth_date(rng, as_of, other_age - 1, other_age), "FAMILI LAIN"))
            continue
        oldest = max(0.1, min(mother_age - 18, 30.0))
        youngest = max(0.0, mother_age - 44)
        if youngest >= oldest:
            youngest = 0.0
        sex = rng.choice("LP")
        members.append(person(sex, _birth_date(rng, as_of, youngest, oldest), "ANAK", family_name))
    return members


def _address(rng: random.Random, culture: str, village: str) -> str:
    if rng.random() < 0.55:
        return f"DUSUN {village.split()[0]} {rng.choice(('I', 'II', 'III', 'IV'))} RT {rng.randint(1, 9):03d} RW {rng.randint(1, 5):03d}"
    return f"JL. {rng.choice(STREET_WORDS[culture])} NO. {rng.randint(1, 150)}"


# --- messy forms (--aliases) ---------------------------------------------------------------------

def _messy_header(rng: random.Random, canonical: str) -> str:
    name = rng.choice((canonical, *ALIASES[canonical]))
    sep = rng.choice((" ", "_", ". ", "-", " "))
    name = name.replace("_", " ").replace(" ", sep)
    return rng.choice((name.upper(), name.title(), name.lower(), name))


def _format_date(rng: random.Random | None, value: dt.date | None) -> str:
    if value is None:
        return ""
    if rng is None:
        return value.strftime("%d-%m-%Y")
    return value.strftime(rng.choice(("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d")))


def _format_amount(rng: random.Random | None, amount: int) -> str:
    if rng is None:
        return str(amount)
    dotted = f"{amount:,}".replace(",", ".")
    return rng.choice((str(amount), dotted, f"Rp {dotted}", f"Rp{dotted},00", f"{amount:,}"))


def _format_code(rng: random.Random | None, village_code: str) -> str:
    if rng is None:
        return village_code
    regency = village_code[:5]
    return rng.choice((regency, regency.replace(".", ""), village_code[:8], village_code,
                       village_code.replace(".", "")))


ROMAN = {1: "I", 2: "II", 3: "III"}


# --- the file -------------------------------------------------------------------------------------

def _quotas(rows: int, weights: Sequence[int]) -> list[int]:
    """Split `rows` over regencies in proportion to `weights` (largest remainder): exact sums."""
    total = sum(weights)
    exact = [rows * w / total for w in weights]
    quotas = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - quotas[i], reverse=True)
    for i in by_remainder[: rows - sum(quotas)]:
        quotas[i] += 1
    return quotas


def generate_arrears_file(
    *,
    regencies: Sequence[RegencySpec],
    branch: str,
    rows: int,
    out: str | Path,
    fmt: str = "csv",
    seed: int = 1,
    as_of: dt.date,
    delimiter: str = ",",
    aliases: bool = False,
    progress: Callable[[int], None] | None = None,
    even: bool = False,
    columns_2026: bool = False,
) -> GenerateResult:
    """Write `rows` participants of `regencies` to `out` (CSV or XLSX); return what was written.

    Rows are split over the regencies in proportion to their districts, or evenly with `even`.
    `columns_2026`: also `pemutihan`, `rehab`, `sisa_cicilan` (see the module doc).
    """
    if fmt not in {"csv", "xlsx"}:
        raise ValueError(f"unknown format {fmt!r}")
    if not regencies:
        raise ValueError("no regencies")
    rng = random.Random(seed)
    messy = random.Random(f"messy:{seed}") if aliases else None
    ids = _Ids(rng)
    quotas = _quotas(rows, [1 if even else max(1, len(r.districts)) for r in regencies])
    remaining = {r.code: quota for r, quota in zip(regencies, quotas, strict=True)}
    counts = {r.code: 0 for r in regencies}
    columns = HEADER_2026 if columns_2026 else HEADER
    header = [_messy_header(messy, c) for c in columns] + ["Keterangan"] if messy else list(columns)
    rules = random.Random(f"2026:{seed}") if columns_2026 else None
    writer = _XlsxRows(out, as_of) if fmt == "xlsx" else _CsvRows(out, delimiter)
    writer.header(header)
    written = 0
    families = 0
    try:
        while written < rows:
            open_regencies = [r for r in regencies if remaining[r.code] > 0]
            regency = rng.choices(open_regencies, weights=[remaining[r.code] for r in open_regencies])[0]
            district = rng.choice(regency.districts)
            village = rng.choice(district.villages)
            region = district.code.replace(".", "")
            size = min(_family_size(rng), remaining[regency.code])
            remaining[regency.code] -= size
            care_class = _care_class(rng)
            segment = "PBPU" if rng.random() < 0.9 else "BP"
            months = _months_in_arrears(rng)
            amount = min(months, MAX_BILLED_MONTHS) * TARIFF_BY_CLASS[care_class]
            if months == 0:
                last_paid: dt.date | None = _add_months(as_of, -rng.randint(0, 1)).replace(day=rng.randint(1, 10))
            elif months > 12 and rng.random() < 0.1:
                last_paid = None  # never paid since registering
            else:
                last_paid = _add_months(as_of, -months).replace(day=rng.randint(1, 28))
            if rules is not None and families == 0:
                # The long row (after the main stream's draws, which stay those of the plain file).
                months = LONG_ARREARS_MONTHS
                amount = min(months, MAX_BILLED_MONTHS) * TARIFF_BY_CLASS[care_class]
                last_paid = _add_months(as_of, -months).replace(day=rules.randint(1, 28))
            issued = _birth_date(rng, as_of, 0.5, 18)
            kk = ids.kk(region, issued)
            address = _address(rng, regency.culture, village.name)
            members = _family_members(rng, ids, size=size, culture=regency.culture, region=region,
                                      as_of=as_of)
            families += 1
            extra = _columns_2026(rules, messy, care_class=care_class, months=months) if rules else None
            for member in members:
                written += 1
                counts[regency.code] += 1
                status = "AKTIF" if months == 0 else "TIDAK AKTIF"
                if messy:
                    status = "AKTIF" if months == 0 else messy.choice(("TIDAK AKTIF", "NON AKTIF", "nonaktif"))
                writer.row(
                    member=member, kk=kk, relationship=member.relationship, care_class=care_class,
                    segment=segment, village=village, district=district, address=address,
                    months=months, amount=amount, last_paid=last_paid, status=status, messy=messy,
                    extra=extra,
                )
                if progress is not None and written % 10_000 == 0:
                    progress(written)
    finally:
        writer.close()
    return GenerateResult(
        path=str(out), rows=written, format=fmt, branch=branch, seed=seed, families=families,
        regencies={code: n for code, n in counts.items() if n},
    )


def _columns_2026(rules: random.Random, messy: random.Random | None, *, care_class: int, months: int
                  ) -> list[str]:
    """pemutihan, rehab, sisa_cicilan for one family (one draw each, whatever the outcome)."""
    write_off_roll, rehab_roll, unknown_roll, left_roll = (rules.random() for _ in range(4))
    written_off = care_class == 3 and months > 0 and write_off_roll < WRITTEN_OFF_SHARE
    in_rehab = not written_off and 4 <= months <= MAX_BILLED_MONTHS and rehab_roll < REHAB_SHARE
    pemutihan = "Y" if written_off else ("" if unknown_roll < 0.1 else "N")
    rehab, left = "N", ""
    if in_rehab:
        # REHAB 2.0: up to 12 instalments or half the months owed; some are paid.
        instalments = min(12, (months + 1) // 2)
        rehab, left = "Y", str(1 + int(left_roll * instalments))
    elif pemutihan == "":
        rehab = ""
    if messy:
        yes = {"Y": ("Y", "YA", "ya", "1", "TRUE"), "N": ("N", "TIDAK", "tidak", "0", "FALSE"), "": ("",)}
        pemutihan, rehab = messy.choice(yes[pemutihan]), messy.choice(yes[rehab])
    return [pemutihan, rehab, left]


def _row_values(*, member: Member, kk: str, relationship: str, care_class: int, segment: str,
                village: VillageSpec, district: DistrictSpec, address: str, months: int, amount: int,
                last_paid: dt.date | None, status: str, messy: random.Random | None,
                extra: list[str] | None = None) -> list:
    extra = extra or []
    if messy:
        sex = messy.choice((member.sex, "LAKI-LAKI" if member.sex == "L" else "PEREMPUAN"))
        cls = messy.choice((str(care_class), ROMAN[care_class], f"KELAS {care_class}"))
        rel = "KEPALA KELUARGA" if relationship == "PESERTA" and messy.random() < 0.3 else relationship
        return [member.card, member.nik, member.name.title(), _format_date(messy, member.birth), sex, kk,
                rel, cls, segment, _format_code(messy, village.code), district.name.title(),
                village.name.title(), address, str(months), _format_amount(messy, amount),
                _format_date(messy, last_paid), status, *extra, ""]
    return [member.card, member.nik, member.name, _format_date(None, member.birth), member.sex, kk,
            relationship, str(care_class), segment, village.code, district.name, village.name, address,
            str(months), str(amount), _format_date(None, last_paid), status, *extra]


class _CsvRows:
    def __init__(self, out: str | Path, delimiter: str):
        self.file = open(out, "w", encoding="utf-8", newline="")  # noqa: SIM115
        self.writer = csv.writer(self.file, delimiter=delimiter, lineterminator="\n")

    def header(self, names: list[str]) -> None:
        self.writer.writerow(names)

    def row(self, **values: Any) -> None:
        self.writer.writerow(_row_values(**values))

    def close(self) -> None:
        self.file.close()


class _XlsxRows:
    """xlsxwriter in constant-memory mode: identifiers as text cells, dates and numbers native."""

    def __init__(self, out: str | Path, as_of: dt.date):
        import xlsxwriter

        self.book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
        # A fixed creation time keeps the bytes identical for the same seed.
        self.book.set_properties({"created": dt.datetime(as_of.year, as_of.month, as_of.day)})  # noqa: DTZ001
        self.sheet = self.book.add_worksheet("Tunggakan")
        self.date_format = self.book.add_format({"num_format": "dd-mm-yyyy"})
        self.index = 0

    def header(self, names: list[str]) -> None:
        for col, name in enumerate(names):
            self.sheet.write_string(0, col, name)
        self.index = 1

    def row(self, **values: Any) -> None:
        messy = values["messy"]
        cells = _row_values(**values)
        r = self.index
        write_string = self.sheet.write_string
        for col, value in enumerate(cells):
            if col in (3, 15):  # tgl_lahir, tgl_bayar_terakhir: native dates
                when = values["member"].birth if col == 3 else values["last_paid"]
                if when is not None and (messy is None or messy.random() < 0.7):
                    self.sheet.write_datetime(r, col, dt.datetime(when.year, when.month, when.day),  # noqa: DTZ001
                                              self.date_format)
                elif value:
                    write_string(r, col, value)
            elif col in (13, 14) and (messy is None or messy.random() < 0.7):
                self.sheet.write_number(r, col, values["months"] if col == 13 else values["amount"])
            elif col == 7 and messy is None:
                self.sheet.write_number(r, col, values["care_class"])
            elif value:
                write_string(r, col, value)
        self.index += 1

    def close(self) -> None:
        self.book.close()
