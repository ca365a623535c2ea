from django.urls import path

from assessments import api

urlpatterns = [
    path("regencies/<slug:regency_slug>/assessments/", api.RegencyAssessmentsApi.as_view(),
         name="api_regency_assessments"),
    path("assessments/<int:assessment_id>/", api.AssessmentApi.as_view(), name="api_assessment"),
    path("assessments/<int:assessment_id>/submit/", api.AssessmentSubmitApi.as_view(),
         name="api_assessment_submit"),
    path("assessments/<int:assessment_id>/approve/", api.AssessmentApproveApi.as_view(),
         name="api_assessment_approve"),
    path("assessments/<int:assessment_id>/reject/", api.AssessmentRejectApi.as_view(),
         name="api_assessment_reject"),
    path("assessments/<int:assessment_id>/return/", api.AssessmentReturnApi.as_view(),
         name="api_assessment_return"),
    path("assessments/<int:assessment_id>/evidence/", api.AssessmentEvidenceApi.as_view(),
         name="api_assessment_evidence"),
]
