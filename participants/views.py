"""Pages: a BPJS branch's imports (upload, report, error downloads) and a regency's participants.

Thin: reads through `participants.selectors`, writes through `participants.services`.
"""

from __future__ import annotations

import uuid
import zoneinfo
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from core.feedback import attempt
from core.formatting import format_date
from core.links import link_maker
from core.pagination import CURSOR_PARAM, keyset_page
from core.tables import table_rows
from core.time import regency_today
from participants import reports, selectors
from participants.forms import ImportUploadForm, ParticipantFilterForm
from participants.tables import PARTICIPANT_COLUMNS
from regencies.permissions import (
    BranchHttpRequest,
    Perm,
    RegencyHttpRequest,
    branch_get_for_user,
    require_perm,
)
from regencies.versions import kept

IMPORTS_PER_PAGE = 25
PARTICIPANTS_PER_PAGE = selectors.PARTICIPANTS_PER_PAGE
ERRORS_ON_PAGE = 50


# --- branch imports -------------------------------------------------------------


def _token_user(request: HttpRequest):
    """`Authorization: Token ...` for API clients fetching `errors_url`; None when absent or wrong."""
    if not request.headers.get("Authorization", "").startswith("Token "):
        return None
    from rest_framework.exceptions import AuthenticationFailed

    from accounts.tokens import ApiTokenAuthentication

    try:
        result = ApiTokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    return result[0] if result else None


def branch_page(*, allow_token: bool = False):
    """The view acts for `branch_code`: sign-in required; a branch the user is not BPJS admin of is a 404.

    Sets `request.branch` and shows times in the branch's time zone.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request: BranchHttpRequest, branch_code: str, *args, **kwargs):
            if not request.user.is_authenticated and allow_token:
                user = _token_user(request)
                if user is not None:
                    request.user = user
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            branch = branch_get_for_user(user=request.user, code=branch_code)
            request.branch = branch
            timezone.activate(zoneinfo.ZoneInfo(branch.timezone))
            return view(request, branch, *args, **kwargs)

        return wrapper

    return decorator


def _domain_error_field(exc: DomainError) -> str:
    code = str(exc.code or "")
    for field in ("as_of", "mode"):
        if field in code:
            return field
    return "file"


@require_http_methods(["GET", "POST"])
@branch_page()
def import_list(request: BranchHttpRequest, branch) -> HttpResponse:
    """Upload form and the branch's import history."""
    today = regency_today(branch)
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES, today=today)
        if form.is_valid():
            from participants import services

            uploaded = form.cleaned_data["file"]
            try:
                arrears_import, duplicate = services.import_create(
                    branch=branch,
                    actor=request.user,
                    uploaded_file=uploaded,
                    as_of=form.cleaned_data["as_of"],
                    mode=form.cleaned_data["mode"],
                    original_name=uploaded.name,
                    ask_first=True,
                )
            except DomainError as exc:
                form.add_error(_domain_error_field(exc), str(exc.detail))
            else:
                if duplicate:
                    messages.info(
                        request,
                        _("Berkas yang sama sudah pernah diunggah (%(name)s, data per %(as_of)s); "
                          "tidak ada yang diterapkan ulang. Ini laporannya.")
                        % {"name": arrears_import.original_name, "as_of": format_date(arrears_import.as_of)},
                    )
                else:
                    # "Being processed" is said by the report fragment while the import runs: a
                    # flash message would stay on the page after htmx has swapped in the final status.
                    messages.success(request, _("Berkas diterima."))
                return redirect("import_detail", branch_code=branch.code, import_id=arrears_import.pk)
        status = 400
    else:
        form = ImportUploadForm(today=today)
        status = 200
    page = keyset_page(selectors.import_list_for_branch(branch=branch), order=selectors.IMPORT_ORDER,
                       cursor=request.GET.get(CURSOR_PARAM), size=IMPORTS_PER_PAGE,
                       page_number=_page_number(request))
    return render(
        request,
        "imports/import_list.html",
        {"branch": branch, "form": form, "page": page, "today": today},
        status=status,
    )


