"""Accounts API: obtaining a token. Thin: the work is in `accounts.tokens`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.tokens import api_token_obtain

ERROR_SERIALIZER = inline_serializer(
    name="Error",
    fields={
        "detail": serializers.CharField(),
        "code": serializers.CharField(),
    },
)


class TokenObtainApi(APIView):
    """Exchange an e-mail address and password for an API token (`Authorization: Token <token>`)."""

    # No authentication here: a browser session must not turn this into a CSRF-exposed endpoint.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_token"

    class InputSerializer(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(
        operation_id="auth_token_obtain",
        tags=["auth"],
        auth=[],
        request=InputSerializer,
        responses={200: OutputSerializer, 400: ERROR_SERIALIZER, 403: ERROR_SERIALIZER,
                   429: ERROR_SERIALIZER},
        examples=[
            OpenApiExample(
                "Masuk",
                value={"email": "bpjs.palopo@demo.test", "password": "demo-satu-untuk-satu"},
                request_only=True,
            ),
            OpenApiExample(
                "Token", value={"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"},
                response_only=True, status_codes=["200"],
            ),
            OpenApiExample(
                "Salah sandi atau e-mail",
                value={"detail": "E-mail atau kata sandi salah.", "code": "invalid_credentials"},
                response_only=True, status_codes=["400"],
            ),
        ],
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = api_token_obtain(**serializer.validated_data)
        return Response(self.OutputSerializer({"token": token.key}).data, status=status.HTTP_200_OK)
