"""Demo campaigns of Luwu Utara: `lutra-asn` (internal, one-to-one, paid into the
Pemkab's collecting account: route `collected`, treasurer bendahara.lutra@demo.test) and
`lutra-peduli` (public, one-to-one and pooled, paid straight into the family VA: route `direct`).
Idempotent."""

from __future__ import annotations

from django.db import transaction

from core.time import regency_today
from donations.models import Audience, Campaign, CampaignStatus, Kind, PaymentRoute
from regencies.models import Regency

CAMPAIGNS = (
    {
        "slug": "lutra-asn", "title": "ASN Luwu Utara Peduli JKN: Satu untuk Satu",
        "story": ("Gerakan satu untuk satu dimulai dari internal Pemda: setiap ASN Luwu Utara melunasi "
                  "tunggakan iuran JKN-KIS satu warga yang sudah dinilai layak dibantu."),
        "audience": Audience.INTERNAL, "kind": Kind.ONE_TO_ONE, "target_participants": 500,
        "pledge_limit": 3,
        # A made-up account: ASN transfer to the Pemkab's collecting account with the pledge's code.
        "payment_route": PaymentRoute.COLLECTED, "bank_name": "Bank Sulselbar",
        "account_number": "150-202-6000073", "account_holder": "Pemkab Luwu Utara - Satu untuk Satu",
    },
    {
        "slug": "lutra-peduli", "title": "Luwu Utara Peduli: Aktifkan Kembali JKN Tetangga Kita",
        "story": ("Ribuan warga Luwu Utara tidak dapat berobat dengan JKN-KIS karena menunggak iuran. "
                  "Pilih satu peserta atau satu keluarga, atau sumbang ke dana bersama: dana bersama "
                  "melengkapi keluarga yang sebagian anggotanya sudah terbantu."),
        "audience": Audience.PUBLIC, "kind": Kind.BOTH, "target_participants": 1000,
        "target_amount": 500_000_000, "payment_route": PaymentRoute.DIRECT,
    },
)


PAYMENT_KEYS = ("payment_route", "bank_name", "account_number", "account_holder")


def seed_campaigns() -> dict:
    """Create the demo campaigns (active) when missing. An existing one keeps what was edited in it,
    except how donors pay: a demo seeded before the payment routes gets `lutra-asn` collected."""
    regency = Regency.objects.filter(code="73.22").first()
    if regency is None:
        return {"skipped": "Luwu Utara (73.22) is missing"}
    created, updated = [], []
    with transaction.atomic():
        for spec in CAMPAIGNS:
            existing = Campaign.all_regencies.select_for_update().filter(slug=spec["slug"]).first()
            if existing is None:
                Campaign.objects.create(regency=regency, status=CampaignStatus.ACTIVE, hold_hours=72, **spec)
                created.append(spec["slug"])
                continue
            payment = {k: spec.get(k, "") for k in PAYMENT_KEYS}
            changed = [k for k, v in payment.items() if getattr(existing, k) != v]
            if changed:
                for key in changed:
                    setattr(existing, key, payment[key])
                existing.save(update_fields=[*changed, "updated_at"])
                updated.append(spec["slug"])
    return {"campaigns": [spec["slug"] for spec in CAMPAIGNS], "created": created, "updated": updated}


# --- demo pledges and the follow-up import (for reconciliation) ------------------------------

# (campaign slug, donor e-mail, pledges: days before today the payment was made, None = unpaid)
DEMO_PLEDGES = (
    ("lutra-peduli", "donatur@demo.test", (1, 1, 35, None)),
    ("lutra-asn", "staf.lutra@demo.test", (1, None)),
)


def seed_pledges() -> dict:
    """A few pledges of donatur@demo.test and staf.lutra@demo.test through the real services
    (reserve -> confirm -> record payment): most paid yesterday, one paid 35 days ago (the
    grace period is 30), some unpaid. Idempotent: a donor who already pledged on the campaign
    gets nothing new."""
    import datetime as dt

    from django.contrib.auth import get_user_model

    from donations import selectors, services

    made: dict[str, int] = {}
    for slug, email, plan in DEMO_PLEDGES:
        campaign = Campaign.all_regencies.select_related("regency").filter(slug=slug).first()
        donor = get_user_model().objects.filter(email=email).first()
        if campaign is None or donor is None:
            continue
        if campaign.pledges.filter(donor=donor).exists():
            made[slug] = 0
            continue
        today = regency_today(campaign.regency)
        candidates = list(selectors.pool_candidates(regency=campaign.regency, today=today)
                          .order_by("-months_in_arrears", "id")[: len(plan)])
        count = 0
        for participant, days_ago in zip(candidates, plan, strict=False):
            pledge = services.pledge_reserve(campaign=campaign, participant=participant, donor=donor)
            pledge = services.pledge_confirm(pledge=pledge, actor=donor)
            if days_ago is not None:
                services.payment_record(pledge=pledge, actor=donor, amount=pledge.amount,
                                        reference=f"DEMO-{pledge.pk}", paid_on=today - dt.timedelta(days=days_ago))
            count += 1
        made[slug] = count
    return {"pledges": made}


