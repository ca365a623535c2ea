"""Nothing lost when the broker is away (issue 16): the transactional outbox, the relay, and what
pages, the API, login and /healthz do while Redis is down.

Outages are real: a closed port, or our own redis-server killed with SIGKILL and started again
(tests/core/broker.py); never the machine's Redis.
"""

from __future__ import annotations

import base64
import io
import json
import time

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.http import HttpResponse
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from core import outbox
from core.models import OutboxMessage
from participants.models import ArrearsImport, ArrearsRecord, ImportStatus
from tests.core.broker import OwnRedis, celery_broker, closed_url
from tests.factories import PASSWORD, api_token_for
from tests.participants.importing import csv_text, line


@pytest.fixture
def own_redis():
    server = OwnRedis()
    server.start()
    yield server
    server.stop()


def _queued(server: OwnRedis, queue: str) -> list[dict]:
    """The messages waiting in `queue` of our redis-server, in the order they were published."""
    raw = server.client().lrange(queue, 0, -1)
    return [json.loads(m) for m in reversed(raw)]


# A real task that does nothing for a regency that does not exist.
_HARMLESS = "assessments.tasks.screening_regency_task"


def _args(message: dict) -> list:
    body = json.loads(base64.b64decode(message["body"]))
    return body[0]


# --- the outbox itself ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_row_is_written_in_the_callers_transaction_and_vanishes_with_a_rollback():
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue_on_commit("core.outbox_relay")
        assert OutboxMessage.objects.count() == 1
        raise RuntimeError("the change is rolled back")
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_broker_down_rows_wait_and_the_relay_sends_them_oldest_first_once_it_is_back(own_redis, settings):
    own_redis.stop()
    with celery_broker(own_redis.url):
        with transaction.atomic():
            for regency_id in (11, 12, 13):
                outbox.enqueue_on_commit("assessments.tasks.screening_regency_task", regency_id)
        # The after-commit send failed fast and left every row for the relay.
        rows = list(OutboxMessage.objects.order_by("id"))
        assert [r.sent_at for r in rows] == [None, None, None]
        assert all(r.attempts == 1 and r.last_error for r in rows)
        assert [r.queue for r in rows] == ["jobs"] * 3

        down = outbox.relay()
        assert down == {"sent": 0, "waiting": 3, "broker": "down"}

        own_redis.start()
        up = outbox.relay()
        assert up == {"sent": 3, "waiting": 0, "broker": "ok"}
        messages = _queued(own_redis, "jobs")
        assert [_args(m) for m in messages] == [[11], [12], [13]]
        assert {m["headers"]["task"] for m in messages} == {"assessments.tasks.screening_regency_task"}
        assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0

        # Sent rows are not sent again.
        assert outbox.relay()["sent"] == 0
        assert len(_queued(own_redis, "jobs")) == 3


@pytest.mark.django_db(transaction=True)
def test_the_relay_skips_rows_another_relay_holds():
    with celery_broker(closed_url()):
        first = outbox.enqueue_on_commit(_HARMLESS, 999_999)
        second = outbox.enqueue_on_commit(_HARMLESS, 999_998)
    from django.db import connection

    other = connection.get_new_connection(connection.get_connection_params())
    try:
        other.autocommit = False
        with other.cursor() as cur:
            cur.execute("SELECT id FROM core_outboxmessage WHERE id = %s FOR UPDATE", [first.pk])
        result = outbox.relay()  # eager (test settings): "sent" means run here
        assert result["sent"] == 1
        assert OutboxMessage.objects.get(pk=first.pk).sent_at is None
        assert OutboxMessage.objects.get(pk=second.pk).sent_at is not None
    finally:
        other.rollback()
        other.close()
    assert outbox.relay()["sent"] == 1
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_relay_outbox_command_prints_json_and_exits_1_while_the_broker_is_down():
    with celery_broker(closed_url()):
        outbox.enqueue_on_commit(_HARMLESS, 999_999)
        out = io.StringIO()
        with pytest.raises(SystemExit) as exit_info:
            call_command("relay_outbox", stdout=out, stderr=io.StringIO())
    assert exit_info.value.code == 1
    assert json.loads(out.getvalue().strip().splitlines()[-1]) == {"sent": 0, "waiting": 1, "broker": "down"}
    out = io.StringIO()
    call_command("relay_outbox", stdout=out, stderr=io.StringIO())
    assert json.loads(out.getvalue().strip().splitlines()[-1]) == {"sent": 1, "waiting": 0, "broker": "ok"}


# --- an upload while Redis is stopped ------------------------------------------------------------


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


def _wait_for(predicate, timeout: float = 60.0) -> float:
    began = time.monotonic()
    while not predicate():
        if time.monotonic() - began > timeout:
            raise AssertionError("timed out")
        time.sleep(0.1)
    return time.monotonic() - began


