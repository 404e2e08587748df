"""Twilio's REST limits: calls created at most TWILIO_REST_CALLS_PER_SECOND over all workers,
and a 429 (error 20429) retried with backoff."""

from datetime import timedelta

import pytest
from django.utils import timezone
from twilio.base.exceptions import TwilioRestException

from routing.clocks import REST_PACER, clock_next_slot
from routing.rest import BACKOFF_SECONDS, with_retry

pytestmark = pytest.mark.django_db


def test_call_slots_are_a_second_apart_across_callers():
    now = timezone.now()
    spacing = timedelta(seconds=1)
    slots = [clock_next_slot(name=REST_PACER, now=now, spacing=spacing) for _ in range(3)]
    assert slots == [now, now + spacing, now + 2 * spacing]
    # Later, with the backlog gone, the next slot is now.
    later = now + timedelta(seconds=10)
    assert clock_next_slot(name=REST_PACER, now=later, spacing=spacing) == later


@pytest.mark.django_db(transaction=True)
def test_callers_in_many_threads_at_once_each_get_their_own_slot():
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers of one row: run with DATABASE_URL=postgres://…")
    now = timezone.now()
    spacing = timedelta(milliseconds=10)

    def take(_):
        try:
            return [clock_next_slot(name=REST_PACER, now=now, spacing=spacing) for _ in range(5)]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        slots = sorted(slot for taken in pool.map(take, range(8)) for slot in taken)

    assert slots == [now + n * spacing for n in range(40)]


def test_a_request_refused_for_rate_is_retried_with_backoff():
    waits = []
    attempts = []

    def request():
        attempts.append(1)
        if len(attempts) < 3:
            raise TwilioRestException(429, "/Calls.json", "Too Many Requests", code=20429)
        return "created"

    assert with_retry(request, sleep=waits.append) == "created"
    assert waits == list(BACKOFF_SECONDS[:2])


def test_other_refusals_are_not_retried():
    def request():
        raise TwilioRestException(400, "/Calls.json", "bad", code=21201)

    with pytest.raises(TwilioRestException):
        with_retry(request, sleep=lambda s: pytest.fail("no wait"))


def test_a_ring_refused_for_rate_is_placed_after_the_backoff(
    twilio, rest, support, django_user_model, monkeypatch
):
    from routing import rest as rest_module
    from routing.models import Offer

    from .helpers import caller_waits, ready_agent, work

    monkeypatch.setattr(rest_module, "BACKOFF_SECONDS", (0, 0))
    ready_agent(django_user_model, "agent1", support)
    rest.refuse_for_rate = 1
    from tests.factories import new_sid

    caller_waits(twilio, support, new_sid())
    work()

    assert len(rest.rings()) == 2  # refused once, then placed
    assert Offer.objects.get().agent_call_sid
