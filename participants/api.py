"""API of imports (BPJS branches) and participants (regencies). Thin: selectors read, services write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination
from core.errors import DomainError
from core.formatting import format_date
from core.pagination import KeysetApiPagination, KeysetOrder
from core.time import regency_today
from participants import selectors
from participants.imports.messages import localise
from participants.models import ArrearsImport, Participant
from participants.serializers import (
    ImportCreatedSerializer,
    ImportCreateInputSerializer,
    ImportDetailSerializer,
    ImportErrorSerializer,
    ImportListItemSerializer,
    ParticipantFilterSerializer,
    ParticipantSerializer,
)
from regencies.permissions import Perm, RegencyPermission, RegencyRequest, branch_get_for_user
from regencies.versions import kept

ERROR_EXAMPLE = OpenApiExample(
    "Validation error",
    value={"detail": "as_of: Tanggal data tidak boleh di masa depan.", "code": "invalid",
           "errors": {"as_of": ["Tanggal data tidak boleh di masa depan."]}},
    response_only=True,
    status_codes=["400"],
)


class ImportListCreateApi(APIView):
    """`GET imports/`: the imports of the user's branches, newest first. `POST imports/`: upload a list."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]
    pagination_class = KeysetApiPagination  # GET pages with it; tells the schema the list is paginated
    keyset_order = selectors.IMPORT_ORDER

    @extend_schema(
        operation_id="imports_list",
        summary="Imports of the branches the user acts for, newest first",
        responses={200: ImportListItemSerializer(many=True)},
        tags=["imports"],
    )
    def get(self, request: Request) -> Response:
        paginator = KeysetApiPagination()
        page = paginator.paginate_queryset(selectors.import_list_for_user(user=request.user), request, view=self)
        data = ImportListItemSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="imports_create",
        summary="Upload a branch's arrears list (CSV or XLSX)",
        description=(
            "Multipart upload. The file is stored and processed in the background: poll "
            "`GET imports/{id}/`. `mode` defaults to `partial`. A `full` list that would clear more "
            "than the branch's threshold of its participants (default 10 %) or release an active "
            "pledge stops at `awaiting_confirmation` with a `preview`: apply it with "
            "`POST imports/{id}/confirm/` or drop it with `POST imports/{id}/discard/`. The same "
            "bytes uploaded again for the branch are not applied twice: the answer is 200 with "
            "`duplicate: true` and the first import's id (a failed, rejected or discarded import "
            "never blocks a new upload). A branch the user is not BPJS admin of is a 404."
        ),
        request={"multipart/form-data": ImportCreateInputSerializer},
        responses={
            202: ImportCreatedSerializer,
            200: ImportCreatedSerializer,
            400: OpenApiResponse(description="Invalid field; `errors` names it."),
            404: OpenApiResponse(description="Unknown branch, or not the user's."),
        },
        examples=[
            OpenApiExample("Queued", value={"id": 42, "status": "queued"}, response_only=True,
                           status_codes=["202"]),
            OpenApiExample("Duplicate", value={"id": 17, "status": "applied", "duplicate": True},
                           response_only=True, status_codes=["200"]),
            ERROR_EXAMPLE,
        ],
        tags=["imports"],
    )
    def post(self, request):
        incoming = ImportCreateInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        branch = branch_get_for_user(user=request.user, code=data["branch"])
        today = regency_today(branch)
        if data["as_of"] > today:
            raise serializers.ValidationError(
                {"as_of": [_("Tanggal data tidak boleh di masa depan (hari ini %(today)s).")
                           % {"today": format_date(today)}]}
            )
        from participants import services

        uploaded = data["file"]
        try:
            arrears_import, duplicate = services.import_create(
                branch=branch,
                actor=request.user,
                uploaded_file=uploaded,
                as_of=data["as_of"],
                mode=data["mode"],
                original_name=uploaded.name,
                ask_first=True,
            )
        except DomainError as exc:
            raise serializers.ValidationError({"file": [str(exc.detail)]}) from exc
        if duplicate:
            return Response(
                {"id": arrears_import.pk, "status": arrears_import.status, "duplicate": True},
                status=status.HTTP_200_OK,
            )
        return Response({"id": arrears_import.pk, "status": arrears_import.status},
                        status=status.HTTP_202_ACCEPTED)


class ImportDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="imports_retrieve",
        summary="Status, progress and summary of one import",
        responses={200: ImportDetailSerializer, 404: OpenApiResponse(description="Not an import of the user's branches.")},
        examples=[
            OpenApiExample(
                "Applied with errors",
                value={
                    "id": 42, "status": "applied", "progress": 100,
                    "summary": {"rows": 200000, "valid": 199990, "invalid": 10, "new": 1500,
                                "updated": 20000, "unchanged": 178490, "cleared": 310,
                                "regencies": {"73.22": 80000, "73.17": 119990},
                                "is_outdated": False, "message": ""},
                    "errors_url": "https://satu.example/branches/palopo/imports/42/errors.csv",
                    "errors_api_url": "https://satu.example/api/v1/imports/42/errors/",
                },
                response_only=True,
            ),
        ],
        tags=["imports"],
    )
    def get(self, request, import_id: int):
        arrears_import = selectors.import_get_for_user(user=request.user, import_id=import_id)
        return Response(ImportDetailSerializer(arrears_import, context={"request": request}).data)


# The stored report's own order (the index on (arrears_import, row)), for keyset pages.
IMPORT_ERROR_ORDER = KeysetOrder("import_errors", ("row", "id"))


class ImportErrorsApi(APIView):
    """The full error report as paginated JSON (for token clients): keyset pages in row order."""

    permission_classes = [IsAuthenticated]
    pagination_class = KeysetApiPagination  # keyset pages; also tells the schema the list is paginated
    keyset_order = IMPORT_ERROR_ORDER

    @extend_schema(
        operation_id="imports_errors_list",
        summary="Every error of one import (row, column, message, original value)",
        description=("Pages follow `next` / `previous` (an opaque `cursor`); `count` is exact up to 1,000 "
                     "(`count_exact`), beyond that it says only that more than 1,000 errors exist."),
        responses={200: ImportErrorSerializer(many=True)},
        examples=[
            OpenApiExample(
                "Errors",
                value={"count": 1, "count_exact": True, "next": None, "previous": None,
                       "results": [{"row": 7, "column": "nik", "message": "NIK harus 16 digit.",
                                    "value": "7.32207E+15"}]},
                response_only=True,
            ),
        ],
        tags=["imports"],
    )
    def get(self, request: Request, import_id: int) -> Response:
        arrears_import = selectors.import_get_for_user(user=request.user, import_id=import_id)
        qs = selectors.import_errors_queryset(arrears_import=arrears_import)
        if qs.exists():
            paginator = KeysetApiPagination()
            page = paginator.paginate_queryset(qs.values("id", "row", "column", "message", "value"), request,
                                               view=self)
            # Stored in Indonesian by the worker; read in the request's language (the column stays
            # the machine name), as on the report page and in the error CSV.
            for item in page or []:
                item["message"] = localise(item["message"])
            return paginator.get_paginated_response(ImportErrorSerializer(page, many=True).data)
        # An import whose errors live only in its report file or summary: a short list in memory,
        # paged by number in the same shape.
        items = [{"row": row, "column": column, "message": message, "value": value}
                 for row, column, message, value in selectors.import_errors_rows(arrears_import=arrears_import)]
        numbered = Pagination()
        # DRF pages any sequence (Django's Paginator); the stubs accept only a QuerySet.
        rows: list[Any] | None = numbered.paginate_queryset(items, request, view=self)  # type: ignore[arg-type]
        body = numbered.get_paginated_response(ImportErrorSerializer(rows, many=True).data).data
        return Response({"count": body["count"], "count_exact": True, "next": body["next"],
                         "previous": body["previous"], "results": body["results"]})


