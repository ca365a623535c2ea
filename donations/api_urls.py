from django.urls import path

from donations import api

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
]