@pytest.mark.django_db(transaction=True)
def test_upload_with_redis_stopped_is_accepted_and_the_import_applies_once_redis_is_back(
    own_redis, bpjs_a, branch_a, client, settings
):
    from celery.contrib.testing.worker import start_worker

    settings.CELERY_BROKER_URL = own_redis.url  # /healthz pings this one
    own_redis.stop()
    with celery_broker(own_redis.url) as app:
        upload = io.BytesIO(csv_text([line(1), line(2)]).encode())
        upload.name = "tunggakan.csv"
        began = time.monotonic()
        response = _api(bpjs_a).post(
            "/api/v1/imports/",
            {"file": upload, "branch": branch_a.code, "as_of": "2026-10-01", "mode": "partial"},
            format="multipart",
        )
        answered = time.monotonic() - began
        assert response.status_code == 202, response.content
        assert answered < 5
        imp = ArrearsImport.objects.get(pk=response.json()["id"])
        assert imp.status == ImportStatus.QUEUED
        waiting = OutboxMessage.objects.get(task="participants.import_run")
        assert waiting.args == [imp.pk] and waiting.sent_at is None and waiting.attempts == 1
        assert ArrearsRecord.all_regencies.count() == 0

        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["broker"] == "down" and health.json()["outbox"]["unsent"] == 1

        own_redis.start()
        out = io.StringIO()
        call_command("relay_outbox", stdout=out, stderr=io.StringIO())
        assert json.loads(out.getvalue().strip().splitlines()[-1])["sent"] == 1
        assert [_args(m) for m in _queued(own_redis, "imports")] == [[imp.pk]]

        # A real worker on the imports queue takes it from our Redis and applies the list.
        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False,
                          queues=["imports"], shutdown_timeout=30):
            _wait_for(lambda: ArrearsImport.objects.get(pk=imp.pk).status == ImportStatus.APPLIED)
        assert ArrearsRecord.all_regencies.filter(arrears_import_id=imp.pk).count() == 2
        # Its follow-up work (screening, reconciliation) went through the outbox to the jobs queue.
        follow_ups = set(OutboxMessage.objects.exclude(task="participants.import_run").values_list("task", flat=True))
        assert {"assessments.tasks.screening_run_task", "donations.tasks.reconcile_import_task"} <= follow_ups
        assert {m["headers"]["task"] for m in _queued(own_redis, "jobs")} >= follow_ups
        assert client.get("/healthz").status_code == 200


# --- login, pages and the API while Redis is down --------------------------------------------------


def _failover_cache(url: str) -> dict:
    return {"default": {"BACKEND": "core.cache.FailoverRedisCache", "LOCATION": url, "KEY_PREFIX": "satu"},
            "sessions": {"BACKEND": "core.cache.SessionRedisCache", "LOCATION": url, "KEY_PREFIX": "satu-session"}}


@pytest.mark.django_db
def test_login_works_with_redis_down_and_rate_limits_still_count(client, admin_a, settings):
    settings.CACHES = _failover_cache(closed_url())
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,3/5m/key"}
    began = time.monotonic()
    wrong = [client.post("/accounts/login/", {"login": admin_a.email, "password": "salah-sekali"})
             for _ in range(3)]
    assert [r.status_code for r in wrong] == [200, 200, 200]
    assert all("Terlalu banyak percobaan" not in r.content.decode() for r in wrong)
    # The fourth attempt for the same account is refused by the rate limit (counted in memory).
    limited = client.post("/accounts/login/", {"login": admin_a.email, "password": PASSWORD})
    assert limited.status_code == 200
    assert "Terlalu banyak percobaan masuk yang gagal" in limited.content.decode()
    assert "_auth_user_id" not in client.session
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
    other = client.post("/accounts/login/", {"login": "staf.lain@example.test", "password": PASSWORD})
    assert other.status_code == 200
    from tests.factories import UserFactory

    user = UserFactory(email="masuk@example.test")
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(user.pk)
    assert time.monotonic() - began < 10


def _needs_the_broker(request):
    from core.tasks import outbox_relay_task

    outbox_relay_task.apply_async()
    return HttpResponse("sent")


class _NeedsTheBrokerApi(APIView):
    permission_classes: list = []

    def get(self, request):
        from core.tasks import outbox_relay_task

        outbox_relay_task.apply_async()
        return Response({"sent": True})


urlpatterns = [
    path("perlu-broker/", _needs_the_broker),
    path("api/v1/perlu-broker/", _NeedsTheBrokerApi.as_view()),
    path("", include("config.urls")),
]


