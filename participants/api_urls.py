from django.urls import path

from participants import api

urlpatterns = [
    path("imports/", api.ImportListCreateApi.as_view(), name="api_import_list"),
    path("imports/<int:import_id>/", api.ImportDetailApi.as_view(), name="api_import_detail"),
    path("imports/<int:import_id>/errors/", api.ImportErrorsApi.as_view(), name="api_import_errors"),
    path("imports/<int:import_id>/confirm/", api.ImportConfirmApi.as_view(), name="api_import_confirm"),
    path("imports/<int:import_id>/discard/", api.ImportDiscardApi.as_view(), name="api_import_discard"),
    path(
        "regencies/<slug:regency_slug>/participants/",
        api.ParticipantListApi.as_view(),
        name="api_participant_list",
    ),
]
