"""Pages that read across the domains: the landing page, the regency dashboard, the branch and
national dashboards. Thin: the selectors in `reporting.selectors` and `reporting.dashboard` read."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from core.db_router import replica_reads
from core.time import regency_today
from regencies.models import BpjsBranch, Regency
from regencies.permissions import RegencyHttpRequest, branch_get_for_user, require_perm
from regencies.roles import BranchRole, Perm, Role
from regencies.versions import kept
from reporting import dashboard, selectors


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The landing page; signed in, each role's work first (`selectors.home_work`)."""
    context: dict[str, object] = {}
    if request.user.is_authenticated:
        context["work"] = selectors.home_work(user=request.user)
    return render(request, "reporting/home.html", context)


@require_perm(Perm.VIEW_DASHBOARD)
@replica_reads()
def regency_home(request: RegencyHttpRequest, regency_slug: str) -> HttpResponse:
    """The regency dashboard: aggregates only (no personal data), a fixed number of queries."""
    regency = request.regency
    access = request.regency_access
    today = regency_today(regency)
    may_view_participants = access.can(Perm.VIEW_PARTICIPANTS)

    def build() -> str:
        return render_to_string("reporting/_board.html", {
            "regency": regency,
            "board": dashboard.regency_dashboard(regency=regency, today=today),
            "overview": selectors.regency_overview(regency=regency, people=False),
            "may_view_participants": may_view_participants,
        })

    # The figures, rendered once until the regency's data changes (the summaries are refreshed in
    # the transactions that write it; members and districts move the version too): the same for
    # every reader but for one link. The regency's own figures and the day are part of the key.
    board_html = kept(regency.pk, "regency_board_html",
                      (today, regency.population, regency.jkn_participants, regency.active_rate_target,
                       may_view_participants), build)
    branches = _upload_branches(request, regency)
    role_labels = [str(Role(role).label) for role in sorted(access.roles)]
    if access.is_branch_admin:
        role_labels.append(str(BranchRole.BPJS_ADMIN.label))
    return render(request, "reporting/regency_home.html", {
        "regency": regency,
        "access": access,
        "role_labels": role_labels,
        "timezone_abbr": selectors.TIMEZONE_ABBREVIATIONS.get(regency.timezone, regency.timezone),
        "board_html": mark_safe(board_html),  # noqa: S308 - the template's own output, kept as a str
        "upload_branches": branches,
    })


@replica_reads()
def branch_dashboard(request: HttpRequest, branch_code: str) -> HttpResponse:
    """Per regency of the branch: the BPJS admins of the branch (and the operator); others 404."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    branch = branch_get_for_user(user=request.user, code=branch_code)
    return render(request, "reporting/branch_dashboard.html", dashboard.branch_dashboard(branch=branch))


@replica_reads()
def national_dashboard(request: HttpRequest) -> HttpResponse:
    """All regencies: the national operator (staff and superuser) only; a 404 for everyone else."""
    user = request.user
    if not (user.is_authenticated and user.is_staff and user.is_superuser):
        raise Http404("national")
    return render(request, "reporting/national_dashboard.html", dashboard.national_dashboard())


def _upload_branches(request: RegencyHttpRequest, regency: Regency) -> list[BpjsBranch]:
    """The branches this user uploads arrears lists for that cover `regency` (one query)."""
    return list(
        BpjsBranch.objects.filter(
            memberships__user=request.user, memberships__is_active=True, regencies=regency
        ).distinct().order_by("name")
    )
