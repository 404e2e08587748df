"""manage.py generate_traffic (docs/api.md §5): deterministic for a seed, self-consistent reports,
and a rerun neither duplicates nor corrupts."""

import io
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count

from agents.models import Agent, AgentStatus, AgentStatusInterval
from queues.models import Queue, QueueResult, QueueVisit
from reports import metrics
from reports.metrics import DateRange, Interval
from reports.models import QueueHourStats
from telephony.models import Call

pytestmark = pytest.mark.django_db
ARGS = ["--days", "3", "--calls-per-day", "60", "--end", "2026-11-10"]
RANGE = {"start": "2026-11-08", "end": "2026-11-10"}


def generate(seed, *args):
    call_command("generate_traffic", *ARGS, "--seed", str(seed), *args, stdout=io.StringIO())


def snapshot():
    calls = sorted(
        Call.objects.values_list(
            "sid",
            "from_number",
            "to_number",
            "status",
            "started_at",
            "ended_at",
            "duration_seconds",
        )
    )
    visits = sorted(
        QueueVisit.objects.values_list(
            "call__sid",
            "queue__slug",
            "entered_at",
            "left_at",
            "result",
            "wait_seconds",
            "answered_at",
            "agent_identity",
            "agent_call_sid",
            "talk_seconds",
            "wrap_up_seconds",
        )
    )
    intervals = sorted(
        AgentStatusInterval.objects.values_list(
            "agent__identity", "status", "started_at", "ended_at"
        )
    )
    return calls, visits, intervals


def wipe():
    QueueHourStats.objects.all().delete()
    AgentStatusInterval.objects.all().delete()
    QueueVisit.objects.all().delete()
    Call.objects.all().delete()
    Agent.objects.all().delete()
    get_user_model().objects.all().delete()
    Queue.objects.all().delete()


def test_the_same_seed_writes_the_same_rows():
    generate(5)
    first = snapshot()
    assert all(first)
    wipe()
    generate(5)
    assert snapshot() == first
    wipe()
    generate(6)
    assert snapshot()[1] != first[1]


def test_running_a_seed_again_is_refused_and_changes_nothing():
    generate(5)
    before = snapshot()
    with pytest.raises(CommandError, match="already"):
        generate(5)
    assert snapshot() == before


def queue_rows(client, interval):
    response = client.get("/api/reports/queues/", {**RANGE, "interval": interval})
    assert response.status_code == 200
    return response.json()["rows"]


def test_the_report_of_generated_traffic_adds_up(client, analyst):
    generate(5)
    client.force_login(analyst)
    totals = queue_rows(client, "total")
    assert {row["queue"] for row in totals} == {"support", "sales", "billing"}
    visits = QueueVisit.objects.filter(entered_at__date__gte="2026-11-07")  # the whole range
    assert sum(row["offered"] + row["rejected"] for row in totals) == visits.count()
    for row in totals:
        # Nobody is still waiting in history: every offered visit ended one way.
        assert row["answered"] + row["abandoned"] + row["overflowed"] == row["offered"], row
        assert row["answered"] > 0 and row["abandoned"] > 0
        assert 0 <= row["abandon_rate"] <= 1 and 0 <= row["service_level"] <= 1
        assert row["short_abandoned"] <= row["abandoned"]
        assert row["longest_wait_seconds"] >= row["asa_seconds"]
    for interval in ("hour", "day", "week", "month"):
        rows = queue_rows(client, interval)
        for total in totals:
            mine = [row for row in rows if row["queue"] == total["queue"]]
            for name in ("offered", "answered", "abandoned", "short_abandoned", "overflowed"):
                assert sum(row[name] for row in mine) == total[name], (interval, name)
            assert (
                max(row["longest_wait_seconds"] or 0 for row in mine)
                == (total["longest_wait_seconds"])
            )
    # Stored hours or not, the same figures.
    QueueHourStats.objects.all().delete()
    assert queue_rows(client, "total") == totals
    agents = client.get("/api/reports/agents/", RANGE).json()["rows"]
    assert sum(row["answered"] for row in agents) == sum(row["answered"] for row in totals)
    for row in agents:
        assert row["occupancy"] is None or 0 <= row["occupancy"] <= 1
        assert row["available_seconds"] <= 3 * 86400


