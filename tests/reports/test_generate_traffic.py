"""manage.py generate_traffic: synthetic history written into the real tables."""

from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from agents.models import AgentStatus, AgentStatusInterval
from queues.models import Queue, QueueResult, QueueVisit
from reports import metrics
from reports.metrics import DateRange, Interval
from reports.models import QueueHourStats
from telephony.models import Call

pytestmark = pytest.mark.django_db
ARGS = ["--days", "2", "--calls-per-day", "300", "--seed", "3", "--end", "2026-11-03"]


def _snapshot():
    return list(
        QueueVisit.objects.order_by("entered_at", "call__sid").values_list(
            "queue__slug",
            "call__sid",
            "call__from_number",
            "entered_at",
            "result",
            "wait_seconds",
            "agent_identity",
            "talk_seconds",
        )
    )


def test_it_writes_consistent_calls_visits_and_agent_intervals(capsys):
    call_command("generate_traffic", *ARGS)
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


def test_the_same_seed_gives_the_same_history():
    call_command("generate_traffic", *ARGS)
    first = _snapshot()
    QueueVisit.objects.all().delete()
    AgentStatusInterval.objects.all().delete()
    Call.objects.all().delete()
    call_command("generate_traffic", *ARGS)
    assert _snapshot() == first


def test_it_refuses_to_write_the_same_seed_twice():
    call_command("generate_traffic", *ARGS)
    with pytest.raises(CommandError, match="already"):
        call_command("generate_traffic", *ARGS)


def test_an_agents_intervals_never_overlap():
    call_command("generate_traffic", *ARGS)
    intervals = AgentStatusInterval.objects.order_by("agent_id", "started_at").values_list(
        "agent_id", "started_at", "ended_at"
    )
    previous = (None, None, None)
    for agent_id, started_at, ended_at in intervals:
        if agent_id == previous[0]:
            assert started_at >= previous[2]
        assert ended_at > started_at or ended_at == started_at
        previous = (agent_id, started_at, ended_at)
