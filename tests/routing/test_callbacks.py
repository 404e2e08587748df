"""Callbacks (virtual hold) through the real webhooks and the worker loop, Twilio's REST API
played by the stand-in: offered in the wait loop, accepted with the caller's number or a keyed
one, served in the caller's place, placed, connected, retried, failed, and within hours."""

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agents.models import Agent, AgentStatus
from ivr.models import BusinessHours, OpeningRange
from queues.models import QueueResult, QueueVisit
from queues.selectors import OVERFLOWED
from reports.metrics import DateRange, agent_report, local_today, queue_report, wallboard
from routing.models import Callback, CallbackHours, CallbackStatus, Offer, OfferOutcome
from routing.services import routing_dispatch
from tests.conftest import call_fields
from tests.factories import QUEUE_SID, new_sid, post_wait, queue_url, twiml

from .helpers import caller_waits, offer_url, ready_agent, work

pytestmark = pytest.mark.django_db

CALLER = "+819011112222"
DIALLED = "+815012345678"  # the number the caller dialled: the callback's caller ID


@pytest.fixture
def cb_queue(support):
    """The demo queue, offering a callback after 60 s, retrying after 30 s, 2 attempts."""
    support.callback_after_seconds = 60
    support.callback_retry_seconds = 30
    support.callback_max_attempts = 2
    support.hold_music_url = ""
    support.save()
    return support


def gather_of(root):
    return root.find("Gather")


def callback_key(twilio, queue, call_sid, digits, **extra):
    fields = call_fields(call_sid, CallStatus="in-progress", Digits=digits, **extra)
    return twilio.post(queue_url("callback-key", queue), fields)


def callback_number(twilio, queue, call_sid, digits, **extra):
    fields = call_fields(call_sid, CallStatus="in-progress", Digits=digits, **extra)
    return twilio.post(queue_url("callback-number", queue), fields)


def caller_leaves(twilio, queue, call_sid, *, queue_time, url=None):
    """The Enqueue action after <Leave/>: QueueResult=leave; its TwiML is heard next."""
    fields = call_fields(
        call_sid,
        CallStatus="in-progress",
        QueueResult="leave",
        QueueSid=QUEUE_SID,
        QueueTime=str(queue_time),
    )
    return twilio.post(url or queue_url("exit", queue), fields)


def request_callback(twilio, queue, call_sid, *, queue_time=60, number=CALLER, keyed=None):
    """A caller waits, is offered a callback, presses 1, confirms (1) or keys a number, and
    leaves the queue."""
    # The first wait request after ``queue_time`` s (the caller entered that long ago).
    root = twiml(post_wait(twilio, queue, call_sid=call_sid, queue_time=queue_time, From=number))
    assert gather_of(root) is not None
    twiml(callback_key(twilio, queue, call_sid, "1", From=number))
    root = twiml(callback_number(twilio, queue, call_sid, keyed or "1", From=number))
    assert [child.tag for child in root] == ["Leave"]
    return twiml(caller_leaves(twilio, queue, call_sid, queue_time=queue_time + 5))


def agent_leg(offer, status):
    return call_fields(
        offer.agent_call_sid,
        From=DIALLED,
        To=f"client:{offer.agent.identity}",
        CallStatus=status,
        Direction="outbound-api",
    )


def callback_url(name, callback):
    return reverse(f"routing:callback-{name}", kwargs={"callback_id": callback.pk})


def customer_leg(callback, status, **extra):
    return call_fields(
        callback.customer_call_sid,
        From=DIALLED,
        To=callback.number,
        CallStatus=status,
        Direction="outbound-api",
        **extra,
    )


def agent_accepts(twilio, offer):
    root = twiml(twilio.post(offer_url("answer", offer), agent_leg(offer, "in-progress")))
    work()  # dial_callback: the customer is called
    return root


# --- The caller's side ------------------------------------------------------------------------


def test_no_callback_is_offered_before_the_queues_seconds(twilio, rest, cb_queue):
    caller = new_sid()
    root = twiml(caller_waits(twilio, cb_queue, caller, queue_time=0))
    assert gather_of(root) is None


