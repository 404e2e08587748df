"""generate_traffic staffs believable shifts: agents work shifts with breaks, busy hours keep
them 70-90 % occupied, every option has help, and the command says what it created."""

import io
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from agents.models import AgentStatus, AgentStatusInterval
from demo.management.commands.generate_traffic import Command

pytestmark = pytest.mark.django_db
TOKYO = ZoneInfo("Asia/Tokyo")
DAY = date(2026, 11, 10)  # a Tuesday
# The hours with at least 9 % of a day's calls (the morning and afternoon peaks).
BUSY_HOURS = (9, 10, 11, 14, 15)


@pytest.fixture(autouse=True)
def _tokyo(settings):
    settings.TIME_ZONE = "Asia/Tokyo"


def generate(calls_per_day=2000, seed=4, days=1):
    out = io.StringIO()
    call_command(
        "generate_traffic",
        *("--days", str(days), "--calls-per-day", str(calls_per_day)),
        *("--end", DAY.isoformat(), "--seed", str(seed)),
        stdout=out,
    )
    return out.getvalue()


def seconds_in(interval, start, stop) -> float:
    overlap = min(interval.ended_at, stop) - max(interval.started_at, start)
    return max(0.0, overlap.total_seconds())


def test_busy_hours_keep_the_agents_70_to_90_percent_occupied():
    generate()
    busy = available = 0.0
    for hour in BUSY_HOURS:
        start = datetime.combine(DAY, time(hour), tzinfo=TOKYO)
        stop = start + timedelta(hours=1)
        for interval in AgentStatusInterval.objects.filter(started_at__lt=stop, ended_at__gt=start):
            if interval.status in (AgentStatus.ON_CALL, AgentStatus.WRAP_UP):
                busy += seconds_in(interval, start, stop)
            elif interval.status == AgentStatus.AVAILABLE:
                available += seconds_in(interval, start, stop)
    assert 0.70 <= busy / (busy + available) <= 0.90


def test_agents_work_shifts_with_breaks_and_a_lunch():
    generate()
    days = defaultdict(list)
    for interval in AgentStatusInterval.objects.select_related("agent"):
        days[interval.agent.identity].append(interval)
    assert len(days) > 20
    full_shifts = 0
    for identity, intervals in days.items():
        on_duty = max(i.ended_at for i in intervals) - min(i.started_at for i in intervals)
        # Nine hours at most, and a call taken just before the end may run over a little.
        assert on_duty <= timedelta(hours=9, minutes=30), identity
        breaks = [i.ended_at - i.started_at for i in intervals if i.status == AgentStatus.BREAK]
        # A shift cut short by midnight may be too short for a break.
        assert breaks or on_duty < timedelta(hours=3), identity
        if on_duty > timedelta(hours=8):
            full_shifts += 1
            assert timedelta(hours=1) in breaks, identity
            assert breaks.count(timedelta(minutes=15)) == 2, identity
    assert full_shifts > 10


def test_every_option_has_help():
    parser = Command().create_parser("manage.py", "generate_traffic")
    options = {action.dest: action.help for action in parser._actions}
    for name in ("days", "calls_per_day", "seed", "end"):
        assert options[name], name


def test_it_says_which_queues_and_agents_it_created():
    call_command("seed_demo", stdout=io.StringIO())  # queue support, agent1 and agent2
    out = generate(calls_per_day=300)
    assert "Created queues: sales, billing." in out
    assert "Created agents agent3–agent" in out
    assert "queue support: agents agent1–agent" in out
    again = generate(calls_per_day=300, seed=5)
    assert "Created" not in again
    assert "queue support: agents agent1–agent" in again
