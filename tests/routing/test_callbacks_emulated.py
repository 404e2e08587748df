"""Callbacks through the local Twilio in process (virtual clock): a caller on the demo line
presses 1 for the queue, 1 for a callback and 1 to confirm their number, hangs up; agent1 is
rung, accepts, the customer's phone rings and answers — or does not, and is called again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from emulator import Caller
from queues.models import Queue, QueueResult, QueueVisit
from routing.models import Callback, CallbackStatus, Offer, OfferOutcome
from routing.services import routing_dispatch
from tests.factories import DEMO_NUMBER

from . import test_end_to_end
from .test_end_to_end import ready, run

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu  # the local Twilio in process, its REST client set

CUSTOMER = "+819011112222"


@pytest.fixture
def quick_callbacks(demo):
    Queue.objects.filter(slug="support").update(
        callback_after_seconds=30, callback_retry_seconds=30, callback_max_attempts=2
    )


def test_a_caller_requests_a_callback_and_is_called_back_by_agent1(emu, quick_callbacks):
    emu.add_callee(CUSTOMER, Caller(answer_after=4, talk_seconds=25))
    leg = emu.place_call(to=DEMO_NUMBER, from_=CUSTOMER, caller=Caller(digits=["1", "1", "1"]))

    run(emu, 120)

    visit = QueueVisit.objects.get(call__sid=leg.sid)
    assert visit.result == QueueResult.LEAVE
    assert leg.status == "completed"
    callback = Callback.objects.get()
    assert callback.status == CallbackStatus.REQUESTED and callback.number == CUSTOMER
    [truth] = [row for row in emu.ground_truth() if row["call_sid"] == leg.sid]
    assert truth["result"] == "leave"

    ready("agent1")
    emu.add_agent("agent1", answer_after=2)
    run(emu, 60)

    callback.refresh_from_db()
    assert callback.status == CallbackStatus.CONNECTED
    assert Offer.objects.get().outcome == OfferOutcome.ACCEPTED
    assert callback.talk_seconds is not None and callback.talk_seconds >= 20
    assert callback.ended_at is not None
    assert timezone.now()


def test_a_callback_not_answered_is_tried_again(emu, quick_callbacks):
    customer = emu.add_callee(CUSTOMER, Caller(answer="no-answer"))
    emu.place_call(to=DEMO_NUMBER, from_=CUSTOMER, caller=Caller(digits=["1", "1", "1"]))
    run(emu, 120)
    ready("agent1")
    emu.add_agent("agent1", answer_after=2)

    run(emu, 60)
    callback = Callback.objects.get()
    assert callback.attempts == 1 and callback.status == CallbackStatus.REQUESTED
    customer.answer = "answer"
    customer.talk_seconds = 10
    # The app dates by its own clock, not the emulator's: the worker's sweep, after the delay.
    routing_dispatch(now=timezone.now() + timedelta(seconds=31))
    run(emu, 60)

    callback.refresh_from_db()
    assert callback.attempts == 2
    assert callback.status == CallbackStatus.CONNECTED
