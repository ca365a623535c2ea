"""The figures every page, export and API shows about a regency, each defined once.

| figure | label | what it counts |
|---|---|---|
| `in_arrears` | Peserta menunggak | participants on the branch's newest list (not cleared) listed there as not active (`participants.selectors.in_arrears_q`) |
| `eligible` | Layak dibantu | of those in arrears, the ones with an approved assessment still valid today (`assessments.selectors.eligible_participant_ids`) |
| `waiting` | Menunggu donatur | the donors' pool: eligible, in arrears, not routed to the write-off or REHAB, no pledge holding them (`donations.selectors.available_participants`, the campaign page's "peserta menunggu") |
| `pledged` | Dijanjikan | pledges reserved or pledged, not yet paid (`donations.selectors.pledge_counts`) |
| `verified` | Terverifikasi | pledges verified by a later list (`pledge_counts`) |
| `disputed` | Dipersoalkan | pledges paid but still shown in arrears after the grace days, now (`pledge_counts`; the reconciliation page's card) |
| `reactivated` | Aktif kembali | what BPJS's lists say: no longer in arrears on the newest list (active, or absent from a full list) after a list that showed arrears; not written off, not moved to PBI (`participants.selectors.reactivated_q`) |
| `cleared` | Tidak lagi di daftar (lunas) | participants absent from the branch's newest full list (status `cleared`) |

The participant-scale figures are kept per regency in `reporting.models.RegencySummary`
(refreshed by `reporting.summaries`); `list_figures` computes them live, set-based, for the
refresh and for the integrity check; `reactivated`'s "once in arrears" is what the import keeps per
participant and regency (`participants.models.ClearingHistory.once_in_arrears`), not every month
of the history, made current first when records were written around the import
(`once_in_arrears_current`). The pledge figures are read from the tallies the database keeps in
each statement that writes pledges (`donations.models.PledgeTally` per campaign and status,
`CoverTally` for the participants covered, once each): a donor's reservation changes them at
once, and reading them costs the same after a year of pledges as after the first. Covered per
district counts each pledge in the district its participant was listed in when it was made. `waiting` is counted by
`donations.selectors.pool_count` and kept until the regency's data changes (`regencies.versions`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from assessments.models import Screening
from assessments.selectors import eligible_participant_ids
from core.time import regency_today
from donations.models import (
    COVERING_STATUSES,
    CoverScope,
    CoverTally,
    Pledge,
    PledgeStatus,
    PledgeTally,
)
from donations.selectors import covered_participants, pledge_counts, pledge_tally, pool_count
from participants.imports.apply import clearing_history_matches_imports, rebuild_clearing_history
from participants.models import ARREARS_SEGMENTS, Family, Participant, ParticipantStatus, Standing
from participants.selectors import in_arrears_q, reactivated_q
from regencies.models import Regency

CLASS_III = 3

# figure -> (label, what it counts): the labels the pages show, with their help text.
LABELS: dict[str, tuple[Any, Any]] = {
    "in_arrears": (_("Peserta menunggak"), _("di daftar BPJS terbaru dengan status tidak aktif")),
    "eligible": (_("Layak dibantu"), _("menunggak, dengan asesmen disetujui yang masih berlaku")),
    "waiting": (_("Menunggu donatur"), _("layak dibantu, bukan jalur pemutihan/REHAB, belum ada janji")),
    "pledged": (_("Dijanjikan"), _("janji dipesan atau dikonfirmasi, belum dibayar")),
    "verified": (_("Terverifikasi"), _("janji yang lunasnya terlihat di daftar BPJS berikutnya")),
    "disputed": (_("Dipersoalkan"), _("janji dibayar tetapi daftar BPJS masih menunjukkan tunggakan")),
    "reactivated": (_("Aktif kembali"), _("dulu menunggak, kini aktif atau tidak lagi di daftar BPJS")),
    "cleared": (_("Tidak lagi di daftar (lunas)"), _("tidak ada di daftar lengkap cabang yang terbaru")),
}


def _day(regency: Regency, today: dt.date | None) -> dt.date:
    return today or regency_today(regency)


def eligible_q(*, regency: Regency, today: dt.date) -> Q:
    """Condition on a Participant row: in arrears, with an approval still valid on `today`."""
    return in_arrears_q() & Q(pk__in=eligible_participant_ids(regency=regency, today=today))


def once_in_arrears_current(*, regency: Regency) -> None:
    """Make sure what `reactivated` reads is current: "once in arrears" comes from the rows the
    import keeps per participant and regency (`participants.models.ClearingHistory`), not from
    every month of the history. When they were not made from the regency's applied imports as they
    are now (records written by anything but the apply: an import it did not see), they are made
    again from the whole history, once, as screening does; otherwise two small reads."""
    with connection.cursor() as cur:
        if clearing_history_matches_imports(cur, regency.pk):
            return
    with transaction.atomic(), connection.cursor() as cur:
        rebuild_clearing_history(cur, [regency.pk])


def _verified_participant_ids(regency: Regency) -> Any:
    return Pledge.objects.for_regency(regency).filter(status=PledgeStatus.VERIFIED).values("participant_id")


def list_figures(*, regency: Regency, today: dt.date | None = None) -> dict[str, int]:
    """The participant-scale figures, live: one aggregate over the regency's participants.

    `reactivated_by_donors`: reactivated and helped by a verified pledge (the headline); the
    class III ones cost the regency its share of the contribution (the budget effect)."""
    day = _day(regency, today)
    once_in_arrears_current(regency=regency)
    arrears = in_arrears_q()
    reactivated = reactivated_q(regency=regency)
    by_donors = reactivated & Q(pk__in=_verified_participant_ids(regency))
    return Participant.objects.for_regency(regency).aggregate(
        participants=Count("id"),
        in_arrears=Count("id", filter=arrears),
        families_in_arrears=Count("family_id", filter=arrears, distinct=True),
        arrears_total=Sum("arrears_amount", filter=arrears, default=0),
        cleared=Count("id", filter=Q(status=ParticipantStatus.CLEARED)),
        reactivated=Count("id", filter=reactivated),
        reactivated_by_donors=Count("id", filter=by_donors),
        reactivated_class3_by_donors=Count("id", filter=by_donors & Q(care_class=CLASS_III)),
        written_off=Count("id", filter=Q(written_off=True)),
        moved_to_pbi=Count("id", filter=~Q(segment__in=ARREARS_SEGMENTS)),
        eligible=Count("id", filter=eligible_q(regency=regency, today=day)),
    )


def families_reactivated(*, regency: Regency) -> int:
    """Families with a member active again (`reactivated`) and none still in arrears (one query)."""
    once_in_arrears_current(regency=regency)
    members = Participant.objects.for_regency(regency).filter(family_id__isnull=False)
    return (
        Family.objects.for_regency(regency)
        .filter(pk__in=members.filter(reactivated_q(regency=regency)).values("family_id"))
        .exclude(pk__in=members.filter(in_arrears_q()).values("family_id"))
        .count()
    )


def screened(*, regency: Regency) -> int:
    """Participants with a screening result (the assessment queue), one query."""
    return Screening.objects.for_regency(regency).count()


def district_figures(*, regency: Regency, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Per district: in arrears, eligible, reactivated, arrears (one query)."""
    day = _day(regency, today)
    once_in_arrears_current(regency=regency)
    arrears = in_arrears_q()
    return list(
        Participant.objects.for_regency(regency)
        .values("district_id", "district__name")
        .annotate(
            in_arrears=Count("id", filter=arrears),
            eligible=Count("id", filter=eligible_q(regency=regency, today=day)),
            reactivated=Count("id", filter=reactivated_q(regency=regency)),
            arrears_total=Sum("arrears_amount", filter=arrears, default=0),
        )
        .order_by("district__name")
    )


