"""Dates at the edges of the calendar are a 400 with a reason, on the API and on the pages."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

EXTREMES = [
    {"end": "0001-01-01"},
    {"start": "0001-01-01", "end": "0001-01-01"},
    {"start": "9999-12-31", "end": "9999-12-31"},
    {"start": "1645-03-19", "end": "1645-03-19"},
    {"start": "2100-01-01", "end": "2100-01-02"},
]


@pytest.mark.parametrize("params", EXTREMES)
@pytest.mark.parametrize("path", ["/api/reports/queues/", "/api/reports/agents/"])
def test_the_api_answers_400_for_a_date_out_of_range(client, analyst, path, params):
    client.force_login(analyst)

    response = client.get(path, params)

    assert response.status_code == 400
    assert response.json()["detail"]


@pytest.mark.parametrize("params", EXTREMES)
@pytest.mark.parametrize(
    "name", ["reports:index", "reports:agents", "reports:abandoned", "reports:ivr"]
)
def test_the_report_pages_answer_400_for_a_date_out_of_range(client, analyst, name, params):
    client.force_login(analyst)

    response = client.get(reverse(name), params)

    assert response.status_code == 400


@pytest.mark.parametrize("params", [{"start": ""}, {"end": ""}, {"interval": ""}])
def test_the_api_refuses_an_empty_parameter(client, analyst, params):
    client.force_login(analyst)

    response = client.get("/api/reports/queues/", params)

    assert response.status_code == 400
    assert next(iter(params)) in response.json()["detail"]


def test_reports_start_on_the_first_day_allowed_and_not_before(client, analyst):
    client.force_login(analyst)

    response = client.get("/api/reports/queues/", {"end": "2000-01-01"})

    assert response.status_code == 200
    assert response.json()["start"] == "2000-01-01"
    assert client.get("/api/reports/queues/", {"end": "1999-12-31"}).status_code == 400


def test_the_schema_states_the_date_limits(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    description = schema["paths"]["/api/reports/queues/"]["get"]["description"]
    assert "2000-01-01" in description and "400 days" in description
