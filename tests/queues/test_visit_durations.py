"""Durations come from Twilio's parameters only, and duplicated or reordered Enqueue and Dial
actions land on the same QueueVisit (docs/twilio.md §4, docs/architecture.md §2)."""

import pytest

from queues.models import QueueVisit
from tests.conftest import call_fields
from tests.factories import AGENT_SID, CALLER_SID, QUEUE_SID, twiml

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(twilio, demo):
    """The demo caller pressed 1: the Enqueue's URLs, and one wait request at QueueTime 0."""
    flow = twiml(twilio.post("/twilio/voice/incoming", call_fields(CALLER_SID, To="+815012345678")))
    action = flow.find("Gather").get("action")
    enqueue = twiml(post(twilio, action, CALLER_SID, Digits="1")).find("Enqueue")
    urls = {"wait": enqueue.get("waitUrl"), "exit": enqueue.get("action")}
    urls["connect"] = urls["wait"].removesuffix("/wait") + "/connect"
    urls["dial-action"] = urls["wait"].removesuffix("/wait") + "/dial-action"
    post(twilio, urls["wait"], CALLER_SID, QueueTime="0", QueuePosition="1", QueueSid=QUEUE_SID)
    # agent1 takes the caller from the softphone: its leg exists before the connect URL runs.
    dial = twiml(post(twilio, "http://testserver/twilio/agent/outgoing", AGENT_SID)).find("Dial")
    assert dial.find("Queue").get("url") == urls["connect"]
    assert dial.get("action") == urls["dial-action"]
    return urls


def post(twilio, url, call_sid, **fields):
    path = url.removeprefix("http://testserver")
    data = call_fields(call_sid, CallStatus="in-progress", **fields)
    if call_sid == AGENT_SID:
        data.update(From="client:agent1", To="queue:support")
    signature = twilio.validator.compute_signature(url, data)
    return twilio.client.post(path, data, HTTP_X_TWILIO_SIGNATURE=signature)


def exit_(twilio, urls, result, queue_time):
    return post(twilio, urls["exit"], CALLER_SID, QueueResult=result, QueueSid=QUEUE_SID,
                QueueTime=str(queue_time))  # fmt: skip


def connect(twilio, urls, queue_time):
    return post(twilio, urls["connect"], CALLER_SID, QueueSid=QUEUE_SID,
                QueueTime=str(queue_time), DequeingCallSid=AGENT_SID)  # fmt: skip


def dial_action(twilio, urls, duration):
    return post(twilio, urls["dial-action"], AGENT_SID, DialCallStatus="completed",
                DialCallSid=CALLER_SID, DialCallDuration=str(duration), QueueSid=QUEUE_SID,
                QueueTime="40")  # fmt: skip


def the_visit():
    visit = QueueVisit.objects.get()
    return (visit.result, visit.wait_seconds, visit.talk_seconds, visit.agent_identity)


def test_an_answered_visit_takes_wait_and_talk_from_twilio(twilio, enqueued):
    connect(twilio, enqueued, 40)
    dial_action(twilio, enqueued, 185)
    root = twiml(exit_(twilio, enqueued, "bridged", 40))

    assert list(root) == []
    assert the_visit() == ("bridged", 40, 185, "agent1")


def test_duplicated_actions_change_nothing(twilio, enqueued):
    connect(twilio, enqueued, 40)
    connect(twilio, enqueued, 41)
    dial_action(twilio, enqueued, 185)
    dial_action(twilio, enqueued, 999)
    exit_(twilio, enqueued, "bridged", 40)
    exit_(twilio, enqueued, "bridged", 40)

    assert the_visit() == ("bridged", 40, 185, "agent1")


@pytest.mark.parametrize(
    "order",
    [
        ("exit", "dial", "connect"),
        ("dial", "exit", "connect"),
        ("dial", "connect", "exit"),
        ("exit", "connect", "dial"),
    ],
)
def test_reordered_actions_give_the_same_visit(twilio, enqueued, order):
    steps = {
        "exit": lambda: exit_(twilio, enqueued, "bridged", 40),
        "dial": lambda: dial_action(twilio, enqueued, 185),
        "connect": lambda: connect(twilio, enqueued, 40),
    }
    for name in order:
        response = steps[name]()
        assert response.status_code == 200, (name, response.content)

    assert the_visit() == ("bridged", 40, 185, "agent1")


def test_an_abandon_takes_its_wait_from_queue_time_not_the_clock(twilio, enqueued):
    exit_(twilio, enqueued, "hangup", 1234)
    exit_(twilio, enqueued, "hangup", 1234)

    assert the_visit() == ("hangup", 1234, None, "")


def test_the_status_callback_after_an_abandon_never_reopens_the_visit(twilio, enqueued):
    exit_(twilio, enqueued, "hangup", 17)
    twilio.post(
        "/twilio/voice/status",
        call_fields(CALLER_SID, CallStatus="completed", CallDuration="60", SequenceNumber="0"),
    )
    post(twilio, enqueued["wait"], CALLER_SID, QueueTime="3", QueuePosition="1")

    visits = list(QueueVisit.objects.values_list("result", "wait_seconds"))
    assert visits[0] == ("hangup", 17)


def test_an_enqueue_action_after_the_queue_step_was_removed_still_answers_twiml(twilio, enqueued):
    from ivr.models import Flow, Step
    from ivr.services import flow_touch

    flow = Flow.objects.get(name="新サービス")
    step = Step.objects.get(flow=flow, name="support-queue")
    step.kind = Step.Kind.HANGUP
    step.save()
    flow_touch(flow=flow)

    root = twiml(exit_(twilio, enqueued, "hangup", 21))

    assert list(root) == []
    assert the_visit() == ("hangup", 21, None, "")
