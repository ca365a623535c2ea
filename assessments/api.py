"""The assessments API: thin views over selectors and services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments import questionnaire, selectors, services
from assessments.models import Assessment, ReasonCode, Status
from core.api import Pagination
from core.errors import DomainError
from participants.models import Participant
from regencies.permissions import RegencyPermission
from regencies.roles import Perm


class ParticipantSummarySerializer(serializers.Serializer):
    public_id = serializers.UUIDField()
    name = serializers.CharField()
    nik_masked = serializers.CharField()
    card_number = serializers.CharField()
    months_in_arrears = serializers.IntegerField()
    arrears_amount = serializers.IntegerField()
    care_class = serializers.IntegerField()
    district = serializers.CharField(source="district.name", default=None)
    village = serializers.CharField(source="village.name", default=None)


class AssessmentListSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    participant = ParticipantSummarySerializer()
    status = serializers.CharField()
    outcome = serializers.CharField()
    reason_code = serializers.CharField()
    valid_until = serializers.DateField(allow_null=True)
    assigned_to = serializers.EmailField(source="assigned_to.email", default=None)
    submitted_by = serializers.EmailField(source="submitted_by.email", default=None, allow_null=True)
    decided_by = serializers.EmailField(source="decided_by.email", default=None, allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class QuestionSerializer(serializers.Serializer):
    key = serializers.CharField()
    type = serializers.CharField()
    required = serializers.BooleanField()  # type: ignore[assignment]  # a declared field: the serializer metaclass takes it off the class
    choices = serializers.ListField(child=serializers.DictField())
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, like required
    help = serializers.CharField()
    min = serializers.IntegerField(allow_null=True)
    max = serializers.IntegerField(allow_null=True)
    sensitive = serializers.BooleanField()


# Named apart from the pledge history of donations.api (components must not collide).
@extend_schema_serializer(component_name="AssessmentHistory")
class HistorySerializer(serializers.Serializer):
    verb = serializers.CharField()
    actor = serializers.EmailField(allow_null=True)
    at = serializers.DateTimeField()
    before = serializers.DictField()
    after = serializers.DictField()


class ScreeningSerializer(serializers.Serializer):
    flags = serializers.ListField(child=serializers.DictField())
    recommendation = serializers.CharField(allow_null=True)
    priority = serializers.IntegerField(allow_null=True)
    family_size = serializers.IntegerField(allow_null=True)


class EvidenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    content_type = serializers.CharField()
    size_bytes = serializers.IntegerField()
    original_name = serializers.CharField()
    uploaded_at = serializers.DateTimeField()


class AssessmentDetailSerializer(AssessmentListSerializer):
    questionnaire_version = serializers.IntegerField()
    screening = ScreeningSerializer()
    questions = QuestionSerializer(many=True)
    answers = serializers.DictField()
    consent_recorded_by = serializers.EmailField(source="consent_recorded_by.email", default=None, allow_null=True)
    consent_recorded_at = serializers.DateTimeField(allow_null=True)
    return_note = serializers.CharField()
    decision_note = serializers.CharField()
    evidence = EvidenceSerializer(many=True)
    history = HistorySerializer(many=True)
    route = serializers.CharField(help_text="writeoff, writeoff_may_apply, rehab, in_rehab, donor or empty")
    route_text = serializers.CharField()
    writeoff_programme = serializers.CharField(allow_null=True)


def _detail(assessment) -> dict:
    data = AssessmentListSerializer(assessment).data
    data.update(
        questionnaire_version=assessment.questionnaire_version,
        screening=selectors.assessment_screening(assessment=assessment),
        questions=[q.as_api() for q in questionnaire.questions(assessment.questionnaire_version)],
        answers=assessment.answers,
        consent_recorded_by=getattr(assessment.consent_recorded_by, "email", None),
        consent_recorded_at=assessment.consent_recorded_at,
        return_note=assessment.return_note,
        decision_note=assessment.decision_note,
        evidence=EvidenceSerializer(selectors.assessment_evidence(assessment=assessment), many=True).data,
        history=HistorySerializer(selectors.assessment_history(assessment=assessment), many=True).data,
    )
    route = selectors.assessment_route(assessment=assessment)
    data.update(route=route["route"], route_text=route["text"],
                writeoff_programme=route["programme"].name if route["programme"] else None)
    return data


def _fresh(assessment_id: int, user):
    return selectors.assessment_get_for_user(user=user, assessment_id=assessment_id)


class RegencyAssessmentsApi(APIView):
    """Assessments of one regency; start one for a participant."""

    permission_classes = [IsAuthenticated, RegencyPermission]
    regency_perm = Perm.ASSESS
    pagination_class = Pagination  # GET pages with it; tells the schema the list is paginated

    class InputSerializer(serializers.Serializer):
        participant = serializers.UUIDField()

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=Status.values, required=False)],
        responses=AssessmentListSerializer(many=True),
    )
    def get(self, request, regency_slug: str):
        wanted = request.query_params.get("status") or None
        if wanted is not None and wanted not in Status.values:
            raise DomainError(
                _("Status tidak dikenal: %(s)s. Pilihan: %(c)s")
                % {"s": wanted, "c": ", ".join(Status.values)},
                code="invalid",
            )
        qs = selectors.assessment_list(regency=request.regency_access.regency, status=wanted)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(AssessmentListSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: AssessmentDetailSerializer})
    def post(self, request, regency_slug: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        regency = request.regency_access.regency
        participant = Participant.objects.for_regency(regency).filter(
            public_id=data.validated_data["participant"]
        ).first()
        if participant is None:
            raise Http404("participant")
        assessment = services.assessment_start(regency=regency, actor=request.user, participant=participant)
        return Response(_detail(_fresh(assessment.pk, request.user)), status=status.HTTP_201_CREATED)


class AssessmentApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    class PatchSerializer(serializers.Serializer):
        answers = serializers.DictField()

    @extend_schema(responses=AssessmentDetailSerializer)
    def get(self, request, assessment_id: int):
        return Response(_detail(_fresh(assessment_id, request.user)))

    @extend_schema(request=PatchSerializer, responses=AssessmentDetailSerializer)
    def patch(self, request, assessment_id: int):
        assessment = _fresh(assessment_id, request.user)
        if not isinstance(request.data, dict) or "answers" not in request.data:
            raise DomainError(_("Kirim {\"answers\": {...}}."), code="invalid")
        services.assessment_save_answers(
            assessment=assessment, actor=request.user, answers=request.data["answers"]
        )
        return Response(_detail(_fresh(assessment_id, request.user)))


# One state change of an assessment: the body is read with the subclass's `InputSerializer`
# (none: no body), `act` calls the service, the answer is the assessment as it now is. (A comment,
# not a docstring: a view's docstring becomes its description in the API schema.)
class _TransitionApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]
    InputSerializer: type[serializers.Serializer] | None = None
    post: Callable[..., Response]  # made for each subclass below

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)

        # A function of each subclass's own: the schema is attached to the function object.
        def post(self: _TransitionApi, request: Request, assessment_id: int) -> Response:
            return self.transition(request, assessment_id)

        cls.post = extend_schema(request=cls.InputSerializer, responses=AssessmentDetailSerializer)(post)

    def act(self, request, assessment: Assessment, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def transition(self, request: Request, assessment_id: int) -> Response:
        assessment = _fresh(assessment_id, request.user)
        data: dict[str, Any] = {}
        if self.InputSerializer is not None:
            body = self.InputSerializer(data=request.data or {})
            body.is_valid(raise_exception=True)
            data = dict(body.validated_data)
        self.act(request, assessment, data)
        return Response(_detail(_fresh(assessment_id, request.user)))


class AssessmentSubmitApi(_TransitionApi):
    def act(self, request, assessment: Assessment, data: dict[str, Any]) -> None:
        services.assessment_submit(assessment=assessment, actor=request.user)


class AssessmentApproveApi(_TransitionApi):
    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(required=False, allow_blank=True, default="")

    def act(self, request, assessment: Assessment, data: dict[str, Any]) -> None:
        services.assessment_approve(assessment=assessment, actor=request.user, note=data["note"])


class AssessmentRejectApi(_TransitionApi):
    class InputSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(choices=ReasonCode.choices)
        note = serializers.CharField(required=False, allow_blank=True, default="")

    def act(self, request, assessment: Assessment, data: dict[str, Any]) -> None:
        services.assessment_reject(assessment=assessment, actor=request.user, reason=data["reason"],
                                   note=data["note"])


class AssessmentReturnApi(_TransitionApi):
    class InputSerializer(serializers.Serializer):
        note = serializers.CharField()

    def act(self, request, assessment: Assessment, data: dict[str, Any]) -> None:
        services.assessment_return(assessment=assessment, actor=request.user, note=data["note"])


class AssessmentEvidenceApi(APIView):
    """Upload one photo (JPEG/PNG/WebP) or PDF to a draft (multipart field `file`)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request=inline_serializer("EvidenceUpload", {"file": serializers.FileField()}),
        responses={201: EvidenceSerializer},
    )
    def post(self, request, assessment_id: int):
        assessment = _fresh(assessment_id, request.user)
        evidence = services.evidence_add(
            assessment=assessment, actor=request.user, upload=request.FILES.get("file")
        )
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)
