"""Demo data (dev and test only): the demo tenants, branches, districts and users.

`demo_seed` is idempotent: running it again changes nothing and creates no duplicates.
It refuses to run unless `settings.ENABLE_DEMO_DATA` (False in production settings).
Participants come from `participants.demo.seed_participants` (one applied import per
branch), assessments from `assessments.demo`, campaigns and pledges from `donations.demo`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.mfa import enrol_totp
from accounts.models import User
from assessments.demo import seed_assessments
from core.errors import DomainError
from donations.demo import seed_campaigns, seed_pledges
from donations.services import donor_profile_ensure
from participants.demo import seed_participants
from regencies.models import BpjsBranch, BranchMembership, District, Membership, Regency
from regencies.reference import BRANCHES, REGENCIES
from regencies.roles import BranchRole, Role
from reporting.summaries import summaries_refresh_all

OPERATOR_EMAIL = "operator@demo.test"
DONOR_EMAIL = "donatur@demo.test"
DEFAULT_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # noqa: S105 - the documented demo secret (dev and test only)


@dataclass(frozen=True)
class DemoUser:
    email: str
    full_name: str
    description: str
    regency_code: str | None = None
    role: str | None = None
    branch_code: str | None = None


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("bpjs.palopo@demo.test", "Admin BPJS KC Palopo", "BPJS admin, KC Palopo",
             branch_code="palopo"),
    DemoUser("bpjs.selong@demo.test", "Admin BPJS KC Selong", "BPJS admin, KC Selong",
             branch_code="selong"),
    DemoUser("admin.lutra@demo.test", "Andi Admin Lutra", "regency admin, Luwu Utara",
             regency_code="73.22", role=Role.REGENCY_ADMIN),
    DemoUser("staf.lutra@demo.test", "Sitti Staf Lutra", "Pemda staff, Luwu Utara",
             regency_code="73.22", role=Role.PEMDA_STAFF),
    DemoUser("asesor.lutra@demo.test", "Rahmat Asesor Lutra", "assessor, Luwu Utara",
             regency_code="73.22", role=Role.ASSESSOR),
    DemoUser("supervisor.lutra@demo.test", "Hasnah Supervisor Lutra",
             "assessment supervisor, Luwu Utara", regency_code="73.22", role=Role.SUPERVISOR),
    DemoUser("bendahara.lutra@demo.test", "Nurhaeda Bendahara Lutra",
             "treasurer (bendahara), Luwu Utara: statements, hand-overs to BPJS", regency_code="73.22",
             role=Role.TREASURER),
    DemoUser("admin.lotim@demo.test", "Lalu Admin Lotim", "regency admin, Lombok Timur",
             regency_code="52.03", role=Role.REGENCY_ADMIN),
    DemoUser("asesor.lotim@demo.test", "Baiq Asesor Lotim", "assessor, Lombok Timur",
             regency_code="52.03", role=Role.ASSESSOR),
    DemoUser(DONOR_EMAIL, "Donatur Demo", "community donor"),
)


class DemoDataDisabled(DomainError):
    status_code = 400
    default_code = "demo_disabled"
    default_detail = _(
        "Data demo dinonaktifkan di lingkungan ini (ENABLE_DEMO_DATA=False, mis. produksi); "
        "seed_demo tidak mengubah apa pun."
    )


def _noop(message: str) -> None:
    return None


def demo_seed(
    *, participants: int = 300, seed: int = 2026, progress: Callable[[str], None] = _noop
) -> dict:
    """Create (or leave as they are) the demo tenants, branches, districts and users;
    then, when `participants` > 0, one applied arrears import per branch.
    Returns the summary printed by `manage.py seed_demo`."""
    if not settings.ENABLE_DEMO_DATA:
        raise DemoDataDisabled()
    if participants < 0:
        raise DomainError(str(_("Jumlah peserta harus 0 atau lebih.")), code="invalid")

    created = {"regencies": 0, "districts": 0, "branches": 0, "users": 0, "memberships": 0}
    with transaction.atomic():
        regencies = _regencies_ensure(created, progress)
        branches = _branches_ensure(regencies, created, progress)
        _users_ensure(regencies, branches, created, progress)

    participant_summary: dict[str, dict] = {}
    assessment_summary: dict[str, dict] = {}
    if participants > 0:
        for index, branch in enumerate(branches.values()):
            progress(f"peserta: cabang {branch.code}, {participants} per kabupaten/kota …")
            participant_summary[branch.code] = seed_participants(
                branch=branch, per_regency=participants, seed=seed + index
            )
        # Eligibility through the real workflow: an assessor fills and submits, a
        # different supervisor approves (four eyes). Regencies without both are skipped.
        for regency in regencies.values():
            progress(f"asesmen: {regency.name} …")
            assessment_summary[regency.code] = seed_assessments(regency=regency, fraction=0.5, seed=seed)

    # The demo campaigns: lutra-asn and lutra-peduli, idempotent.
    campaign_summary = seed_campaigns()
    progress(f"kampanye: {', '.join(campaign_summary.get('campaigns', []))}")
    if participants > 0:
        # A few pledges of the demo donors, through the real services.
        campaign_summary["pledges"] = seed_pledges()["pledges"]
    # The dashboards read summaries; the approvals above refresh them only once a worker runs
    # the outbox: refresh now so the first page shows the seeded figures.
    summaries_refresh_all(regency_codes=[r.code for r in REGENCIES])
    progress("ringkasan dasbor diperbarui")

    return {
        "campaigns": campaign_summary,
        "regencies": Regency.objects.filter(code__in=[r.code for r in REGENCIES]).count(),
        "districts": District.all_regencies.filter(regency__in=regencies.values()).count(),
        "branches": BpjsBranch.objects.filter(code__in=[b.code for b in BRANCHES]).count(),
        "users": len(DEMO_USERS) + 1,
        "created": created,
        "participants": participant_summary,
        "assessments": assessment_summary,
        "logins": [{"email": u.email, "role": u.description} for u in DEMO_USERS]
        + [{"email": OPERATOR_EMAIL, "role": "national operator (Django admin /admin/)"}],
        "operator": OPERATOR_EMAIL,
        "password": settings.DEMO_PASSWORD,
        "totp_secret": demo_totp_secret(),
    }


def _regencies_ensure(created: dict, progress) -> dict[str, Regency]:
    regencies: dict[str, Regency] = {}
    for ref in REGENCIES:
        regency, was_created = Regency.objects.update_or_create(
            code=ref.code,
            defaults={
                "name": ref.name, "slug": ref.slug, "kind": ref.kind, "timezone": ref.timezone,
                "population": ref.population, "jkn_participants": ref.jkn_participants,
                "minimum_wage": ref.minimum_wage,
            },
        )
        created["regencies"] += was_created
        regencies[ref.code] = regency
        existing = list(District.objects.for_regency(regency))
        by_code = {d.code: d for d in existing if d.code}
        by_name = {d.name.casefold(): d for d in existing}
        new = []
        for index, name in enumerate(ref.districts):
            code = ref.district_code(index)
            district = by_code.get(code) or by_name.get(name.casefold())
            if district is None:
                new.append(District(regency=regency, code=code, name=name))
            elif not district.code:
                # Made by an import that knew only the name: give it its code.
                district.code = code
                district.save(update_fields=["code"])
        District.objects.bulk_create(new)
        created["districts"] += len(new)
        progress(f"{regency}: {len(ref.districts)} kecamatan ({len(new)} baru)")
    return regencies


def _branches_ensure(regencies: dict[str, Regency], created: dict, progress) -> dict[str, BpjsBranch]:
    branches: dict[str, BpjsBranch] = {}
    for ref in BRANCHES:
        branch, was_created = BpjsBranch.objects.update_or_create(
            code=ref.code, defaults={"name": ref.name, "timezone": ref.timezone}
        )
        created["branches"] += was_created
        branch.regencies.add(*(regencies[code] for code in ref.regency_codes))
        branches[ref.code] = branch
        progress(f"{branch.name}: {', '.join(ref.regency_codes)}")
    return branches


def _user_ensure(email: str, full_name: str, created: dict, **flags):
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=settings.DEMO_PASSWORD,
                                        full_name=full_name, **flags)
        created["users"] += 1
    else:
        changed = [name for name, value in flags.items() if getattr(user, name) != value]
        for name in changed:
            setattr(user, name, flags[name])
        if not user.is_active:
            user.is_active = True
            changed.append("is_active")
        if not user.check_password(settings.DEMO_PASSWORD):
            user.set_password(settings.DEMO_PASSWORD)
            changed.append("password")
        if changed:
            user.save(update_fields=changed)
    address, _ = EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    if not (address.verified and address.primary):
        address.verified = address.primary = True
        address.save(update_fields=["verified", "primary"])
    return user


def demo_totp_secret() -> str:
    """The base32 TOTP secret of every demo user except the donor."""
    return getattr(settings, "DEMO_TOTP_SECRET", "") or DEFAULT_TOTP_SECRET


def _totp_ensure(user) -> None:
    """TOTP with the demo secret, stored the way allauth stores it (its adapter's encrypt)."""
    enrol_totp(user, demo_totp_secret())


def _users_ensure(regencies, branches, created: dict, progress) -> None:
    for spec in DEMO_USERS:
        user = _user_ensure(spec.email, spec.full_name, created)
        if spec.role:
            regency = regencies[spec.regency_code]
            _, was_created = Membership.objects.for_regency(regency).get_or_create(
                regency=regency, user=user, role=spec.role, defaults={"is_active": True}
            )
            created["memberships"] += was_created
        if spec.branch_code:
            _, was_created = BranchMembership.objects.get_or_create(
                branch=branches[spec.branch_code], user=user, role=BranchRole.BPJS_ADMIN
            )
            created["memberships"] += was_created
        if spec.email == DONOR_EMAIL:
            donor_profile_ensure(user=user, display_name=spec.full_name)
        else:
            _totp_ensure(user)
        progress(f"{spec.email}: {spec.description}")
    operator = _user_ensure(OPERATOR_EMAIL, "Operator Nasional", created, is_staff=True, is_superuser=True)
    _totp_ensure(operator)
    progress(f"{OPERATOR_EMAIL}: national operator (Django admin)")
