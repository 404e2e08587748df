"""agent_set_status and friends: one open interval per agent, history kept whole."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from agents.models import AgentStatus, AgentStatusInterval
from agents.services import (
    agent_call_ended,
    agent_call_started,
    agent_choose_status,
    agent_expire_wrap_up,
    agent_set_status,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)


def intervals(agent):
    return list(
        AgentStatusInterval.objects.filter(agent=agent)
        .order_by("started_at", "id")
        .values_list("status", "started_at", "ended_at")
    )


def test_it_closes_the_open_interval_and_opens_a_new_one(agent):
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE, now=T0)
    agent_set_status(agent=agent, status=AgentStatus.BREAK, now=T0 + timedelta(minutes=5))

    assert intervals(agent) == [
        ("available", T0, T0 + timedelta(minutes=5)),
        ("break", T0 + timedelta(minutes=5), None),
    ]
    agent.refresh_from_db()
    assert agent.status == AgentStatus.BREAK
    assert agent.status_changed_at == T0 + timedelta(minutes=5)


def test_setting_the_same_status_again_changes_nothing(agent):
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE, now=T0)
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE, now=T0 + timedelta(minutes=1))

    assert intervals(agent) == [("available", T0, None)]


def test_an_interval_never_ends_before_it_began(agent):
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE, now=T0)
    agent_set_status(agent=agent, status=AgentStatus.BREAK, now=T0 - timedelta(seconds=2))

    assert intervals(agent) == [("available", T0, T0), ("break", T0, None)]


def test_an_agent_cannot_choose_on_call_or_wrap_up(agent):
    for status in (AgentStatus.ON_CALL, AgentStatus.WRAP_UP):
        with pytest.raises(ValidationError):
            agent_choose_status(agent=agent, status=status, now=T0)
    assert intervals(agent) == []


def test_a_call_ends_in_the_queues_wrap_up_time(agent, queue):
    queue.wrap_up_seconds = 30
    queue.save(update_fields=["wrap_up_seconds"])
    agent_call_started(agent=agent, agent_call_sid="CA1", visit=None, now=T0)

    agent_call_ended(agent=agent, agent_call_sid="CA1", queue=queue, now=T0 + timedelta(seconds=60))

    agent.refresh_from_db()
    assert agent.status == AgentStatus.WRAP_UP
    assert agent.wrap_up_until == T0 + timedelta(seconds=60) + timedelta(seconds=30)


def test_wrap_up_that_ran_out_ends_when_it_was_due(agent, queue):
    queue.wrap_up_seconds = 30
    agent_call_started(agent=agent, agent_call_sid="CA1", visit=None, now=T0)
    agent_call_ended(agent=agent, agent_call_sid="CA1", queue=queue, now=T0)

    agent_expire_wrap_up(agent=agent, now=T0 + timedelta(seconds=10))
    assert agent.status == AgentStatus.WRAP_UP
    agent_expire_wrap_up(agent=agent, now=T0 + timedelta(minutes=5))

    assert intervals(agent) == [
        ("on-call", T0, T0),
        ("wrap-up", T0, T0 + timedelta(seconds=30)),
        ("available", T0 + timedelta(seconds=30), None),
    ]


def test_ready_ends_wrap_up_early(agent, queue):
    queue.wrap_up_seconds = 300
    agent_call_started(agent=agent, agent_call_sid="CA1", visit=None, now=T0)
    agent_call_ended(agent=agent, agent_call_sid="CA1", queue=queue, now=T0)

    agent_choose_status(agent=agent, status=AgentStatus.AVAILABLE, now=T0 + timedelta(seconds=20))

    assert intervals(agent)[-2:] == [
        ("wrap-up", T0, T0 + timedelta(seconds=20)),
        ("available", T0 + timedelta(seconds=20), None),
    ]


def test_the_end_of_an_older_call_does_not_end_the_current_one(agent):
    agent_call_started(agent=agent, agent_call_sid="CA-new", visit=None, now=T0)

    agent_call_ended(agent=agent, agent_call_sid="CA-old", queue=None, now=T0)

    agent.refresh_from_db()
    assert agent.status == AgentStatus.ON_CALL


def test_a_call_ending_while_not_on_call_changes_nothing(agent):
    agent_set_status(agent=agent, status=AgentStatus.BREAK, now=T0)

    agent_call_ended(agent=agent, agent_call_sid="", queue=None, now=T0)

    assert intervals(agent) == [("break", T0, None)]
