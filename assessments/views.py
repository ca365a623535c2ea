"""Assessment pages: the queue, the form (phone first, autosaving), the review, the
settings and the PBI referral list. Thin: selectors read, services write."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from assessments import questionnaire, selectors, services
from assessments.forms import DecisionForm, EvidenceForm, ScreeningSettingsForm
from assessments.models import Assessment, Flag, ReasonCode, Recommendation, Status
from assessments.templatetags.assessment_tags import queue_cards
from core.errors import DomainError
from core.pagination import CURSOR_PARAM, KeysetPage, without_instances
from core.time import regency_today
from participants.models import Participant
from regencies.models import District
from regencies.permissions import RegencyHttpRequest, require_perm
from regencies.roles import Perm, Role
from regencies.versions import kept


def _wants_json(request) -> bool:
    return request.headers.get("X-Requested-With") == "fetch" or bool(getattr(request, "htmx", False))


def _detail_url(request, assessment_id: int) -> str:
    return reverse("assessment_detail", kwargs={"regency_slug": request.regency.slug,
                                                "assessment_id": assessment_id})


class AssignErrors(forms.Form):
    """The queue's assignment bar as posted, to show what is wrong next to it (the view checks)."""

    assignee = forms.CharField(label=gettext_lazy("Tugaskan yang dicentang kepada"), required=False)
    participants = forms.CharField(label=gettext_lazy("Peserta"), required=False)


@require_http_methods(["GET", "POST"])
@require_perm(Perm.ASSESS)
def assessment_queue(request: RegencyHttpRequest, regency_slug: str) -> HttpResponse:
    regency = request.regency
    access = request.regency_access
    assign_form = AssignErrors(auto_id="%s")
    status = 200
    if request.method == "POST":
        if not access.can(Perm.DECIDE_ASSESSMENT):
            raise DjangoPermissionDenied
        assign_form = AssignErrors(request.POST, auto_id="%s")
        assign_form.is_valid()
        ids = [int(v) for v in request.POST.getlist("participants") if v.isdigit()]
        raw = request.POST.get("assignee", "")
        assignee = None
        if raw.isdigit():
            assignee = next((u for u in selectors.assessors_of(regency=regency) if u.pk == int(raw)), None)
            if assignee is None:
                assign_form.add_error("assignee", _("Penerima tugas bukan asesor di kabupaten/kota ini."))
        if not ids:
            assign_form.add_error("participants", _("Pilih peserta yang akan ditugaskan."))
        if not assign_form.errors:
            try:
                n = services.queue_assign(regency=regency, actor=request.user, participant_ids=ids,
                                          assignee=assignee)
            except DomainError as exc:
                assign_form.add_error(None, str(exc.detail))
            else:
                messages.success(request, _("%(n)s peserta ditugaskan.") % {"n": n})
                return redirect(request.get_full_path())
        status = 400

    today = regency_today(regency)
    filter_params: QueryDict = request.GET.copy()
    if "status" not in filter_params and access.has_role(Role.SUPERVISOR):
        # A supervisor's queue opens on what awaits their decision.
        filter_params["status"] = "submitted"
    filters = selectors.QueueFilters.from_params(filter_params)
    raw_page = request.GET.get("page") or ""
    cursor = request.GET.get(CURSOR_PARAM)
    page_number = min(int(raw_page), 100_000) if raw_page.isdigit() else None

    can_decide = access.can(Perm.DECIDE_ASSESSMENT)

    def build() -> tuple[KeysetPage, str]:
        page = selectors.queue_page(regency=regency, user=request.user, filters=filters, today=today,
                                    cursor=cursor, page_number=page_number)
        rows = [{"entry": e, "days_waiting": selectors.days_waiting(e, today)} for e in page.object_list]
        context = {"regency": regency, "can_decide": can_decide, "assign_form": assign_form}
        return page, str(queue_cards(context, rows)) if rows else ""

    # What makes one user's queue differ from another's: their districts (theirs first), with
    # "mine" who they are, and whether the cards have the checkboxes of one who decides. A refused
    # assignment shows its errors on cards built for it.
    mine = request.user.pk if filters.mine else None
    if request.method == "POST":
        page, cards = build()
    else:
        page, cards = kept(regency.pk, "assessment_queue_cards",
                           (filters, cursor, page_number, today,
                            sorted(selectors.assessor_districts(regency=regency, user=request.user)), mine,
                            can_decide), build, slim=without_instances)
    params: QueryDict = request.GET.copy()
    params.pop("page", None)
    params.pop(CURSOR_PARAM, None)
    return render(request, "assessments/queue.html", {
        "regency": regency,
        "page": page,
        "cards": mark_safe(cards),  # noqa: S308 - queue_cards' own escaped HTML, kept as a str
        "filters": filters,
        "querystring": params.urlencode(),
        "districts": District.objects.for_regency(regency).order_by("name"),
        "statuses": selectors.QUEUE_STATUSES.items(),
        "recommendations": Recommendation.choices,
        "flag_choices": Flag.choices,
        "can_decide": can_decide,
        "can_manage": access.can(Perm.MANAGE_SETTINGS),
        "assessors": selectors.assessors_of(regency=regency) if can_decide else [],
        "assign_form": assign_form,
    }, status=status)


