"""What the isolation test puts into each URL kwarg: a registry keyed by kwarg NAME.

Every URL kwarg in the project must have an entry here. A route with a kwarg that has no
entry FAILS tests/isolation/test_isolation.py with a message pointing here: that is how
new routes stay covered. To register one, add a function `(side, pattern) -> str` that
returns the kwarg's value for an object of that side (`world.a` or `world.b`), creating the
object in `build_side` below (use tests/factories.py).

Donations:
- `campaign_slug` -> an INTERNAL, active campaign of the side's regency (an internal campaign
  is visible to that Pemda's members only, so A must get a 404 for B's). The same routes
  serve public campaigns to anyone by design; that is tested in tests/donations/.
- `pledge_id` -> a paid pledge of the side's member on that campaign, with one payment
  (`payment_id`) that has a receipt file.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern
from django.utils import timezone

from participants.models import Participant
from regencies.models import BranchMembership, Invitation, Membership
from regencies.roles import BranchRole, Role
from tests.factories import (
    ArrearsImportFactory,
    BranchFactory,
    DistrictFactory,
    FamilyFactory,
    ParticipantFactory,
    RegencyFactory,
    UserFactory,
    VillageFactory,
    api_token_for,
)


@dataclass
class Side:
    """One tenant's objects: everything a kwarg can point at."""

    name: str
    regency: Any
    branch: Any
    district: Any
    village: Any
    family: Any
    participant: Any
    arrears_import: Any
    invitation: Any
    member: Any  # a user holding every role in this regency and BPJS admin of its branch
    token: str
    objects: dict[type, Any] = field(default_factory=dict)
    assessment: Any = None
    evidence: Any = None
    campaign: Any = None
    pledge: Any = None
    payment: Any = None
    anomaly: Any = None
    handover: Any = None
    statement: Any = None
    correction: Any = None


@dataclass
class World:
    a: Side
    b: Side

    def markers_of_b(self) -> list[str]:
        """Strings that only B's private data contains: none may appear in a page A can open."""
        p = self.b.participant
        return [p.name, p.nik, p.card_number, str(p.public_id), self.b.arrears_import.original_name,
                self.b.member.email, self.b.invitation.email, self.b.campaign.title,
                str(self.b.pledge.public_id), self.b.payment.reference, self.b.handover.number]


