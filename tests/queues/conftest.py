"""A queue like the demo's and helpers that post its webhooks as Twilio would."""

import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from queues.models import Queue, QueueMessages
from tests.conftest import call_fields

CALLER = "CA" + "c" * 32
AGENT_LEG = "CA" + "a" * 32
QUEUE_SID = "QU" + "0" * 32
POSITION_JA = "お待たせしております。現在、{position}番目にお待ちです。"


@pytest.fixture
def queue(db):
    queue = Queue.objects.create(
        slug="support", name="サポート", announce_every_seconds=30, max_wait_seconds=600
    )
    QueueMessages.objects.create(
        queue=queue,
        language="ja-JP",
        voice="Polly.Mizuki",
        position_message=POSITION_JA,
        position_with_wait_message="現在、{position}番目です。あと約{minutes}分でおつなぎします。",
        connect_message="オペレータにおつなぎします。",
        queue_full_message="ただいま大変混み合っております。",
        recording_notice="この通話は録音されます。",
    )
    return queue


def url(name, queue):
    return reverse(f"queues:{name}", kwargs={"slug": queue.slug})


def twiml(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content)


def verbs(root):
    return [(el.tag, (el.text or "").strip(), dict(el.attrib)) for el in root]


def post_wait(twilio, queue, *, queue_time, position=1, call_sid=CALLER, **extra):
    fields = call_fields(
        call_sid,
        CallStatus="in-progress",
        QueueSid=QUEUE_SID,
        QueueTime=str(queue_time),
        QueuePosition=str(position),
        AvgQueueTime="0",
        CurrentQueueSize=str(position),
        MaxQueueSize="100",
        **extra,
    )
    return twilio.post(url("wait", queue), fields)


def post_exit(twilio, queue, *, result, queue_time=None, call_sid=CALLER):
    fields = call_fields(call_sid, CallStatus="in-progress", QueueResult=result)
    if queue_time is not None:
        fields.update(QueueSid=QUEUE_SID, QueueTime=str(queue_time))
    return twilio.post(url("exit", queue), fields)


def post_connect(twilio, queue, *, queue_time, call_sid=CALLER, agent_leg=AGENT_LEG):
    fields = call_fields(
        call_sid,
        CallStatus="in-progress",
        QueueSid=QUEUE_SID,
        QueueTime=str(queue_time),
        DequeingCallSid=agent_leg,
    )
    return twilio.post(url("connect", queue), fields)


def post_dial_action(
    twilio,
    queue,
    *,
    duration,
    agent_leg=AGENT_LEG,
    caller=CALLER,
    status="completed",
    identity="agent1",
):
    fields = call_fields(
        agent_leg,
        From=f"client:{identity}",
        To="queue:support",
        CallStatus="in-progress",
        DialCallStatus=status,
        DialCallSid=caller,
        QueueSid=QUEUE_SID,
    )
    if duration is not None:
        fields["DialCallDuration"] = str(duration)
    return twilio.post(url("dial-action", queue), fields)


def agent_leg_call(identity="agent1", sid=AGENT_LEG):
    from django.utils import timezone

    from telephony.models import Call

    return Call.objects.create(
        sid=sid,
        from_number=f"client:{identity}",
        to_number="queue:support",
        direction="inbound",
        status="in-progress",
        started_at=timezone.now(),
    )