def test_a_callback_is_offered_after_the_queues_seconds_of_waiting(twilio, rest, cb_queue):
    caller = new_sid()
    caller_waits(twilio, cb_queue, caller, queue_time=0)
    root = twiml(post_wait(twilio, cb_queue, call_sid=caller, queue_time=60, From=CALLER))

    gather = gather_of(root)
    assert gather.get("numDigits") == "1"
    assert gather.get("action").endswith("/twilio/queues/support/callback-key")
    said = [say.text for say in gather.findall("Say")]
    assert cb_queue.messages.get().callback_offer_message in said


def test_the_offer_is_made_on_entry_when_the_estimated_wait_is_long(twilio, rest, support):
    support.callback_estimated_wait_minutes = 2
    support.save()
    # Recent answered waits of ten minutes: the estimate is well past two minutes.
    earlier = new_sid()
    caller_waits(twilio, support, earlier, queue_time=0)
    QueueVisit.objects.update(
        answered_at=timezone.now(), wait_seconds=600, result=QueueResult.BRIDGED
    )

    root = twiml(caller_waits(twilio, support, new_sid(), queue_time=0))

    assert gather_of(root) is not None


def test_accepting_with_the_caller_id_leaves_the_queue_and_hears_the_confirmation(
    twilio, rest, cb_queue
):
    caller = new_sid()
    caller_waits(twilio, cb_queue, caller, queue_time=0)
    twiml(post_wait(twilio, cb_queue, call_sid=caller, queue_time=60, From=CALLER))

    root = twiml(callback_key(twilio, cb_queue, caller, "1", From=CALLER))
    gather = gather_of(root)
    assert gather.get("finishOnKey") == "#"
    assert "8 1 9 0 1 1 1 1 2 2 2 2" in gather.find("Say").text

    root = twiml(callback_number(twilio, cb_queue, caller, "1", From=CALLER))
    assert [child.tag for child in root] == ["Leave"]
    callback = Callback.objects.get()
    assert callback.number == CALLER
    assert callback.status == CallbackStatus.REQUESTED

    root = twiml(caller_leaves(twilio, cb_queue, caller, queue_time=65))
    assert [child.tag for child in root] == ["Say", "Hangup"]
    visit = QueueVisit.objects.get()
    assert visit.result == QueueResult.LEAVE
    assert QueueVisit.objects.filter(OVERFLOWED).count() == 1
    assert callback.entered_at == visit.entered_at


def test_a_keyed_number_is_called_back_instead(twilio, rest, cb_queue):
    request_callback(twilio, cb_queue, new_sid(), keyed="080-1111-2222#".replace("-", ""))

    assert Callback.objects.get().number == "+818011112222"


def test_an_invalid_keyed_number_asks_again_and_requests_nothing(twilio, rest, cb_queue):
    caller = new_sid()
    caller_waits(twilio, cb_queue, caller, queue_time=0)
    post_wait(twilio, cb_queue, call_sid=caller, queue_time=60, From=CALLER)

    root = twiml(callback_number(twilio, cb_queue, caller, "12#", From=CALLER))

    gather = gather_of(root)
    assert gather is not None
    assert gather.find("Say").text == cb_queue.messages.get().callback_invalid_message
    assert not Callback.objects.exists()
    assert QueueVisit.objects.get().result == QueueResult.WAITING


def test_a_withheld_number_must_key_one(twilio, rest, cb_queue):
    caller = new_sid()
    caller_waits(twilio, cb_queue, caller, queue_time=0, number="anonymous")
    post_wait(twilio, cb_queue, call_sid=caller, queue_time=60, From="anonymous")

    root = twiml(callback_key(twilio, cb_queue, caller, "1", From="anonymous"))
    assert gather_of(root).find("Say").text == cb_queue.messages.get().callback_invalid_message

    root = twiml(callback_number(twilio, cb_queue, caller, "1", From="anonymous"))
    assert not Callback.objects.exists()

    root = twiml(callback_number(twilio, cb_queue, caller, "09033334444#", From="anonymous"))
    assert [child.tag for child in root] == ["Leave"]
    assert Callback.objects.get().number == "+819033334444"