def build_side(name: str, *, code: str, slug: str, branch_code: str) -> Side:
    regency = RegencyFactory(code=code, slug=slug, name=name)
    branch = BranchFactory(code=branch_code, name=f"KC {name}")
    branch.regencies.add(regency)
    district = DistrictFactory(regency=regency, code=f"{code}.01", name=f"Kecamatan {name}")
    village = VillageFactory(district=district, regency=regency, code=f"{code}.01.2001", name=f"Desa {name}")
    family = FamilyFactory(regency=regency, village=village)
    arrears_import = ArrearsImportFactory(branch=branch, original_name=f"tunggakan-rahasia-{slug}.csv")
    participant = ParticipantFactory(
        regency=regency, family=family, district=district, village=village,
        name=f"Peserta Rahasia {name}", last_import=arrears_import,
    )
    member = UserFactory(email=f"semua.peran.{slug}@example.test", mfa=True)  # every role needs MFA
    for role in Role:
        Membership.objects.create(regency=regency, user=member, role=role)
    BranchMembership.objects.create(branch=branch, user=member, role=BranchRole.BPJS_ADMIN)
    invitation = Invitation.objects.create(
        regency=regency, email=f"undangan.{slug}@example.test", role=Role.ASSESSOR, invited_by=member,
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    token = api_token_for(member)
    side = Side(
        name=name, regency=regency, branch=branch, district=district, village=village, family=family,
        participant=participant, arrears_import=arrears_import, invitation=invitation, member=member,
        token=token,
    )
    # For the admin's `object_id`: this side's object of each model.
    side.objects = {
        type(regency): regency, type(branch): branch, type(district): district, type(village): village,
        type(family): family, Participant: participant, type(arrears_import): arrears_import,
        Invitation: invitation, type(member): member,
        Membership: Membership.objects.for_regency(regency).filter(user=member).first(),
        BranchMembership: BranchMembership.objects.filter(user=member).first(),
        EmailAddress: EmailAddress.objects.filter(user=member).first(),
    }
    _add_assessment(side)
    _add_pledge(side)
    _add_correction(side)
    return side


def _add_correction(side: Side) -> None:
    """An open correction request of the side's participant (UU 27/2022 rights)."""
    from donations.privacy.subject import correction_request_create

    side.correction = correction_request_create(
        regency=side.regency, participant=side.participant, actor=side.member, field="address",
        requested_value=f"Alamat rahasia {side.name}",
    )
    side.objects[type(side.correction)] = side.correction


def _add_pledge(side: Side) -> None:
    """An internal campaign of the side's regency; a paid pledge of the side's member on it
    with one payment and its receipt. Made directly: the participant has
    an open assessment here, so it is not in the pool."""
    from django.core.files.base import ContentFile

    from donations.models import (
        Audience,
        Campaign,
        CampaignStatus,
        Kind,
        Payment,
        Pledge,
        PledgeStatus,
    )

    now = timezone.now()
    side.campaign = Campaign.objects.create(
        regency=side.regency, slug=f"kampanye-rahasia-{side.regency.slug}", title=f"Kampanye Rahasia {side.name}",
        audience=Audience.INTERNAL, kind=Kind.BOTH, status=CampaignStatus.ACTIVE,
    )
    side.pledge = Pledge.objects.create(
        regency=side.regency, campaign=side.campaign, participant=side.participant, donor=side.member,
        status=PledgeStatus.PAID, amount=245_000, arrears_amount=210_000, months_in_arrears=6,
        monthly_tariff=35_000, pledged_at=now, paid_at=now, due_at=now + datetime.timedelta(hours=72),
    )
    side.payment = Payment(
        regency=side.regency, pledge=side.pledge, amount=245_000, reference=f"REF-RAHASIA-{side.regency.code}",
        paid_on=now.date(), recorded_by=side.member, receipt_content_type="image/png",
        receipt_number=f"KW/{side.regency.code}/2026/000001",
    )
    side.payment.receipt.save("bukti.png", ContentFile(b"\x89PNG\r\n\x1a\n" + bytes(64)), save=False)
    side.payment.save()
    side.objects[Campaign] = side.campaign
    side.objects[Pledge] = side.pledge
    side.objects[Payment] = side.payment
    _add_anomaly(side)
    _add_handover(side)
    _add_statement(side)


def _add_handover(side: Side) -> None:
    """A draft hand-over batch of the side's campaign with one family VA line:
    `handover_id`. Made directly: the selection is tested in tests/donations/test_handovers.py."""
    from donations.models import Handover, HandoverLine

    side.handover = Handover.objects.create(
        regency=side.regency, campaign=side.campaign, number=f"SRH/{side.regency.code}/2026/0001",
        families=1, total=245_000, created_by=side.member,
    )
    HandoverLine.objects.create(regency=side.regency, handover=side.handover, family=side.family,
                                va_number=f"88888{side.participant.card_number[-11:]}", amount=245_000)
    side.objects[Handover] = side.handover



def _add_statement(side: Side) -> None:
    """A processed bank statement of the side's campaign: `statement_id`. Made
    directly: processing is tested in tests/donations/test_statements.py."""
    from donations.models import BankStatement

    side.statement = BankStatement.objects.create(
        regency=side.regency, campaign=side.campaign, file=f"statements/{side.regency.pk}/rahasia.csv",
        original_name=f"mutasi-rahasia-{side.regency.slug}.csv", sha256="0" * 64, status="done",
        uploaded_by=side.member, finished_at=timezone.now(),
    )
    side.objects[BankStatement] = side.statement


def _add_anomaly(side: Side) -> None:
    """A disputed-payment anomaly of the side's pledge: `anomaly_id`."""
    from donations.models import Anomaly, AnomalyKind

    side.anomaly = Anomaly.objects.create(regency=side.regency, kind=AnomalyKind.DISPUTED_PAYMENT,
                                          pledge=side.pledge, detail=f"Anomali rahasia {side.name}")
    side.objects[Anomaly] = side.anomaly


def _add_assessment(side: Side) -> None:
    """A draft assessment of the side's participant with one evidence file, made through the
    real services."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from assessments.services import assessment_start, evidence_add

    side.assessment = assessment_start(
        regency=side.regency, actor=side.member, participant=side.participant
    )
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    side.evidence = evidence_add(
        assessment=side.assessment, actor=side.member,
        upload=SimpleUploadedFile("foto-rumah.png", png, content_type="image/png"),
    )
    side.objects[type(side.assessment)] = side.assessment
    side.objects[type(side.evidence)] = side.evidence


def build_world() -> World:
    return World(
        a=build_side("Luwu Utara", code="73.22", slug="luwu-utara", branch_code="palopo"),
        b=build_side("Lombok Timur", code="52.03", slug="lombok-timur", branch_code="selong"),
    )


def _admin_object_id(side: Side, pattern: URLPattern) -> str:
    """The admin is for the national operator only (staff): every non-staff request is sent
    to the admin login whatever the id. Still, point at this side's object where we have one."""
    model_admin = getattr(pattern.callback, "model_admin", None)
    if model_admin is None:  # admin/r/<content_type_id>/<object_id>/ (view on site)
        return str(side.participant.pk)
    obj = side.objects.get(model_admin.model)
    return str(obj.pk) if obj is not None else "1"


# kwarg name -> value for one side. `pattern` is the URL pattern being walked.
KWARGS: dict[str, Callable[[Side, URLPattern], str]] = {
    # Tenancy.
    "regency_slug": lambda side, pattern: side.regency.slug,
    "branch_code": lambda side, pattern: side.branch.code,
    "import_id": lambda side, pattern: str(side.arrears_import.pk),
    "public_id": lambda side, pattern: str(side.participant.public_id),
    "assessment_id": lambda side, pattern: str(side.assessment.pk),
    "evidence_id": lambda side, pattern: str(side.evidence.pk),
    "campaign_slug": lambda side, pattern: side.campaign.slug,
    "pledge_id": lambda side, pattern: str(side.pledge.public_id),
    "payment_id": lambda side, pattern: str(side.payment.pk),
    "anomaly_id": lambda side, pattern: str(side.anomaly.pk),
    "handover_id": lambda side, pattern: str(side.handover.pk),
    "statement_id": lambda side, pattern: str(side.statement.pk),
    "correction_id": lambda side, pattern: str(side.correction.pk),
    # A membership of the side's regency (the MFA reset of a member).
    "membership_id": lambda side, pattern: str(
        Membership.all_regencies.filter(regency=side.regency).order_by("pk").first().pk
    ),
    # The account page's API tokens: the side's member's own token (anyone else's is a 404).
    "token_id": lambda side, pattern: str(side.member.api_tokens.order_by("pk").first().pk),
    # A capability: the invitation link itself lets its holder accept (see CAPABILITY_ROUTES).
    "token": lambda side, pattern: side.invitation.token,
    # Django admin (staff only).
    "object_id": _admin_object_id,
    "id": _admin_object_id,  # UserAdmin's <id>/password/
    "content_type_id": lambda side, pattern: str(ContentType.objects.get_for_model(Participant).pk),
    "app_label": lambda side, pattern: "regencies",
    "url": lambda side, pattern: "regencies/tidak-ada/",  # the admin's catch-all
    # allauth's e-mail confirmation and password-reset links: forged values (the secret is
    # the point of those links; see PUBLIC_ROUTES in the test).
    "key": lambda side, pattern: f"forged-key-{side.regency.slug}",
    "uidb36": lambda side, pattern: "1a",
}
