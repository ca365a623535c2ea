from django.urls import path

from donations import views
from donations.money import handover_views
from donations.money.receipt_views import payment_kuitansi, receipt_register_export
from donations.money.statements import views as statement_views
from donations.privacy import views as privacy_views
from donations.reconciliation import views as reconciliation_views

_admin = "r/<slug:regency_slug>/campaigns/"
_recon = "r/<slug:regency_slug>/reconciliation/"
_handovers = "r/<slug:regency_slug>/money/handovers/"
_privacy = "r/<slug:regency_slug>/participants/<uuid:public_id>/privacy/"

urlpatterns = [
    path("c/<slug:campaign_slug>/", views.campaign_public, name="campaign_public"),
    path("c/<slug:campaign_slug>/participants/", views.campaign_participants, name="campaign_participants"),
    path("c/<slug:campaign_slug>/reserve/", views.campaign_reserve, name="campaign_reserve"),
    path("c/<slug:campaign_slug>/give/", views.campaign_give, name="campaign_give"),
    path("me/", views.donor_home, name="donor_home"),
    path("me/profile/", views.donor_profile, name="donor_profile"),
    path("me/pledges/<uuid:pledge_id>/", views.pledge_detail, name="pledge_detail"),
    path("me/pledges/<uuid:pledge_id>/confirm/", views.pledge_confirm, name="pledge_confirm"),
    path("me/pledges/<uuid:pledge_id>/cancel/", views.pledge_cancel, name="pledge_cancel"),
    path("me/pledges/<uuid:pledge_id>/payments/", views.pledge_pay, name="pledge_pay"),
    path("me/pledges/<uuid:pledge_id>/certificate.pdf", views.pledge_certificate, name="pledge_certificate"),
    path("me/pledges/<uuid:pledge_id>/payments/<int:payment_id>/receipt/", views.payment_receipt,
         name="payment_receipt"),
    path("me/pledges/<uuid:pledge_id>/payments/<int:payment_id>/kuitansi.pdf", payment_kuitansi,
         name="payment_kuitansi"),
    path("r/<slug:regency_slug>/money/receipts.xlsx", receipt_register_export,
         name="receipt_register"),
    path(_admin, views.campaign_list, name="campaign_list"),
    path(f"{_admin}new/", views.campaign_create, name="campaign_create"),
    path(f"{_admin}<slug:campaign_slug>/", views.campaign_admin, name="campaign_admin"),
    path(f"{_admin}<slug:campaign_slug>/edit/", views.campaign_edit, name="campaign_edit"),
    path(f"{_admin}<slug:campaign_slug>/export.xlsx", views.campaign_export, name="campaign_export"),
    path(f"{_admin}<slug:campaign_slug>/allocate/", views.campaign_allocate, name="campaign_allocate"),
    path(f"{_admin}<slug:campaign_slug>/gifts/", views.campaign_gifts, name="campaign_gifts"),
    path(_recon, reconciliation_views.reconciliation, name="reconciliation"),
    path(f"{_recon}run/", reconciliation_views.reconciliation_run, name="reconciliation_run"),
    path(f"{_recon}settings/", reconciliation_views.reconciliation_settings, name="reconciliation_settings"),
    path(f"{_recon}export.xlsx", reconciliation_views.reconciliation_export, name="reconciliation_export"),
    path(f"{_recon}anomalies/<int:anomaly_id>/resolve/", reconciliation_views.anomaly_resolve,
         name="anomaly_resolve"),
    path(f"{_recon}anomalies/<int:anomaly_id>/contact/", reconciliation_views.anomaly_contact,
         name="anomaly_contact"),
    path("r/<slug:regency_slug>/money/", handover_views.money_home, name="money_home"),
    path(f"{_handovers}new/", handover_views.handover_create, name="handover_create"),
    path(f"{_handovers}<int:handover_id>/", handover_views.handover_detail, name="handover_detail"),
    path(f"{_handovers}<int:handover_id>/export.xlsx", handover_views.handover_export, name="handover_export"),
    path(f"{_handovers}<int:handover_id>/transferred/", handover_views.handover_transferred,
         name="handover_transferred"),
    path("r/<slug:regency_slug>/money/campaigns/<slug:campaign_slug>/", handover_views.money_ledger,
         name="money_ledger"),
    path("r/<slug:regency_slug>/money/campaigns/<slug:campaign_slug>/refund/", handover_views.money_refund,
         name="money_refund"),
    path("r/<slug:regency_slug>/money/statements/", statement_views.statement_list, name="statement_list"),
    path("r/<slug:regency_slug>/money/statements/<int:statement_id>/", statement_views.statement_detail,
         name="statement_detail"),
    # UU 27/2022 rights (donations.privacy): under the participant's URL, served here because the
    # data spans participants, assessments and donations (participants may not import the others).
    path(f"{_privacy}", privacy_views.participant_privacy, name="participant_privacy"),
    path(f"{_privacy}export.json", privacy_views.participant_privacy_export, name="participant_privacy_export"),
    path(f"{_privacy}corrections/", privacy_views.participant_correction_create,
         name="participant_correction_create"),
    path(f"{_privacy}corrections/<int:correction_id>/resolve/", privacy_views.participant_correction_resolve,
         name="participant_correction_resolve"),
    path(f"{_privacy}anonymise/", privacy_views.participant_anonymise, name="participant_anonymise"),
    path("me/data.json", privacy_views.donor_data_download, name="donor_data_download"),
    path("me/delete/", privacy_views.donor_account_delete, name="donor_account_delete"),
]
