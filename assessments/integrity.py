"""Integrity checks of screening and assessments (run by `manage.py check_integrity`, core.integrity)."""

from psycopg2 import sql

from assessments.models import Assessment, Screening
from core.integrity import Statement, column, register, register_same_regency, table

register_same_regency(Screening, "participant")
register_same_regency(Assessment, "participant")


@register("copy:assessments_screening.flag_bits",
          "queue entries whose flag bits differ from their flags (set their inputs_hash to NULL: "
          "the next screening computes them again)")
def _flag_bits_match_the_flags() -> Statement:
    # A screening counts the flags of the entries it leaves alone from their bits; an entry written
    # around it (flags edited by hand) would be counted wrong. Entries without a hash are computed
    # by the next screening whatever they hold.
    from assessments.screening import FLAG_BITS

    bits = sql.SQL(", ").join(sql.SQL("({}, {})").format(sql.Literal(flag.value), sql.Literal(bit))
                              for flag, bit in FLAG_BITS.items())
    return sql.SQL(
        "SELECT count(*) FROM {screening} AS s WHERE s.{hash} IS NOT NULL AND s.{bits} <> "
        "(SELECT coalesce(sum(b.bit), 0) FROM jsonb_array_elements(s.{flags}) AS f "
        " JOIN (VALUES {values}) AS b(code, bit) ON b.code = f->>'code')"
    ).format(screening=table(Screening), hash=column(Screening, "inputs_hash"), bits=column(Screening, "flag_bits"),
             flags=column(Screening, "flags"), values=bits), None