@require_POST
@require_perm(Perm.ASSESS)
def assessment_start(request, regency_slug: str, public_id):
    regency = request.regency
    participant = Participant.objects.for_regency(regency).filter(public_id=public_id).first()
    if participant is None:
        raise Http404("participant")
    try:
        assessment = services.assessment_start(regency=regency, actor=request.user, participant=participant)
    except DomainError as exc:
        messages.error(request, str(exc.detail))
        return redirect("assessment_queue", regency_slug=regency.slug)
    return redirect(_detail_url(request, assessment.pk))


@require_http_methods(["GET"])
@require_perm(Perm.ASSESS)
def assessment_detail(request: RegencyHttpRequest, regency_slug: str, assessment_id: int) -> HttpResponse:
    assessment = selectors.assessment_get(regency=request.regency, assessment_id=assessment_id)
    return _detail_page(request, assessment)


def _detail_page(request: RegencyHttpRequest, assessment: Assessment, *,
                 answers_form: questionnaire.AnswersForm | None = None,
                 decision_form: DecisionForm | None = None, evidence_form: EvidenceForm | None = None,
                 status: int = 200) -> HttpResponse:
    """The assessment page; a form passed in is a bound one whose errors show next to its fields."""
    regency = request.regency
    access = request.regency_access
    can_decide = (
        access.can(Perm.DECIDE_ASSESSMENT)
        and assessment.status == Status.SUBMITTED
        and assessment.submitted_by_id != request.user.pk
    )
    if answers_form is None:
        answers_form = questionnaire.AnswersForm(version=assessment.questionnaire_version,
                                                 answers=assessment.answers)
    return render(request, "assessments/detail.html", {
        "regency": regency,
        "assessment": assessment,
        "participant": assessment.participant,
        "editable": assessment.status == Status.DRAFT,
        "questions": selectors.answer_rows(assessment=assessment),
        "answers_form": answers_form,
        "screening": selectors.assessment_screening(assessment=assessment),
        "route": selectors.assessment_route(assessment=assessment),
        "evidence": selectors.assessment_evidence(assessment=assessment),
        "history": selectors.assessment_history(assessment=assessment),
        "can_decide": can_decide,
        "own_submission": assessment.submitted_by_id == request.user.pk,
        "decision_form": decision_form or DecisionForm(),
        "evidence_form": evidence_form or EvidenceForm(),
        "reason_codes": ReasonCode.choices,
        "umk": regency.minimum_wage,
        "today": regency_today(regency),
    }, status=status)


def _posted_answers(request: RegencyHttpRequest, assessment: Assessment) -> questionnaire.AnswersForm:
    return questionnaire.AnswersForm(request.POST, version=assessment.questionnaire_version,
                                     answers=assessment.answers)


@require_POST
@require_perm(Perm.ASSESS)
def assessment_save(request: RegencyHttpRequest, regency_slug: str, assessment_id: int) -> HttpResponse:
    """Autosave (fetch, JSON answer) or the plain form post (redirect, or the page with errors)."""
    assessment = selectors.assessment_get(regency=request.regency, assessment_id=assessment_id)
    form = _posted_answers(request, assessment)
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse({"ok": False, "detail": _("Periksa isian yang ditandai."), "code": "invalid_answers",
                                 "errors": {key: " ".join(str(e) for e in errors)
                                            for key, errors in form.errors.items()}},
                                status=400)
        return _detail_page(request, assessment, answers_form=form, status=400)
    try:
        saved = services.assessment_save_answers(assessment=assessment, actor=request.user, answers=form.answers())
    except DomainError as exc:
        if _wants_json(request):
            return JsonResponse({"ok": False, "detail": str(exc.detail), "code": exc.code,
                                 "errors": exc.extra.get("errors", {})}, status=400)
        messages.error(request, str(exc.detail))
        return redirect(_detail_url(request, assessment_id))
    if _wants_json(request):
        return JsonResponse({"ok": True, "saved_at": timezone.localtime(saved.updated_at).strftime("%H.%M")})
    messages.success(request, _("Tersimpan."))
    return redirect(_detail_url(request, assessment_id))


@require_POST
@require_perm(Perm.ASSESS)
def assessment_submit(request: RegencyHttpRequest, regency_slug: str, assessment_id: int) -> HttpResponse:
    """Save what the form sends, then submit; what is wrong or missing is shown at its question."""
    assessment = selectors.assessment_get(regency=request.regency, assessment_id=assessment_id)
    try:
        if assessment.status == Status.DRAFT:
            form = _posted_answers(request, assessment)
            if not form.is_valid():
                return _detail_page(request, assessment, answers_form=form, status=400)
            assessment = services.assessment_save_answers(assessment=assessment, actor=request.user,
                                                          answers=form.answers())
        services.assessment_submit(assessment=assessment, actor=request.user)
    except DomainError as exc:
        if exc.code == "incomplete":
            form = questionnaire.AnswersForm(assessment.answers, version=assessment.questionnaire_version,
                                             complete=True)
            return _detail_page(request, assessment, answers_form=form, status=400)
        messages.error(request, str(exc.detail))
        return redirect(_detail_url(request, assessment_id))
    messages.success(request, _("Asesmen diajukan untuk diputuskan supervisor."))
    return redirect("assessment_queue", regency_slug=request.regency.slug)