# --- the figures one at a time (each page that shows one figure asks here) -------------------


def in_arrears(*, regency: Regency) -> int:
    return Participant.objects.for_regency(regency).filter(in_arrears_q()).count()


def eligible(*, regency: Regency, today: dt.date | None = None) -> int:
    day = _day(regency, today)
    return Participant.objects.for_regency(regency).filter(eligible_q(regency=regency, today=day)).count()


def waiting(*, regency: Regency, today: dt.date | None = None) -> int:
    """The donors' pool: what a campaign's participant page counts ("peserta menunggu")."""
    return pool_count(regency=regency, today=_day(regency, today))


def reactivated(*, regency: Regency) -> int:
    once_in_arrears_current(regency=regency)
    return Participant.objects.for_regency(regency).filter(reactivated_q(regency=regency)).count()


def cleared(*, regency: Regency) -> int:
    """Participants no longer on the list: an index-only count of their standings."""
    return Standing.objects.for_regency(regency).filter(status=ParticipantStatus.CLEARED).count()


def pledge_figures(*, regency: Regency) -> dict[str, int]:
    """Pledged, paid, verified, disputed, released (the same numbers the reconciliation page
    shows) and the rupiah pledged, paid and verified: one read of the tallies the database keeps
    per campaign and status (`donations.selectors.pledge_tally`)."""
    s = PledgeStatus
    tally = pledge_tally(regency=regency)

    def rupiah(*statuses: str) -> int:
        return sum(tally[status][1] for status in statuses)

    return {
        "pledged": tally[s.RESERVED][0] + tally[s.PLEDGED][0],
        "paid": tally[s.PAID][0],
        "verified": tally[s.VERIFIED][0],
        "disputed": tally[s.DISPUTED][0],
        "released": tally[s.RELEASED][0],
        "rupiah_pledged": rupiah(*COVERING_STATUSES),
        "rupiah_paid": rupiah(s.PAID, s.VERIFIED, s.DISPUTED),
        "rupiah_verified": rupiah(s.VERIFIED),
    }


def pledged(*, regency: Regency) -> int:
    return pledge_figures(regency=regency)["pledged"]


def verified(*, regency: Regency) -> int:
    return pledge_counts(regency=regency)[PledgeStatus.VERIFIED]


def disputed(*, regency: Regency) -> int:
    return pledge_counts(regency=regency)[PledgeStatus.DISPUTED]


def covered_by_district(*, regency: Regency) -> dict[int | None, int]:
    """Per district (the participant's when the pledge was made): participants a pledge covers
    (active, verified or disputed), each once; one read of the database's tallies."""
    return covered_participants(regency=regency)["district"]


def pledges_by_regency(*, regency_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per regency: participants covered by a pledge and pledges verified (two reads of the
    database's tallies for any number of regencies; the branch and national views)."""
    result = {pk: {"covered": 0, "verified": 0} for pk in regency_ids}
    covered = (CoverTally.all_regencies.filter(regency_id__in=regency_ids, scope=CoverScope.REGENCY)
               .values_list("regency_id", "participants"))
    for regency_id, n in covered:
        result[regency_id]["covered"] = n
    verified = (PledgeTally.all_regencies.filter(regency_id__in=regency_ids, status=PledgeStatus.VERIFIED)
                .values("regency_id").annotate(n=Sum("pledges")).order_by())
    for row in verified:
        result[row["regency_id"]]["verified"] = row["n"]
    return result