def _report_context(request: BranchHttpRequest, branch, arrears_import) -> dict:
    finished = arrears_import.is_finished
    context = {
        "branch": branch,
        "imp": arrears_import,
        "finished": finished,
        "running": not finished and not arrears_import.is_awaiting_confirmation,
        "progress_url": reverse(
            "import_progress", kwargs={"branch_code": branch.code, "import_id": arrears_import.pk}
        ),
    }
    if arrears_import.is_awaiting_confirmation:
        context.update(
            awaiting=True,
            confirm_form=ImportConfirmForm(),
            preview=arrears_import.preview or {},
            preview_regencies=selectors.import_preview_regencies(arrears_import=arrears_import),
            error_total=selectors.import_error_total(arrears_import=arrears_import),
        )
    if finished:
        total = selectors.import_error_total(arrears_import=arrears_import)
        context.update(
            regency_counts=selectors.import_regency_counts(arrears_import=arrears_import),
            errors=selectors.import_errors_first(arrears_import=arrears_import, limit=ERRORS_ON_PAGE),
            error_total=total,
        )
    return context


@require_http_methods(["GET"])
@branch_page()
def import_detail(request: BranchHttpRequest, branch, import_id) -> HttpResponse:
    """The report of one import; while it runs, a progress bar that polls `import_progress`."""
    arrears_import = selectors.import_get_for_branch(branch=branch, import_id=import_id)
    context = _report_context(request, branch, arrears_import)
    if request.GET.get("fragment") == "progress":
        return render(request, "imports/_report.html", context)
    return render(request, "imports/import_detail.html", context)


class ImportConfirmForm(forms.Form):
    """The one box "Terapkan" needs: the uploader says they read the preview."""

    understood = forms.BooleanField(label=gettext_lazy("Pratinjau sudah diperiksa"), error_messages={"required": gettext_lazy(
        "Centang pernyataan bahwa Anda sudah memeriksa pratinjau, lalu pilih Terapkan.")})


@require_POST
@branch_page()
def import_confirm(request: BranchHttpRequest, branch, import_id) -> HttpResponse:
    """"Terapkan": apply a full list that waited for confirmation (the box must be ticked)."""
    from participants import services

    arrears_import = selectors.import_get_for_branch(branch=branch, import_id=import_id)
    form = ImportConfirmForm(request.POST)
    if not form.is_valid():
        context = _report_context(request, branch, arrears_import)
        context["confirm_form"] = form
        return render(request, "imports/import_detail.html", context, status=400)
    attempt(request, lambda: services.import_confirm(arrears_import=arrears_import, actor=request.user), _("Dikonfirmasi."))
    return redirect("import_detail", branch_code=branch.code, import_id=arrears_import.pk)


@require_POST
@branch_page()
def import_discard(request: BranchHttpRequest, branch, import_id) -> HttpResponse:
    """"Batalkan": drop a full list that waited for confirmation; nothing is applied."""
    from participants import services

    arrears_import = selectors.import_get_for_branch(branch=branch, import_id=import_id)
    attempt(request, lambda: services.import_discard_unconfirmed(arrears_import=arrears_import, actor=request.user), _("Impor dibatalkan; tidak ada data yang diterapkan."))
    return redirect("import_detail", branch_code=branch.code, import_id=arrears_import.pk)


@require_http_methods(["GET"])
@branch_page()
def import_progress(request: BranchHttpRequest, branch, import_id) -> HttpResponse:
    """The report fragment htmx swaps in every second; once finished it carries no polling trigger."""
    arrears_import = selectors.import_get_for_branch(branch=branch, import_id=import_id)
    response = render(request, "imports/_report.html", _report_context(request, branch, arrears_import))
    response["Cache-Control"] = "no-store"
    return response


def _report_filename(arrears_import, ext: str) -> str:
    return f"kesalahan-impor-{arrears_import.branch.code}-{arrears_import.pk}-{arrears_import.as_of:%Y%m%d}.{ext}"


def _audit_error_report(request, branch, arrears_import, fmt: str) -> None:
    """Every export is an audit event (`export.import_errors`)."""
    from core.exports import export_record

    export_record(kind="import_errors", actor=request.user, rows=arrears_import.error_count, fmt=fmt,
                  scope=str(arrears_import.pk), filters={"branch": branch.code, "import_id": arrears_import.pk})


