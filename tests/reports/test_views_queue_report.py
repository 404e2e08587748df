"""The queue report page (reports:index), its charts' data and its CSV."""

import csv
import io
import json

import pytest
from django.urls import reverse

from queues.models import QueueResult
from tests.factories import make_visit, tokyo

pytestmark = pytest.mark.django_db
URL = reverse("reports:index")


@pytest.fixture
def visits(support):
    make_visit(
        support,
        tokyo(2026, 11, 2, 10),
        QueueResult.BRIDGED,
        12,
        answered=True,
        agent="a1",
        talk=100,
    )
    make_visit(support, tokyo(2026, 11, 3, 10), QueueResult.HANGUP, 30)
    return support


PARAMS = {"start": "2026-11-02", "end": "2026-11-03", "interval": "day", "queue": "support"}


def test_it_shows_the_table_and_the_chart_rows(client, analyst, visits):
    client.force_login(analyst)
    response = client.get(URL, PARAMS)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="queue-report"' in html and 'id="chart-volume"' in html
    chart_rows = html.split('id="report-rows" type="application/json">')[1].split("</script>")[0]
    rows = json.loads(chart_rows)
    assert [(r["period_start"], r["offered"]) for r in rows] == [
        ("2026-11-02T00:00:00+09:00", 1),
        ("2026-11-03T00:00:00+09:00", 1),
    ]
    assert "vendor/chartjs/chart.umd.js" in html


def test_the_csv_holds_the_api_figures(client, analyst, visits):
    client.force_login(analyst)
    response = client.get(URL, {**PARAMS, "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    csv_rows = list(reader)
    api_rows = client.get("/api/reports/queues/", PARAMS).json()["rows"]
    assert len(csv_rows) == len(api_rows) == 2
    for csv_row, api_row in zip(csv_rows, api_rows, strict=True):
        for key, value in api_row.items():
            assert csv_row[key] == ("" if value is None else str(value)), key


def test_it_defaults_to_the_last_seven_days(client, analyst, support):
    client.force_login(analyst)
    response = client.get(URL)
    assert response.status_code == 200
    assert len(response.context["rows"]) == 7


def test_it_explains_bad_parameters(client, analyst, support):
    client.force_login(analyst)
    response = client.get(URL, {"start": "2026-11-05", "end": "2026-11-01"})
    assert response.status_code == 400
    assert "after the end date" in response.content.decode()


@pytest.mark.parametrize("persona", ["agent_user", "outsider"])
def test_it_refuses_people_without_a_report_role(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403


def test_it_sends_anonymous_visitors_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_home_page_sends_analysts_here(client, analyst):
    client.force_login(analyst)
    assert client.get("/")["Location"] == URL


def test_it_runs_a_fixed_number_of_queries(
    client, supervisor, visits, sales, django_assert_num_queries
):
    client.force_login(supervisor)
    params = {"start": "2020-11-01", "end": "2020-11-30"}
    client.get(URL, params)  # adds up the settled hours once and stores them
    # session, user, groups; queues; stored hours for the periods, again for the totals; the
    # filter's queue list
    with django_assert_num_queries(11):  # + transfers and callbacks (totals and rows)
        client.get(URL, params)
