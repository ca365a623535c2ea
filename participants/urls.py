from django.urls import path

from participants import export, views

urlpatterns = [
    path("branches/<slug:branch_code>/imports/", views.import_list, name="import_list"),
    path("branches/<slug:branch_code>/imports/<int:import_id>/", views.import_detail, name="import_detail"),
    path(
        "branches/<slug:branch_code>/imports/<int:import_id>/confirm/",
        views.import_confirm,
        name="import_confirm",
    ),
    path(
        "branches/<slug:branch_code>/imports/<int:import_id>/discard/",
        views.import_discard,
        name="import_discard",
    ),
    path(
        "branches/<slug:branch_code>/imports/<int:import_id>/progress/",
        views.import_progress,
        name="import_progress",
    ),
    path(
        "branches/<slug:branch_code>/imports/<int:import_id>/errors.csv",
        views.import_errors_csv,
        name="import_errors_csv",
    ),
    path(
        "branches/<slug:branch_code>/imports/<int:import_id>/errors.xlsx",
        views.import_errors_xlsx,
        name="import_errors_xlsx",
    ),
    path("r/<slug:regency_slug>/participants/", views.participant_list, name="participant_list"),
    path("r/<slug:regency_slug>/participants/export/", export.participant_export, name="participant_export"),
    path(
        "r/<slug:regency_slug>/participants/<uuid:public_id>/",
        views.participant_detail,
        name="participant_detail",
    ),
    path(
        "r/<slug:regency_slug>/participants/<uuid:public_id>/reveal-nik/",
        views.participant_reveal_nik,
        name="participant_reveal_nik",
    ),
]