def test_declining_keeps_waiting_in_place(twilio, rest, cb_queue, django_user_model):
    caller = new_sid()
    caller_waits(twilio, cb_queue, caller, queue_time=0)
    post_wait(twilio, cb_queue, call_sid=caller, queue_time=60, From=CALLER)

    root = twiml(callback_key(twilio, cb_queue, caller, "2", From=CALLER))

    assert list(root) == []  # the wait document ends: Twilio asks the wait URL again
    visit = QueueVisit.objects.get()
    assert visit.result == QueueResult.WAITING and visit.callback_requested_at is None
    ready_agent(django_user_model, "agent1", cb_queue)
    work()
    assert Offer.objects.get(outcome=OfferOutcome.OPEN).visit == visit


def test_the_flow_does_not_continue_to_its_overflow_step_after_a_callback(twilio, rest, cb_queue):
    from tests.factories import import_flow

    flow = import_flow(
        [
            {"name": "queue", "kind": "queue", "queue": "support", "next_step": "sorry"},
            {"name": "sorry", "kind": "hangup", "text": "Sorry, nobody is free."},
        ]
    )
    step = flow.steps.get(name="queue")
    exit_url = reverse("ivr:queue-exit", kwargs={"flow_id": flow.id, "step_id": step.id})
    caller = new_sid()
    caller_waits(twilio, cb_queue, caller, queue_time=0)
    post_wait(twilio, cb_queue, call_sid=caller, queue_time=60, From=CALLER)
    callback_key(twilio, cb_queue, caller, "1", From=CALLER)
    callback_number(twilio, cb_queue, caller, "1", From=CALLER)

    root = twiml(caller_leaves(twilio, cb_queue, caller, queue_time=66, url=exit_url))

    heard = [say.text for say in root.findall("Say")]
    assert "Sorry, nobody is free." not in heard
    assert [child.tag for child in root][-1] == "Hangup"
    assert heard == [
        cb_queue.messages.get().callback_confirmed_message.format(number="8 1 9 0 1 1 1 1 2 2 2 2")
    ]


# --- The place in line -------------------------------------------------------------------------


def test_a_callback_keeps_its_place_before_a_later_caller(
    twilio, rest, cb_queue, django_user_model
):
    early = new_sid()
    request_callback(twilio, cb_queue, early, queue_time=120)
    later = new_sid()
    caller_waits(twilio, cb_queue, later, queue_time=30, number="+819055556666")
    work()

    ready_agent(django_user_model, "agent1", cb_queue)
    work()

    offer = Offer.objects.get(outcome=OfferOutcome.OPEN)
    assert offer.callback == Callback.objects.get()
    assert offer.visit is None
    [ring] = rest.rings()
    assert ring["To"] == "client:agent1"
    assert ring["From"] == DIALLED


def test_an_earlier_caller_still_comes_before_a_later_callback(
    twilio, rest, cb_queue, django_user_model
):
    earlier = new_sid()
    caller_waits(twilio, cb_queue, earlier, queue_time=300, number="+819055556666")
    request_callback(twilio, cb_queue, new_sid(), queue_time=120)
    work()

    ready_agent(django_user_model, "agent1", cb_queue)
    work()

    assert Offer.objects.get(outcome=OfferOutcome.OPEN).visit.call.sid == earlier


def test_the_desk_shows_a_callback_ring(twilio, rest, cb_queue, django_user_model, client):
    request_callback(twilio, cb_queue, new_sid())
    agent = ready_agent(django_user_model, "agent1", cb_queue)
    work()
    offer = Offer.objects.get()
    client.force_login(agent.user)

    body = client.get("/agent/offer", {"call_sid": offer.agent_call_sid}).json()["offer"]

    assert body["kind"] == "callback"
    assert body["phone_number"] == CALLER
    assert body["queue"]["slug"] == "support"
    assert body["waiting_since"] == Callback.objects.get().entered_at.isoformat()


