"""GET /api/reports/queues/ (docs/api.md §4)."""

import pytest
from rest_framework.authtoken.models import Token

from queues.models import QueueResult

from .conftest import make_visit, tokyo

URL = "/api/reports/queues/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def two_days(support):
    make_visit(
        support,
        tokyo(2026, 11, 1, 23, 59, 59),
        QueueResult.BRIDGED,
        12,
        answered=True,
        agent="a1",
        talk=245,
    )
    make_visit(support, tokyo(2026, 11, 2, 0, 0, 0), QueueResult.HANGUP, 2)
    make_visit(support, tokyo(2026, 11, 2, 9, 30), QueueResult.HANGUP, 40)
    return support


def test_it_answers_the_contract_shape_for_an_analyst(client, analyst, two_days):
    client.force_login(analyst)
    response = client.get(
        URL, {"start": "2026-11-01", "end": "2026-11-02", "interval": "day", "queue": "support"}
    )
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("start", "end", "interval", "time_zone")} == {
        "start": "2026-11-01",
        "end": "2026-11-02",
        "interval": "day",
        "time_zone": "Asia/Tokyo",
    }
    first, second = body["rows"]
    assert first == {
        "queue": "support",
        "period_start": "2026-11-01T00:00:00+09:00",
        "offered": 1,
        "answered": 1,
        "abandoned": 0,
        "short_abandoned": 0,
        "overflowed": 0,
        "rejected": 0,
        "abandon_rate": 0.0,
        "asa_seconds": 12.0,
        "service_level": 1.0,
        "service_level_seconds": 20,
        "aht_seconds": 245.0,
        "longest_wait_seconds": 12,
    }
    assert second["period_start"] == "2026-11-02T00:00:00+09:00"
    assert (second["offered"], second["abandoned"], second["short_abandoned"]) == (2, 2, 1)
    assert second["abandon_rate"] == 1.0
    assert second["service_level"] == 0.0
    assert second["asa_seconds"] is None
    assert second["aht_seconds"] is None


def test_it_accepts_every_interval(client, analyst, two_days):
    client.force_login(analyst)
    expected_rows = {"hour": 48, "day": 2, "week": 2, "month": 1, "total": 1}
    for interval, count in expected_rows.items():
        response = client.get(
            URL, {"start": "2026-11-01", "end": "2026-11-02", "interval": interval}
        )
        assert response.status_code == 200, interval
        rows = response.json()["rows"]
        assert len(rows) == count, interval
        assert sum(row["offered"] for row in rows) == 3


def test_it_lists_every_queue_when_none_is_named(client, supervisor, support, sales):
    client.force_login(supervisor)
    response = client.get(URL, {"start": "2026-11-01", "end": "2026-11-01", "interval": "total"})
    assert [row["queue"] for row in response.json()["rows"]] == ["sales", "support"]


def test_it_takes_a_token(client, analyst, support):
    token = Token.objects.create(user=analyst)
    response = client.get(URL, {"interval": "total"}, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200


@pytest.mark.parametrize("persona", ["agent_user", "outsider"])
def test_it_refuses_people_without_a_report_role(client, request, persona, support):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403


def test_it_refuses_anonymous_callers(client, support):
    assert client.get(URL).status_code == 403


def test_a_superuser_may_read_it(client, django_user_model, support):
    client.force_login(django_user_model.objects.create_superuser("root", password="pw"))
    assert client.get(URL).status_code == 200


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"interval": "fortnight"}, "interval"),
        ({"start": "2026-11-05", "end": "2026-11-01"}, "start date is after the end date"),
        ({"start": "2025-01-01", "end": "2026-11-01"}, "longer than 400 days"),
        ({"start": "2026-13-01"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"queue": "nope"}, "Unknown queue nope"),
    ],
)
def test_it_explains_bad_parameters(client, analyst, support, params, reason):
    client.force_login(analyst)
    response = client.get(URL, params)
    assert response.status_code == 400
    assert reason in response.json()["detail"]


def test_the_maximum_range_is_a_setting(client, analyst, support, settings):
    settings.REPORTS_MAX_RANGE_DAYS = 31
    client.force_login(analyst)
    assert client.get(URL, {"start": "2026-11-01", "end": "2026-12-01"}).status_code == 200
    assert client.get(URL, {"start": "2026-11-01", "end": "2026-12-02"}).status_code == 400


def test_it_runs_a_fixed_number_of_queries(
    client, analyst, two_days, sales, django_assert_num_queries
):
    client.force_login(analyst)
    params = {"start": "2020-11-01", "end": "2020-11-30", "queue": "support"}
    client.get(URL, params)  # adds up the settled hours once and stores them
    # session, user, the user's groups, queue exists (filter), queues, stored hours
    with django_assert_num_queries(6):
        response = client.get(URL, params)
    assert len(response.json()["rows"]) == 30