@require_http_methods(["GET"])
@branch_page(allow_token=True)
def import_errors_csv(request: BranchHttpRequest, branch, import_id) -> StreamingHttpResponse:
    """Every error of the import (row, column, message, original value), streamed as CSV."""
    arrears_import = selectors.import_get_for_branch(branch=branch, import_id=import_id)
    rows = selectors.import_errors_rows(arrears_import=arrears_import)
    _audit_error_report(request, branch, arrears_import, "csv")
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in reports.csv_lines(rows)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{_report_filename(arrears_import, "csv")}"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET"])
@branch_page(allow_token=True)
def import_errors_xlsx(request: BranchHttpRequest, branch, import_id) -> FileResponse:
    """Every error of the import as an XLSX workbook, written in constant memory."""
    arrears_import = selectors.import_get_for_branch(branch=branch, import_id=import_id)
    handle = reports.xlsx_file(selectors.import_errors_rows(arrears_import=arrears_import))
    _audit_error_report(request, branch, arrears_import, "xlsx")
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=_report_filename(arrears_import, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Cache-Control"] = "no-store"
    return response


# --- regency participants ---------------------------------------------------------


@require_http_methods(["GET"])
@require_perm(Perm.VIEW_PARTICIPANTS)
def participant_list(request: RegencyHttpRequest, regency_slug: str) -> HttpResponse:
    """Search, filter, sort and page through the regency's participants."""
    regency = request.regency
    if request.GET.get("fragment") == "villages":
        form = ParticipantFilterForm(request.GET, regency=regency)
        return render(request, "participants/_village_field.html", {"form": form})
    may_reveal_nik = request.regency_access.can(Perm.REVEAL_NIK)

    def build() -> str:
        form = ParticipantFilterForm(request.GET, regency=regency)
        filters = form.filters()
        page = selectors.participant_page(regency=regency, cursor=request.GET.get(CURSOR_PARAM),
                                          page_number=_page_number(request), **filters)
        detail_url = link_maker("participant_detail", key="public_id", sample=str(uuid.UUID(int=0)),
                                regency_slug=regency.slug)
        rows = table_rows(((participant, detail_url(participant.public_id)) for participant in page.object_list),
                          PARTICIPANT_COLUMNS)
        return render_to_string("participants/_participant_list_body.html", {
            "regency": regency, "form": form, "page": page, "rows": rows, "filters": filters,
            "may_reveal_nik": may_reveal_nik,
        }, request=request)

    # The same address (filters, sort, cursor) on the same day shows every reader of the list the
    # same content, but for the export with full NIKs: rendered once per version of the data.
    body = kept(regency.pk, "participant_list_body",
                (sorted(request.GET.lists()), may_reveal_nik, regency_today(regency)), build)
    return render(request, "participants/participant_list.html", {
        "regency": regency,
        "status_inactive": request.GET.get("status") == "inactive",
        "body": mark_safe(body),  # noqa: S308 - the template's own output, kept as a str
    })


def _page_number(request: HttpRequest) -> int | None:
    """`?page=N` of a link from before the lists moved to cursors (read with OFFSET); None otherwise."""
    raw = request.GET.get("page") or ""
    return min(int(raw), 100_000) if raw.isdigit() and int(raw) > 1 else None


def _detail_context(request: RegencyHttpRequest, participant, *, nik_revealed: bool = False) -> dict:
    history = selectors.participant_history(participant=participant)
    return {
        "regency": request.regency,
        "p": participant,
        "family": selectors.participant_family(participant=participant),
        "history": history,
        "chart": selectors.history_chart(history),
        "bill": selectors.participant_bill(participant=participant),
        "can_reveal": request.regency_access.can(Perm.REVEAL_NIK),
        "nik_revealed": nik_revealed,
        "eligibility_label": dict(selectors.ELIGIBILITY_CHOICES).get(participant.eligibility, ""),
    }


@require_http_methods(["GET"])
@require_perm(Perm.VIEW_PARTICIPANTS)
def participant_detail(request: RegencyHttpRequest, regency_slug: str, public_id) -> HttpResponse:
    participant = selectors.participant_get(regency=request.regency, public_id=public_id)
    return render(request, "participants/participant_detail.html", _detail_context(request, participant))


@require_POST
@require_perm(Perm.REVEAL_NIK)
def participant_reveal_nik(request: RegencyHttpRequest, regency_slug: str, public_id) -> HttpResponse:
    """Show the full NIK once, and record who saw it (audit `participant.nik_revealed`)."""
    from participants.services import participant_nik_reveal

    participant = selectors.participant_get(regency=request.regency, public_id=public_id)
    participant_nik_reveal(participant=participant, actor=request.user)
    if request.htmx:
        response = render(
            request, "participants/_nik.html",
            {"p": participant, "regency": request.regency, "nik_revealed": True, "can_reveal": True},
        )
    else:
        response = render(
            request,
            "participants/participant_detail.html",
            _detail_context(request, participant, nik_revealed=True),
        )
    response["Cache-Control"] = "no-store"
    return response
