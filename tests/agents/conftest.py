"""An agent in the demo queue, and helpers that post the softphone's webhooks as Twilio would."""

import pytest
from django.urls import reverse

from agents.models import Agent, QueueMembership
from queues.models import Queue, QueueMessages
from tests.conftest import call_fields
from tests.factories import AGENT_SID, CALLER_NUMBER, CALLER_SID, QUEUE_SID, queue_url, twiml, verbs
from tests.factories import post_connect as queues_post_connect
from tests.factories import post_dial_action as queues_post_dial_action
from tests.factories import post_wait as queues_post_wait

__all__ = ["QUEUE_SID", "queue_url", "twiml", "verbs"]  # still importable from here

CALLER = CALLER_SID
AGENT_LEG = AGENT_SID


@pytest.fixture
def queue(db):
    queue = Queue.objects.create(slug="support", name="サポート")
    QueueMessages.objects.create(
        queue=queue, language="ja-JP", connect_message="オペレータにおつなぎします。"
    )
    return queue


@pytest.fixture
def agent(agent_user, queue):
    agent = Agent.objects.create(user=agent_user, identity="agt")
    QueueMembership.objects.create(agent=agent, queue=queue, priority=1)
    return agent


def post_outgoing(twilio, *, to, from_="client:agt", call_sid=AGENT_LEG, **extra):
    fields = call_fields(
        call_sid,
        From=from_,
        Caller=from_,
        To=to,
        CallStatus="ringing",
        Direction="inbound",
        ApplicationSid="AP" + "0" * 32,
        **extra,
    )
    return twilio.post(reverse("twilio-agent-outgoing"), fields)


def post_wait(twilio, queue, *, queue_time=0, call_sid=CALLER, from_=CALLER_NUMBER):
    return queues_post_wait(twilio, queue, queue_time=queue_time, call_sid=call_sid, From=from_)


def post_connect(
    twilio, queue, *, queue_time, call_sid=CALLER, agent_leg=AGENT_LEG, from_=CALLER_NUMBER
):
    return queues_post_connect(
        twilio, queue, queue_time=queue_time, call_sid=call_sid, agent_leg=agent_leg, From=from_
    )


def post_dial_action(
    twilio, queue, *, duration, agent_leg=AGENT_LEG, caller=CALLER, identity="agt"
):
    return queues_post_dial_action(
        twilio, queue, duration=duration, agent_leg=agent_leg, caller=caller, identity=identity
    )


def post_status(
    twilio,
    *,
    call_sid=AGENT_LEG,
    status="completed",
    from_="client:agt",
    to="queue:support",
    sequence=0,
    duration=None,
):
    fields = call_fields(
        call_sid, From=from_, To=to, CallStatus=status, SequenceNumber=str(sequence)
    )
    if duration is not None:
        fields["CallDuration"] = str(duration)
    return twilio.post(reverse("telephony:voice-status"), fields)


def answer_queued_caller(
    twilio,
    queue,
    *,
    wait=42,
    agent_leg=AGENT_LEG,
    caller=CALLER,
    from_=CALLER_NUMBER,
    identity="agt",
):
    """The whole path of a queued caller taken by the softphone, as Twilio requests it."""
    post_wait(twilio, queue, call_sid=caller, from_=from_)
    post_outgoing(twilio, to=f"queue:{queue.slug}", from_=f"client:{identity}", call_sid=agent_leg)
    response = post_connect(
        twilio, queue, queue_time=wait, call_sid=caller, agent_leg=agent_leg, from_=from_
    )
    assert response.status_code == 200, response.content
