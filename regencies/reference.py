"""Reference data for the demo tenants: regencies, their districts, and the BPJS branches.

The facts are the real ones (Kemendagri codes, time zones, BPJS branch areas, Luwu Utara's
population). District codes follow the Kemendagri pattern `PP.RR.DD`; the
numbering here is for the demo. In a real installation the national operator
keeps this in the database (admin); nothing reads this module at run time
except `seed_demo` and `generate_arrears`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegencyRef:
    code: str
    name: str
    slug: str
    kind: str  # kabupaten | kota
    timezone: str
    districts: tuple[str, ...]
    population: int | None = None
    jkn_participants: int | None = None
    minimum_wage: int | None = None

    def district_code(self, index: int) -> str:
        return f"{self.code}.{index + 1:02d}"


@dataclass(frozen=True)
class BranchRef:
    code: str
    name: str
    timezone: str
    regency_codes: tuple[str, ...]


REGENCIES: tuple[RegencyRef, ...] = (
    RegencyRef(
        code="73.22", name="Luwu Utara", slug="luwu-utara", kind="kabupaten", timezone="Asia/Makassar",
        population=329_934, jkn_participants=244_956, minimum_wage=3_657_527,
        districts=(
            "Sabbang", "Baebunta", "Masamba", "Malangke", "Malangke Barat", "Sukamaju", "Bone-Bone",
            "Tana Lili", "Mappedeceng", "Rampi", "Limbong", "Seko", "Rongkong", "Baebunta Selatan",
            "Sukamaju Selatan",
        ),
    ),
    RegencyRef(
        code="73.17", name="Luwu", slug="luwu", kind="kabupaten", timezone="Asia/Makassar",
        minimum_wage=3_657_527,
        districts=(
            "Larompong", "Suli", "Belopa", "Kamanre", "Bajo", "Bupon", "Latimojong", "Ponrang", "Bua",
            "Walenrang", "Lamasi",
        ),
    ),
    RegencyRef(
        code="73.24", name="Luwu Timur", slug="luwu-timur", kind="kabupaten", timezone="Asia/Makassar",
        minimum_wage=3_657_527,
        districts=(
            "Burau", "Wotu", "Tomoni", "Tomoni Timur", "Angkona", "Malili", "Towuti", "Nuha",
            "Wasuponda", "Mangkutana", "Kalaena",
        ),
    ),
    RegencyRef(
        code="73.73", name="Palopo", slug="kota-palopo", kind="kota", timezone="Asia/Makassar",
        minimum_wage=3_657_527,
        districts=(
            "Wara", "Wara Utara", "Wara Selatan", "Wara Timur", "Wara Barat", "Telluwanua", "Bara",
            "Mungkajang", "Sendana",
        ),
    ),
    RegencyRef(
        code="52.03", name="Lombok Timur", slug="lombok-timur", kind="kabupaten", timezone="Asia/Makassar",
        minimum_wage=2_602_931,
        districts=(
            "Selong", "Masbagik", "Aikmel", "Sakra", "Terara", "Pringgabaya", "Labuhan Haji", "Keruak",
            "Jerowaru", "Sambelia", "Suela", "Wanasaba", "Sikur", "Montong Gading", "Pringgasela",
            "Sukamulia", "Suralaga", "Sembalun", "Lenek", "Sakra Barat", "Sakra Timur",
        ),
    ),
)

BRANCHES: tuple[BranchRef, ...] = (
    BranchRef(code="palopo", name="KC Palopo", timezone="Asia/Makassar",
              regency_codes=("73.22", "73.17", "73.24", "73.73")),
    BranchRef(code="selong", name="KC Selong", timezone="Asia/Makassar", regency_codes=("52.03",)),
)

REGENCY_BY_CODE: dict[str, RegencyRef] = {r.code: r for r in REGENCIES}
BRANCH_BY_CODE: dict[str, BranchRef] = {b.code: b for b in BRANCHES}
