"""Demo campaigns of Luwu Utara (CONTRACT.md): `lutra-asn` (internal, one-to-one) and
`lutra-peduli` (public, one-to-one and pooled). Idempotent."""

from __future__ import annotations

from django.db import transaction

from donations.models import Audience, Campaign, CampaignStatus, Kind
from regencies.models import Regency

CAMPAIGNS = (
    {
        "slug": "lutra-asn", "title": "ASN Luwu Utara Peduli JKN: Satu untuk Satu",
        "story": ("Gerakan satu untuk satu dimulai dari internal Pemda: setiap ASN Luwu Utara melunasi "
                  "tunggakan iuran JKN-KIS satu warga yang sudah dinilai layak dibantu."),
        "audience": Audience.INTERNAL, "kind": Kind.ONE_TO_ONE, "target_participants": 500,
        "pledge_limit": 3,
    },
    {
        "slug": "lutra-peduli", "title": "Luwu Utara Peduli: Aktifkan Kembali JKN Tetangga Kita",
        "story": ("Ribuan warga Luwu Utara tidak dapat berobat dengan JKN-KIS karena menunggak iuran. "
                  "Pilih satu peserta atau satu keluarga, atau sumbang ke dana bersama: dana bersama "
                  "melengkapi keluarga yang sebagian anggotanya sudah terbantu."),
        "audience": Audience.PUBLIC, "kind": Kind.BOTH, "target_participants": 1000,
        "target_amount": 500_000_000,
    },
)


def seed_campaigns() -> dict:
    """Create the demo campaigns (active) when missing; existing ones are left as they are."""
    regency = Regency.objects.filter(code="73.22").first()
    if regency is None:
        return {"skipped": "Luwu Utara (73.22) is missing"}
    created = []
    with transaction.atomic():
        for spec in CAMPAIGNS:
            if Campaign.all_regencies.filter(slug=spec["slug"]).exists():
                continue
            Campaign.objects.create(regency=regency, status=CampaignStatus.ACTIVE, hold_hours=72, **spec)
            created.append(spec["slug"])
    return {"campaigns": [spec["slug"] for spec in CAMPAIGNS], "created": created}
