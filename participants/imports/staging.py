
"""The per-import staging table: valid, normalised rows loaded with PostgreSQL COPY.

One UNLOGGED table per import (`import_staging_<id>`), created fresh on every
run (a re-run after a crash starts clean), filled chunk by chunk with
`COPY ... FROM STDIN (FORMAT csv)` and dropped after the apply. Row errors go
into `ImportRowError` by COPY too.

polars writes a null as an empty unquoted field (NULL to COPY) and an empty
string as `""` (an empty string to COPY); text columns are NOT NULL, so their
nulls become empty strings before writing. Dates come out ISO (`2026-11-22`).

The place columns (regency code, district code and name, village code and name) do
not go to staging: each distinct spelling of them gets a small integer, `place_key`
(`PlaceKeys`), the rows carry the key, and the spellings go to `import_places_<id>`
once, after the last chunk. The apply resolves places once per spelling and joins
the rows back to them on one integer column. And a `public_id` ready for the participant
the row creates, if it does (random version-4 UUIDs from the OS's CSPRNG: drawn here,
in the loader's thread, they cost the apply nothing).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable

import polars as pl
from django.db import connection

from participants.imports.columns import STAGING_COLUMN_NAMES, STAGING_COLUMNS

_TEXT_COLUMNS = tuple(name for name, kind in STAGING_COLUMNS if kind.startswith("varchar"))
PLACE_COLUMNS = ("regency_code", "district_code", "district_name", "village_code", "village_name")
_STAGING = (
    *((name, kind) for name, kind in STAGING_COLUMNS if name not in PLACE_COLUMNS),
    ("place_key", "integer NOT NULL"),
    ("public_id", "uuid NOT NULL"),
)
_PLACES = (("place_key", "integer PRIMARY KEY"), *((n, k) for n, k in STAGING_COLUMNS if n in PLACE_COLUMNS))

# ImportRowError field sizes (models.py): longer texts are cut, never refused.
_COLUMN_MAX, _MESSAGE_MAX, _VALUE_MAX = 40, 300, 200


def staging_table_name(import_id: int) -> str:
    return f"import_staging_{int(import_id)}"


def places_table_name(import_id: int) -> str:
    """The file's place spellings, one row per `place_key` (see `PlaceKeys`)."""
    return f"import_places_{int(import_id)}"


def held_table_name(import_id: int) -> str:
    """Card numbers of the file's INVALID rows: people who are on the list all the same."""
    return f"import_held_{int(import_id)}"


def staging_create(*, import_id: int) -> str:
    """Drop any leftover of an earlier run and create empty staging tables."""
    table = staging_table_name(import_id)
    columns = ", ".join(f"{name} {kind}" for name, kind in _STAGING)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE UNLOGGED TABLE {table} ({columns})")
        cursor.execute(f"DROP TABLE IF EXISTS {held_table_name(import_id)}")
        cursor.execute(
            f'CREATE UNLOGGED TABLE {held_table_name(import_id)} (card_number varchar(13) COLLATE "C" NOT NULL)'
        )
        places = ", ".join(f"{name} {kind}" for name, kind in _PLACES)
        cursor.execute(f"DROP TABLE IF EXISTS {places_table_name(import_id)}")
        cursor.execute(f"CREATE UNLOGGED TABLE {places_table_name(import_id)} ({places})")
    return table