# --- Placing it ---------------------------------------------------------------------------------


def test_a_callback_is_placed_and_connected(twilio, rest, cb_queue, django_user_model):
    request_callback(twilio, cb_queue, new_sid())
    agent = ready_agent(django_user_model, "agent1", cb_queue)
    work()
    offer = Offer.objects.get()

    root = agent_accepts(twilio, offer)

    callback = Callback.objects.get()
    assert root.find("Dial/Conference").text == callback.conference_name
    assert callback.status == CallbackStatus.DIALLING and callback.attempts == 1
    assert Agent.objects.get(pk=agent.pk).status == AgentStatus.ON_CALL
    ring, dial = rest.rings()
    assert dial["To"] == CALLER and dial["From"] == DIALLED
    assert dial["Url"].endswith(callback_url("answer", callback))
    assert callback.customer_call_sid

    root = twiml(
        twilio.post(callback_url("answer", callback), customer_leg(callback, "in-progress"))
    )
    assert root.find("Dial/Conference").text == callback.conference_name
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.CONNECTED

    twilio.post(
        callback_url("agent-done", callback),
        agent_leg(offer, "completed") | {"DialCallDuration": "95"},
    )
    callback.refresh_from_db()
    assert callback.talk_seconds == 95
    assert Agent.objects.get(pk=agent.pk).status == AgentStatus.AVAILABLE
    assert Offer.objects.get().outcome == OfferOutcome.ACCEPTED


def test_no_answer_is_retried_after_the_delay_then_connects(
    twilio, rest, cb_queue, django_user_model
):
    request_callback(twilio, cb_queue, new_sid())
    agent = ready_agent(django_user_model, "agent1", cb_queue)
    work()
    agent_accepts(twilio, Offer.objects.get())
    callback = Callback.objects.get()

    twilio.post(
        callback_url("status", callback),
        customer_leg(callback, "no-answer", SequenceNumber="1"),
    )
    work()

    callback.refresh_from_db()
    assert callback.status == CallbackStatus.REQUESTED
    assert callback.last_error == "no-answer"
    # The agent hears that the customer did not answer; when their leg has ended, they are free.
    offer = Offer.objects.get()
    twilio.post(offer_url("status", offer), agent_leg(offer, "completed") | {"SequenceNumber": "4"})
    assert Agent.objects.get(pk=agent.pk).status == AgentStatus.AVAILABLE
    told = [
        path
        for method, path, data in rest.requests
        if data.get("Url", "").endswith("/callbacks/not-reached")
    ]
    assert told  # the agent's leg was moved to "the customer did not answer", then hangs up
    assert not Offer.objects.filter(outcome=OfferOutcome.OPEN).exists()  # not before the delay

    routing_dispatch(now=timezone.now() + timedelta(seconds=31))
    work()
    second = Offer.objects.get(outcome=OfferOutcome.OPEN)
    assert second.callback == callback
    agent_accepts(twilio, second)
    callback.refresh_from_db()
    assert callback.attempts == 2
    twilio.post(callback_url("answer", callback), customer_leg(callback, "in-progress"))
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.CONNECTED


def test_after_the_last_attempt_the_callback_fails_and_is_listed(
    twilio, rest, cb_queue, django_user_model, sup_client
):
    cb_queue.callback_max_attempts = 1
    cb_queue.save()
    request_callback(twilio, cb_queue, new_sid())
    ready_agent(django_user_model, "agent1", cb_queue)
    work()
    agent_accepts(twilio, Offer.objects.get())
    callback = Callback.objects.get()

    twilio.post(callback_url("status", callback), customer_leg(callback, "busy"))
    work()

    callback.refresh_from_db()
    assert callback.status == CallbackStatus.FAILED
    routing_dispatch(now=timezone.now() + timedelta(hours=1))
    assert Offer.objects.count() == 1
    page = sup_client.get("/admin/routing/callback/", {"pending": "failed"})
    assert page.status_code == 200
    assert CALLER in page.content.decode()