@pytest.mark.django_db
@pytest.mark.urls("tests.core.test_outbox")
@pytest.mark.parametrize("debug", [False, True])
def test_a_page_needing_redis_answers_503_never_500_nor_the_debug_page(client, settings, debug):
    settings.DEBUG = debug
    client.raise_request_exception = False
    with celery_broker(closed_url()):
        page = client.get("/perlu-broker/")
        api = client.get("/api/v1/perlu-broker/")
    assert page.status_code == 503
    html = page.content.decode()
    assert "Layanan sementara tidak tersedia" in html and "Traceback" not in html
    assert page["Retry-After"] == "60"
    assert api.status_code == 503
    assert api.json()["code"] == "service_unavailable" and api.json()["detail"]


@pytest.mark.django_db
@pytest.mark.urls("tests.core.test_outbox")
def test_the_503_page_in_english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with celery_broker(closed_url()):
        page = client.get("/perlu-broker/")
    assert page.status_code == 503
    assert '<html lang="en">' in page.content.decode()


@pytest.mark.django_db
def test_healthz_reports_the_backlog_without_failing_on_it(client):
    with transaction.atomic():
        OutboxMessage.objects.create(task="core.outbox_relay")
    body = client.get("/healthz").json()
    assert body["db"] == "ok" and body["broker"] == "ok"
    assert body["outbox"]["unsent"] == 1 and body["outbox"]["oldest_unsent_seconds"] >= 0


@pytest.mark.django_db(transaction=True)
def test_an_invitation_email_waits_for_the_broker_and_is_sent_by_the_relay(regency_a, admin_a):
    from regencies.roles import Role
    from regencies.services import invitation_create

    with celery_broker(closed_url()):
        invitation = invitation_create(regency=regency_a, actor=admin_a, email="x@example.test", role=Role.ASSESSOR)
        assert mail.outbox == []
        assert OutboxMessage.objects.get(task="regencies.tasks.send_invitation_email").sent_at is None
    assert outbox.relay()["sent"] == 1
    assert len(mail.outbox) == 1 and invitation.token in mail.outbox[0].body


def test_each_kind_of_work_has_its_own_queue():
    """Imports never wait behind screening, reconciliation or e-mail (CELERY_TASK_ROUTES)."""
    from config.celery_app import app

    def queue(name: str) -> str:
        return app.amqp.router.route({}, name, (), {})["queue"].name

    assert queue("participants.import_run") == "imports"
    assert queue("participants.import_sweep") == "celery"  # finds dead imports: never behind one
    for name in ("assessments.tasks.screening_run_task", "assessments.tasks.screening_regency_task",
                 "donations.tasks.reconcile_import_task", "donations.tasks.reconcile_nightly_task",
                 "donations.tasks.pool_allocate_task", "donations.tasks.pledges_expiry_task",
                 "donations.tasks.statement_process_task"):
        assert queue(name) == "jobs", name
    for name in ("donations.tasks.pledge_email_task", "donations.tasks.anomaly_email_task",
                 "donations.tasks.reconciliation_notify_task", "regencies.tasks.send_invitation_email"):
        assert queue(name) == "email", name
    assert queue("core.outbox_relay") == "celery"


@pytest.mark.django_db
def test_the_operator_sees_the_outbox_and_sends_it_now_from_the_admin(client):
    from core.models import AuditEvent
    from tests.factories import UserFactory

    operator = UserFactory(email="operator@example.test", is_staff=True, is_superuser=True)
    waiting = OutboxMessage.objects.create(task=_HARMLESS, args=[999_999], attempts=2, last_error="OperationalError")
    client.force_login(operator)
    listing = client.get("/admin/core/outboxmessage/?sent_at__isempty=1")
    assert listing.status_code == 200 and _HARMLESS in listing.content.decode()
    response = client.post("/admin/core/outboxmessage/", {"action": "send_now", "_selected_action": [waiting.pk]})
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.sent_at is not None
    event = AuditEvent.objects.get(verb="outbox.relayed")
    assert event.actor == operator and event.after["sent"] == 1


@pytest.mark.django_db(transaction=True)
def test_the_upload_page_with_redis_down_redirects_to_the_report_and_the_run_waits(client, bpjs_a, branch_a):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    client.force_login(bpjs_a)
    with celery_broker(closed_url()):
        response = client.post(
            reverse("import_list", kwargs={"branch_code": branch_a.code}),
            {"file": SimpleUploadedFile("tunggakan.csv", csv_text([line(1)]).encode(), content_type="text/csv"),
             "as_of": "2026-10-01", "mode": "partial"},
        )
    imp = ArrearsImport.objects.get(branch=branch_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("import_detail", kwargs={"branch_code": branch_a.code, "import_id": imp.pk})
    assert imp.status == ImportStatus.QUEUED
    assert OutboxMessage.objects.get(task="participants.import_run").sent_at is None
    # The broker is back (eager in tests: the relay runs the import here).
    assert outbox.relay()["sent"] >= 1
    imp.refresh_from_db()
    assert imp.status == ImportStatus.APPLIED
