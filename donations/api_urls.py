from django.urls import path

from donations import api
from donations.money import handover_api
from donations.money.provider_api import ProviderNotificationApi
from donations.money.statements import api as statement_api

urlpatterns = [
    path("campaigns/", api.CampaignListApi.as_view(), name="api_campaigns"),
    path("campaigns/<slug:campaign_slug>/", api.CampaignDetailApi.as_view(), name="api_campaign"),
    path("campaigns/<slug:campaign_slug>/participants/", api.CampaignParticipantsApi.as_view(),
         name="api_campaign_participants"),
    path("campaigns/<slug:campaign_slug>/pledges/", api.CampaignPledgesApi.as_view(),
         name="api_campaign_pledges"),
    path("pledges/<uuid:pledge_id>/", api.PledgeApi.as_view(), name="api_pledge"),
    path("pledges/<uuid:pledge_id>/confirm/", api.PledgeConfirmApi.as_view(), name="api_pledge_confirm"),
    path("pledges/<uuid:pledge_id>/cancel/", api.PledgeCancelApi.as_view(), name="api_pledge_cancel"),
    path("pledges/<uuid:pledge_id>/payments/", api.PledgePaymentsApi.as_view(), name="api_pledge_payments"),
    path("regencies/<slug:regency_slug>/handovers/", handover_api.RegencyHandoversApi.as_view(),
         name="api_regency_handovers"),
    path("handovers/<int:handover_id>/", handover_api.HandoverApi.as_view(), name="api_handover"),
    path("handovers/<int:handover_id>/export.xlsx", handover_api.HandoverExportApi.as_view(),
         name="api_handover_export"),
    path("handovers/<int:handover_id>/transferred/", handover_api.HandoverTransferredApi.as_view(),
         name="api_handover_transferred"),
    path("campaigns/<slug:campaign_slug>/ledger/", handover_api.CampaignLedgerApi.as_view(),
         name="api_campaign_ledger"),
    path("payments/midtrans/notification/", ProviderNotificationApi.as_view(provider="midtrans"),
         name="api_payments_midtrans_notification"),
    path("regencies/<slug:regency_slug>/statements/", statement_api.StatementUploadApi.as_view(),
         name="api_regency_statements"),
    path("statements/<int:statement_id>/", statement_api.StatementDetailApi.as_view(), name="api_statement"),
]
