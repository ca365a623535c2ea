"""Writes for donors, campaigns, pledges and payments.

Every public write owns its transaction, takes the row locks it needs in the fixed order
regency -> participant -> pledge -> payment, writes one audit event per state
change (who, when, from, to) in the same transaction, and sends e-mails after commit.

Locking the regency row serialises pledge writes within one regency: reservations, the
whole-family adoption, the per-donor limit and the pooled allocation then never interleave
(each transaction is a few milliseconds). The database's guarantee behind it is the constraint
`pledge_one_active_per_participant` (`donations.models.ActivePledge`, kept by triggers).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import audit_record
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.formatting import format_rupiah
from core.time import regency_today
from core.uploads import sniff_image_or_pdf
from donations import selectors
from donations.models import (
    ACTIVE_STATUSES,
    TRANSITIONS,
    Audience,
    Campaign,
    CampaignStatus,
    DonorProfile,
    Gift,
    Kind,
    Payment,
    PaymentRoute,
    PaymentSource,
    Pledge,
    PledgeStatus,
)
from donations.money.payments import payment_apply
from participants.models import Participant
from regencies.models import Regency
from regencies.permissions import regency_access_for
from regencies.roles import Perm


class InvalidTransition(Conflict):
    default_code = "invalid_transition"


# --- donors -----------------------------------------------------------------------------


def donor_profile_ensure(*, user: User, display_name: str = "", organisation: str = "") -> DonorProfile:
    profile, _created = DonorProfile.objects.get_or_create(
        user=user, defaults={"display_name": display_name, "organisation": organisation}
    )
    return profile


def on_user_self_signed_up(sender: object, *, user: User, **kwargs: Any) -> None:
    """Receiver of `accounts.signals.user_self_signed_up`: a self sign-up is a community donor."""
    donor_profile_ensure(user=user)


_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{6,18}$")


def donor_profile_update(*, user: User, display_name: str, is_anonymous: bool, phone: str,
                         organisation: str) -> DonorProfile:
    display_name, phone, organisation = display_name.strip(), phone.strip(), organisation.strip()
    errors = {}
    if len(display_name) > 100:
        errors["display_name"] = _("Nama tampilan paling panjang 100 karakter.")
    if phone and not _PHONE.match(phone):
        errors["phone"] = _("Nomor telepon hanya angka (boleh diawali +), 7–19 digit, mis. 0812 3456 7890.")
    if len(organisation) > 150:
        errors["organisation"] = _("Organisasi paling panjang 150 karakter.")
    if not is_anonymous and not display_name:
        errors["display_name"] = _("Isi nama tampilan bila Anda ingin nama Anda ditampilkan.")
    if errors:
        raise DomainError("; ".join(str(v) for v in errors.values()), code="invalid", extra={"errors": errors})
    with transaction.atomic():
        profile, _created = DonorProfile.objects.select_for_update().get_or_create(user=user)
        before = {"display_name": profile.display_name, "is_anonymous": profile.is_anonymous,
                  "organisation": profile.organisation}
        profile.display_name, profile.is_anonymous = display_name, is_anonymous
        profile.phone, profile.organisation = phone, organisation
        profile.save()
        audit_record(actor=user, verb="donor_profile.updated", obj=profile, before=before,
                     after={"display_name": display_name, "is_anonymous": is_anonymous,
                            "organisation": organisation})
    return profile


# --- campaigns ----------------------------------------------------------------------------

CAMPAIGN_FIELDS = ("slug", "title", "story", "audience", "kind", "target_participants", "target_amount",
                   "starts_on", "ends_on", "status", "pledge_limit", "hold_hours", "months_ahead",
                   "payment_route", "bank_name", "account_number", "account_holder")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _require_manager(actor: User | None, regency: Regency) -> None:
    access = regency_access_for(user=actor, regency=regency) if actor is not None else None
    if access is None:
        raise NotFound()
    if not access.can(Perm.MANAGE_CAMPAIGNS):
        raise PermissionDenied()


def _validate_campaign(values: dict) -> dict:
    errors: dict[str, str] = {}
    slug = str(values.get("slug") or "").strip().lower()
    if not slug or not SLUG_PATTERN.match(slug) or len(slug) > 60 or slug == "new":
        errors["slug"] = _("Slug hanya huruf kecil, angka dan tanda hubung, mis. lutra-peduli.")
    if not str(values.get("title") or "").strip():
        errors["title"] = _("Judul wajib diisi.")
    if values.get("audience") not in Audience.values:
        errors["audience"] = _("Pilih sasaran: internal atau publik.")
    if values.get("kind") not in Kind.values:
        errors["kind"] = _("Pilih jenis kampanye.")
    if values.get("status") not in CampaignStatus.values:
        errors["status"] = _("Status tidak dikenal.")
    for key in ("target_participants", "target_amount", "pledge_limit"):
        value = values.get(key)
        if value is not None and (not isinstance(value, int) or value < 0):
            errors[key] = _("Harus bilangan bulat 0 atau lebih.")
    hold = values.get("hold_hours")
    if not isinstance(hold, int) or not 1 <= hold <= 720:
        errors["hold_hours"] = _("Lama pemesanan 1–720 jam.")
    ahead = values.get("months_ahead")
    if not isinstance(ahead, int) or not 0 <= ahead <= 12:
        errors["months_ahead"] = _("Bulan di muka 0–12.")
    if values.get("payment_route") not in PaymentRoute.values:
        errors["payment_route"] = _("Pilih cara bayar: langsung ke VA keluarga atau lewat rekening penampung.")
    elif values["payment_route"] == PaymentRoute.COLLECTED:
        if not str(values.get("bank_name") or "").strip():
            errors["bank_name"] = _("Isi nama bank rekening penampung.")
        if not re.fullmatch(r"[0-9][0-9 .-]{4,28}[0-9]", str(values.get("account_number") or "").strip()):
            errors["account_number"] = _("Nomor rekening penampung: angka (boleh dengan spasi, titik atau tanda hubung).")
        if not str(values.get("account_holder") or "").strip():
            errors["account_holder"] = _("Isi nama pemilik rekening penampung.")
    starts, ends = values.get("starts_on"), values.get("ends_on")
    if starts and ends and ends < starts:
        errors["ends_on"] = _("Tanggal berakhir tidak boleh sebelum tanggal mulai.")
    if errors:
        raise DomainError("; ".join(f"{k}: {v}" for k, v in errors.items()), code="invalid",
                          extra={"errors": errors})
    return {**values, "slug": slug, "title": str(values["title"]).strip(),
            **{k: str(values.get(k) or "").strip() for k in ("bank_name", "account_number", "account_holder")}}


def _json(values: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}


def campaign_create(*, regency: Regency, actor: User, **values: Any) -> Campaign:
    _require_manager(actor, regency)
    data = _validate_campaign({k: values.get(k) for k in CAMPAIGN_FIELDS} | {
        "hold_hours": values.get("hold_hours") or 72, "months_ahead": values.get("months_ahead") or 0,
        "status": values.get("status") or CampaignStatus.DRAFT, "story": values.get("story") or "",
        "payment_route": values.get("payment_route") or PaymentRoute.DIRECT,
    })
    with transaction.atomic():
        if Campaign.all_regencies.filter(slug=data["slug"]).exists():
            raise Conflict(_("Slug %(s)s sudah dipakai kampanye lain; pilih yang lain.") % {"s": data["slug"]},
                           code="slug_taken", extra={"errors": {"slug": _("sudah dipakai")}})
        try:
            with transaction.atomic():
                campaign = Campaign.objects.create(regency=regency, created_by=actor, **data)
        except IntegrityError as exc:
            raise Conflict(_("Slug %(s)s sudah dipakai kampanye lain; pilih yang lain.") % {"s": data["slug"]},
                           code="slug_taken") from exc
        audit_record(actor=actor, verb="campaign.created", obj=campaign, regency=regency, after=_json(data))
    return campaign


def campaign_update(*, campaign: Campaign, actor: User, **values: Any) -> Campaign:
    regency = campaign.regency
    _require_manager(actor, regency)
    with transaction.atomic():
        locked = Campaign.objects.for_regency(regency).select_for_update().get(pk=campaign.pk)
        current = {k: getattr(locked, k) for k in CAMPAIGN_FIELDS}
        data = _validate_campaign(current | {k: v for k, v in values.items() if k in CAMPAIGN_FIELDS})
        if data["slug"] != locked.slug and Campaign.all_regencies.filter(slug=data["slug"]).exists():
            raise Conflict(_("Slug %(s)s sudah dipakai kampanye lain; pilih yang lain.") % {"s": data["slug"]},
                           code="slug_taken")
        changed = {k: v for k, v in data.items() if current[k] != v}
        for key, value in changed.items():
            setattr(locked, key, value)
        if changed:
            locked.save()
            audit_record(actor=actor, verb="campaign.updated", obj=locked, regency=regency,
                         before=_json({k: current[k] for k in changed}), after=_json(changed))
    return locked


# --- pledges: locking and checks --------------------------------------------------------------


def _lock_regency(regency_id: int) -> Regency:
    return Regency.objects.select_for_update().get(pk=regency_id)


def _lock_participants(regency: Regency, ids: Iterable[int]) -> list[Participant]:
    return list(Participant.objects.for_regency(regency).select_for_update(of=("self",))
                .filter(pk__in=list(ids)).order_by("pk"))


def _lock_pledge(pledge: Pledge) -> Pledge:
    return (Pledge.objects.for_regency(pledge.regency_id).select_for_update(of=("self",))
            .select_related("campaign", "participant").get(pk=pledge.pk))


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def check_may_pledge(*, campaign: Campaign, donor: User | AnonymousUser) -> None:
    access = selectors.campaign_access(user=donor, campaign=campaign)
    if not access.visible:
        raise NotFound()
    if access.reason == "closed":
        raise DomainError(_("Kampanye ini tidak sedang dibuka untuk janji donasi."), code="campaign_not_active")
    if access.reason == "email_unverified":
        raise PermissionDenied(_("Verifikasi alamat e-mail Anda terlebih dulu (cek kotak masuk Anda)."),
                               code="email_unverified")
    if access.reason:
        raise PermissionDenied(_("Kampanye internal ini hanya untuk anggota Pemda %(r)s.")
                               % {"r": campaign.regency.name}, code="not_member")
    if not campaign.allows_one_to_one:
        raise DomainError(_("Kampanye ini hanya menerima sumbangan dana bersama."), code="pooled_only")


def _check_limit(*, campaign: Campaign, donor: User, adding: int) -> None:
    if campaign.pledge_limit is None:
        return
    held = Pledge.objects.for_regency(campaign.regency_id).filter(
        campaign=campaign, donor=donor,
        status__in=[*ACTIVE_STATUSES, PledgeStatus.VERIFIED, PledgeStatus.DISPUTED]).count()
    if held + adding > campaign.pledge_limit:
        raise Conflict(
            _("Batas kampanye ini %(limit)s peserta per donatur; Anda sudah memegang %(held)s.")
            % {"limit": campaign.pledge_limit, "held": held},
            code="pledge_limit",
        )


def _check_daily_reservations(*, campaign: Campaign, donor: User, adding: int, moment: dt.datetime) -> None:
    """On a direct-route campaign the VA shown after confirmation carries card digits: a donor may
    leave only so many reservations unconfirmed a day (the regency's setting), so that reserving and
    cancelling cannot be used to collect them."""
    if campaign.is_collected:
        return
    limit = selectors.money_settings(campaign.regency_id).reservations_per_day
    tz = campaign.regency.tzinfo
    day_start = timezone.make_aware(dt.datetime.combine(regency_today(campaign.regency, moment), dt.time()), tz)
    unconfirmed = Pledge.objects.for_regency(campaign.regency_id).filter(
        donor=donor, created_at__gte=day_start, pledged_at__isnull=True,
        campaign__payment_route=PaymentRoute.DIRECT).count()
    if unconfirmed + adding > limit:
        raise Conflict(
            _("Hari ini Anda sudah memesan %(n)s peserta tanpa konfirmasi; batasnya %(limit)s per hari. "
              "Konfirmasi atau tunggu besok.") % {"n": unconfirmed, "limit": limit},
            code="reservation_limit")


def _suggestion(campaign: Campaign, *, exclude: Iterable[int]) -> str | None:
    found = (selectors.pool_candidates(regency=campaign.regency).exclude(pk__in=list(exclude))
             .order_by("-months_in_arrears", "id").values_list("public_id", flat=True).first())
    return str(found) if found else None


def _already_pledged(campaign: Campaign, participants: list[Participant]) -> Conflict:
    suggestion = _suggestion(campaign, exclude=[p.pk for p in participants])
    detail = _("Maaf, peserta ini baru saja dipilih donatur lain.")
    if suggestion:
        detail += " " + _("Masih ada peserta lain yang menunggu: coba yang kami sarankan.")
    return Conflict(detail, code="already_pledged", extra={"suggestion": suggestion})


def _check_available(campaign: Campaign, participants: list[Participant], today: dt.date) -> None:
    """Every participant is eligible and in the pool; else 409 (held by a pledge) or 400."""
    ids = [p.pk for p in participants]
    regency = campaign.regency
    blocked = set(Pledge.objects.for_regency(regency).filter(participant_id__in=ids,
                                                             status__in=ACTIVE_STATUSES)
                  .values_list("participant_id", flat=True))
    if blocked:
        raise _already_pledged(campaign, participants)
    available = set(selectors.pool_candidates(regency=regency, today=today)
                    .filter(pk__in=ids).values_list("pk", flat=True))
    missing = [p for p in participants if p.pk not in available]
    if missing:
        raise DomainError(
            _("Peserta ini tidak dapat dipilih: belum dinilai layak, penilaiannya kedaluwarsa, "
              "atau tidak lagi menunggak."),
            code="not_eligible",
        )


def _audit(pledge: Pledge, *, actor: User | None, verb: str, before: str | None, after: str, **extra: Any) -> None:
    audit_record(actor=actor, verb=verb, obj=pledge, regency=pledge.campaign.regency,
                 before={"status": before} if before else None, after={"status": after, **extra})


def _create(*, campaign: Campaign, participant: Participant, donor: User | None, status: str, now: dt.datetime,
            today: dt.date, family_adoption: uuid.UUID | None = None, is_pooled: bool = False) -> Pledge:
    quote = selectors.pledge_quote(participant=participant, campaign=campaign, today=today)
    pledge = Pledge(
        regency=campaign.regency, campaign=campaign, participant=participant, donor=donor, is_pooled=is_pooled,
        status=status, amount=quote.total, arrears_amount=quote.arrears_amount,
        months_in_arrears=quote.months_in_arrears, monthly_tariff=quote.monthly_tariff,
        months_ahead=quote.months_ahead, arrears_import_id=participant.last_import_id, as_of=participant.as_of,
        segment=participant.segment, family_adoption=family_adoption, quoted_on=today,
        covers_until=selectors.add_months(selectors.month_start(today), quote.months_ahead),
        rehab_instalments=quote.rehab_instalments,
    )
    if status == PledgeStatus.RESERVED:
        pledge.expires_at = now + dt.timedelta(hours=campaign.hold_hours)
    else:
        pledge.pledged_at = now
        pledge.due_at = now + dt.timedelta(days=selectors.money_settings(campaign.regency_id).payment_window_days)
    try:
        with transaction.atomic():
            pledge.save()
    except IntegrityError as exc:  # pledge_one_active_per_participant: someone else holds the participant
        raise _already_pledged(campaign, [participant]) from exc
    _audit(pledge, actor=donor, verb=f"pledge.{status}", before=None, after=status, amount=pledge.amount,
           participant=str(participant.public_id), pooled=is_pooled)
    return pledge


def _reserve(*, campaign: Campaign, participant_ids: list[int], donor: User, now: dt.datetime | None,
             family: bool) -> list[Pledge]:
    moment = _now(now)
    check_may_pledge(campaign=campaign, donor=donor)
    # Fast path for the loser of a race: a participant already held is refused without
    # queueing for the regency lock (everything is checked again under the locks below).
    held = Pledge.objects.for_regency(campaign.regency_id).filter(participant_id__in=participant_ids,
                                                                 status__in=ACTIVE_STATUSES)
    if held.exists():
        raise _already_pledged(campaign, list(Participant.objects.for_regency(campaign.regency_id)
                                              .filter(pk__in=participant_ids)))
    with transaction.atomic():
        regency = _lock_regency(campaign.regency_id)
        campaign = Campaign.objects.for_regency(regency).select_related("regency").get(pk=campaign.pk)
        today = regency_today(regency, moment)
        if not selectors.campaign_is_open(campaign, today):  # closed meanwhile
            raise DomainError(_("Kampanye ini tidak sedang dibuka untuk janji donasi."),
                              code="campaign_not_active")
        participants = _lock_participants(regency, participant_ids)
        _check_available(campaign, participants, today)
        _check_limit(campaign=campaign, donor=donor, adding=len(participants))
        _check_daily_reservations(campaign=campaign, donor=donor, adding=len(participants), moment=moment)
        group = uuid.uuid4() if family else None
        pledges = [
            _create(campaign=campaign, participant=p, donor=donor, status=PledgeStatus.RESERVED, now=moment,
                    today=today, family_adoption=group)
            for p in participants
        ]
        ids = [p.pk for p in pledges]
        _send_later(ids, "reserved")
    return pledges


def pledge_reserve(*, campaign: Campaign, participant: Participant, donor: User, now: dt.datetime | None = None) -> Pledge:
    """Hold one participant for the donor for the campaign's hold hours, the amount frozen now."""
    if participant.regency_id != campaign.regency_id:
        raise NotFound()
    return _reserve(campaign=campaign, participant_ids=[participant.pk], donor=donor, now=now, family=False)[0]


def pledge_reserve_family(*, campaign: Campaign, participant: Participant, donor: User,
                          now: dt.datetime | None = None) -> list[Pledge]:
    """"Adopt the whole family": reserve every eligible, unpledged member of the participant's
    family in one step. All or nothing: when any of them is taken meanwhile, none is reserved."""
    if participant.regency_id != campaign.regency_id:
        raise NotFound()
    if participant.family_id is None:
        members = [participant.pk]
    else:
        members = list(selectors.available_participants(regency=campaign.regency)
                       .filter(family_id=participant.family_id).values_list("pk", flat=True))
        if participant.pk not in members:
            members.append(participant.pk)  # checked (and refused clearly) under the lock
    return _reserve(campaign=campaign, participant_ids=members, donor=donor, now=now, family=True)


def _transition(pledge: Pledge, *, actor: User | None, to: str, verb: str | None = None, **extra: Any) -> Pledge:
    """Inside a transaction, on a locked pledge: check the move, write it and its audit event."""
    if to not in TRANSITIONS[pledge.status]:
        raise InvalidTransition(
            _("Janji berstatus %(from)s tidak dapat menjadi %(to)s.")
            % {"from": PledgeStatus(pledge.status).label, "to": PledgeStatus(to).label},
            extra={"status": pledge.status},
        )
    before = pledge.status
    pledge.status = to
    pledge.save()
    _audit(pledge, actor=actor, verb=verb or f"pledge.{to}", before=before, after=to, **extra)
    return pledge


def _locked_for_actor(pledge: Pledge, actor: User) -> Pledge:
    regency = _lock_regency(pledge.regency_id)
    _lock_participants(regency, [pledge.participant_id])
    locked = _lock_pledge(pledge)
    if not selectors.pledge_may_act(user=actor, pledge=locked):
        if selectors.pledge_may_view(user=actor, pledge=locked):
            raise PermissionDenied(_("Hanya donatur janji ini yang dapat mengubahnya."))
        raise NotFound()
    return locked


def _requote(locked: Pledge, *, actor: User | None, moment: dt.datetime) -> selectors.Requote | None:
    """Inside a transaction, on a locked pledge: when the regency's today is in a later month than
    the months the amount covers, add the contributions now due (`selectors.pledge_requote`),
    store the new quote and audit it (`pledge.requoted`, amounts before and after, the months)."""
    today = regency_today(locked.campaign.regency, moment)
    requote = selectors.pledge_requote(pledge=locked, today=today)
    if requote is None:
        return None
    before = {"amount": locked.amount, "outstanding": locked.outstanding,
              "quoted_on": locked.quoted_on.isoformat() if locked.quoted_on else None,
              "covers_until": locked.covers_until.isoformat() if locked.covers_until else None}
    locked.amount = requote.after
    locked.quoted_on = today
    locked.covers_until = requote.months[-1].month
    locked.save(update_fields=["amount", "quoted_on", "covers_until", "updated_at"])
    audit_record(actor=actor, verb="pledge.requoted", obj=locked, regency=locked.campaign.regency, before=before,
                 after={"amount": locked.amount, "outstanding": locked.outstanding, "added": requote.added,
                        "quoted_on": today.isoformat(), "covers_until": locked.covers_until.isoformat(),
                        "months": [m.as_json() for m in requote.months], "note": requote.note})
    return requote


class WrittenOff(Conflict):
    default_code = "written_off"


def _covered_by_write_off(locked: Pledge, *, moment: dt.datetime) -> bool:
    """The participant's arrears are the state's to pay: the newest list marks them written off,
    or their approved, still valid assessment routes the household to the write-off."""
    from assessments.models import Assessment, Route, Status

    participant = locked.participant
    if participant.written_off:
        return True
    today = regency_today(locked.campaign.regency, moment)
    return Assessment.objects.for_regency(locked.regency_id).filter(
        participant_id=participant.pk, status=Status.APPROVED, valid_until__gte=today, route=Route.WRITEOFF,
    ).exists()


def _release_written_off(locked: Pledge, *, actor: User | None, moment: dt.datetime) -> None:
    """Inside the transaction, on a locked pledge nothing was paid for: released (`written_off`)."""
    from donations.models import ReleaseReason

    locked.release_reason = ReleaseReason.WRITTEN_OFF
    locked.closed_at = moment
    _transition(locked, actor=actor, to=PledgeStatus.RELEASED, reason=locked.release_reason)
    _send_later([locked.pk], "released")


def _written_off_error() -> WrittenOff:
    return WrittenOff(_("Tunggakan peserta ini dihapus negara (pemutihan): janji dilepas dan tidak ada yang "
                        "perlu Anda bayarkan. Silakan pilih peserta lain."))


def pledge_confirm(*, pledge: Pledge, actor: User, now: dt.datetime | None = None) -> Pledge:
    """reserved -> pledged, before the reservation lapses; the donor then has the hold hours again to pay.
    Confirmed in a later month than it was quoted in, the amount is re-quoted first (`_requote`)."""
    moment = _now(now)
    with transaction.atomic():
        locked = _locked_for_actor(pledge, actor)
        if locked.status == PledgeStatus.RESERVED and locked.expires_at and locked.expires_at <= moment:
            raise InvalidTransition(
                _("Pemesanan ini sudah berakhir; peserta kembali ke daftar. Silakan pilih lagi."),
                code="reservation_expired")
        released = locked.status == PledgeStatus.RESERVED and _covered_by_write_off(locked, moment=moment)
        if released:  # the state pays these arrears: never the donor
            _release_written_off(locked, actor=actor, moment=moment)
        else:
            if locked.status == PledgeStatus.RESERVED:
                _requote(locked, actor=actor, moment=moment)
            locked.pledged_at = moment
            locked.due_at = moment + dt.timedelta(days=selectors.money_settings(locked.regency_id).payment_window_days)
            _transition(locked, actor=actor, to=PledgeStatus.PLEDGED)
    if released:
        raise _written_off_error()
    return locked


def pledge_cancel(*, pledge: Pledge, actor: User, now: dt.datetime | None = None) -> Pledge:
    """The donor withdraws (reserved or pledged, before paying); the participant returns to the pool."""
    with transaction.atomic():
        locked = _locked_for_actor(pledge, actor)
        if locked.status == PledgeStatus.PLEDGED and locked.paid_amount:
            # Money was paid for it: cancelling would strand it. A person settles it (refund or rest).
            raise InvalidTransition(
                _("Janji ini sudah dibayar sebagian (%(paid)s) dan tidak dapat dibatalkan; hubungi Pemda.")
                % {"paid": format_rupiah(locked.paid_amount)}, code="has_payments")
        locked.closed_at = _now(now)
        _transition(locked, actor=actor, to=PledgeStatus.CANCELLED)
    return locked


def pledge_release(*, pledge: Pledge, actor: User, reason: str, now: dt.datetime | None = None) -> Pledge:
    """Reconciliation: the arrears were cleared by someone else, or the participant left the list."""
    if not reason.strip():
        raise DomainError(_("Sebutkan alasan janji dilepas."), code="invalid")
    with transaction.atomic():
        regency = _lock_regency(pledge.regency_id)
        _lock_participants(regency, [pledge.participant_id])
        locked = _lock_pledge(pledge)
        locked.release_reason = reason.strip()[:200]
        locked.closed_at = _now(now)
        _transition(locked, actor=actor, to=PledgeStatus.RELEASED, reason=locked.release_reason)
    return locked


def pledge_dispute(*, pledge: Pledge, actor: User, reason: str = "") -> Pledge:
    """Reconciliation: paid, but imports after the grace period still show the arrears."""
    with transaction.atomic():
        regency = _lock_regency(pledge.regency_id)
        _lock_participants(regency, [pledge.participant_id])
        locked = _lock_pledge(pledge)
        locked.release_reason = reason.strip()[:200]
        _transition(locked, actor=actor, to=PledgeStatus.DISPUTED, reason=locked.release_reason)
    return locked


def pledge_verify(*, pledge: Pledge, actor: User, now: dt.datetime | None = None) -> Pledge:
    """Reconciliation: an import shows the participant's arrears cleared after the payment.
    The donor is thanked by e-mail after commit."""
    with transaction.atomic():
        regency = _lock_regency(pledge.regency_id)
        _lock_participants(regency, [pledge.participant_id])
        locked = _lock_pledge(pledge)
        locked.verified_at = _now(now)
        _transition(locked, actor=actor, to=PledgeStatus.VERIFIED)
        pk = locked.pk
        _send_later([pk], "verified")
    return locked


# --- payments -------------------------------------------------------------------------------------


def max_receipt_bytes() -> int:
    return int(getattr(settings, "DONATION_RECEIPT_MAX_BYTES", 5 * 1024 * 1024))


def _sniff_receipt(upload: UploadedFile) -> str:
    content_type, _extension = sniff_image_or_pdf(
        upload, limit=max_receipt_bytes(), code="receipt",
        too_large=_("Bukti bayar terlalu besar (%(size)s MB); paling besar %(limit)s MB."),
        empty=_("Berkas bukti bayar kosong."),
        wrong_type=_("Bukti bayar harus foto JPEG, PNG, WebP atau PDF."),
    )
    return content_type


def payment_record(*, pledge: Pledge, actor: User, amount: int, reference: str, paid_on: dt.date,
                   receipt: UploadedFile | None = None, now: dt.datetime | None = None) -> Payment:
    """The donor (or, for a pooled pledge, the regency's staff) reports a payment. Several payments
    may add up to the pledge's amount; the pledge is `paid` when they reach it. A report above what
    is still owed is refused (400 `overpayment`, naming the outstanding amount); a pledge already
    paid in full takes no more (409 `already_paid`); the same reference twice is refused (409)."""
    reference = (reference or "").strip()
    errors = {}
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        errors["amount"] = _("Jumlah harus bilangan bulat rupiah lebih dari 0.")
    if not reference or len(reference) > 64:
        errors["reference"] = _("Nomor referensi wajib diisi (paling panjang 64 karakter).")
    moment = _now(now)
    if not isinstance(paid_on, dt.date):
        errors["paid_at"] = _("Tanggal bayar wajib diisi (YYYY-MM-DD).")
    else:
        today = regency_today(pledge.campaign.regency, moment)
        if paid_on > today:
            errors["paid_at"] = _("Tanggal bayar tidak boleh di masa depan.")
        elif paid_on < today - dt.timedelta(days=366):
            errors["paid_at"] = _("Tanggal bayar lebih dari setahun lalu.")
    if errors:
        raise DomainError("; ".join(f"{k}: {v}" for k, v in errors.items()), code="invalid",
                          extra={"errors": errors})
    content_type = _sniff_receipt(receipt) if receipt is not None else ""
    with transaction.atomic():
        locked = _locked_for_actor(pledge, actor)
        if locked.status == PledgeStatus.PAID or (locked.status in (PledgeStatus.VERIFIED, PledgeStatus.DISPUTED)):
            raise Conflict(_("Janji ini sudah dibayar lunas (%(paid)s); tidak ada lagi yang perlu dibayar.")
                           % {"paid": format_rupiah(locked.paid_amount)}, code="already_paid",
                           extra={"status": locked.status, "outstanding": 0})
        if locked.status != PledgeStatus.PLEDGED:
            hint = _(" Konfirmasi janji terlebih dulu.") if locked.status == PledgeStatus.RESERVED else ""
            raise InvalidTransition(
                _("Pembayaran hanya dapat dicatat untuk janji yang sudah dikonfirmasi.") + hint,
                extra={"status": locked.status})
        covered = _covered_by_write_off(locked, moment=moment)
        if covered:
            if not locked.paid_amount:  # partly paid: left to the Pemda (refund or hand-over)
                _release_written_off(locked, actor=actor, moment=moment)
        else:
            # Paid in a later month than quoted: the months now due are added before the payment is
            # weighed against what is owed (a report of the old amount then leaves the new month open).
            _requote(locked, actor=actor, moment=moment)
            if amount > locked.outstanding:
                raise DomainError(
                    _("Jumlah %(amount)s melebihi sisa yang harus dibayar, %(outstanding)s.")
                    % {"amount": format_rupiah(amount), "outstanding": format_rupiah(locked.outstanding)},
                    code="overpayment", extra={"outstanding": locked.outstanding,
                                               "errors": {"amount": _("paling banyak %(o)s")
                                                          % {"o": format_rupiah(locked.outstanding)}}})
            source = PaymentSource.DONOR if locked.donor_id == actor.pk else PaymentSource.STAFF
            applied = payment_apply(pledge=locked, amount=amount, reference=reference, paid_on=paid_on,
                                    source=source, actor=actor, now=moment, receipt=receipt,
                                    receipt_content_type=content_type)
    if covered:  # the state pays these arrears: no donor money now
        raise _written_off_error()
    return applied.payment


# --- the jobs (Celery beat) -------------------------------------------------------------------------


def pledges_expire_lapsed(*, now: dt.datetime | None = None) -> int:
    """Expire reservations past their hold; each participant returns to the pool. Idempotent."""
    moment = _now(now)
    # Through ActivePledge: the pledges in progress (the pledge table has no index on status).
    due = list(Pledge.all_regencies.filter(active__isnull=False, status=PledgeStatus.RESERVED, expires_at__lte=moment)
               .values_list("pk", "regency_id", "participant_id").order_by("regency_id", "participant_id"))
    expired = 0
    for pk, regency_id, participant_id in due:
        with transaction.atomic():
            regency = _lock_regency(regency_id)
            _lock_participants(regency, [participant_id])
            locked = (Pledge.objects.for_regency(regency).select_for_update(of=("self",))
                      .select_related("campaign").filter(pk=pk).first())
            # A reservation always has expires_at (a check constraint); the test narrows the type.
            if (locked is None or locked.status != PledgeStatus.RESERVED or locked.expires_at is None
                    or locked.expires_at > moment):
                continue  # confirmed or cancelled meanwhile
            locked.closed_at = moment
            _transition(locked, actor=None, to=PledgeStatus.EXPIRED)
            expired += 1
    return expired


def pledges_warn_expiring(*, now: dt.datetime | None = None, hours: int = 24) -> int:
    """E-mail donors whose reservation lapses within `hours`, once (the sent-flag `warning_sent_at`)."""
    moment = _now(now)
    warned = 0
    with transaction.atomic():
        rows = list(
            Pledge.all_regencies.select_for_update(skip_locked=True, of=("self",))
            .filter(active__isnull=False, status=PledgeStatus.RESERVED, warning_sent_at__isnull=True,
                    donor__isnull=False, expires_at__gt=moment, expires_at__lte=moment + dt.timedelta(hours=hours))
            .order_by("pk")
        )
        for pledge in rows:
            pledge.warning_sent_at = moment
            pledge.save(update_fields=["warning_sent_at", "updated_at"])
            warned += 1
        ids = [p.pk for p in rows]
        if ids:
            _send_later(ids, "expiry_warning")
    return warned


LAPSE_NOTICE_DAYS = (3, 1)  # e-mails this many days before an unpaid pledge lapses


def pledges_lapse_unpaid(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Confirmed pledges past their payment window (`due_at`, the regency's setting from
    confirmation). Nothing paid: the donor was e-mailed 3 days and 1 day before (once each), and
    the pledge now becomes `expired` (reason `lapsed_unpaid`), the participant free again. Partly
    paid: it does not lapse by itself; an anomaly asks a person to contact the donor (once).
    Idempotent: every step is decided again under the locks."""
    moment = _now(now)
    result = {"notified": 0, "lapsed": 0, "partly_paid": 0}
    horizon = moment + dt.timedelta(days=max(LAPSE_NOTICE_DAYS))
    due = list(Pledge.all_regencies.filter(active__isnull=False, status=PledgeStatus.PLEDGED, due_at__lte=horizon)
               .values_list("pk", "regency_id", "participant_id").order_by("regency_id", "participant_id"))
    for pk, regency_id, participant_id in due:
        with transaction.atomic():
            regency = _lock_regency(regency_id)
            _lock_participants(regency, [participant_id])
            locked = (Pledge.objects.for_regency(regency).select_for_update(of=("self",))
                      .select_related("campaign", "participant").filter(pk=pk).first())
            if locked is None or locked.status != PledgeStatus.PLEDGED or locked.due_at is None:
                continue
            if locked.due_at <= moment:
                if locked.paid_amount == 0:
                    locked.closed_at = moment
                    locked.release_reason = "lapsed_unpaid"
                    _transition(locked, actor=None, to=PledgeStatus.EXPIRED, reason="lapsed_unpaid")
                    _send_later([pk], "lapsed")
                    result["lapsed"] += 1
                elif _partly_paid_anomaly(locked):
                    result["partly_paid"] += 1
                continue
            if locked.paid_amount:
                continue
            # The notices still owed at this moment: one e-mail (the nearest), both marked sent.
            owed = [i for i, days in enumerate(LAPSE_NOTICE_DAYS, start=1)
                    if locked.lapse_notices < i and locked.due_at - dt.timedelta(days=days) <= moment]
            if owed:
                locked.lapse_notices = owed[-1]
                locked.save(update_fields=["lapse_notices", "updated_at"])
                _send_later([pk], "lapse_warning")
                result["notified"] += 1
    return result


def _partly_paid_anomaly(pledge: Pledge) -> bool:
    from donations.models import Anomaly, AnomalyKind

    _anomaly, created = Anomaly.objects.for_regency(pledge.regency_id).get_or_create(
        pledge=pledge, kind=AnomalyKind.PARTLY_PAID_OVERDUE,
        defaults={"regency_id": pledge.regency_id, "family_id": pledge.participant.family_id,
                  "detail": str(_("Batas pembayaran lewat; baru dibayar %(paid)s dari %(amount)s. "
                                  "Hubungi donatur.") % {"paid": format_rupiah(pledge.paid_amount),
                                                         "amount": format_rupiah(pledge.amount)})[:300]},
    )
    if created:
        audit_record(actor=None, verb="pledge.partly_paid_overdue", obj=pledge, regency=pledge.campaign.regency,
                     after={"paid_amount": pledge.paid_amount, "outstanding": pledge.outstanding})
    return created


def _send_later(pledge_ids: list[int], kind: str) -> None:
    """Inside the caller's transaction: the e-mails go to the outbox, sent after the commit."""
    from core.outbox import enqueue_on_commit

    for pk in pledge_ids:
        enqueue_on_commit("donations.tasks.pledge_email_task", pk, kind)


# --- pooled gifts -----------------------------------------------------------------------------------------


def gift_create(*, campaign: Campaign, donor: User | None, amount: int, reference: str, received: bool = False,
                actor: User | None = None) -> Gift:
    """A gift to the campaign's pooled fund. Donors record theirs (not yet received); the regency's
    campaign managers may record one already received (e.g. cash at the office)."""
    reference = (reference or "").strip()
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise DomainError(_("Jumlah sumbangan harus bilangan bulat rupiah lebih dari 0."), code="invalid",
                          extra={"errors": {"amount": _("lebih dari 0")}})
    if not reference or len(reference) > 64:
        raise DomainError(_("Nomor referensi transfer wajib diisi (paling panjang 64 karakter)."),
                          code="invalid", extra={"errors": {"reference": _("wajib diisi")}})
    if not campaign.allows_pooled:
        raise DomainError(_("Kampanye ini tidak menerima dana bersama."), code="not_pooled")
    actor = actor or donor
    if received:
        _require_manager(actor, campaign.regency)
    else:
        # No donor reads the campaign as a visitor would: not allowed to give (never a crash).
        access = selectors.campaign_access(user=donor if donor is not None else AnonymousUser(), campaign=campaign)
        if not access.visible:
            raise NotFound()
        if not access.may_pledge:
            raise PermissionDenied(_("Anda belum dapat menyumbang ke kampanye ini."), code=access.reason or "denied")
    with transaction.atomic():
        if Gift.objects.for_regency(campaign.regency_id).filter(campaign=campaign, reference=reference).exists():
            raise Conflict(_("Sumbangan dengan nomor referensi %(r)s sudah tercatat.") % {"r": reference},
                           code="duplicate_gift")
        gift = Gift(regency_id=campaign.regency_id, campaign=campaign, donor=donor, amount=amount,
                    reference=reference, received=received)
        if received:
            gift.received_at, gift.received_by = timezone.now(), actor
        try:
            with transaction.atomic():
                gift.save()
        except IntegrityError as exc:
            raise Conflict(_("Sumbangan dengan nomor referensi %(r)s sudah tercatat.") % {"r": reference},
                           code="duplicate_gift") from exc
        audit_record(actor=actor, verb="gift.created", obj=gift, regency=campaign.regency,
                     after={"amount": amount, "reference": reference, "received": received})
    return gift


def gift_receive(*, gift: Gift, actor: User) -> Gift:
    """The regency confirms the money arrived; only received gifts are allocated."""
    _require_manager(actor, gift.campaign.regency)
    with transaction.atomic():
        _lock_regency(gift.regency_id)
        locked = Gift.objects.for_regency(gift.regency_id).select_for_update().get(pk=gift.pk)
        if locked.received:
            return locked
        locked.received, locked.received_at, locked.received_by = True, timezone.now(), actor
        locked.save()
        audit_record(actor=actor, verb="gift.received", obj=locked, regency=gift.campaign.regency,
                     before={"received": False}, after={"received": True})
    return locked
