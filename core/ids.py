"""Time-ordered public identifiers."""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> uuid.UUID:
    """A version 7 UUID (RFC 9562): 48 bits of Unix time in milliseconds, then 74 random bits.

    Unguessable like a version 4, but ids made one after another sort one after another, so a
    unique index on them is written at its end instead of at a random page: rows made together
    (a family adoption, an import) and rows updated together whose update is not HOT add each
    new index entry next to the previous one (measured: bench/README.md, `core.ids.uuid7`). What it reveals is when
    the row was made, to the millisecond."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version
    value = value & ~(0x3 << 62) | 0x2 << 62  # variant (RFC 9562)
    return uuid.UUID(int=value)
