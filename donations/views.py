"""Donation pages: the public campaign page, choosing a participant, the donor's own pages,
and the regency's campaign admin. Thin: selectors read, services write."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.api import RESERVATION_THROTTLES, throttle_wait
from core.errors import DomainError
from core.exports import export_record
from core.feedback import attempt
from core.formatting import format_datetime, format_rupiah
from core.pagination import CURSOR_PARAM
from core.service_penalty import penalty_example
from core.tables import escape_html, fill_translation
from core.time import regency_today
from donations import selectors, services
from donations.certificate import certificate_pdf
from donations.export import pledges_xlsx
from donations.forms import CampaignForm, DonorFilterForm, GiftForm, PaymentForm, ProfileForm
from donations.models import CampaignStatus, DonorProfile, Gift, PledgeStatus
from donations.money.ledger import ledger_balance
from donations.pool import pool_allocate
from participants.pseudonym import age_band, pseudonym
from regencies.models import District
from regencies.permissions import RegencyHttpRequest, require_perm
from regencies.roles import Perm
from regencies.versions import kept


def _pledge_url(pledge) -> str:
    return reverse("pledge_detail", kwargs={"pledge_id": pledge.public_id})


# --- the public campaign page and choosing a participant --------------------------------


@require_GET
def campaign_public(request, campaign_slug: str):
    campaign, access = selectors.campaign_get_visible(user=request.user, slug=campaign_slug)
    progress, donors = selectors.campaign_overview(campaign=campaign)
    return render(request, "donations/campaign_public.html", {
        "campaign": campaign,
        "access": access,
        "progress": progress,
        "donors": donors,
        "is_open": selectors.campaign_is_open(campaign, regency_today(campaign.regency)),
    })


def _may_choose(request, campaign, access):
    """None when the user may choose participants; else a response explaining why not."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?next={request.get_full_path()}")
    if access.may_pledge:
        return None
    try:
        services.check_may_pledge(campaign=campaign, donor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.detail))
    return redirect("campaign_public", campaign_slug=campaign.slug)


def _card_text(translated: str, source: str, **values) -> str:
    """A card's sentence as `{% blocktranslate %}` renders it: each value localized and escaped."""
    escaped = {k: escape_html(localize(v)) for k, v in values.items()}
    return mark_safe(fill_translation(translated, source, **escaped))  # noqa: S308 (values escaped)


def _pool_card(participant, today) -> dict:
    """What a participant's card shows, as plain values: the pseudonym, the age band, the place
    ("village, district"), the class, the arrears and the family's size, each sentence with the
    msgid the template had. Built once per card here: four `{% blocktranslate %}` and the lookups
    through the model, its village and district cost ~300 function calls a card."""
    village, district = participant.village, participant.district
    place = (village.name if village else "") + (", " if village and district else "") + (
        district.name if district else "")
    band = age_band(participant.birth_date, today)
    size = participant.family_size
    return {
        "public_id": participant.public_id, "pseudonym": pseudonym(participant), "place": place,
        "age": _card_text(_("umur %(band)s"), "umur %(band)s", band=band) if band else "",
        "care_class": _card_text(_("Kelas %(c)s"), "Kelas %(c)s", c=participant.care_class),
        "arrears": _card_text(_("Menunggak %(m)s bulan: %(amount)s"), "Menunggak %(m)s bulan: %(amount)s",
                              m=participant.months_in_arrears,
                              amount=format_rupiah(participant.arrears_amount)),
        "family_size": size,
        "family": _card_text(_("Keluarga %(n)s orang"), "Keluarga %(n)s orang", n=size) if size > 1 else "",
    }


# Where a kept card's form takes the reader's CSRF token: a comment, which no escaped text can be.
CSRF_SLOT = "<!--csrf-->"


