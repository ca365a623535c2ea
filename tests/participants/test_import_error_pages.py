"""The import's error report in the API by keyset pages: every error once, in row order, when
several errors share a row; the same pages backwards; bad cursors; the same number of queries at
two sizes; the walk reads the (import, row) index."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.pagination import _after
from participants.api import IMPORT_ERROR_ORDER
from participants.models import ImportRowError, ImportStatus
from tests.factories import ArrearsImportFactory, api_token_for


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


def _errors(imp, n: int, *, start: int = 0) -> None:
    """`n` errors, three to a row (rows tie), written out of row order."""
    ImportRowError.objects.bulk_create(
        ImportRowError(arrears_import=imp, row=2 + (start + i) // 3, column="nik", message="NIK harus 16 digit.",
                       value=str(i)) for i in reversed(range(n)))


@pytest.fixture
def imp(branch_a):
    return ArrearsImportFactory(branch=branch_a, status=ImportStatus.APPLIED)


def test_every_error_once_in_row_order_forward_and_back(bpjs_a, imp):
    _errors(imp, 23)
    expected = list(ImportRowError.objects.filter(arrears_import=imp).order_by("row", "id")
                    .values_list("value", flat=True))
    api = _api(bpjs_a)
    body = api.get(f"/api/v1/imports/{imp.pk}/errors/", {"page_size": 4}).json()
    assert body["count"] == 23 and body["count_exact"] is True and body["previous"] is None
    pages = [[r["value"] for r in body["results"]]]
    while body["next"]:
        body = api.get(body["next"]).json()
        pages.append([r["value"] for r in body["results"]])
    assert [v for page in pages for v in page] == expected and len(pages) == 6
    back = [[r["value"] for r in body["results"]]]
    while body["previous"]:
        body = api.get(body["previous"]).json()
        back.insert(0, [r["value"] for r in body["results"]])
    assert back == pages
    assert set(body["results"][0]) == {"row", "column", "message", "value"}


@pytest.mark.parametrize("cursor", ["rusak", "e30", "eyJvIjoiaW1wb3J0X2Vycm9ycyIsInYiOlsieCIsMV0sImIiOjB9"])
def test_a_bad_cursor_is_the_first_page(bpjs_a, imp, cursor):
    _errors(imp, 5)
    response = _api(bpjs_a).get(f"/api/v1/imports/{imp.pk}/errors/", {"cursor": cursor, "page": "x"})
    assert response.status_code == 200 and len(response.json()["results"]) == 5


def test_same_queries_at_two_sizes_and_the_index(bpjs_a, imp):
    api = _api(bpjs_a)
    _errors(imp, 3)
    api.get(f"/api/v1/imports/{imp.pk}/errors/")  # the token's first use writes; measure after it
    with CaptureQueriesContext(connection) as small:
        api.get(f"/api/v1/imports/{imp.pk}/errors/")
    _errors(imp, 300, start=3)
    with CaptureQueriesContext(connection) as big:
        body = api.get(f"/api/v1/imports/{imp.pk}/errors/").json()
    assert len(big.captured_queries) == len(small.captured_queries)
    assert body["count"] == 303 and len(body["results"]) == 50
    qs = ImportRowError.objects.filter(arrears_import=imp)
    walk = _after(qs, IMPORT_ERROR_ORDER, [40, 1], backward=False).order_by(*IMPORT_ERROR_ORDER.order_by())[:51]
    sql, params = walk.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'participants_importrowerror' "
                       "AND indexdef LIKE '%%(arrears_import_id, \"row\")'")
        (index,) = cursor.fetchone()
    assert f"Index Scan using {index}" in plan  # then at most an incremental sort on id among equal rows
