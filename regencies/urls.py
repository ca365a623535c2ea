from django.urls import path

from regencies import views

urlpatterns = [
    path("r/<slug:regency_slug>/settings/", views.regency_settings, name="regency_settings"),
    path("r/<slug:regency_slug>/members/", views.member_list, name="member_list"),
    path("r/<slug:regency_slug>/members/<int:membership_id>/mfa-reset/", views.member_mfa_reset,
         name="member_mfa_reset"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
