"""Integrity checks of the import's bulk tables (run by `manage.py check_integrity`, core.integrity):
a row's regency equals the regency of the rows it points to (for the history: the newest record),
and no history row sits in the DEFAULT partition."""

from psycopg2 import sql

from core.integrity import Statement, column, register, register_same_regency, table
from participants.models import ArrearsRecord, Family, Participant, Standing
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


@register("copy:participants_standing",
          "participants whose standing (status, months, amount, regency) is missing or differs from them")
def _standing_is_a_copy() -> Statement:
    # The triggers of participants/standing.py keep it; a row here means a write went around
    # them (triggers disabled, a restore of one table without the other). The orphan check of
    # the standing's participant key finds standings left without their participant.
    return sql.SQL(
        "SELECT count(*) FROM {participant} AS p LEFT JOIN {standing} AS s ON s.{s_participant} = p.{p_id}"
        " WHERE (p.{p_regency}, p.{p_status}, p.{p_months}, p.{p_amount})"
        " IS DISTINCT FROM (s.{s_regency}, s.{s_status}, s.{s_months}, s.{s_amount})"
    ).format(participant=table(Participant), standing=table(Standing),
             s_participant=column(Standing, "participant"), p_id=column(Participant, "id"),
             p_regency=column(Participant, "regency"), p_status=column(Participant, "status"),
             p_months=column(Participant, "months_in_arrears"), p_amount=column(Participant, "arrears_amount"),
             s_regency=column(Standing, "regency"), s_status=column(Standing, "status"),
             s_months=column(Standing, "months_in_arrears"), s_amount=column(Standing, "arrears_amount")), None
