"""Who may see and do what in a regency: the one place pages and the API ask.

An object of another regency, or a regency one does not belong to, is a 404:
the answer never confirms that it exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, wraps

from django.http import Http404, HttpRequest
from django_htmx.middleware import HtmxDetails
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.models import User
from regencies.models import BpjsBranch, BranchMembership, Membership, Regency
from regencies.roles import ROLE_PERMISSIONS, BranchRole, Perm, Role


@dataclass(frozen=True)
class RegencyAccess:
    """What one user may do in one regency."""

    regency: Regency
    roles: frozenset[str] = field(default_factory=frozenset)
    is_branch_admin: bool = False
    is_operator: bool = False

    @cached_property
    def perms(self) -> frozenset[Perm]:
        granted: set[Perm] = set()
        for role in self.roles:
            granted |= ROLE_PERMISSIONS.get(role, frozenset())
        if self.is_branch_admin:
            granted |= {Perm.VIEW_PARTICIPANTS, Perm.VIEW_DASHBOARD}
        if self.is_operator:
            granted |= {Perm.VIEW_PARTICIPANTS, Perm.VIEW_DASHBOARD}
        return frozenset(granted)

    def can(self, perm: Perm) -> bool:
        return perm in self.perms

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class RegencyHttpRequest(HttpRequest):
    """What a page behind `require_perm` receives (an annotation only: Django builds the object).

    The regency middleware set `regency` and `regency_access`; having an access means signed in.
    django-htmx's middleware sets `htmx` on every request.
    """

    user: User
    regency: Regency
    regency_access: RegencyAccess
    htmx: HtmxDetails


class BranchHttpRequest(HttpRequest):
    """What a BPJS branch page receives (`participants.views.branch_page`; an annotation only)."""

    user: User
    branch: BpjsBranch
    htmx: HtmxDetails


class RegencyRequest(Request):
    """What a DRF view behind `RegencyPermission` receives (an annotation only)."""

    user: User
    regency_access: RegencyAccess


def regency_access_for(*, user, regency: Regency) -> RegencyAccess | None:
    """The user's access to `regency`, or None when they have none."""
    if not user.is_authenticated:
        return None
    roles = frozenset(
        Membership.objects.for_regency(regency)
        .filter(user=user, is_active=True)
        .values_list("role", flat=True)
    )
    is_branch_admin = BranchMembership.objects.filter(
        user=user, is_active=True, role=BranchRole.BPJS_ADMIN, branch__regencies=regency
    ).exists()
    is_operator = bool(user.is_staff and user.is_superuser)
    if not roles and not is_branch_admin and not is_operator:
        return None
    return RegencyAccess(regency=regency, roles=roles, is_branch_admin=is_branch_admin, is_operator=is_operator)


def regency_access_get(*, user, slug: str) -> RegencyAccess:
    """Resolve `/r/<slug>/` for this user, or 404 (unknown slug and no access look the same)."""
    regency = Regency.objects.filter(slug=slug).first()
    access = regency_access_for(user=user, regency=regency) if regency else None
    if access is None:
        raise Http404("regency")
    return access


def user_regencies(user) -> list[Regency]:
    """Regencies the user may open, through a role or a branch."""
    if not user.is_authenticated:
        return []
    if user.is_staff and user.is_superuser:
        return list(Regency.objects.order_by("name"))
    return list(
        Regency.objects.filter(
            pk__in=Membership.all_regencies.filter(user=user, is_active=True).values("regency_id")
        ).union(
            Regency.objects.filter(
                branches__memberships__user=user, branches__memberships__is_active=True
            )
        ).order_by("name")
    )


def user_branches(user) -> list[BpjsBranch]:
    if not user.is_authenticated:
        return []
    return list(
        BpjsBranch.objects.filter(memberships__user=user, memberships__is_active=True).distinct().order_by("name")
    )


def branch_get_for_user(*, user, code: str) -> BpjsBranch:
    """A branch the user acts for (BPJS admin), or the operator; else 404."""
    branch = BpjsBranch.objects.filter(code=code).first()
    if branch is None or not user.is_authenticated:
        raise Http404("branch")
    if user.is_staff and user.is_superuser:
        return branch
    if not BranchMembership.objects.filter(
        branch=branch, user=user, is_active=True, role=BranchRole.BPJS_ADMIN
    ).exists():
        raise Http404("branch")
    return branch


def require_perm(perm: Perm):
    """Page decorator: the view needs `request.regency_access` (set by the middleware) granting `perm`.

    Lacking the permission inside a regency one belongs to is a 403 (the regency's
    existence is already known to a member); not belonging at all was a 404 earlier.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            access: RegencyAccess | None = getattr(request, "regency_access", None)
            if access is None:
                raise Http404("regency")
            if not access.can(perm):
                from django.core.exceptions import PermissionDenied

                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class RegencyPermission(BasePermission):
    """DRF: resolve the `regency_slug` URL kwarg for the authenticated user; 404 outside it.

    Views set `regency_perm`; `request.regency_access` is then available to them.
    """

    def has_permission(self, request, view) -> bool:
        slug = view.kwargs.get("regency_slug")
        if slug is None:
            return True
        access = regency_access_get(user=request.user, slug=slug)
        request.regency_access = access
        needed = getattr(view, "regency_perm", None)
        return needed is None or access.can(needed)


__all__ = [
    "BranchHttpRequest",
    "Perm",
    "RegencyAccess",
    "RegencyHttpRequest",
    "RegencyPermission",
    "RegencyRequest",
    "Role",
    "branch_get_for_user",
    "regency_access_for",
    "regency_access_get",
    "require_perm",
    "user_branches",
    "user_regencies",
]
