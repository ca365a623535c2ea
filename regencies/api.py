"""Regencies API: the tenants the user may open. Thin: reads come from `regencies.permissions`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from accounts.api import ERROR_SERIALIZER
from core.api import Pagination
from regencies.models import TIMEZONE_CHOICES, BranchMembership, Membership, Regency
from regencies.permissions import user_regencies
from regencies.roles import BranchRole, Role

OPERATOR_ROLE = "operator"
ROLE_CHOICES = [*Role.values, *BranchRole.values, OPERATOR_ROLE]


def regency_roles_for_user(*, user, regencies: list[Regency]) -> dict[int, list[str]]:
    """Each regency's roles of `user`: its memberships, `bpjs_admin` through a branch,
    `operator` for the national operator. Two queries, whatever the number of regencies."""
    ids = [r.pk for r in regencies]
    roles: dict[int, set[str]] = {pk: set() for pk in ids}
    for regency_id, role in Membership.all_regencies.filter(
        user=user, is_active=True, regency_id__in=ids
    ).values_list("regency_id", "role"):
        roles[regency_id].add(role)
    for regency_id in BranchMembership.objects.filter(
        user=user, is_active=True, role=BranchRole.BPJS_ADMIN, branch__regencies__in=ids
    ).values_list("branch__regencies", flat=True):
        roles[regency_id].add(BranchRole.BPJS_ADMIN)
    if user.is_staff and user.is_superuser:
        for pk in ids:
            roles[pk].add(OPERATOR_ROLE)
    return {pk: sorted(values) for pk, values in roles.items()}


class RegencyListApi(APIView):
    """The regencies the user may open, with the user's roles in each."""

    pagination_class = Pagination

    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField(help_text="Kode Kemendagri, mis. 73.22")
        name = serializers.CharField()
        slug = serializers.SlugField()
        kind = serializers.ChoiceField(choices=Regency.Kind.choices)
        timezone = serializers.ChoiceField(choices=TIMEZONE_CHOICES)
        roles = serializers.ListField(child=serializers.ChoiceField(choices=ROLE_CHOICES))

    @extend_schema(
        operation_id="regencies_list",
        tags=["regencies"],
        responses={200: OutputSerializer(many=True), 401: ERROR_SERIALIZER},
        examples=[
            OpenApiExample(
                "Admin Pemda Luwu Utara",
                # One item: drf-spectacular wraps it in the paginated envelope.
                value={
                    "code": "73.22", "name": "Luwu Utara", "slug": "luwu-utara",
                    "kind": "kabupaten", "timezone": "Asia/Makassar", "roles": ["regency_admin"],
                },
                response_only=True, status_codes=["200"],
            ),
        ],
    )
    def get(self, request):
        regencies = user_regencies(request.user)
        paginator = self.pagination_class()
        # DRF pages any sequence (Django's Paginator); the stubs accept only a QuerySet.
        page: list[Regency] = paginator.paginate_queryset(regencies, request, view=self) or []  # type: ignore[arg-type]
        roles = regency_roles_for_user(user=request.user, regencies=page)
        rows = [
            {"code": r.code, "name": r.name, "slug": r.slug, "kind": r.kind,
             "timezone": r.timezone, "roles": roles[r.pk]}
            for r in page
        ]
        return paginator.get_paginated_response(self.OutputSerializer(rows, many=True).data)
