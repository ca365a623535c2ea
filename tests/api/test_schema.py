"""The OpenAPI document and its docs page."""

import re

from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient


def test_schema_is_a_valid_openapi_document_with_auth_and_regencies(db):
    response = APIClient().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)  # raises on an invalid OpenAPI 3 document
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert "post" in paths["/api/v1/auth/token/"]
    assert "get" in paths["/api/v1/regencies/"]
    token_op = paths["/api/v1/auth/token/"]["post"]
    assert token_op.get("security", []) in ([], [{}])  # no credentials needed to log in
    assert set(token_op["responses"]) >= {"200", "400", "429"}
    regency_item = schema["components"]["schemas"]["RegencyListOutput"]
    assert set(regency_item["properties"]) == {"code", "name", "slug", "kind", "timezone", "roles"}
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_docs_page_is_served_without_a_cdn(db):
    response = APIClient().get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/vendor/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "an asset from another host"
    # The page starts Swagger UI from a script file of its own (no inline script: CSP), which
    # points it at the schema.
    script = re.search(r"""<script src="(/api/v1/docs/\?script=[^"]*)">""", html)
    assert script, "the start-up script is served as a file"
    started = APIClient().get(script.group(1))
    assert started.status_code == 200 and "/api/v1/schema/" in started.content.decode()


def test_the_swagger_ui_files_are_installed():
    from django.contrib.staticfiles import finders

    assert finders.find("vendor/swagger-ui-dist/swagger-ui-bundle.js"), "run `make install` (npm)"
    assert finders.find("vendor/swagger-ui-dist/swagger-ui.css")
