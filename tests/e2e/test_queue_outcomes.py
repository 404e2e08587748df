"""Each way out of the queue is recorded as the emulator saw it happen."""

import pytest

from queues.models import QueueVisit
from telephony.models import Call

from .queue_urls import (
    NUMBER,
    OVERFLOW_MESSAGE,
    queue_emulator,
    sorted_truth,
    visits_as_ground_truth,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.e2e.queue_urls")]


def test_an_abandon_is_recorded_with_its_wait(settings, support):
    from emulator import Caller

    emu = queue_emulator(settings)
    call = emu.place_call(to=NUMBER, from_="+819011112222", caller=Caller(patience=25), at=0)
    emu.run()

    visit = QueueVisit.objects.get()
    assert (visit.call.sid, visit.result) == (call.sid, "hangup")
    assert 24 <= visit.wait_seconds <= 26
    assert visit.answered_at is None
    assert visits_as_ground_truth() == sorted_truth(emu.ground_truth())


def test_a_bridged_call_has_its_wait_agent_leg_and_talk(settings, support):
    from emulator import Caller

    emu = queue_emulator(settings)
    call = emu.place_call(to=NUMBER, from_="+819011112222", caller=Caller(), at=0)
    emu.add_agent("agent1")
    emu.agent_dial("agent1", to="queue:support", at=30, talk_seconds=60)
    emu.run()

    visit = QueueVisit.objects.get()
    agent_leg = Call.objects.get(from_number="client:agent1")
    assert (visit.call.sid, visit.result, visit.agent_identity) == (call.sid, "bridged", "agent1")
    assert visit.agent_call_sid == agent_leg.sid
    assert 29 <= visit.wait_seconds <= 31
    assert visit.talk_seconds == 60
    assert call.heard()[-1] == "オペレータにおつなぎします。"
    assert visits_as_ground_truth() == sorted_truth(emu.ground_truth())


def test_at_the_max_wait_the_caller_leaves_for_the_overflow_step(settings, support):
    from emulator import Caller

    support.max_wait_seconds = 40
    # Silence is cut at the max wait; a hold-music track plays to its end (Twilio cannot stop it).
    support.hold_music_url = ""
    support.save()
    emu = queue_emulator(settings)
    call = emu.place_call(to=NUMBER, from_="+819011112222", caller=Caller(), at=0)
    emu.run()

    visit = QueueVisit.objects.get()
    assert visit.result == "leave"
    # Left at the first wait request past 40 s; an announcement already started is finished.
    assert 40 <= visit.wait_seconds <= 50
    assert call.heard()[-1] == OVERFLOW_MESSAGE
    assert visits_as_ground_truth() == sorted_truth(emu.ground_truth())


def test_a_full_queue_says_so_and_overflows(settings, support):
    from emulator import Caller
    from queues.services import queue_save
    from telephony.client import set_http_client

    emu = queue_emulator(settings)
    set_http_client(emu.rest_http_client())
    try:
        support.max_size = 1
        queue_save(queue=support)  # the emulator's Twilio now knows the queue holds one caller
    finally:
        set_http_client(None)
    first = emu.place_call(to=NUMBER, from_="+819000000001", caller=Caller(patience=60), at=0)
    second = emu.place_call(to=NUMBER, from_="+819000000002", caller=Caller(patience=60), at=10)
    emu.run()

    assert first.heard()[-1] != OVERFLOW_MESSAGE
    assert second.heard()[-2:] == [
        "ただいま大変混み合っております。しばらくしてからおかけ直しください。",
        OVERFLOW_MESSAGE,
    ]
    refused = QueueVisit.objects.get(call__sid=second.sid)
    assert (refused.result, refused.wait_seconds) == ("queue-full", None)
    assert visits_as_ground_truth() == sorted_truth(emu.ground_truth())


def test_a_twilio_error_through_the_rest_stand_in_rolls_the_rename_back(settings, support):
    from queues.services import QueueSyncError, queue_save
    from telephony.client import set_http_client

    emu = queue_emulator(settings)
    set_http_client(emu.rest_http_client())
    try:
        queue_save(queue=support)
        support.slug = "x" * 64
        support.max_size = 6000  # over Twilio's limit: refused
        with pytest.raises(QueueSyncError):
            queue_save(queue=support)
    finally:
        set_http_client(None)
    support.refresh_from_db()
    assert (support.slug, support.max_size) == ("support", 100)
