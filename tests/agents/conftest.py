"""An agent in the demo queue, and helpers that post the softphone's webhooks as Twilio would."""

import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from agents.models import Agent, QueueMembership
from queues.models import Queue, QueueMessages
from tests.conftest import call_fields

CALLER = "CA" + "c" * 32
AGENT_LEG = "CA" + "a" * 32
QUEUE_SID = "QU" + "0" * 32
CALLER_NUMBER = "+819011112222"


@pytest.fixture(autouse=True)
def _japan_allowed(request):
    """The allow-list's default (+81, from a data migration), back after other modules'
    live-server tests flushed the database."""
    if request.node.get_closest_marker("django_db") or "db" in request.fixturenames:
        ensure_default_dial_prefix()


def ensure_default_dial_prefix():
    from agents.models import DialPrefix

    DialPrefix.objects.get_or_create(prefix="+81", defaults={"description": "Japan"})


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


def twiml(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content)


def verbs(root):
    return [el.tag for el in root]


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


def queue_url(name, queue):
    return reverse(f"queues:{name}", kwargs={"slug": queue.slug})


def post_wait(twilio, queue, *, queue_time=0, call_sid=CALLER, from_=CALLER_NUMBER):
    fields = call_fields(
        call_sid,
        From=from_,
        CallStatus="in-progress",
        QueueSid=QUEUE_SID,
        QueueTime=str(queue_time),
        QueuePosition="1",
        AvgQueueTime="0",
        CurrentQueueSize="1",
        MaxQueueSize="100",
    )
    return twilio.post(queue_url("wait", queue), fields)


def post_connect(
    twilio, queue, *, queue_time, call_sid=CALLER, agent_leg=AGENT_LEG, from_=CALLER_NUMBER
):
    fields = call_fields(
        call_sid,
        From=from_,
        CallStatus="in-progress",
        QueueSid=QUEUE_SID,
        QueueTime=str(queue_time),
        DequeingCallSid=agent_leg,
    )
    return twilio.post(queue_url("connect", queue), fields)


def post_dial_action(
    twilio, queue, *, duration, agent_leg=AGENT_LEG, caller=CALLER, identity="agt"
):
    fields = call_fields(
        agent_leg,
        From=f"client:{identity}",
        To="queue:support",
        CallStatus="in-progress",
        DialCallStatus="completed",
        DialCallSid=caller,
        QueueSid=QUEUE_SID,
        DialCallDuration=str(duration),
    )
    return twilio.post(queue_url("dial-action", queue), fields)


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
