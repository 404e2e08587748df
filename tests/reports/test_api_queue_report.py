"""/api/reports/queues/ per docs/api.md §4: shape, buckets, local dates, errors, roles."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from reports.models import QueueHourStats
from tests.factories import Visit, local, tokyo

pytestmark = pytest.mark.django_db
URL = "/api/reports/queues/"
ROW_KEYS = {
    "queue",
    "period_start",
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "overflowed",
    "abandon_rate",
    "asa_seconds",
    "service_level",
    "service_level_seconds",
    "aht_seconds",
    "longest_wait_seconds",
    "transferred_in",
    "transferred_out",
    "callbacks_requested",
    "callbacks_connected",
    "callbacks_failed",
}
NEW_YORK = ZoneInfo("America/New_York")


def get(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def offered_by_period(body, queue="support"):
    return [(row["period_start"], row["offered"]) for row in body["rows"] if row["queue"] == queue]


@pytest.fixture
def two_days(support):
    Visit(support, tokyo(2026, 11, 1, 23, 59, 59)).answered(12, 245, agent="a1")
    Visit(support, tokyo(2026, 11, 2, 0, 0, 0)).abandoned(2)
    Visit(support, tokyo(2026, 11, 2, 9, 30)).abandoned(40)
    return support


def test_it_answers_the_contract_shape(client, analyst, two_days):
    client.force_login(analyst)
    body = get(client, start="2026-11-01", end="2026-11-30", interval="day", queue="support")
    assert set(body) == {"start", "end", "interval", "time_zone", "rows"}
    assert (body["start"], body["end"], body["interval"], body["time_zone"]) == (
        "2026-11-01",
        "2026-11-30",
        "day",
        "Asia/Tokyo",
    )
    assert len(body["rows"]) == 30
    first, second = body["rows"][:2]
    # `rejected` (queue-full refusals) is the only addition to the row of docs/api.md §4.
    assert set(first) - {"rejected"} == ROW_KEYS
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
        "transferred_in": 0,
        "transferred_out": 0,
        "callbacks_requested": 0,
        "callbacks_connected": 0,
        "callbacks_failed": 0,
    }
    assert isinstance(first["offered"], int) and isinstance(first["longest_wait_seconds"], int)
    assert isinstance(first["asa_seconds"], float) and isinstance(first["service_level"], float)
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


def test_a_day_runs_from_local_midnight_to_midnight(client, analyst, support):
    Visit(support, tokyo(2026, 11, 1, 23, 59, 59)).abandoned(30)
    Visit(support, tokyo(2026, 11, 2, 0, 0, 0)).abandoned(30)
    Visit(support, tokyo(2026, 11, 2, 23, 59, 59)).abandoned(30)
    Visit(support, tokyo(2026, 11, 3, 0, 0, 0)).abandoned(30)
    client.force_login(analyst)
    body = get(client, start="2026-11-02", end="2026-11-02", interval="day")
    assert offered_by_period(body) == [("2026-11-02T00:00:00+09:00", 2)]
    body = get(client, start="2026-11-01", end="2026-11-03", interval="day")
    assert [offered for _, offered in offered_by_period(body)] == [1, 2, 1]


def test_weeks_start_on_monday_and_months_on_the_first(client, analyst, support):
    # 2026-11-01 is a Sunday; 2026-11-02 a Monday.
    Visit(support, tokyo(2026, 11, 1, 12, 0)).abandoned(30)
    Visit(support, tokyo(2026, 11, 2, 12, 0)).abandoned(30)
    Visit(support, tokyo(2026, 11, 8, 23, 59, 59)).abandoned(30)
    Visit(support, tokyo(2026, 11, 9, 0, 0)).abandoned(30)
    Visit(support, tokyo(2026, 12, 1, 0, 0)).abandoned(30)
    client.force_login(analyst)
    body = get(client, start="2026-11-01", end="2026-12-01", interval="week")
    periods = offered_by_period(body)
    assert periods[:3] == [
        ("2026-10-26T00:00:00+09:00", 1),
        ("2026-11-02T00:00:00+09:00", 2),
        ("2026-11-09T00:00:00+09:00", 1),
    ]
    assert all(datetime.fromisoformat(start).weekday() == 0 for start, _ in periods)
    assert sum(offered for _, offered in periods) == 5
    body = get(client, start="2026-11-01", end="2026-12-01", interval="month")
    assert offered_by_period(body) == [
        ("2026-11-01T00:00:00+09:00", 4),
        ("2026-12-01T00:00:00+09:00", 1),
    ]
    body = get(client, start="2026-11-01", end="2026-12-01", interval="total")
    assert offered_by_period(body) == [("2026-11-01T00:00:00+09:00", 5)]
    body = get(client, start="2026-11-02", end="2026-11-02", interval="hour")
    periods = offered_by_period(body)
    assert len(periods) == 24
    assert periods[12] == ("2026-11-02T12:00:00+09:00", 1)


def test_the_queue_filter_keeps_one_queue(client, analyst, support, sales):
    Visit(support, tokyo(2026, 11, 2, 9, 0)).abandoned(30)
    Visit(sales, tokyo(2026, 11, 2, 9, 0)).abandoned(30)
    Visit(sales, tokyo(2026, 11, 2, 9, 0)).abandoned(30)
    client.force_login(analyst)
    body = get(client, start="2026-11-02", end="2026-11-02", interval="total", queue="sales")
    assert [(row["queue"], row["offered"]) for row in body["rows"]] == [("sales", 2)]
    body = get(client, start="2026-11-02", end="2026-11-02", interval="total")
    assert sorted((row["queue"], row["offered"]) for row in body["rows"]) == [
        ("sales", 2),
        ("support", 1),
    ]


@pytest.mark.parametrize("stored", [True, False], ids=["stored-hours", "visits"])
def test_days_across_the_end_of_daylight_saving_time(client, analyst, support, settings, stored):
    settings.TIME_ZONE = "America/New_York"
    # 2026-11-01: 01:00-02:00 happens twice (EDT, then EST); the day has 25 hours.
    for at in (
        local("America/New_York", 2026, 10, 31, 23, 59, 59),
        local("America/New_York", 2026, 11, 1, 0, 0, 0),
        datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK, fold=0),  # EDT
        datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK, fold=1),  # EST
        local("America/New_York", 2026, 11, 1, 23, 59, 59),
        local("America/New_York", 2026, 11, 2, 0, 0, 0),
    ):
        Visit(support, at).abandoned(30)
    client.force_login(analyst)
    if not stored:
        QueueHourStats.objects.all().delete()
    days = get(client, start="2026-10-31", end="2026-11-02", interval="day")
    assert days["time_zone"] == "America/New_York"
    assert offered_by_period(days) == [
        ("2026-10-31T00:00:00-04:00", 1),
        ("2026-11-01T00:00:00-04:00", 4),
        ("2026-11-02T00:00:00-05:00", 1),
    ]
    hours = offered_by_period(get(client, start="2026-11-01", end="2026-11-01", interval="hour"))
    assert len(hours) == 25
    assert hours[0] == ("2026-11-01T00:00:00-04:00", 1)
    assert hours[1] == ("2026-11-01T01:00:00-04:00", 1)
    assert hours[2] == ("2026-11-01T01:00:00-05:00", 1)
    assert hours[-1] == ("2026-11-01T23:00:00-05:00", 1)
    total = offered_by_period(get(client, start="2026-11-01", end="2026-11-01", interval="total"))
    assert total == [("2026-11-01T00:00:00-04:00", 4)]


@pytest.mark.parametrize("stored", [True, False], ids=["stored-hours", "visits"])
def test_days_across_the_start_of_daylight_saving_time(client, analyst, support, settings, stored):
    settings.TIME_ZONE = "America/New_York"
    # 2026-03-08: 02:00 EST jumps to 03:00 EDT; the day has 23 hours.
    for at in (
        local("America/New_York", 2026, 3, 8, 0, 0, 0),
        local("America/New_York", 2026, 3, 8, 1, 59, 59),
        local("America/New_York", 2026, 3, 8, 3, 0, 0),
        local("America/New_York", 2026, 3, 8, 23, 59, 59),
        local("America/New_York", 2026, 3, 9, 0, 0, 0),
    ):
        Visit(support, at).abandoned(30)
    client.force_login(analyst)
    if not stored:
        QueueHourStats.objects.all().delete()
    days = get(client, start="2026-03-08", end="2026-03-09", interval="day")
    assert offered_by_period(days) == [
        ("2026-03-08T00:00:00-05:00", 4),
        ("2026-03-09T00:00:00-04:00", 1),
    ]
    hours = offered_by_period(get(client, start="2026-03-08", end="2026-03-08", interval="hour"))
    assert len(hours) == 23
    assert hours[1] == ("2026-03-08T01:00:00-05:00", 1)
    assert hours[2] == ("2026-03-08T03:00:00-04:00", 1)
    assert hours[-1] == ("2026-03-08T23:00:00-04:00", 1)
    weeks = offered_by_period(get(client, start="2026-03-02", end="2026-03-15", interval="week"))
    assert weeks == [("2026-03-02T00:00:00-05:00", 4), ("2026-03-09T00:00:00-04:00", 1)]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"interval": "fortnight"}, "interval"),
        ({"start": "2026-13-01"}, "start"),
        ({"start": "01/11/2026"}, "start"),
        ({"end": "tomorrow"}, "end"),
        ({"start": "2026-11-05", "end": "2026-11-01"}, "start date is after the end date"),
        ({"start": "2020-01-01", "end": "2026-11-01"}, "longer than 400 days"),
        ({"queue": "nope"}, "Unknown queue nope"),
    ],
)
def test_it_refuses_bad_parameters_with_a_reason(client, analyst, support, params, reason):
    client.force_login(analyst)
    response = client.get(URL, {"start": "2026-11-01", "end": "2026-11-02", **params})
    assert response.status_code == 400
    body = response.json()
    assert isinstance(body["detail"], str)
    assert reason in body["detail"]


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
    with django_assert_num_queries(8):  # + transfers, + callbacks
        response = client.get(URL, params)
    assert len(response.json()["rows"]) == 30


@pytest.mark.parametrize("persona", ["agent_user", "outsider"])
def test_other_people_get_403(client, request, support, persona):
    client.force_login(request.getfixturevalue(persona))
    for url in (URL, "/api/reports/agents/", "/api/wallboard/"):
        assert client.get(url).status_code == 403, url


def test_anonymous_callers_are_refused(client, support):
    for url in (URL, "/api/reports/agents/", "/api/wallboard/"):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("persona, status", [("analyst", 200), ("agent_user", 403)])
def test_a_token_from_drf_create_token_authenticates(client, request, support, persona, status):
    user = request.getfixturevalue(persona)
    out = io.StringIO()
    call_command("drf_create_token", user.username, stdout=out)
    key = out.getvalue().split()[2]
    for url in (URL, "/api/reports/agents/", "/api/wallboard/"):
        response = client.get(url, HTTP_AUTHORIZATION=f"Token {key}")
        assert response.status_code == status, url
    assert client.get(URL, HTTP_AUTHORIZATION="Token wrong").status_code in (401, 403)


def test_a_supervisor_and_a_superuser_may_read(client, supervisor, django_user_model, support):
    client.force_login(supervisor)
    assert client.get(URL).status_code == 200
    root = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(root)
    assert client.get(URL).status_code == 200


def test_hours_of_a_coming_daylight_saving_change_from_the_visits(
    client, analyst, support, settings
):
    """Hours not settled yet are added up from the visits (here a long range, grouped by hour
    in the database): the repeated 01:00 hour of 2027-11-07 stays two hours."""
    settings.TIME_ZONE = "America/New_York"
    for at in (
        datetime(2027, 11, 7, 1, 30, tzinfo=NEW_YORK, fold=0),
        datetime(2027, 11, 7, 1, 30, tzinfo=NEW_YORK, fold=1),
        datetime(2027, 11, 7, 1, 40, tzinfo=NEW_YORK, fold=1),
        local("America/New_York", 2027, 11, 9, 23, 59, 59),
    ):
        Visit(support, at).abandoned(30)
    client.force_login(analyst)
    for start, end, count in (("2027-11-07", "2027-11-07", 25), ("2027-11-05", "2027-11-09", 121)):
        hours = dict(offered_by_period(get(client, start=start, end=end, interval="hour")))
        assert len(hours) == count
        assert hours["2027-11-07T01:00:00-04:00"] == 1
        assert hours["2027-11-07T01:00:00-05:00"] == 2
        assert sum(hours.values()) == (3 if count == 25 else 4)


@pytest.mark.parametrize("year", [2026, 2027], ids=["stored-hours", "visits"])
def test_local_hours_of_a_half_hour_zone(client, analyst, support, settings, year):
    settings.TIME_ZONE = "Asia/Kolkata"  # UTC+05:30
    Visit(support, local("Asia/Kolkata", year, 11, 2, 0, 0, 0)).abandoned(30)
    Visit(support, local("Asia/Kolkata", year, 11, 2, 9, 59, 59)).abandoned(30)
    Visit(support, local("Asia/Kolkata", year, 11, 2, 10, 0, 0)).abandoned(30)
    Visit(support, local("Asia/Kolkata", year, 11, 6, 23, 59, 59)).abandoned(30)
    client.force_login(analyst)
    for end, count in ((f"{year}-11-02", 24), (f"{year}-11-06", 120)):
        hours = offered_by_period(get(client, start=f"{year}-11-02", end=end, interval="hour"))
        assert len(hours) == count
        assert hours[0] == (f"{year}-11-02T00:00:00+05:30", 1)
        assert hours[9] == (f"{year}-11-02T09:00:00+05:30", 1)
        assert hours[10] == (f"{year}-11-02T10:00:00+05:30", 1)
        assert sum(offered for _, offered in hours) == (3 if count == 24 else 4)


@pytest.mark.parametrize("interval", ["day", "week", "month"])
def test_long_ranges_not_settled_yet_bucket_local_days(
    client, analyst, support, settings, interval
):
    """More than 100 periods of visits not yet settled are grouped in the database."""
    settings.TIME_ZONE = "America/New_York"
    for at in (
        local("America/New_York", 2027, 3, 13, 23, 59, 59),  # Saturday
        local("America/New_York", 2027, 3, 14, 0, 0, 0),  # Sunday, DST starts at 02:00
        local("America/New_York", 2027, 3, 14, 23, 59, 59),
        local("America/New_York", 2027, 3, 15, 0, 0, 0),  # Monday
        local("America/New_York", 2027, 3, 31, 23, 59, 59),
        local("America/New_York", 2027, 4, 1, 0, 0, 0),
    ):
        Visit(support, at).abandoned(30)
    client.force_login(analyst)
    body = get(client, start="2027-01-01", end="2027-12-31", interval=interval)
    found = {start: offered for start, offered in offered_by_period(body) if offered}
    expected = {
        "day": {
            "2027-03-13T00:00:00-05:00": 1,
            "2027-03-14T00:00:00-05:00": 2,
            "2027-03-15T00:00:00-04:00": 1,
            "2027-03-31T00:00:00-04:00": 1,
            "2027-04-01T00:00:00-04:00": 1,
        },
        "week": {
            "2027-03-08T00:00:00-05:00": 3,
            "2027-03-15T00:00:00-04:00": 1,
            "2027-03-29T00:00:00-04:00": 2,
        },
        "month": {"2027-03-01T00:00:00-05:00": 5, "2027-04-01T00:00:00-04:00": 1},
    }[interval]
    assert found == expected
