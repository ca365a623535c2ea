"""Accounts API: obtaining and revoking a token. Thin: the work is in `accounts.tokens`."""

from __future__ import annotations

import hashlib

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from accounts.models import ApiToken
from accounts.tokens import ApiTokenAuthentication, api_token_obtain, token_revoke
from core.api import ClientIpThrottle

ERROR_SERIALIZER = inline_serializer(
    name="Error",
    fields={
        "detail": serializers.CharField(),
        "code": serializers.CharField(),
    },
)


class TokenIpThrottle(ClientIpThrottle):
    """Token requests per client address (password guessing over many accounts)."""

    scope = "auth_token"


class TokenEmailThrottle(SimpleRateThrottle):
    """Token requests per e-mail address, from any address (guessing one account's password
    from many machines). Counted before the password is checked, right or wrong."""

    scope = "auth_token_email"

    def get_cache_key(self, request, view):
        data = request.data
        email = data.get("email") if hasattr(data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None
        ident = hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenApi(APIView):
    """`POST`: exchange an e-mail address and password (and the MFA code) for a new API token,
    shown once. `DELETE` with `Authorization: Token <token>`: revoke that token."""

    throttle_classes = [TokenIpThrottle, TokenEmailThrottle]

    class InputSerializer(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False)
        code = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
        name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expires_at = serializers.DateTimeField()

    def get_authenticators(self):
        # POST takes no authentication: a browser session must not turn it into a CSRF-exposed
        # endpoint. DELETE revokes the token it is called with, so it needs exactly that token.
        if self.request is not None and self.request.method == "DELETE":
            return [ApiTokenAuthentication()]
        return []

    def get_permissions(self):
        return [AllowAny()]

    def get_throttles(self):
        return super().get_throttles() if self.request.method == "POST" else []

    @extend_schema(
        operation_id="auth_token_obtain",
        tags=["auth"],
        auth=[],
        request=InputSerializer,
        responses={200: OutputSerializer, 400: ERROR_SERIALIZER, 401: ERROR_SERIALIZER,
                   403: ERROR_SERIALIZER, 429: ERROR_SERIALIZER},
        examples=[
            OpenApiExample(
                "Masuk",
                value={"email": "bpjs.palopo@demo.test", "password": "demo-satu-untuk-satu",
                       "code": "123456", "name": "skrip impor"},
                request_only=True,
            ),
            OpenApiExample(
                "Token",
                value={"token": "q3J0x9mXc2b7t1Ve0cYpO8a1kKf3Zr9uWm5hT2sLxNd",
                       "expires_at": "2026-01-31T08:00:00Z"},
                response_only=True, status_codes=["200"],
            ),
            OpenApiExample(
                "Salah sandi atau e-mail",
                value={"detail": "E-mail atau kata sandi salah.", "code": "invalid_credentials"},
                response_only=True, status_codes=["400"],
            ),
            OpenApiExample(
                "Kode MFA diperlukan",
                value={"detail": "Akun ini memakai verifikasi dua langkah: kirim juga kode dari "
                                 "aplikasi autentikator (`code`).", "code": "mfa_required"},
                response_only=True, status_codes=["401"],
            ),
        ],
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, secret = api_token_obtain(request=request._request, **serializer.validated_data)
        body = self.OutputSerializer({"token": secret, "expires_at": token.expires_at}).data
        return Response(body, status=status.HTTP_200_OK)

    @extend_schema(
        operation_id="auth_token_revoke",
        tags=["auth"],
        request=None,
        responses={204: OpenApiResponse(description="Token dicabut."), 401: ERROR_SERIALIZER},
    )
    def delete(self, request):
        token = request.auth
        if not isinstance(token, ApiToken):
            from rest_framework.exceptions import NotAuthenticated

            raise NotAuthenticated()
        token_revoke(token=token, actor=request.user, reason="user")
        return Response(status=status.HTTP_204_NO_CONTENT)