def second_import(*, branch_code: str, actor=None) -> dict:
    """A follow-up full list for the branch, written from its current participants and imported
    through the real pipeline (reconciliation follows, chained to the import; it is also run
    here so the demo never waits for a worker):
    - participants of paid demo pledges: paid off (zero arrears), except the one paid longest ago,
      which stays in arrears -> `disputed` (its payment is older than the grace period);
    - one participant of an unpaid pledge: paid off by someone else -> `released`;
    - everyone else as they are now.
    Running it again the same day imports the same bytes: a duplicate, nothing changes."""
    import csv
    import tempfile
    from pathlib import Path

    from donations.models import Pledge, PledgeStatus
    from donations.reconciliation.services import reconcile
    from participants import services as import_services
    from participants.imports.generate import HEADER
    from participants.models import ArrearsImport, ImportStatus, Participant, ParticipantStatus
    from regencies.models import BpjsBranch

    branch = BpjsBranch.objects.filter(code=branch_code).first()
    if branch is None:
        raise LookupError(branch_code)
    codes = dict(branch.regencies.values_list("pk", "code"))
    regency_ids = list(codes)
    newest = (ArrearsImport.objects.filter(branch=branch, status=ImportStatus.APPLIED, is_outdated=False)
              .order_by("-as_of", "-id").first())
    today = regency_today(branch)
    as_of = max(today, newest.as_of) if newest else today

    # Chosen the same way whatever reconciliation did since (so a second run writes the same file).
    pledges = Pledge.all_regencies.filter(regency_id__in=regency_ids)
    paid = list(pledges.filter(payments__isnull=False).distinct().values_list("participant_id", flat=True))
    oldest_paid = (pledges.filter(payments__isnull=False).order_by("payments__paid_on", "pk")
                   .values_list("participant_id", flat=True).first())
    unpaid = (pledges.filter(payments__isnull=True, status__in=[PledgeStatus.PLEDGED, PledgeStatus.RELEASED])
              .order_by("pk").values_list("participant_id", flat=True).first())
    clear = {p for p in paid if p != oldest_paid} | ({unpaid} if unpaid else set())

    people = (Participant.all_regencies.filter(regency_id__in=regency_ids)
              .exclude(status=ParticipantStatus.CLEARED)
              .select_related("family", "district", "village").order_by("pk"))
    with tempfile.TemporaryDirectory(prefix="satu-demo-") as tmp:
        path = Path(tmp) / f"tunggakan-{branch.code}-{as_of.isoformat()}-lanjutan.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            for p in people.iterator(chunk_size=2000):
                cleared = p.pk in clear
                months, amount = (0, 0) if cleared else (p.months_in_arrears, p.arrears_amount)
                writer.writerow([
                    p.card_number, p.nik, p.name, p.birth_date.strftime("%d-%m-%Y") if p.birth_date else "",
                    p.sex, p.family.number if p.family else "", p.relationship, p.care_class, p.segment,
                    p.village.code if p.village and p.village.code else codes[p.regency_id],
                    p.district.name if p.district else "", p.village.name if p.village else "", p.address,
                    months, amount, p.last_paid_date.strftime("%d-%m-%Y") if p.last_paid_date else "",
                    "AKTIF" if cleared or p.bpjs_status == "active" else "TIDAK AKTIF",
                ])
        arrears_import, duplicate = import_services.import_create(
            branch=branch, actor=actor, uploaded_file=path, as_of=as_of, mode="full", enqueue=False)
    if not duplicate:
        arrears_import = import_services.import_run(import_id=arrears_import.pk)
    result = reconcile(regency_ids=regency_ids)
    return {"import_id": arrears_import.pk, "duplicate": duplicate, "status": arrears_import.status,
            "as_of": as_of.isoformat(), "cleared_on_purpose": len(clear), "reconciliation": result}