def assert_one_status_at_a_time():
    for agent in Agent.objects.all():
        intervals = list(
            AgentStatusInterval.objects.filter(agent=agent).order_by("started_at", "ended_at")
        )
        for before, after in zip(intervals, intervals[1:], strict=False):
            assert before.ended_at <= after.started_at, (agent.identity, before, after)
        for interval in intervals:
            assert interval.started_at <= interval.ended_at, interval


def test_each_agent_is_in_one_status_at_a_time():
    call_command(
        "generate_traffic",
        "--days",
        "4",
        "--calls-per-day",
        "400",
        "--end",
        "2026-11-10",
        "--seed",
        "5",
        stdout=io.StringIO(),
    )
    assert_one_status_at_a_time()


def test_a_rerun_is_refused_even_when_the_first_day_had_no_call():
    # One call a day: none on Sunday 2026-11-08 (weekends are quieter), one on Monday.
    args = ["--days", "2", "--calls-per-day", "1", "--end", "2026-11-09", "--seed", "3"]
    call_command("generate_traffic", *args, stdout=io.StringIO())
    assert QueueVisit.objects.count() == 1
    before = snapshot()
    with pytest.raises(CommandError):
        call_command("generate_traffic", *args, stdout=io.StringIO())
    assert snapshot() == before


@pytest.mark.parametrize("end", ["2026-03-09", "2026-11-02"], ids=["dst-starts", "dst-ends"])
def test_days_of_a_daylight_saving_change_are_real_days(settings, client, analyst, end):
    settings.TIME_ZONE = "America/New_York"
    call_command(
        "generate_traffic",
        *("--days", "3", "--calls-per-day", "400", "--end", end, "--seed", "8"),
        stdout=io.StringIO(),
    )
    assert_one_status_at_a_time()
    client.force_login(analyst)
    day = client.get("/api/reports/queues/", {"start": end, "end": end, "interval": "day"})
    hours = client.get("/api/reports/queues/", {"start": end, "end": end, "interval": "hour"})
    for name in ("offered", "answered", "abandoned"):
        assert sum(row[name] for row in hours.json()["rows"]) == sum(
            row[name] for row in day.json()["rows"]
        )


def test_it_writes_consistent_calls_visits_and_agent_intervals(capsys):
    call_command(
        "generate_traffic",
        *("--days", "2", "--calls-per-day", "300", "--seed", "3", "--end", "2026-11-03"),
    )
    assert "2/2" in capsys.readouterr().out
    assert set(Queue.objects.values_list("slug", flat=True)) >= {"support", "sales", "billing"}
    visits = QueueVisit.objects.select_related("call")
    assert 400 < visits.count() < 800  # a weekday and a weekend day (Nov 3 2026 is a Tuesday)
    results = dict(visits.values_list("result").annotate(n=Count("pk")))
    assert results[QueueResult.BRIDGED] > results.get(QueueResult.HANGUP, 0) > 0
    # Every answered visit has its agent leg and an on-call interval of that agent covering it.
    answered = visits.filter(result=QueueResult.BRIDGED)
    legs = set(
        Call.objects.filter(sid__in=answered.values("agent_call_sid")).values_list("sid", flat=True)
    )
    assert legs == set(answered.values_list("agent_call_sid", flat=True))
    for visit in answered[:50]:
        assert (
            AgentStatusInterval.objects.filter(
                agent__identity=visit.agent_identity,
                status=AgentStatus.ON_CALL,
                started_at__lte=visit.answered_at,
                ended_at__gt=visit.answered_at,
            ).count()
            == 1
        )
        assert visit.call.started_at < visit.entered_at < visit.left_at <= visit.call.ended_at
    # The settled hours are added up already, and the report sees all of it.
    assert QueueHourStats.objects.count() == 2 * 24 * Queue.objects.count()
    rows = metrics.queue_report(
        date_range=DateRange(date(2026, 11, 2), date(2026, 11, 3)),
        interval=Interval.TOTAL,
        queues=list(Queue.objects.all()),
    )
    assert sum(row["offered"] + row["rejected"] for row in rows) == visits.count()
