"""Bank statements API: upload to a regency, read one back. Thin."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from donations.models import Campaign
from donations.money.statements import selectors, services
from regencies.permissions import regency_access_get


class StatementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    lines = serializers.IntegerField()
    matched = serializers.IntegerField()
    unmatched = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    errors = serializers.ListField(child=inline_serializer("StatementRowError", {  # type: ignore[assignment]  # a declared field, not Serializer.errors
        "row": serializers.IntegerField(), "column": serializers.CharField(), "message": serializers.CharField()}))


class StatementUploadApi(APIView):
    """`POST regencies/{slug}/statements/`: a treasurer (or the regency admin) uploads a statement."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        campaign = serializers.SlugField()

    @extend_schema(
        operation_id="statements_create",
        summary="Upload a bank statement (mutasi rekening, CSV or XLSX) of a collected-route campaign",
        description="Stored and processed in the background: poll `GET statements/{id}/`.",
        request={"multipart/form-data": InputSerializer},
        responses={202: inline_serializer("StatementQueued", {"id": serializers.IntegerField(),
                                                              "status": serializers.CharField()}),
                   400: OpenApiResponse(description="Invalid field, or not a collected-route campaign."),
                   403: OpenApiResponse(description="Not a treasurer or regency admin."),
                   404: OpenApiResponse(description="Unknown regency, or not the user's.")},
        examples=[OpenApiExample("Queued", value={"id": 7, "status": "queued"}, response_only=True,
                                 status_codes=["202"])],
        tags=["money"],
    )
    def post(self, request, regency_slug: str):
        access = regency_access_get(user=request.user, slug=regency_slug)
        incoming = self.InputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        campaign = Campaign.objects.for_regency(access.regency).filter(slug=incoming.validated_data["campaign"]).first()
        if campaign is None:
            raise serializers.ValidationError({"campaign": [_("Kampanye tidak ditemukan di kabupaten/kota ini.")]})
        statement = services.statement_upload(regency=access.regency, campaign=campaign, actor=request.user,
                                              file=incoming.validated_data["file"])
        statement.refresh_from_db(fields=["status"])
        return Response({"id": statement.pk, "status": statement.status}, status=status.HTTP_202_ACCEPTED)


class StatementDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="statements_retrieve",
        summary="Status and counts of one bank statement, with its row errors",
        responses={200: StatementSerializer,
                   404: OpenApiResponse(description="Not a statement of a regency where the user manages money.")},
        tags=["money"],
    )
    def get(self, request, statement_id: int):
        statement = selectors.statement_get_for_user(user=request.user, statement_id=statement_id)
        return Response(selectors.statement_summary(statement))
