"""Integrity checks of the import's bulk tables (run by `manage.py check_integrity`, core.integrity):
a row's regency equals the regency of the rows it points to (for the history: the newest record),
and no history row sits in the DEFAULT partition."""

from psycopg2 import sql

from core.integrity import Statement, column, register, register_same_regency, table
from participants.models import ArrearsRecord, Family, Participant
from participants.partitions import DEFAULT_PARTITION

register_same_regency(Family, "village")
register_same_regency(Participant, "family")
register_same_regency(Participant, "district")
register_same_regency(Participant, "village")


@register("regency:participants_arrearsrecord.newest",
          "participants whose newest arrears record lies in another regency")
def _newest_record() -> Statement:
    # Older records keep the regency the line was routed to then (a card may move between the
    # regencies of a branch); the record of the participant's last import has its regency.
    return sql.SQL(
        "SELECT count(*) FROM {participant} AS p JOIN {record} AS r"
        " ON r.{r_participant} = p.{p_id} AND r.{r_import} = p.{p_import}"
        " WHERE r.{r_regency} <> p.{p_regency}"
    ).format(participant=table(Participant), record=table(ArrearsRecord),
             r_participant=column(ArrearsRecord, "participant"), p_id=column(Participant, "id"),
             r_import=column(ArrearsRecord, "arrears_import"), p_import=column(Participant, "last_import"),
             r_regency=column(ArrearsRecord, "regency"), p_regency=column(Participant, "regency")), None


@register("partition:participants_arrearsrecord.default",
          "arrears records in the DEFAULT partition (a list month without its own partition)")
def _history_default_partition() -> Statement:
    # Every list month has its partition (the import makes its own, the monthly beat job the
    # coming ones); a row here is of a month nobody prepared, or of a month detached since.
    # `manage.py history_partitions ensure` / participants.partitions.history_partition_ensure
    # moves such rows into their month's partition.
    return sql.SQL("SELECT count(*) FROM {default}").format(default=sql.Identifier(DEFAULT_PARTITION)), None
