"""The OpenAPI schema at /api/schema/ and the page that reads it at /api/docs/."""

import re

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
    # Every script, style sheet and image the page loads is the app's own: no address of
    # another host, no CDN (the page's random tokens are not addresses, so they are not read).
    addresses = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert addresses
    assert not [a for a in addresses if re.match(r"(?i)(https?:)?//", a) or "cdn" in a.lower()]
    assert '<script src="http' not in html
