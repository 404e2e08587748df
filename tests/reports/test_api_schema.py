"""The OpenAPI schema at /api/schema/ and the page that reads it at /api/docs/."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_schema_describes_the_report_endpoints(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/reports/queues/", "/api/reports/agents/", "/api/wallboard/"} <= set(paths)
    parameters = {p["name"] for p in paths["/api/reports/queues/"]["get"]["parameters"]}
    assert parameters == {"start", "end", "interval", "queue"}


def test_the_docs_page_lists_operations_without_outside_scripts(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/reports/queues/" in html
    assert "abandon_rate" in html
    assert '<script src="http' not in html and "cdn" not in html.lower()
