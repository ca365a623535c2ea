"""The hand-over and ledger API: thin views over donations.money.handovers.

Only the treasurer and the regency admin (`Perm.MANAGE_MONEY`) of the campaign's regency; anyone
outside that regency gets a 404, a member without the permission a 403."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import PermissionDenied
from core.exports import CONTENT_TYPES, XLSX, export_record
from donations import selectors
from donations.models import HandoverStatus
from donations.money import handovers
from donations.money.ledger import ledger_balance
from regencies.permissions import RegencyPermission, regency_access_for
from regencies.roles import Perm


class HandoverSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    campaign = serializers.CharField(source="campaign.slug")
    status = serializers.ChoiceField(choices=HandoverStatus.choices)
    families = serializers.IntegerField()
    total = serializers.IntegerField()
    reference = serializers.CharField()
    transferred_at = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()


class HandoverLineSerializer(serializers.Serializer):
    va_number = serializers.CharField()
    members = serializers.IntegerField()
    amount = serializers.IntegerField()


class HandoverDetailSerializer(HandoverSerializer):
    lines = HandoverLineSerializer(many=True)


CreatedSerializer = inline_serializer("HandoverCreated", {
    "id": serializers.IntegerField(), "number": serializers.CharField(),
    "families": serializers.IntegerField(), "total": serializers.IntegerField(),
})
LedgerSerializer = inline_serializer("CampaignLedger", {
    "received": serializers.IntegerField(), "handed_over": serializers.IntegerField(),
    "waiting": serializers.IntegerField(), "refunded": serializers.IntegerField(),
})


def _detail(handover) -> dict:
    data = dict(HandoverSerializer(handover).data)
    data["lines"] = HandoverLineSerializer(handovers.handover_lines(handover=handover), many=True).data
    return data


class RegencyHandoversApi(APIView):
    """Make a hand-over batch of a campaign: every family VA whose pledges are paid in full."""

    permission_classes = [IsAuthenticated, RegencyPermission]
    regency_perm = Perm.MANAGE_MONEY
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        campaign = serializers.SlugField()

    @extend_schema(request=InputSerializer, responses={201: CreatedSerializer}, tags=["money"])
    def post(self, request, regency_slug: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        regency = request.regency_access.regency
        campaign = selectors.campaign_get_for_regency(regency=regency, slug=data.validated_data["campaign"])
        handover = handovers.handover_create(regency=regency, campaign=campaign, actor=request.user)
        return Response({"id": handover.pk, "number": handover.number, "families": handover.families,
                         "total": handover.total}, status=status.HTTP_201_CREATED)


class HandoverApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=HandoverDetailSerializer, tags=["money"])
    def get(self, request, handover_id: int):
        return Response(_detail(handovers.handover_get_for_user(user=request.user, handover_id=handover_id)))


class HandoverExportApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, CONTENT_TYPES[XLSX]): OpenApiTypes.BINARY}, tags=["money"])
    def get(self, request, handover_id: int):
        handover = handovers.handover_get_for_user(user=request.user, handover_id=handover_id)
        return handover_download(handover, actor=request.user)


def handover_download(handover, *, actor) -> HttpResponse:
    """The batch's XLSX for the BPJS branch, audited as an export."""
    lines = handovers.handover_lines(handover=handover)
    data = handovers.handover_xlsx(handover=handover, lines=lines)
    export_record(kind="handover", actor=actor, rows=len(lines), fmt=XLSX, regency=handover.regency,
                  scope=handover.number, filters={"handover": handover.number})
    response = HttpResponse(data, content_type=CONTENT_TYPES[XLSX])
    response["Content-Disposition"] = f'attachment; filename="{handovers.handover_filename(handover)}.xlsx"'
    response["Cache-Control"] = "private, no-store"
    return response


class HandoverTransferredApi(APIView):
    """The treasurer transferred the batch to BPJS: its money is now handed over in the ledger."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        reference = serializers.CharField(max_length=64, allow_blank=True)
        transferred_at = serializers.DateField()

    @extend_schema(request=InputSerializer, responses=HandoverDetailSerializer, tags=["money"])
    def post(self, request, handover_id: int):
        handover = handovers.handover_get_for_user(user=request.user, handover_id=handover_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = handovers.handover_mark_transferred(
            handover=handover, actor=request.user, reference=data.validated_data["reference"],
            transferred_at=data.validated_data["transferred_at"])
        return Response(_detail(handovers.handover_get(regency=done.regency, handover_id=done.pk)))


class CampaignLedgerApi(APIView):
    """received = handed_over + waiting + refunded, for the campaign's treasurer and regency admin."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=LedgerSerializer, tags=["money"])
    def get(self, request, campaign_slug: str):
        campaign = selectors.campaign_get_by_slug(slug=campaign_slug)
        access = regency_access_for(user=request.user, regency=campaign.regency)
        if access is None:
            raise Http404("campaign")
        if not access.can(Perm.MANAGE_MONEY):
            raise PermissionDenied()
        return Response(ledger_balance(campaign=campaign).as_dict())