class ParticipantListApi(generics.ListAPIView):
    """Participants of one regency, for its members and the BPJS admins of its branches."""

    permission_classes = [IsAuthenticated, RegencyPermission]
    regency_perm = Perm.VIEW_PARTICIPANTS
    serializer_class = ParticipantSerializer
    pagination_class = KeysetApiPagination

    def get_keyset_order(self) -> KeysetOrder:
        """Most months in arrears first (then the largest amount), as on the page."""
        return selectors.sort_keys(selectors.DEFAULT_SORT)

    def _filters(self) -> dict[str, Any]:
        """The query's filters, or a 400 naming the wrong one."""
        params = ParticipantFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return dict(params.validated_data)

    def get_queryset(self) -> QuerySet[Participant]:
        data = self._filters()
        return selectors.participant_list(
            regency=cast(RegencyRequest, self.request).regency_access.regency,
            q=data.get("search") or "",
            status=data.get("status") or "",
            eligibility=data.get("eligibility") or "",
        )

    @extend_schema(
        operation_id="regencies_participants_list",
        summary="Participants of a regency",
        description=(
            "`search` matches a whole card number (13 digits; fewer digits are padded with leading "
            "zeros) or NIK (16 digits) exactly, otherwise every word must occur in the name. "
            "Pages follow `next` / `previous` (an opaque `cursor`); `count` is exact up to 1,000 "
            "(`count_exact`), beyond that it says only that more than 1,000 match. "
            "Anyone who is not a member of the regency or a BPJS admin of one of its branches gets a 404."
        ),
        parameters=[
            OpenApiParameter("search", OpenApiTypes.STR, description="Card number, NIK or name words."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=["active", "inactive", "cleared"]),
            OpenApiParameter("eligibility", OpenApiTypes.STR,
                             enum=[value for value, _label in selectors.ELIGIBILITY_CHOICES]),
        ],
        examples=[
            OpenApiExample(
                "One participant",
                value={"count": 1, "count_exact": True, "next": None, "previous": None, "results": [{
                    "public_id": "6f1c8a52-3c1e-4d55-9a55-0b3f0f1f2a11", "card_number": "0001234567890",
                    "nik_masked": "732201********01", "name": "ANDI SULAIMAN", "birth_date": "1985-03-14",
                    "sex": "L", "care_class": 3, "segment": "PBPU", "district": "Masamba",
                    "village": "Baloli", "family_card_number": "7322011203080001",
                    "months_in_arrears": 14, "arrears_amount": 490000, "last_paid_date": "2025-08-05",
                    "status": "inactive", "eligibility": "unassessed",
                }]},
                response_only=True,
            ),
            ERROR_EXAMPLE,
        ],
        tags=["participants"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The page as DRF writes it, kept until the regency's data changes: the same address
        (filters, cursor, page size, host) on the same day answers the same for every reader."""
        regency = cast(RegencyRequest, request).regency_access.regency
        self._filters()

        def build() -> dict[str, Any]:
            data = dict(super(ParticipantListApi, self).list(request, *args, **kwargs).data)
            data["results"] = [dict(row) for row in data["results"]]
            return data

        return Response(kept(regency.pk, "api_participant_list",
                             (request.build_absolute_uri(), regency_today(regency)), build))


CONFLICT_EXAMPLE = OpenApiExample(
    "Not awaiting confirmation",
    value={"detail": "Impor ini tidak sedang menunggu konfirmasi (status: Diterapkan).",
           "code": "not_awaiting_confirmation"},
    response_only=True,
    status_codes=["409"],
)


F = TypeVar("F", bound=Callable[..., Any])


def _awaiting_confirmation_schema(*, operation_id: str, summary: str, answer: int, example: str,
                                  status_value: str) -> Callable[[F], F]:
    """The schema of a decision on a full list that waits at `awaiting_confirmation`."""
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        request=None,
        responses={
            answer: ImportCreatedSerializer,
            404: OpenApiResponse(description="Not an import of the user's branches."),
            409: OpenApiResponse(description="The import is not awaiting confirmation."),
        },
        examples=[
            OpenApiExample(example, value={"id": 42, "status": status_value}, response_only=True,
                           status_codes=[str(answer)]),
            CONFLICT_EXAMPLE,
        ],
        tags=["imports"],
    )


def _decided(request: Request, import_id: int, decide: Callable[..., ArrearsImport], answer: int) -> Response:
    """Apply `decide` (a service) to one of the user's imports; the import's id and new status."""
    arrears_import = selectors.import_get_for_user(user=request.user, import_id=import_id)
    arrears_import = decide(arrears_import=arrears_import, actor=request.user)
    return Response({"id": arrears_import.pk, "status": arrears_import.status}, status=answer)


class ImportConfirmApi(APIView):
    """`POST imports/{id}/confirm/`: apply a full list that waits at `awaiting_confirmation`."""

    permission_classes = [IsAuthenticated]

    @_awaiting_confirmation_schema(operation_id="imports_confirm",
                                   summary="Apply a full list that waited for confirmation",
                                   answer=status.HTTP_202_ACCEPTED, example="Queued", status_value="queued")
    def post(self, request, import_id: int):
        from participants import services

        return _decided(request, import_id, services.import_confirm, status.HTTP_202_ACCEPTED)


class ImportDiscardApi(APIView):
    """`POST imports/{id}/discard/`: drop a list that waits at `awaiting_confirmation`."""

    permission_classes = [IsAuthenticated]

    @_awaiting_confirmation_schema(operation_id="imports_discard",
                                   summary="Discard a full list that waited for confirmation (nothing is applied)",
                                   answer=status.HTTP_200_OK, example="Discarded", status_value="discarded")
    def post(self, request, import_id: int):
        from participants import services

        return _decided(request, import_id, services.import_discard_unconfirmed, status.HTTP_200_OK)