@require_POST
@require_perm(Perm.DECIDE_ASSESSMENT)
def assessment_decide(request, regency_slug: str, assessment_id: int):
    assessment = selectors.assessment_get(regency=request.regency, assessment_id=assessment_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, assessment, decision_form=form, status=400)
    data = form.cleaned_data
    try:
        if data["action"] == "approve":
            services.assessment_approve(assessment=assessment, actor=request.user, note=data["note"])
            messages.success(request, _("Disetujui: peserta layak dibantu."))
        elif data["action"] == "reject":
            services.assessment_reject(assessment=assessment, actor=request.user, reason=data["reason"],
                                       note=data["note"])
            messages.success(request, _("Ditolak: peserta tidak layak dibantu."))
        else:
            services.assessment_return(assessment=assessment, actor=request.user, note=data["note"])
            messages.success(request, _("Dikembalikan ke asesor."))
    except DomainError as exc:
        messages.error(request, str(exc.detail))
    return redirect(_detail_url(request, assessment_id))


@require_POST
@require_perm(Perm.ASSESS)
def evidence_upload(request, regency_slug: str, assessment_id: int):
    assessment = selectors.assessment_get(regency=request.regency, assessment_id=assessment_id)
    try:
        services.evidence_add(assessment=assessment, actor=request.user, upload=request.FILES.get("file"))
    except DomainError as exc:
        if exc.code.startswith("evidence"):
            # What is wrong with the file itself shows at the file input; the service said it.
            form = EvidenceForm(request.POST, request.FILES)
            form.fields["file"].required = False
            form.is_valid()
            form.add_error("file", str(exc.detail))
            return _detail_page(request, assessment, evidence_form=form, status=400)
        messages.error(request, str(exc.detail))
    else:
        messages.success(request, _("Bukti diunggah."))
    return redirect(_detail_url(request, assessment_id) + "#bukti")


@require_http_methods(["GET"])
@require_perm(Perm.ASSESS)
def evidence_download(request, regency_slug: str, assessment_id: int, evidence_id: int):
    """Evidence is served only here, to assessors, supervisors and admins of the regency."""
    evidence = selectors.evidence_get(regency=request.regency, assessment_id=assessment_id,
                                      evidence_id=evidence_id)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:
        raise Http404("evidence file") from None
    response = FileResponse(handle, content_type=evidence.content_type)
    response["Content-Disposition"] = f'inline; filename="bukti-{evidence.pk}{_suffix(evidence)}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _suffix(evidence) -> str:
    return {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp",
            "application/pdf": ".pdf"}.get(evidence.content_type, "")


@require_http_methods(["GET", "POST"])
@require_perm(Perm.MANAGE_SETTINGS)
def screening_settings(request, regency_slug: str):
    regency = request.regency
    current = selectors.screening_settings_get(regency=regency)
    initial = {k: getattr(current, k) for k in
               ("cleared_min_months", "relapse_within_months", "short_arrears_months", "validity_months")}
    form = ScreeningSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.screening_settings_update(regency=regency, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc.detail))
        else:
            messages.success(request, _("Pengaturan disimpan; antrean disaring ulang."))
            return redirect("assessment_settings", regency_slug=regency.slug)
    from assessments.screening import flag_counts

    return render(request, "assessments/settings.html", {
        "regency": regency, "form": form, "counts": flag_counts(regency=regency),
        "flag_choices": Flag.choices, "recommendations": Recommendation.choices,
    })


@require_http_methods(["GET"])
@require_perm(Perm.ASSESS)
def pbi_list(request: RegencyHttpRequest, regency_slug: str) -> HttpResponse:
    """The PBI referrals, a keyset page at a time (`?page=N` still read, with OFFSET)."""
    regency = request.regency
    raw_page = request.GET.get("page") or ""
    page = selectors.pbi_page(regency=regency, cursor=request.GET.get(CURSOR_PARAM),
                              page_number=min(int(raw_page), 100_000) if raw_page.isdigit() else None)
    return render(request, "assessments/pbi.html", {
        "regency": regency, "page": page,
        "can_export": request.regency_access.can(Perm.DECIDE_ASSESSMENT),
    })


@require_http_methods(["GET"])
@require_perm(Perm.DECIDE_ASSESSMENT)
def pbi_export(request, regency_slug: str):
    regency = request.regency
    content = services.pbi_referrals_export(regency=regency, actor=request.user)
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    day = regency_today(regency).isoformat()
    response["Content-Disposition"] = f'attachment; filename="usulan-pbi-{regency.slug}-{day}.xlsx"'
    return response

