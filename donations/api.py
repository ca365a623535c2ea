"""The campaigns and pledges API: thin views over selectors and services."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core.api import RESERVATION_THROTTLES, Pagination
from core.errors import PermissionDenied
from core.pagination import KeysetApiPagination
from core.time import regency_today
from donations import selectors, services
from donations.models import PaymentRoute, PaymentSource, Pledge, PledgeStatus
from participants.pseudonym import DonorParticipantSerializer
from participants.selectors import ARREARS_BANDS


class CampaignSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    story = serializers.CharField()
    regency = serializers.CharField(source="regency.name")
    regency_slug = serializers.CharField(source="regency.slug")
    audience = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    target_participants = serializers.IntegerField(allow_null=True)
    target_amount = serializers.IntegerField(allow_null=True)
    starts_on = serializers.DateField(allow_null=True)
    ends_on = serializers.DateField(allow_null=True)
    pledge_limit = serializers.IntegerField(allow_null=True)
    hold_hours = serializers.IntegerField()
    months_ahead = serializers.IntegerField()


class ProgressSerializer(serializers.Serializer):
    participants_covered = serializers.IntegerField()
    target_participants = serializers.IntegerField(allow_null=True)
    families_reactivated = serializers.IntegerField()
    amount_pledged = serializers.IntegerField()
    amount_verified = serializers.IntegerField()
    target_amount = serializers.IntegerField(allow_null=True)
    pool_received = serializers.IntegerField()
    pool_allocated = serializers.IntegerField()


class CampaignDetailSerializer(CampaignSerializer):
    progress = ProgressSerializer()
    donors = inline_serializer("CampaignDonors", {
        "names": serializers.ListField(child=serializers.CharField()),
        "anonymous": serializers.IntegerField(),
    })
    may_pledge = serializers.BooleanField()
    reason = serializers.CharField()


class PaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.IntegerField()
    reference = serializers.CharField()
    paid_at = serializers.DateField(source="paid_on")
    source = serializers.ChoiceField(choices=PaymentSource.choices)  # type: ignore[assignment]  # a declared field, not Field.source
    receipt_number = serializers.CharField()
    has_receipt = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_has_receipt(self, obj) -> bool:
        return bool(obj.receipt)


class HistorySerializer(serializers.Serializer):
    verb = serializers.CharField()
    at = serializers.DateTimeField()
    before = serializers.DictField()
    after = serializers.DictField()


class RequotedMonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    tariff = serializers.IntegerField()
    due_on = serializers.DateField()


class RequoteSerializer(serializers.Serializer):
    """The months that became due since the pledge was quoted. `pending`: not stored yet (the
    amount shown already includes them; confirming or paying stores them)."""

    from_amount = serializers.IntegerField()
    to_amount = serializers.IntegerField()
    added = serializers.IntegerField()
    on = serializers.DateField()
    pending = serializers.BooleanField()
    months = RequotedMonthSerializer(many=True)
    note = serializers.CharField()


class PledgeSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    campaign = serializers.CharField(source="campaign.slug")
    participant = DonorParticipantSerializer()
    status = serializers.ChoiceField(choices=PledgeStatus.choices)
    amount = serializers.IntegerField()
    arrears_amount = serializers.IntegerField()
    months_in_arrears = serializers.IntegerField()
    monthly_tariff = serializers.IntegerField()
    months_ahead = serializers.IntegerField()
    is_pooled = serializers.BooleanField()
    expires_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    release_reason = serializers.CharField()
    paid_amount = serializers.IntegerField()
    outstanding = serializers.IntegerField()
    payment_route = serializers.ChoiceField(choices=PaymentRoute.choices)
    payment_code = serializers.CharField()
    va_number = serializers.CharField(allow_null=True)
    lapses_at = serializers.DateTimeField(allow_null=True)
    certificate_url = serializers.CharField(allow_null=True)
    virtual_accounts = serializers.DictField(child=serializers.CharField())
    payments = PaymentSerializer(many=True)
    history = HistorySerializer(many=True)
    # The rules of 2026: why the amount changed since the quote (null when it did not),
    # the remaining REHAB instalments a REHAB pledge pays, and a pledge paid before the write-off.
    requoted = RequoteSerializer(allow_null=True)
    rehab_instalments = serializers.IntegerField(allow_null=True)
    paid_before_write_off = serializers.BooleanField()


class PaymentRecordedSerializer(PaymentSerializer):
    status = serializers.ChoiceField(choices=PledgeStatus.choices)
    paid_amount = serializers.IntegerField()
    outstanding = serializers.IntegerField()


class ReservedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    amount = serializers.IntegerField()
    expires_at = serializers.DateTimeField()


def _detail(pledge, request=None) -> dict:
    pledge.participant.family_size = selectors.family_size_of(participant=pledge.participant)
    # First: a pledge quoted in an earlier month reports its new amount and outstanding.
    requote = selectors.pledge_requote_shown(pledge=pledge)
    info = selectors.pledge_payment_info(pledge=pledge)
    certificate = None
    if pledge.status == PledgeStatus.VERIFIED:
        certificate = reverse("pledge_certificate", kwargs={"pledge_id": pledge.public_id})
        certificate = request.build_absolute_uri(certificate) if request is not None else certificate
    payments = selectors.pledge_payments(pledge=pledge)
    history = selectors.pledge_history(pledge=pledge)
    data = {
        "public_id": pledge.public_id, "campaign": pledge.campaign, "participant": pledge.participant,
        "status": pledge.status, "amount": pledge.amount, "arrears_amount": pledge.arrears_amount,
        "months_in_arrears": pledge.months_in_arrears, "monthly_tariff": pledge.monthly_tariff,
        "months_ahead": pledge.months_ahead, "is_pooled": pledge.is_pooled, "expires_at": pledge.expires_at,
        "due_at": pledge.due_at, "release_reason": pledge.release_reason,
        "paid_amount": pledge.paid_amount, "outstanding": pledge.outstanding,
        "payment_route": pledge.campaign.payment_route, "payment_code": pledge.payment_code,
        "va_number": info.va_number, "lapses_at": pledge.lapses_at, "certificate_url": certificate,
        "virtual_accounts": info.virtual_accounts, "payments": payments,
        "history": [{"verb": h.verb, "at": h.at, "before": h.before, "after": h.after} for h in history],
        "requoted": requote.as_json() if requote else None, "rehab_instalments": pledge.rehab_instalments,
        "paid_before_write_off": selectors.pledge_paid_before_write_off(pledge=pledge),
    }
    return PledgeSerializer(data).data


def _reserved(pledge) -> dict:
    return {"id": str(pledge.public_id), "status": pledge.status, "amount": pledge.amount,
            "expires_at": pledge.expires_at}


class CampaignListApi(APIView):
    """Campaigns the caller may see: public ones for everyone, internal ones for the regency's members."""

    permission_classes = [AllowAny]
    pagination_class = Pagination  # tells the schema the list is paginated

    @extend_schema(responses=CampaignSerializer(many=True))
    def get(self, request):
        qs = selectors.campaigns_visible_to(user=request.user)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(CampaignSerializer(page, many=True).data)


class CampaignDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=CampaignDetailSerializer)
    def get(self, request, campaign_slug: str):
        campaign, access = selectors.campaign_get_visible(user=request.user, slug=campaign_slug)
        donors = selectors.campaign_donors(campaign=campaign)
        data = CampaignSerializer(campaign).data
        data.update(
            progress=ProgressSerializer(selectors.campaign_progress(campaign=campaign)).data,
            donors={"names": donors.names, "anonymous": donors.anonymous},
            may_pledge=access.may_pledge, reason=access.reason,
        )
        return Response(data)


class CampaignParticipantsApi(APIView):
    """Eligible, unpledged participants of the campaign's regency, as pseudonyms only."""

    permission_classes = [IsAuthenticated]
    pagination_class = KeysetApiPagination  # keyset pages; also tells the schema the list is paginated

    @extend_schema(
        parameters=[
            OpenApiParameter("district", int, required=False, description="district id"),
            OpenApiParameter("care_class", int, enum=[1, 2, 3], required=False),
            OpenApiParameter("band", str, enum=list(ARREARS_BANDS), required=False),
            OpenApiParameter("sort", str, enum=list(selectors.DONOR_SORTS), required=False),
        ],
        responses=DonorParticipantSerializer(many=True),
    )
    def get(self, request: Request, campaign_slug: str) -> Response:
        campaign, access = selectors.campaign_get_visible(user=request.user, slug=campaign_slug)
        if not access.may_pledge and access.reason != "closed":
            services.check_may_pledge(campaign=campaign, donor=request.user)
        filters = selectors.DonorFilters.from_params(request.query_params)
        qs = selectors.campaign_participants(campaign=campaign, filters=filters)
        self.keyset_order = selectors.DONOR_ORDERS[filters.sort]
        paginator = KeysetApiPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        context = {"today": regency_today(campaign.regency)}
        return paginator.get_paginated_response(DonorParticipantSerializer(page, many=True, context=context).data)