def test_a_dialling_callback_twilio_never_reports_on_is_swept(
    twilio, rest, cb_queue, django_user_model
):
    from routing.services import routing_sweep

    request_callback(twilio, cb_queue, new_sid())
    ready_agent(django_user_model, "agent1", cb_queue)
    work()
    agent_accepts(twilio, Offer.objects.get())

    routing_sweep(now=timezone.now() + timedelta(minutes=3))

    callback = Callback.objects.get()
    assert callback.status == CallbackStatus.REQUESTED
    assert callback.last_error == "no word from Twilio"


# --- Hours -------------------------------------------------------------------------------------


def closed_hours(queue):
    hours = BusinessHours.objects.create(name="Never", time_zone="Asia/Tokyo")
    CallbackHours.objects.create(queue=queue, hours=hours)
    return hours


def test_outside_callback_hours_no_callback_is_offered(twilio, rest, cb_queue):
    closed_hours(cb_queue)
    caller = new_sid()
    caller_waits(twilio, cb_queue, caller, queue_time=0)

    root = twiml(post_wait(twilio, cb_queue, call_sid=caller, queue_time=60, From=CALLER))

    assert gather_of(root) is None


def test_outside_callback_hours_a_callback_waits_for_the_opening(
    twilio, rest, cb_queue, django_user_model
):
    request_callback(twilio, cb_queue, new_sid())
    hours = closed_hours(cb_queue)
    ready_agent(django_user_model, "agent1", cb_queue)
    work()
    assert not Offer.objects.exists()

    for weekday in range(7):
        OpeningRange.objects.create(
            schedule=hours, weekday=weekday, opens=time(0, 0), closes=time(0, 0)
        )
    routing_dispatch()
    work()

    assert Offer.objects.get().callback == Callback.objects.get()


# --- Reports -----------------------------------------------------------------------------------


def test_reports_and_wallboard_count_callbacks(twilio, rest, cb_queue, django_user_model):
    started = timezone.now()
    request_callback(twilio, cb_queue, new_sid())
    request_callback(twilio, cb_queue, new_sid(), number="+819077778888")
    agent = ready_agent(django_user_model, "agent1", cb_queue)
    work()
    offer = Offer.objects.get(outcome=OfferOutcome.OPEN)
    agent_accepts(twilio, offer)
    callback = Callback.objects.get(status=CallbackStatus.DIALLING)
    twilio.post(callback_url("answer", callback), customer_leg(callback, "in-progress"))
    twilio.post(
        callback_url("agent-done", callback),
        agent_leg(offer, "completed") | {"DialCallDuration": "40"},
    )
    now = timezone.now()

    [board] = wallboard(now=now, queues=[cb_queue])
    assert board["callbacks_waiting"] == 1
    # From the day the test began to the day it is now (it may run across midnight).
    today = DateRange(local_today(started), local_today(now))
    [row] = queue_report(date_range=today, interval="total", queues=[cb_queue], now=now)
    assert row["callbacks_requested"] == 2
    assert row["callbacks_connected"] == 1
    assert row["callbacks_failed"] == 0
    assert row["overflowed"] == 2
    [agent_row] = [r for r in agent_report(date_range=today, now=now) if r["agent"] == "agent1"]
    assert agent_row["answered"] == 1
    assert agent_row["talk_seconds"] == 40
    assert agent_row["offers"] >= 1
    assert agent.pk


def test_callback_hours_added_later_are_heard_at_the_next_pass(twilio, rest, cb_queue):
    never = BusinessHours.objects.create(name="Never", time_zone="Asia/Tokyo")
    caller = new_sid()
    caller_waits(twilio, cb_queue, caller, queue_time=0)
    open_root = twiml(post_wait(twilio, cb_queue, call_sid=caller, queue_time=60, From=CALLER))
    assert gather_of(open_root) is not None  # no hours: a callback is offered (and kept)

    # Every web process reads the new callback hours at its next webhook.
    CallbackHours.objects.create(queue=cb_queue, hours=never)
    root = twiml(post_wait(twilio, cb_queue, call_sid=caller, queue_time=120, From=CALLER))

    assert gather_of(root) is None
