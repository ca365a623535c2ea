from django.urls import path

from regencies.api import RegencyListApi

urlpatterns = [
    path("regencies/", RegencyListApi.as_view(), name="api_regency_list"),
]