@require_GET
def campaign_participants(request: HttpRequest, campaign_slug: str) -> HttpResponse:
    """The campaign's pool for a donor who may choose: pseudonymous cards, keyset pages."""
    campaign, access = selectors.campaign_get_visible(user=request.user, slug=campaign_slug)
    refused = _may_choose(request, campaign, access)
    if refused is not None:
        return refused
    filters = selectors.DonorFilters.from_params(request.GET)
    raw_page = request.GET.get("page") or ""
    cursor = request.GET.get(CURSOR_PARAM)
    page_number = min(int(raw_page), 100_000) if raw_page.isdigit() else None
    today = regency_today(campaign.regency)

    def build() -> str:
        page = selectors.campaign_participants_page(campaign=campaign, filters=filters, cursor=cursor,
                                                    page_number=page_number)
        form = DonorFilterForm(
            initial={"district": filters.district, "care_class": filters.care_class or "", "band": filters.band,
                     "sort": filters.sort},
            districts=District.objects.for_regency(campaign.regency).order_by("name").values_list("pk", "name"),
            sorts=[(k, v[0]) for k, v in selectors.DONOR_SORTS.items()],
        )
        return render_to_string("donations/_pool_body.html", {
            "campaign": campaign, "page": page, "rows": [_pool_card(p, today) for p in page.object_list],
            "form": form, "filtered": filters.narrowed,
        }, request=request)

    # The pool is the regency's: the same campaign and address (filters, cursor) on the same day
    # show every donor the same page, rendered once with a slot for each reader's CSRF token.
    body = kept(campaign.regency_id, "donor_pool_body", (campaign.pk, sorted(request.GET.lists()), today), build)
    csrf_input = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request))
    return render(request, "donations/participants.html", {
        "campaign": campaign,
        # the page's HTML (escaped when rendered); the slot holds no input of anyone's
        "body": mark_safe(body.replace(CSRF_SLOT, csrf_input)),  # noqa: S308
    })


@require_POST
def campaign_reserve(request, campaign_slug: str):
    campaign, access = selectors.campaign_get_visible(user=request.user, slug=campaign_slug)
    refused = _may_choose(request, campaign, access)
    if refused is not None:
        return refused
    back = redirect("campaign_participants", campaign_slug=campaign.slug)
    # The API's limits (per donor, per client address), counted together with it.
    if throttle_wait(request, RESERVATION_THROTTLES) is not None:
        messages.error(request, _("Terlalu banyak pemesanan dalam waktu singkat. Coba lagi nanti."))
        return back
    raw = request.POST.get("participant", "")
    try:
        participant = selectors.participant_get_in_pool(campaign=campaign, public_id=raw)
    except Http404:
        messages.error(request, _("Pilih seorang peserta dari daftar."))
        return back
    try:
        if request.POST.get("family") == "1":
            pledges = services.pledge_reserve_family(campaign=campaign, participant=participant,
                                                     donor=request.user)
        else:
            pledges = [services.pledge_reserve(campaign=campaign, participant=participant, donor=request.user)]
    except DomainError as exc:
        messages.error(request, str(exc.detail))
        return back
    if len(pledges) > 1:
        messages.success(request, _("%(n)s anggota keluarga dipesan untuk Anda. Konfirmasi setiap janji.")
                         % {"n": len(pledges)})
        return redirect("donor_home")
    messages.success(request, _("Peserta dipesan untuk Anda. Konfirmasi janji Anda di bawah."))
    return redirect(_pledge_url(pledges[0]))


@require_http_methods(["GET", "POST"])
def campaign_give(request, campaign_slug: str):
    campaign, access = selectors.campaign_get_visible(user=request.user, slug=campaign_slug)
    if not campaign.allows_pooled:
        messages.error(request, _("Kampanye ini tidak menerima dana bersama."))
        return redirect("campaign_public", campaign_slug=campaign.slug)
    refused = _may_choose(request, campaign, access)
    if refused is not None:
        return refused
    form = GiftForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.gift_create(campaign=campaign, donor=request.user, amount=form.cleaned_data["amount"],
                                 reference=form.cleaned_data["reference"])
        except DomainError as exc:
            form.add_error(None, str(exc.detail))
        else:
            messages.success(request, _("Terima kasih! Sumbangan Anda dicatat dan akan dialokasikan setelah "
                                        "Pemda menerimanya."))
            return redirect("donor_home")
    return render(request, "donations/give.html", {"campaign": campaign, "form": form})