class CampaignPledgesApi(APIView):
    """Reserve one participant (or, with `"family": true`, every eligible member of the family)."""

    permission_classes = [IsAuthenticated]
    # Per donor and per client address, shared with the campaign page (views.campaign_reserve).
    throttle_classes = list(RESERVATION_THROTTLES)
    parser_classes = [JSONParser, FormParser]

    class InputSerializer(serializers.Serializer):
        participant = serializers.UUIDField()
        family = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: ReservedSerializer,
            400: inline_serializer("PledgeNotEligible", {"detail": serializers.CharField(),
                                                         "code": serializers.CharField()}),
            409: inline_serializer("PledgeConflict", {"detail": serializers.CharField(),
                                                      "code": serializers.CharField(),
                                                      "suggestion": serializers.UUIDField(allow_null=True)}),
        },
    )
    def post(self, request, campaign_slug: str):
        campaign, _access = selectors.campaign_get_visible(user=request.user, slug=campaign_slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        participant = selectors.participant_get_in_pool(campaign=campaign,
                                                        public_id=data.validated_data["participant"])
        if data.validated_data["family"]:
            pledges = services.pledge_reserve_family(campaign=campaign, participant=participant,
                                                     donor=request.user)
            first = next(p for p in pledges if p.participant_id == participant.pk)
            body = _reserved(first) | {"family": [_reserved(p) for p in pledges]}
            return Response(body, status=status.HTTP_201_CREATED)
        pledge = services.pledge_reserve(campaign=campaign, participant=participant, donor=request.user)
        return Response(_reserved(pledge), status=status.HTTP_201_CREATED)


class PledgeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PledgeSerializer)
    def get(self, request, pledge_id):
        return Response(_detail(selectors.pledge_get_for_user(user=request.user, pledge_id=pledge_id), request))


# A donor's step on one pledge (the service in `act`); the answer is the pledge as it now is.
# (A comment, not a docstring: a view's docstring becomes its description in the API schema.)
class _PledgeStepApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    def act(self, pledge: Pledge, actor: User) -> None:
        raise NotImplementedError

    @extend_schema(request=None, responses=PledgeSerializer)
    def post(self, request, pledge_id):
        pledge = selectors.pledge_get_for_user(user=request.user, pledge_id=pledge_id)
        self.act(pledge, request.user)
        return Response(_detail(selectors.pledge_get_for_user(user=request.user, pledge_id=pledge_id), request))


class PledgeConfirmApi(_PledgeStepApi):
    def act(self, pledge: Pledge, actor: User) -> None:
        services.pledge_confirm(pledge=pledge, actor=actor)


class PledgeCancelApi(_PledgeStepApi):
    def act(self, pledge: Pledge, actor: User) -> None:
        services.pledge_cancel(pledge=pledge, actor=actor)


class PledgePaymentsApi(APIView):
    """Record a payment into the family VA (JSON, or multipart with a `receipt` file)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, MultiPartParser]

    class InputSerializer(serializers.Serializer):
        amount = serializers.IntegerField(min_value=1, max_value=10**12)
        reference = serializers.CharField(max_length=64)
        paid_at = serializers.DateField()
        receipt = serializers.FileField(required=False)

    @extend_schema(request=InputSerializer, responses={201: PaymentRecordedSerializer})
    def post(self, request, pledge_id):
        pledge = selectors.pledge_get_for_user(user=request.user, pledge_id=pledge_id)
        if not selectors.pledge_may_act(user=request.user, pledge=pledge):
            raise PermissionDenied(_("Hanya donatur janji ini yang dapat mencatat pembayarannya."))
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        payment = services.payment_record(pledge=pledge, actor=request.user, amount=v["amount"],
                                          reference=v["reference"], paid_on=v["paid_at"],
                                          receipt=v.get("receipt"))
        pledge = selectors.pledge_get_for_user(user=request.user, pledge_id=pledge_id)
        body = {**PaymentSerializer(payment).data,
                "status": pledge.status, "paid_amount": pledge.paid_amount, "outstanding": pledge.outstanding}
        return Response(body, status=status.HTTP_201_CREATED)
