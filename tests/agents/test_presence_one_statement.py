"""On PostgreSQL the agent's move at the connect URL and at the Dial action is one statement
(agents.services._agent_move_by_identity): the agent locked, the open interval closed, a new
one opened, the agent's status written. That statement's writes see the database as it was
when it began; these tests make another transaction move the agent while the statement waits
for the agent's lock, and check that the intervals still tell the truth (one open interval,
each closed when the next began)."""

import threading

import pytest
from django.utils import timezone

from agents.models import Agent, AgentStatus, AgentStatusInterval
from agents.services import agent_set_status
from queues.models import Queue, QueueVisit
from tests.agents.concurrency import in_another_transaction, postgres_only
from tests.conftest import call_fields
from tests.factories import AGENT_SID, incoming, post_connect, post_dial_action, post_wait

pytestmark = pytest.mark.django_db(transaction=True)


def _caller_waiting_and_agent_dialling(twilio):
    queue = Queue.objects.get(slug="support")
    incoming(twilio)
    post_wait(twilio, queue, queue_time=0)
    twilio.post(
        "/twilio/agent/outgoing",
        call_fields(AGENT_SID, From="client:agent1", To="queue:support", CallStatus="ringing"),
    )
    return queue


def _move_while_holding_the_lock(status, started: threading.Event, errors: list):
    """Another web process: lock agent1, move them to ``status``, and commit a moment later
    (while the request under test waits for that lock)."""

    def move():
        agent = Agent.objects.select_for_update().get(identity="agent1")
        agent_set_status(agent=agent, status=status, now=timezone.now(), locked=True)

    return in_another_transaction(move, started, errors)


def _intervals():
    return list(
        AgentStatusInterval.objects.filter(agent__identity="agent1")
        .order_by("started_at", "pk")
        .values_list("status", "started_at", "ended_at")
    )


def _assert_truthful(intervals):
    open_ones = [interval for interval in intervals if interval[2] is None]
    assert len(open_ones) == 1, intervals
    assert intervals[-1][2] is None, intervals
    for (_, _, ended), (_, started, _) in zip(intervals, intervals[1:], strict=False):
        assert ended is not None and ended <= started, intervals


def test_a_move_committed_while_connect_waits_for_the_agent_is_not_overwritten(twilio, demo):
    postgres_only()
    queue = _caller_waiting_and_agent_dialling(twilio)
    started, errors = threading.Event(), []
    other = _move_while_holding_the_lock(AgentStatus.BREAK, started, errors)
    other.start()
    assert started.wait(10)

    response = post_connect(twilio, queue, queue_time=30)  # waits for the other's commit
    other.join()

    assert not errors, errors
    assert response.status_code == 200
    agent = Agent.objects.get(identity="agent1")
    assert agent.status == AgentStatus.ON_CALL
    assert agent.current_visit_id == QueueVisit.objects.get().pk
    intervals = _intervals()
    assert [status for status, _, _ in intervals][-2:] == [AgentStatus.BREAK, AgentStatus.ON_CALL]
    _assert_truthful(intervals)


def test_a_move_committed_while_the_dial_action_waits_for_the_agent_is_kept(twilio, demo):
    postgres_only()
    queue = _caller_waiting_and_agent_dialling(twilio)
    post_connect(twilio, queue, queue_time=30)
    started, errors = threading.Event(), []
    # The agent leaves the call for a break (another process) while the Dial action arrives:
    # the agent is no longer on that call, so the Dial action moves nobody.
    other = _move_while_holding_the_lock(AgentStatus.BREAK, started, errors)
    other.start()
    assert started.wait(10)

    response = post_dial_action(twilio, queue, duration=60)
    other.join()

    assert not errors, errors
    assert response.status_code == 200
    assert Agent.objects.get(identity="agent1").status == AgentStatus.BREAK
    visit = QueueVisit.objects.get()
    assert (visit.talk_seconds, visit.wrap_up_seconds) == (60, None)
    intervals = _intervals()
    assert [status for status, _, _ in intervals][-2:] == [AgentStatus.ON_CALL, AgentStatus.BREAK]
    _assert_truthful(intervals)