# --- the donor's pages ----------------------------------------------------------------------


@login_required
@require_GET
def donor_home(request: HttpRequest) -> HttpResponse:
    """The donor's pledges, a keyset page at a time (newest first), with their gifts and profile."""
    page = selectors.donor_pledges_page(user=request.user, cursor=request.GET.get(CURSOR_PARAM))
    histories = selectors.pledge_histories(pledges=page.object_list)
    rows = []
    for pledge in page.object_list:
        history = histories[pledge.pk]
        rows.append({"pledge": pledge, "pseudonym": pseudonym(pledge.participant),
                     "timeline": selectors.pledge_timeline(pledge=pledge, history=history),
                     "next": selectors.pledge_next_step(pledge=pledge)})
    profile = DonorProfile.objects.filter(user_id=request.user.pk or 0).first()  # login_required: a user
    return render(request, "donations/me.html", {
        "rows": rows, "page": page, "gifts": selectors.gifts_of_donor(user=request.user), "profile": profile,
        "campaigns": selectors.campaigns_visible_to(user=request.user).filter(status=CampaignStatus.ACTIVE)[:10],
    })


@login_required
@require_http_methods(["GET", "POST"])
def donor_profile(request):
    profile = services.donor_profile_ensure(user=request.user)
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.donor_profile_update(user=request.user, **{
                k: form.cleaned_data[k] for k in ("display_name", "is_anonymous", "phone", "organisation")})
        except DomainError as exc:
            for field, message in (exc.extra.get("errors") or {}).items():
                form.add_error(field if field in form.fields else None, message)
            if not exc.extra.get("errors"):
                form.add_error(None, str(exc.detail))
        else:
            messages.success(request, _("Profil disimpan."))
            return redirect("donor_home")
    return render(request, "donations/profile.html", {"form": form})


def _pledge_for(request, pledge_id):
    return selectors.pledge_get_for_user(user=request.user, pledge_id=pledge_id)


@login_required
@require_GET
def pledge_detail(request, pledge_id):
    return _pledge_page(request, _pledge_for(request, pledge_id))


def _pledge_page(request, pledge, payment_form: PaymentForm | None = None, status: int = 200) -> HttpResponse:
    """The pledge's page; `payment_form` is a bound form whose errors show next to its fields."""
    history = selectors.pledge_history(pledge=pledge)
    may_act = selectors.pledge_may_act(user=request.user, pledge=pledge)
    today = regency_today(pledge.campaign.regency)
    # Before anything reads the amount: a pledge quoted in an earlier month shows its new amount.
    requote = selectors.pledge_requote_shown(pledge=pledge, today=today)
    return render(request, "donations/pledge.html", {
        "pledge": pledge,
        "requote": requote,
        "penalty": penalty_example(pledge.participant.months_in_arrears),
        "paid_before_write_off": selectors.pledge_paid_before_write_off(pledge=pledge),
        "campaign": pledge.campaign,
        "pseudonym": pseudonym(pledge.participant),
        "age_band": age_band(pledge.participant.birth_date, today),
        "timeline": selectors.pledge_timeline(pledge=pledge, history=history),
        "history": history,
        "next": selectors.pledge_next_step(pledge=pledge),
        "info": selectors.pledge_payment_info(pledge=pledge),
        "payments": selectors.pledge_payments(pledge=pledge),
        "may_act": may_act,
        "can_confirm": may_act and pledge.status == PledgeStatus.RESERVED,
        # Once money arrived, withdrawing is a matter for the Pemda (a refund), not a button.
        "can_cancel": may_act and pledge.status in (PledgeStatus.RESERVED, PledgeStatus.PLEDGED)
        and not pledge.paid_amount,
        # Only while something is owed: a pledge paid in full takes no more payments.
        "can_pay": may_act and pledge.status == PledgeStatus.PLEDGED and pledge.outstanding > 0,
        "payment_form": payment_form or _payment_form(pledge, today),
        "statuses": PledgeStatus,
    }, status=status)


