"""Payment provider notifications: thin; the provider
module verifies, `donations.money.notifications` records."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from donations.money.notifications import notification_record
from donations.money.providers import BadNotification, BadSignature, provider_get, provider_secret

logger = logging.getLogger(__name__)

ERROR_SERIALIZER = inline_serializer(name="ProviderNotificationError", fields={
    "detail": serializers.CharField(),
    "code": serializers.CharField(),
})


class ProviderNotificationApi(APIView):
    """A payment provider's HTTP notification. Unauthenticated: the provider's signature is the
    proof (a bad one is 401 and nothing is recorded). 200 for every verified notification, also
    for an unknown order or a replay, so that the provider stops retrying."""

    # No authentication classes: a browser session must not make this a CSRF-exposed endpoint.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]
    provider = "midtrans"  # set per route: as_view(provider=...)

    class InputSerializer(serializers.Serializer):
        """Midtrans's fields that matter here; the whole body is kept as sent."""

        order_id = serializers.CharField(help_text="The pledge's payment code.")
        status_code = serializers.CharField()
        gross_amount = serializers.CharField(help_text='Integer rupiah as text, e.g. "245000.00".')
        signature_key = serializers.CharField(
            help_text="SHA-512 hex of order_id + status_code + gross_amount + server key.")
        transaction_id = serializers.CharField()
        transaction_status = serializers.CharField(help_text="settlement, capture, pending, expire, cancel, deny, ...")
        fraud_status = serializers.CharField(required=False, help_text="accept or challenge (for capture).")
        transaction_time = serializers.CharField(required=False, help_text="YYYY-MM-DD HH:MM:SS (WIB).")

    class OutputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(choices=["paid", "ignored", "unmatched", "closed_pledge", "duplicate"])
        replay = serializers.BooleanField()

    @extend_schema(
        operation_id="payments_midtrans_notification",
        tags=["payments"],
        auth=[],
        request=InputSerializer,
        responses={200: OutputSerializer, 400: ERROR_SERIALIZER, 401: ERROR_SERIALIZER},
    )
    def post(self, request):
        module = provider_get(self.provider)
        try:
            body = request.body  # as sent: the signature covers fields exactly as the provider wrote them
        except RequestDataTooBig as exc:
            raise BadNotification(_("Isi notifikasi terlalu besar."), code="too_large") from exc
        try:
            notification = module.parse_and_verify(body, provider_secret(module))
        except BadSignature:
            logger.warning("%s notification refused: bad signature (or no server key configured)", self.provider)
            raise
        recorded = notification_record(notification=notification)
        return Response(self.OutputSerializer({"outcome": recorded.outcome, "replay": recorded.replay}).data,
                        status=status.HTTP_200_OK)
