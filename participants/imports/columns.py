"""The arrears file's columns: canonical names, aliases, and the staging layout.

A new alias is one line here. Header matching ignores case, spaces, dots,
underscores, slashes and dashes.
"""

from __future__ import annotations

import re

# canonical -> aliases (as people write them; matching folds them with `header_key`)
ALIASES: dict[str, tuple[str, ...]] = {
    "no_kartu": ("noka", "nomor kartu", "no kartu jkn", "no peserta"),
    "nik": ("no nik", "nomor induk kependudukan"),
    "nama": ("nama peserta", "nm peserta"),
    "tgl_lahir": ("tanggal lahir", "tgl lhr"),
    "jenis_kelamin": ("jk", "sex"),
    "no_kk": ("nomor kk", "no kartu keluarga"),
    "hubungan_keluarga": ("hubkel", "hub keluarga"),
    "kelas": ("kelas rawat", "kls"),
    "segmen": ("segmen peserta", "jenis peserta"),
    "kode_wilayah": ("kode kab", "kode kab/kota", "kd kab"),
    "kecamatan": ("kec",),
    "desa": ("kelurahan", "desa/kelurahan"),
    "alamat": (),
    "bulan_tunggak": ("jml bulan tunggak", "lama tunggakan"),
    "jumlah_tunggakan": ("total tunggakan", "nominal tunggakan"),
    "tgl_bayar_terakhir": ("tgl bayar terakhir", "tmt bayar"),
    "status_peserta": ("status", "sts"),
    # Optional, from the 2026 rules: Y/N or empty (unknown), and instalments left.
    "pemutihan": ("status pemutihan", "hapus tunggakan"),
    "rehab": ("ikut rehab", "program rehab"),
    "sisa_cicilan": ("sisa angsuran", "sisa cicilan rehab"),
}

# The columns of 2026: a file without them leaves the fields NULL (unknown).
COLUMNS_2026: tuple[str, ...] = ("pemutihan", "rehab", "sisa_cicilan")

REQUIRED: tuple[str, ...] = (
    "no_kartu", "nik", "nama", "kode_wilayah", "bulan_tunggak", "jumlah_tunggakan",
)

_FOLD = re.compile(r"[\s._/\-]+")


def header_key(text: str) -> str:
    """Fold a header cell for matching: `No. Kartu JKN` -> `nokartujkn`."""
    return _FOLD.sub("", str(text).replace("\ufeff", "")).lower()


HEADER_LOOKUP: dict[str, str] = {
    header_key(name): canonical
    for canonical, aliases in ALIASES.items()
    for name in (canonical, *aliases)
}

# The staging table holds valid, normalised rows, in this column order (COPY ... CSV).
# Text columns may be empty; dates are ISO; money and counts are integers.
STAGING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("row_number", "integer NOT NULL"),
    ("regency_code", "varchar(5) NOT NULL"),    # `73.22`
    ("district_code", "varchar(8) NOT NULL"),   # `73.22.01` or '' when the file gives none
    ("village_code", "varchar(13) NOT NULL"),   # `73.22.01.2001` or ''
    ("card_number", 'varchar(13) COLLATE "C" NOT NULL'),  # as Participant.card_number
    ("nik", 'varchar(16) COLLATE "C" NOT NULL'),  # as Participant.nik
    ("name", "varchar(150) NOT NULL"),
    ("birth_date", "date"),
    ("sex", "varchar(1) NOT NULL"),             # L, P or ''
    ("family_number", "varchar(16) NOT NULL"),  # '' when absent
    ("relationship", "varchar(12) NOT NULL"),   # Relationship value or ''
    ("care_class", "smallint NOT NULL"),        # 1, 2, 3
    ("segment", "varchar(4) NOT NULL"),         # PBPU or BP
    ("district_name", "varchar(100) NOT NULL"),
    ("village_name", "varchar(100) NOT NULL"),
    ("address", "varchar(255) NOT NULL"),
    ("months_in_arrears", "smallint NOT NULL"),
    ("arrears_amount", "bigint NOT NULL"),
    ("last_paid_date", "date"),
    ("bpjs_status", "varchar(10) NOT NULL"),    # active / inactive
    ("written_off", "boolean"),                 # pemutihan: NULL = unknown
    ("in_rehab", "boolean"),                    # rehab: NULL = unknown
    ("rehab_instalments_left", "smallint"),     # sisa_cicilan: NULL = unknown
)
STAGING_COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in STAGING_COLUMNS)
