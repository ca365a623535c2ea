from django.urls import path

from reporting import views

urlpatterns = [
    path("", views.home, name="home"),
    path("r/<slug:regency_slug>/", views.regency_home, name="regency_home"),
    path("branches/<slug:branch_code>/", views.branch_dashboard, name="branch_dashboard"),
    path("national/", views.national_dashboard, name="national_dashboard"),
]
