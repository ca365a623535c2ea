"""Property-based tests of the whole API against its own OpenAPI document (schemathesis).

Every operation of `/api/v1/schema/` gets a bounded number of generated requests
(`MAX_EXAMPLES`, derandomized: the same requests on every run), valid and invalid
ones, sent in-process through Django's WSGI handler with the token of a user who
is regency admin of Luwu Utara and BPJS admin of KC Palopo. Path parameters are
often swapped for ids of real objects seeded for the test (a regency, an applied
import, participants, an assessment, a campaign), so the happy paths run too, not
only 404s. Checks: no 5xx (`not_a_server_error`) and every response that the
document describes matches its schema (`response_schema_conformance`).

The operations are whatever the schema holds when the tests run: an app that adds
endpoints is covered without editing this file.
"""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from regencies.models import BranchMembership
from regencies.roles import Role
from tests.factories import api_token_for, member

MAX_EXAMPLES = 12

# Ids of the objects seeded for the running test; the path-parameter hook reads them.
SEEDED: dict[str, object] = {}


def _load_schema():
    """The document as the running app serves it (one request through the WSGI handler)."""
    from config.wsgi import application

    loaded = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)

    @loaded.hook
    def flatmap_path_parameters(context, path_parameters):
        """Half the time a generated id, half the time the id of a seeded object."""
        real = {key: SEEDED[key] for key in path_parameters or () if key in SEEDED}
        if not real:
            return st.just(path_parameters)
        return st.sampled_from([path_parameters, {**path_parameters, **real}])

    return loaded


# Loaded at collection (no database needed) so that every operation is its own test:
# `test_api_conforms_to_its_schema[POST /api/v1/imports/]`.
schema = _load_schema()


def _seed(tmp_path, branch_a, regency_a, district_a, village_a) -> tuple[str, dict]:
    """A regency admin + BPJS admin with a token, and a little of everything to look at."""
    from assessments import services as assessment_services
    from donations import services as donation_services
    from participants.models import Participant
    from tests.participants.importing import line, run_import

    user = member(regency_a, Role.REGENCY_ADMIN, email="api.admin@example.test")
    BranchMembership.objects.create(branch=branch_a, user=user)
    imp = run_import(branch_a, tmp_path, [line(n, months=3 + n) for n in range(1, 7)],
                     as_of=dt.date.today(), actor=user)
    participants = list(Participant.objects.for_regency(regency_a).order_by("pk"))
    assessment = assessment_services.assessment_start(
        regency=regency_a, actor=user, participant=participants[0]
    )
    campaign = donation_services.campaign_create(
        regency=regency_a, actor=user, slug="lutra-peduli", title="Lutra Peduli",
        audience="internal", kind="one_to_one", status="active",
    )
    seeded = {
        "regency_slug": regency_a.slug,
        "branch_code": branch_a.code,
        "import_id": imp.pk,
        "assessment_id": assessment.pk,
        "public_id": str(participants[1].public_id),
        "campaign_slug": campaign.slug,
    }
    return api_token_for(user), seeded


@pytest.fixture
def api_token(db, tmp_path, branch_a, regency_a, district_a, village_a):
    token, seeded = _seed(tmp_path, branch_a, regency_a, district_a, village_a)
    SEEDED.clear()
    SEEDED.update(seeded)
    # Requests go through the real WSGI handler, whose request_started/finished signals
    # close the connection; the test's transaction must survive them (as Django's test
    # client arranges for itself).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield token
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
        SEEDED.clear()


# The marker (not only the `db` fixture) tells pytest-django to create the test database:
# schemathesis asks for the fixtures lazily, after collection.
@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, api_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {api_token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