def _payment_form(pledge, today) -> PaymentForm:
    """Prefilled with what is still owed (not the pledge's whole amount) and the regency's today."""
    form = PaymentForm(initial={"amount": pledge.outstanding, "paid_at": today})
    form.fields["amount"].widget.attrs["max"] = pledge.outstanding
    return form


def _due(pledge) -> str:
    return format_datetime(pledge.due_at, pledge.campaign.regency.tzinfo)


@login_required
@require_POST
def pledge_confirm(request, pledge_id):
    pledge = _pledge_for(request, pledge_id)
    attempt(request, lambda: services.pledge_confirm(pledge=pledge, actor=request.user), _confirmed_message)
    return redirect(_pledge_url(pledge))


def _confirmed_message(pledge) -> str:
    values = {"amount": format_rupiah(pledge.outstanding), "due": _due(pledge), "code": pledge.payment_code}
    if pledge.campaign.is_collected:
        return _("Janji dikonfirmasi. Transfer %(amount)s ke rekening penampung kampanye di bawah, dengan kode "
                 "pembayaran %(code)s di berita transfer, sebelum %(due)s.") % values
    return _("Janji dikonfirmasi. Nomor VA keluarga kini tampil di bawah: bayar %(amount)s sebelum %(due)s.") % values


@login_required
@require_POST
def pledge_cancel(request, pledge_id):
    pledge = _pledge_for(request, pledge_id)
    attempt(request, lambda: services.pledge_cancel(pledge=pledge, actor=request.user), _("Janji dibatalkan; peserta kembali ke daftar."))
    return redirect(_pledge_url(pledge))


@login_required
@require_POST
def pledge_pay(request, pledge_id):
    pledge = _pledge_for(request, pledge_id)
    form = PaymentForm(request.POST, request.FILES)
    form.fields["amount"].widget.attrs["max"] = pledge.outstanding
    if not form.is_valid():
        return _pledge_page(request, pledge, payment_form=form, status=400)
    attempt(request, lambda: services.payment_record(
        pledge=pledge, actor=request.user, amount=form.cleaned_data["amount"],
        reference=form.cleaned_data["reference"], paid_on=form.cleaned_data["paid_at"],
        receipt=form.cleaned_data.get("receipt")), _paid_message)
    return redirect(_pledge_url(pledge))


def _paid_message(payment) -> str:
    """"Lunas" only when the payments reached the pledge's amount; else what remains and by when."""
    pledge = payment.pledge  # the locked row, as the payment left it
    values = {"amount": format_rupiah(payment.amount), "outstanding": format_rupiah(pledge.outstanding),
              "due": _due(pledge), "receipt": payment.receipt_number}
    if pledge.status == PledgeStatus.PAID:
        return _("Pembayaran %(amount)s dicatat (kuitansi %(receipt)s). Lunas dibayar, terima kasih! Kami menunggu "
                 "data BPJS berikutnya untuk memastikan tunggakan peserta lunas.") % values
    return _("Pembayaran %(amount)s dicatat (kuitansi %(receipt)s); sisa %(outstanding)s harus dibayar sebelum "
             "%(due)s.") % values


