from django.urls import path

from accounts.api import TokenObtainApi

urlpatterns = [
    path("auth/token/", TokenObtainApi.as_view(), name="api_auth_token"),
]