def staging_drop(*, import_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {staging_table_name(import_id)}")
        cursor.execute(f"DROP TABLE IF EXISTS {held_table_name(import_id)}")
        cursor.execute(f"DROP TABLE IF EXISTS {places_table_name(import_id)}")


def held_copy(*, import_id: int, cards: list[str]) -> int:
    """COPY the card numbers of invalid rows (digits only: no quoting needed)."""
    if not cards:
        return 0
    _copy_csv(held_table_name(import_id), "card_number", io.BytesIO("".join(f"{c}\n" for c in cards).encode()))
    return len(cards)


def staging_exists(*, import_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [staging_table_name(import_id)])
        return bool(cursor.fetchone()[0])


class PlaceKeys:
    """The place spellings of one file met so far, each with its key (0, 1, 2 ...)."""

    def __init__(self) -> None:
        self._known = pl.DataFrame(schema={**dict.fromkeys(PLACE_COLUMNS, pl.String), "place_key": pl.Int32})

    def __len__(self) -> int:
        return self._known.height

    def frame(self) -> pl.DataFrame:
        return self._known.select(name for name, _kind in _PLACES)

    def add_keys(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`frame` (no null in the place columns) with its `place_key` column."""
        new = frame.select(PLACE_COLUMNS).unique().join(self._known, on=PLACE_COLUMNS, how="anti")
        if new.height:
            keys = pl.int_range(len(self), len(self) + new.height, dtype=pl.Int32)
            self._known = pl.concat([self._known, new.with_columns(keys.alias("place_key"))])
        return frame.join(self._known, on=PLACE_COLUMNS, how="left")


def random_uuids(n: int) -> list[str]:
    """`n` random (version 4, RFC 9562) UUIDs as 32 hex digits, from one os.urandom call."""
    raw = bytearray(os.urandom(16 * n))
    raw[6::16] = bytes((byte & 0x0F) | 0x40 for byte in raw[6::16])  # version 4
    raw[8::16] = bytes((byte & 0x3F) | 0x80 for byte in raw[8::16])  # variant 10xx
    digits = raw.hex()
    return [digits[i : i + 32] for i in range(0, 32 * n, 32)]


def _frame_to_csv(frame: pl.DataFrame, places: PlaceKeys) -> io.BytesIO:
    frame = frame.select(STAGING_COLUMN_NAMES)
    fill = [pl.col(name).fill_null("") for name in _TEXT_COLUMNS if frame.schema[name] == pl.String]
    if fill:
        frame = frame.with_columns(fill)
    frame = places.add_keys(frame.with_columns(pl.col(PLACE_COLUMNS).cast(pl.String)))
    frame = frame.with_columns(pl.Series("public_id", random_uuids(frame.height), dtype=pl.String))
    frame = frame.select(name for name, _kind in _STAGING)
    buf = io.BytesIO()
    frame.write_csv(buf, include_header=False)
    buf.seek(0)
    return buf


def staging_buffer(frame: pl.DataFrame, places: PlaceKeys) -> io.BytesIO | None:
    """One chunk of valid rows as the bytes COPY reads (None for no rows). `places`: the
    same `PlaceKeys` for every chunk of the file. Needs no database connection."""
    return _frame_to_csv(frame, places) if frame.height else None


def places_send(*, import_id: int, places: PlaceKeys) -> None:
    """COPY every place spelling of the file (after its last chunk) into the places table."""
    buf = io.BytesIO()
    places.frame().write_csv(buf, include_header=False)
    buf.seek(0)
    _copy_csv(places_table_name(import_id), ", ".join(name for name, _kind in _PLACES), buf)


def staging_send(*, import_id: int, buf: io.BytesIO | None) -> None:
    """COPY a `staging_buffer` into the import's staging table."""
    if buf is None:
        return
    _copy_csv(staging_table_name(import_id), ", ".join(name for name, _kind in _STAGING), buf)


def errors_copy(*, import_id: int, errors: Iterable) -> int:
    """COPY row errors (objects with row, column, message, value) into ImportRowError."""
    return _problems_copy("participants_importrowerror", import_id=import_id, problems=errors)


def warnings_copy(*, import_id: int, warnings: Iterable) -> int:
    """COPY row warnings (rows accepted but flagged; same shape as errors) into ImportRowWarning."""
    return _problems_copy("participants_importrowwarning", import_id=import_id, problems=warnings)


def _problems_copy(table: str, *, import_id: int, problems: Iterable) -> int:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    count = 0
    for error in problems:
        writer.writerow(
            (
                import_id,
                int(error.row),
                str(error.column or "")[:_COLUMN_MAX],
                str(error.message or "")[:_MESSAGE_MAX],
                _clean_value(error.value)[:_VALUE_MAX],
            )
        )
        count += 1
    if not count:
        return 0
    buf.seek(0)
    _copy_csv(table, 'arrears_import_id, "row", "column", message, value', buf)
    return count


def _copy_csv(table: str, columns: str, buf: io.IOBase) -> None:
    """COPY CSV rows (no header) from `buf` into `table` (`columns` in the rows' order)."""
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", buf)


def _clean_value(value: object) -> str:
    if value is None:
        return ""
    # A NUL byte cannot be stored in a PostgreSQL text column.
    return str(value).replace("\x00", "")