@login_required
@require_GET
def pledge_certificate(request, pledge_id):
    pledge = _pledge_for(request, pledge_id)
    if pledge.status != PledgeStatus.VERIFIED:
        messages.info(request, _("Sertifikat tersedia setelah pembayaran terverifikasi."))
        return redirect(_pledge_url(pledge))
    profile = DonorProfile.objects.filter(user=pledge.donor).first() if pledge.donor else None
    name = (profile.display_name if profile and profile.display_name else "") or (
        pledge.donor.get_full_name() if pledge.donor else _("Dana bersama"))
    pdf = certificate_pdf(
        donor_name=name, campaign_title=pledge.campaign.title, regency_name=str(pledge.campaign.regency),
        pseudonym=pseudonym(pledge.participant), amount=pledge.amount,
        verified_on=timezone.localtime(pledge.verified_at, pledge.campaign.regency.tzinfo),
        texts={
            "title": _("Sertifikat Terima Kasih"),
            "given_to": _("diberikan kepada"),
            "body": _("atas iuran JKN-KIS peserta {pseudonym} sebesar {amount} melalui kampanye "
                      "\"{campaign}\" ({regency}), terverifikasi pada {date}. Satu untuk satu: "
                      "kepesertaannya kembali aktif berkat Anda."),
            "footer": _("Gerakan Satu untuk Satu"),
        },
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="sertifikat-{pledge.public_id}.pdf"'
    return response


@login_required
@require_GET
def payment_receipt(request, pledge_id, payment_id: int):
    """The receipt file: only the pledge's donor and the regency's campaign managers (404 otherwise)."""
    pledge = _pledge_for(request, pledge_id)
    payment = selectors.payment_get_for_pledge(pledge=pledge, payment_id=payment_id)
    if not payment.receipt:
        raise Http404("receipt")
    response = FileResponse(payment.receipt.open("rb"), content_type=payment.receipt_content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- the regency's campaign pages -----------------------------------------------------------------------


def _any_campaign_perm(view):
    def wrapper(request, *args, **kwargs):
        access = getattr(request, "regency_access", None)
        if access is None:
            raise Http404("regency")
        if not (access.can(Perm.MANAGE_CAMPAIGNS) or access.can(Perm.PLEDGE_INTERNAL)):
            raise DjangoPermissionDenied
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@require_GET
@_any_campaign_perm
def campaign_list(request, regency_slug: str):
    regency = request.regency
    can_manage = request.regency_access.can(Perm.MANAGE_CAMPAIGNS)
    campaigns = selectors.campaign_list_for_regency(regency=regency)
    if not can_manage:
        campaigns = campaigns.exclude(status=CampaignStatus.DRAFT)
    return render(request, "donations/campaign_list.html", {
        "regency": regency, "campaigns": campaigns, "can_manage": can_manage,
    })


def _campaign_values(form) -> dict:
    return {k: form.cleaned_data.get(k) for k in services.CAMPAIGN_FIELDS}


@require_http_methods(["GET", "POST"])
@require_perm(Perm.MANAGE_CAMPAIGNS)
def campaign_create(request, regency_slug: str):
    regency = request.regency
    form = CampaignForm(request.POST or None, initial={"hold_hours": 72, "months_ahead": 0})
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(regency=regency, actor=request.user, **_campaign_values(form))
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Kampanye dibuat."))
            return redirect("campaign_admin", regency_slug=regency.slug, campaign_slug=campaign.slug)
    return render(request, "donations/campaign_form.html", {"regency": regency, "form": form, "campaign": None})


def _form_errors(form, exc: DomainError) -> None:
    errors = exc.extra.get("errors") or {}
    for field, message in errors.items():
        form.add_error(field if field in form.fields else None, str(message))
    if not errors:
        form.add_error(None, str(exc.detail))


@require_http_methods(["GET", "POST"])
@require_perm(Perm.MANAGE_CAMPAIGNS)
def campaign_edit(request, regency_slug: str, campaign_slug: str):
    regency = request.regency
    campaign = selectors.campaign_get_for_regency(regency=regency, slug=campaign_slug)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_update(campaign=campaign, actor=request.user, **_campaign_values(form))
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Kampanye disimpan."))
            return redirect("campaign_admin", regency_slug=regency.slug, campaign_slug=campaign.slug)
    return render(request, "donations/campaign_form.html", {"regency": regency, "form": form,
                                                            "campaign": campaign})


@require_GET
@require_perm(Perm.MANAGE_CAMPAIGNS)
def campaign_admin(request: RegencyHttpRequest, regency_slug: str, campaign_slug: str) -> HttpResponse:
    """The campaign's board: progress, money, payments to check, and its pledges a keyset page at a
    time, all or of one status (`?status=`, counted per status)."""
    campaign = selectors.campaign_get_for_regency(regency=request.regency, slug=campaign_slug)
    return _campaign_admin_page(request, campaign)


def _campaign_admin_page(request, campaign, gift_form: GiftForm | None = None,
                         http_status: int = 200) -> HttpResponse:
    """The board; `gift_form` is a bound form whose errors show next to its fields."""
    regency = request.regency
    board = selectors.campaign_board(campaign=campaign)
    status = request.GET.get("status", "")
    status = status if status in PledgeStatus.values else ""
    page = selectors.campaign_pledges_page(campaign=campaign, status=status, cursor=request.GET.get(CURSOR_PARAM))
    tabs = [(value, PledgeStatus(value).label, board.counts[value]) for value in PledgeStatus.values
            if board.counts[value]]
    return render(request, "donations/campaign_admin.html", {
        "regency": regency, "campaign": campaign, "board": board, "tabs": tabs, "status": status,
        "page": page, "pledge_total": sum(board.counts.values()),
        "progress": selectors.campaign_progress(campaign=campaign),
        "pool": selectors.pool_balance(campaign=campaign) if campaign.allows_pooled else None,
        "gift_form": gift_form or GiftForm(),
        "ledger": ledger_balance(campaign=campaign),
    }, status=http_status)


@require_GET
@require_perm(Perm.MANAGE_CAMPAIGNS)
def campaign_export(request, regency_slug: str, campaign_slug: str):
    campaign = selectors.campaign_get_for_regency(regency=request.regency, slug=campaign_slug)
    pledges = list(selectors.campaign_pledges_for_export(campaign=campaign))
    data = pledges_xlsx(pledges)
    export_record(kind="pledges", actor=request.user, rows=len(pledges), fmt="xlsx", regency=request.regency,
                  scope=campaign.slug, filters={"campaign": campaign.slug})
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="janji-{campaign.slug}.xlsx"'
    return response


@require_POST
@require_perm(Perm.MANAGE_CAMPAIGNS)
def campaign_allocate(request, regency_slug: str, campaign_slug: str):
    campaign = selectors.campaign_get_for_regency(regency=request.regency, slug=campaign_slug)
    if not campaign.allows_pooled:
        messages.error(request, _("Kampanye ini tidak memiliki dana bersama."))
    else:
        result = pool_allocate(campaign=campaign, actor=request.user)
        messages.success(request, _("%(n)s peserta (%(f)s keluarga) mendapat alokasi dana bersama; sisa dana %(left)s.")
                         % {"n": result.pledges, "f": result.families, "left": format_rupiah(result.available_after)})
    return redirect("campaign_admin", regency_slug=request.regency.slug, campaign_slug=campaign.slug)


@require_POST
@require_perm(Perm.MANAGE_CAMPAIGNS)
def campaign_gifts(request, regency_slug: str, campaign_slug: str):
    """Mark a donor's gift received (`gift` = its id), or record one received at the office."""
    campaign = selectors.campaign_get_for_regency(regency=request.regency, slug=campaign_slug)
    back = redirect("campaign_admin", regency_slug=request.regency.slug, campaign_slug=campaign.slug)
    raw = request.POST.get("gift", "")
    try:
        if raw:
            gift = Gift.objects.for_regency(request.regency).filter(
                campaign=campaign, pk=int(raw) if raw.isdigit() else 0).first()
            if gift is None:
                messages.error(request, _("Sumbangan tidak ditemukan."))
                return back
            services.gift_receive(gift=gift, actor=request.user)
            messages.success(request, _("Sumbangan ditandai sudah diterima."))
            return back
        form = GiftForm(request.POST)
        if not form.is_valid():
            return _campaign_admin_page(request, campaign, gift_form=form, http_status=400)
        services.gift_create(campaign=campaign, donor=None, actor=request.user, received=True,
                             amount=form.cleaned_data["amount"], reference=form.cleaned_data["reference"])
        messages.success(request, _("Sumbangan dicatat sebagai diterima."))
    except DomainError as exc:
        messages.error(request, str(exc.detail))
    return back
