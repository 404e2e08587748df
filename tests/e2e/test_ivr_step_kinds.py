"""Flows with every kind of step, called through the Twilio emulator against the real views."""

from datetime import UTC, datetime

import pytest

from emulator import Caller
from ivr.models import CallPathEntry, Voicemail
from queues.models import Queue, QueueMessages, QueueVisit
from tests.factories import emulator, import_flow

pytestmark = pytest.mark.django_db

NUMBER = "+815044445555"
CALLER = "+819055556666"
FORWARD_TO = "+81355550000"
# Monday 2 November 2026, 10:00 in Tokyo.
MONDAY_MORNING = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def flow(db):
    queue = Queue.objects.create(slug="sales", name="Sales", max_wait_seconds=20)
    QueueMessages.objects.create(
        queue=queue, language="en-US", position_message="You are {position}."
    )
    import_flow(
        [
            {
                "name": "hours",
                "kind": "hours",
                "schedule": "Office",
                "open_step": "menu",
                "closed_step": "closed",
            },
            {
                "name": "menu",
                "kind": "menu",
                "text": "Sales 1, a person 2, message 3.",
                "options": [
                    {"key": "1", "target": "sales"},
                    {"key": "2", "target": "dial"},
                    {"key": "3", "target": "voicemail"},
                ],
            },
            {"name": "sales", "kind": "queue", "queue": "sales", "next_step": "voicemail"},
            {
                "name": "dial",
                "kind": "dial",
                "dial_number": FORWARD_TO,
                "timeout": 15,
                "next_step": "voicemail",
            },
            {
                "name": "voicemail",
                "kind": "voicemail",
                "text": "Leave a message.",
                "max_length": 30,
                "next_step": "bye",
            },
            {"name": "bye", "kind": "hangup", "text": "Thank you. Goodbye."},
            {"name": "closed", "kind": "say", "text": "We are closed."},
        ],
        name="Every kind",
        voice="Polly.Joanna",
        number=NUMBER,
        schedules=[
            {
                "name": "Office",
                "time_zone": "Asia/Tokyo",
                "ranges": [{"weekday": d, "opens": "09:00", "closes": "18:00"} for d in range(5)],
                "holidays": [],
            }
        ],
    )


@pytest.fixture
def emu(monkeypatch):
    from django.utils import timezone

    # The app dates webhooks with its own clock; keep it on the emulator's Monday morning.
    monkeypatch.setattr(timezone, "now", lambda: MONDAY_MORNING)
    return emulator(number=NUMBER, fallback=False, agent_url=None, start=MONDAY_MORNING)


def path():
    return [(e.step_name, e.outcome) for e in CallPathEntry.objects.order_by("at", "id")]


def test_a_message_left_at_a_voicemail_step_is_kept_with_the_caller_number(flow, emu):
    call = emu.place_call(to=NUMBER, from_=CALLER, caller=Caller(digits=["3"], message_seconds=8))
    emu.run()

    assert call.heard() == [
        "Sales 1, a person 2, message 3.",
        "Leave a message.",
        "Thank you. Goodbye.",
    ]
    voicemail = Voicemail.objects.get()
    assert (voicemail.caller, voicemail.duration_seconds) == (CALLER, 8)
    assert voicemail.recording_url == emu.recordings[next(iter(emu.recordings))]["url"]


def test_silence_at_the_voicemail_step_records_nothing_and_moves_on(flow, emu):
    call = emu.place_call(to=NUMBER, from_=CALLER, caller=Caller(digits=["3"], message_seconds=0))
    emu.run()

    assert call.heard()[-1] == "Thank you. Goodbye."
    assert not Voicemail.objects.exists()


def test_an_unanswered_forward_continues_at_the_next_step(flow, emu):
    emu.add_callee(FORWARD_TO, Caller(answer="no-answer"))
    call = emu.place_call(to=NUMBER, from_=CALLER, caller=Caller(digits=["2"], message_seconds=0))
    emu.run()

    assert call.heard()[-2:] == ["Leave a message.", "Thank you. Goodbye."]
    assert [name for name, _ in path()][-3:] == ["dial", "voicemail", "bye"]


def test_an_answered_forward_ends_with_the_conversation(flow, emu):
    emu.add_callee(FORWARD_TO, Caller(answer="answer", answer_after=3, talk_seconds=30))
    call = emu.place_call(to=NUMBER, from_=CALLER, caller=Caller(digits=["2"]))
    emu.run()

    assert call.heard() == ["Sales 1, a person 2, message 3."]
    assert call.status == "completed"


def test_the_max_wait_takes_the_caller_out_of_the_queue_to_the_next_step(flow, emu):
    call = emu.place_call(to=NUMBER, from_=CALLER, caller=Caller(digits=["1"], message_seconds=0))
    emu.run()

    assert QueueVisit.objects.get().result == "leave"
    assert call.heard()[-2:] == ["Leave a message.", "Thank you. Goodbye."]


def test_out_of_hours_the_caller_hears_the_closed_branch(flow, emu, monkeypatch):
    from django.utils import timezone

    sunday = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: sunday)
    call = emu.place_call(to=NUMBER, from_=CALLER)
    emu.run()

    assert call.heard() == ["We are closed."]
    assert path() == [("hours", "entered"), ("closed", "entered")]
