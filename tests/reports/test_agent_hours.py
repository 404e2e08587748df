"""The agent report's stored hours (reports.AgentHourStats): settled hours added up once give
the very rows the live tables give, whatever part of a range is stored, and never an outdated
figure once an older visit or status interval changes."""

import io
from datetime import UTC, date, timedelta

import pytest
from django.core.management import call_command

from agents.models import AgentStatus, AgentStatusInterval
from queues.models import QueueResult, QueueVisit
from reports import metrics
from reports.metrics import DateRange, agent_report
from reports.models import AgentHourStats
from tests.factories import make_agent, make_visit, tokyo

pytestmark = pytest.mark.django_db
FIRST, LAST = date(2026, 11, 8), date(2026, 11, 10)


@pytest.fixture
def history():
    """Three days of generate_traffic: shifts with breaks, calls across hours and midnight."""
    call_command(
        "generate_traffic",
        "--days",
        "3",
        "--calls-per-day",
        "80",
        "--end",
        LAST.isoformat(),
        stdout=io.StringIO(),
    )


def report(first, last, now):
    return agent_report(date_range=DateRange(first, last), now=now)


def midnight_after(day):
    return tokyo(day.year, day.month, day.day) + timedelta(days=1)


def test_stored_live_and_mixed_ranges_give_identical_rows(history, monkeypatch):
    end = midnight_after(LAST)
    assert not AgentHourStats.objects.exists()
    for day in (LAST, FIRST):
        of_day = AgentHourStats.objects.filter(
            hour_start__gte=midnight_after(day) - timedelta(days=1),
            hour_start__lt=midnight_after(day),
            agent_identity="",
        )
        # Were no hour settled for two days: a day right after it ended, all from the live
        # tables.
        with monkeypatch.context() as patched:
            patched.setattr(metrics, "SETTLED_AFTER", timedelta(days=2))
            live = report(day, day, midnight_after(day) + timedelta(minutes=30))
        assert not of_day.exists()
        assert sum(row["answered"] for row in live) > 0
        assert sum(row["available_seconds"] for row in live) > 0
        # Half an hour after it ended, all of it but its last two hours settled (stored) and
        # those live; then all of it stored.
        mixed = report(day, day, midnight_after(day) + timedelta(minutes=30))
        assert of_day.count() == 22
        stored = report(day, day, end + timedelta(days=30))
        assert of_day.count() == 24
        assert live == mixed == stored
    week_later = end + timedelta(days=7)
    stored = report(FIRST, LAST, week_later)
    assert AgentHourStats.objects.filter(agent_identity="", hour_start__lt=end).count() == 72
    assert report(FIRST, LAST, end + timedelta(minutes=30)) == stored  # the last hours live
    AgentHourStats.objects.all().delete()
    assert report(FIRST, LAST, week_later) == stored  # added up again


def test_stored_hours_add_up_to_any_range(history):
    end = midnight_after(LAST)
    whole = report(FIRST, LAST, end + timedelta(days=2))
    days = [report(FIRST + timedelta(days=n), FIRST + timedelta(days=n), end) for n in range(3)]
    for name in ("answered", "talk_seconds"):
        assert [row[name] for row in whole] == [
            sum(rows[i][name] for rows in days) for i in range(len(whole))
        ]


def test_an_open_interval_counts_until_now_in_stored_and_live_hours(django_user_model):
    agent = make_agent(django_user_model, "agent9")
    began = tokyo(2026, 11, 8, 9)
    AgentStatusInterval.objects.create(agent=agent, status=AgentStatus.AVAILABLE, started_at=began)
    # Now at 15:00 on the 10th: the 8th and most of the 9th stored, the rest live.
    now = tokyo(2026, 11, 10, 15)
    [row] = report(FIRST, LAST, now)
    assert row["available_seconds"] == (now - began).total_seconds()
    assert AgentHourStats.objects.filter(agent_identity="agent9").exists()
    [row] = report(FIRST, LAST, now + timedelta(days=5))
    assert row["available_seconds"] == (midnight_after(LAST) - began).total_seconds()


def test_an_older_interval_changed_later_is_counted_anew(django_user_model):
    agent = make_agent(django_user_model, "agent9")
    interval = AgentStatusInterval.objects.create(
        agent=agent,
        status=AgentStatus.AVAILABLE,
        started_at=tokyo(2026, 11, 8, 9),
        ended_at=tokyo(2026, 11, 8, 10),
    )
    now = tokyo(2026, 11, 20)
    assert report(FIRST, LAST, now)[0]["available_seconds"] == 3600
    interval.ended_at = tokyo(2026, 11, 8, 12, 30)
    interval.save()
    assert report(FIRST, LAST, now)[0]["available_seconds"] == 3.5 * 3600
    interval.delete()
    assert report(FIRST, LAST, now)[0]["available_seconds"] == 0


def test_an_older_visit_saved_later_is_counted_anew(support, django_user_model):
    make_agent(django_user_model, "agent9", support)
    now = tokyo(2026, 11, 20)
    assert report(FIRST, LAST, now)[0]["answered"] == 0
    assert AgentHourStats.objects.filter(agent_identity="").count() == 72
    make_visit(
        support,
        tokyo(2026, 11, 9, 11, 20),
        QueueResult.BRIDGED,
        8,
        answered=True,
        agent="agent9",
        talk=300,
    )
    [row] = report(FIRST, LAST, now)
    assert (row["answered"], row["talk_seconds"]) == (1, 300)
    QueueVisit.objects.update(talk_seconds=0)  # no signal: a later save tells it
    visit = QueueVisit.objects.get()
    visit.talk_seconds = 240
    visit.save()
    assert report(FIRST, LAST, now)[0]["talk_seconds"] == 240


def test_generate_traffic_drops_the_agent_hours_it_writes_into(history):
    report(FIRST, LAST, midnight_after(LAST) + timedelta(days=7))
    before = AgentHourStats.objects.exclude(agent_identity="").count()
    assert before
    call_command(
        "generate_traffic",
        "--days",
        "1",
        "--calls-per-day",
        "80",
        "--end",
        "2026-11-09",
        "--seed",
        "2",
        stdout=io.StringIO(),
    )
    hours = AgentHourStats.objects.filter(agent_identity="").values_list("hour_start", flat=True)
    ninth = tokyo(2026, 11, 9).astimezone(UTC)
    assert not [hour for hour in hours if ninth <= hour < ninth + timedelta(days=1)]
    merged = report(FIRST, LAST, midnight_after(LAST) + timedelta(days=7))
    AgentHourStats.objects.all().delete()
    assert merged == report(FIRST, LAST, midnight_after(LAST) + timedelta(days=7))
