"""simulate_call stays out of the real figures: by default it saves nothing; --keep stores the call
marked as a test call that reports leave out; a wrong --agent or a cut run says so plainly."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from agents.models import Agent, AgentStatusInterval
from ivr.models import CallPathEntry
from queues.models import Queue, QueueVisit
from reports import metrics
from reports.metrics import DateRange, Interval
from telephony.models import Call, WebhookEvent

pytestmark = pytest.mark.django_db

TAKEN_BY_AGENT1 = ("--digits", "1", "--agent", "agent1", "--answer-after", "20", "--talk", "30")


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO())


def _simulate(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("simulate_call", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _agent1_state():
    agent = Agent.objects.get(identity="agent1")
    intervals = list(
        AgentStatusInterval.objects.filter(agent=agent).values_list(
            "pk", "status", "started_at", "ended_at"
        )
    )
    return (agent.status, agent.status_changed_at, agent.current_call_sid, intervals)


def test_by_default_it_saves_nothing_and_leaves_the_agent_as_it_was(demo):
    before = _agent1_state()

    out, err = _simulate(*TAKEN_BY_AGENT1)

    assert "agent1 と接続" in out  # the call really went through the app
    assert "Nothing saved" in err
    assert not Call.objects.exists()
    assert not QueueVisit.objects.exists()
    assert not WebhookEvent.objects.exists()
    assert not CallPathEntry.objects.exists()
    assert _agent1_state() == before


def test_keep_stores_a_test_call_that_the_reports_leave_out(demo):
    before = _agent1_state()

    _out, err = _simulate(*TAKEN_BY_AGENT1, "--keep")

    assert "test call" in err
    visit = QueueVisit.objects.get()
    assert visit.is_test_call
    assert visit.result == "bridged"
    assert visit.agent_identity == "agent1"
    assert visit.wait_seconds == 20 and visit.talk_seconds == 30
    # The emulated agent is not the real agent1, whose status is left as it was.
    assert _agent1_state() == before

    queue = Queue.objects.get(pk=visit.queue_id)
    now = timezone.now() + timedelta(hours=1)  # the kept call is dated on the virtual clock
    today = metrics.local_today(visit.entered_at)
    day = DateRange(today, today)

    def figures():
        [report] = metrics.queue_report(
            date_range=day, interval=Interval.TOTAL, queues=[queue], now=now
        )
        [board] = metrics.wallboard(now=now, queues=[queue])
        agents = {row["agent"]: row for row in metrics.agent_report(date_range=day, now=now)}
        return report["offered"], board["offered"], agents["agent1"]["answered"]

    assert figures() == (0, 0, 0)
    # The same visit unmarked is counted everywhere: it is the mark that leaves it out.
    QueueVisit.objects.update(is_test_call=False)
    assert figures() == (1, 1, 1)


def test_an_agent_that_does_not_exist_fails_at_once(demo):
    with pytest.raises(CommandError, match="no active agent has the client identity 'nobody'") as e:
        _simulate(*TAKEN_BY_AGENT1[:2], "--agent", "nobody")

    assert e.value.returncode == 1  # the exit code on the command line
    assert not Call.objects.exists()
    assert not WebhookEvent.objects.exists()


def test_a_cut_run_says_the_simulation_stopped_it_and_keeps_nothing(demo):
    with pytest.raises(CommandError) as error:
        _simulate("--digits", "1", "--max-seconds", "90", "--keep")

    message = str(error.value)
    assert "stopped after 90 virtual seconds" in message
    assert "waiting in queue support" in message
    assert "saved nothing" in message
    assert "hung up" not in message
    assert not QueueVisit.objects.exists()
    assert not Call.objects.exists()
