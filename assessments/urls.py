from django.urls import path

from assessments import export, views

_base = "r/<slug:regency_slug>/assessments/"

urlpatterns = [
    path(_base, views.assessment_queue, name="assessment_queue"),
    path(f"{_base}settings/", views.screening_settings, name="assessment_settings"),
    path(f"{_base}pbi/", views.pbi_list, name="assessment_pbi"),
    path(f"{_base}pbi/export/", views.pbi_export, name="assessment_pbi_export"),
    path(f"{_base}export/", export.assessment_export, name="assessment_export"),
    path(f"{_base}start/<uuid:public_id>/", views.assessment_start, name="assessment_start"),
    path(f"{_base}<int:assessment_id>/", views.assessment_detail, name="assessment_detail"),
    path(f"{_base}<int:assessment_id>/save/", views.assessment_save, name="assessment_save"),
    path(f"{_base}<int:assessment_id>/submit/", views.assessment_submit, name="assessment_submit"),
    path(f"{_base}<int:assessment_id>/decide/", views.assessment_decide, name="assessment_decide"),
    path(f"{_base}<int:assessment_id>/evidence/", views.evidence_upload, name="assessment_evidence_upload"),
    path(f"{_base}<int:assessment_id>/evidence/<int:evidence_id>/", views.evidence_download,
         name="assessment_evidence"),
    # The name base.html's navigation asks for.
    path(_base, views.assessment_queue, name="assessment_list"),
]
