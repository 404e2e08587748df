"""Every step kind rendered through signed requests to the flow's webhooks."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from ivr.models import CallPathEntry, Voicemail
from tests.conftest import call_fields
from tests.factories import office_hours_flow, twiml, verbs

from .conftest import import_flow

pytestmark = pytest.mark.django_db

NUMBER = "+815011110000"


def url(name, flow, step_name, query=""):
    step = flow.steps.get(name=step_name)
    return reverse(f"ivr:{name}", kwargs={"flow_id": flow.id, "step_id": step.id}) + query


def incoming(twilio, **extra):
    return twiml(twilio.post("/twilio/voice/incoming", call_fields(To=NUMBER, **extra)))


def test_a_say_step_speaks_in_the_flow_language_and_voice_then_chains(twilio, db):
    import_flow(
        [
            {"name": "hello", "kind": "say", "text": "Hello.", "next_step": "music"},
            {"name": "music", "kind": "say", "audio_url": "https://example.com/a.mp3"},
        ],
        voice="Polly.Joanna",
        number=NUMBER,
    )

    root = incoming(twilio)

    assert verbs(root) == ["Say", "Play", "Hangup"]
    say = root.find("Say")
    assert (say.text, say.get("language"), say.get("voice")) == ("Hello.", "en-US", "Polly.Joanna")
    assert root.find("Play").text == "https://example.com/a.mp3"
    assert list(CallPathEntry.objects.values_list("step_name", flat=True)) == ["hello", "music"]


def test_a_loop_of_say_steps_ends_the_call_instead_of_spinning(twilio, db):
    import_flow(
        [
            {"name": "a", "kind": "say", "text": "A", "next_step": "b"},
            {"name": "b", "kind": "say", "text": "B", "next_step": "a"},
        ],
        number=NUMBER,
    )

    root = incoming(twilio)

    assert verbs(root) == ["Say", "Say", "Hangup"]


def test_a_menu_with_a_hash_key_does_not_use_hash_as_the_finish_key(twilio, db):
    import_flow(
        [
            {
                "name": "menu",
                "kind": "menu",
                "text": "Press hash.",
                "options": [{"key": "#", "target": "bye"}],
            },
            {"name": "bye", "kind": "hangup", "text": ""},
        ],
        number=NUMBER,
    )

    gather = incoming(twilio).find("Gather")

    assert gather.get("finishOnKey") == ""
    assert gather.get("timeout") == "5"


def test_a_menu_without_a_silence_step_repeats_then_hangs_up(twilio, db):
    flow = import_flow(
        [
            {
                "name": "menu",
                "kind": "menu",
                "text": "Press 1.",
                "no_input_message": "We did not hear you.",
                "max_retries": 1,
                "options": [{"key": "1", "target": "bye"}],
            },
            {"name": "bye", "kind": "hangup", "text": "Bye."},
        ]
    )

    first = twiml(twilio.post(url("no-input", flow, "menu", "?attempt=0"), call_fields()))
    last = twiml(twilio.post(url("no-input", flow, "menu", "?attempt=1"), call_fields()))

    assert verbs(first) == ["Gather", "Say", "Redirect"]
    assert first.find("Gather/Say").text == "Press 1."
    assert verbs(last) == ["Hangup"]


@pytest.fixture
def hours_flow(db):
    return office_hours_flow(
        number=NUMBER,
        open_text="We are open.",
        closed_text="We are closed.",
        holidays=[{"date": "2026-11-23", "name": "Labour Thanksgiving"}],
    )


@pytest.mark.parametrize(
    ("moment", "heard"),
    [
        (datetime(2026, 11, 30, 1, 0, tzinfo=UTC), "We are open."),  # Monday 10:00 in Tokyo
        (datetime(2026, 11, 30, 10, 0, tzinfo=UTC), "We are closed."),  # Monday 19:00
        (datetime(2026, 11, 29, 1, 0, tzinfo=UTC), "We are closed."),  # Sunday
        (datetime(2026, 11, 23, 1, 0, tzinfo=UTC), "We are closed."),  # a Monday holiday
    ],
)
def test_an_hours_step_branches_on_the_schedule_in_its_time_zone(
    twilio, hours_flow, moment, heard, monkeypatch
):
    monkeypatch.setattr(timezone, "now", lambda: moment)  # the webhook's received-at clock

    root = incoming(twilio)

    assert root.find("Say").text == heard


def test_an_answer_that_read_the_clock_is_not_kept_for_the_next_call(
    twilio, hours_flow, monkeypatch
):
    """Answers are kept per configuration only when they depend on nothing else; an hours step
    is decided again at each call, in the same process and configuration."""
    for n, (moment, heard) in enumerate(
        [
            (datetime(2026, 11, 30, 1, 0, tzinfo=UTC), "We are open."),
            (datetime(2026, 11, 30, 10, 0, tzinfo=UTC), "We are closed."),
            (datetime(2026, 11, 30, 2, 0, tzinfo=UTC), "We are open."),
        ]
    ):
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
        assert incoming(twilio, CallSid=f"CA{n:032d}").find("Say").text == heard


@pytest.fixture
def voicemail_flow(db):
    return import_flow(
        [
            {
                "name": "vm",
                "kind": "voicemail",
                "text": "Leave a message.",
                "max_length": 60,
                "next_step": "thanks",
            },
            {"name": "thanks", "kind": "hangup", "text": "Thank you."},
        ],
        number=NUMBER,
    )


def test_a_voicemail_step_records_with_its_max_length(twilio, voicemail_flow):
    root = incoming(twilio)

    assert verbs(root) == ["Say", "Record", "Redirect"]
    record = root.find("Record")
    assert record.get("maxLength") == "60"
    assert record.get("action").endswith("/voicemail")


def test_the_recording_is_kept_with_the_caller_number(twilio, voicemail_flow):
    fields = call_fields(
        From="+819099998888",
        RecordingUrl="https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1",
        RecordingSid="RE1",
        RecordingDuration="14",
        Digits="#",
    )

    root = twiml(twilio.post(url("voicemail", voicemail_flow, "vm"), fields))
    twilio.post(url("voicemail", voicemail_flow, "vm"), fields)  # Twilio retried

    assert root.find("Say").text == "Thank you."
    voicemail = Voicemail.objects.get()
    assert (voicemail.caller, voicemail.duration_seconds) == ("+819099998888", 14)
    assert voicemail.call.sid == fields["CallSid"]


def test_silence_at_a_voicemail_step_keeps_nothing_and_moves_on(twilio, voicemail_flow):
    root = twiml(twilio.post(url("voicemail", voicemail_flow, "vm"), call_fields()))

    assert root.find("Say").text == "Thank you."
    assert not Voicemail.objects.exists()


def test_a_bad_recording_duration_is_rejected(twilio, voicemail_flow):
    fields = call_fields(RecordingUrl="https://example.com/r", RecordingDuration="long")

    response = twilio.post(url("voicemail", voicemail_flow, "vm"), fields)

    assert response.status_code == 400
    assert not Voicemail.objects.exists()


@pytest.fixture
def dial_flow(db):
    return import_flow(
        [
            {
                "name": "dial",
                "kind": "dial",
                "dial_number": "+81355550000",
                "timeout": 20,
                "next_step": "sorry",
            },
            {"name": "sorry", "kind": "hangup", "text": "Nobody answered."},
        ],
        number=NUMBER,
    )


def test_a_dial_step_forwards_with_its_timeout(twilio, dial_flow):
    root = incoming(twilio)

    dial = root.find("Dial")
    assert dial.get("timeout") == "20"
    assert dial.get("action").endswith("/dial-action")
    assert dial.find("Number").text == "+81355550000"


def test_no_answer_at_a_dial_step_continues_at_the_next_step(twilio, dial_flow):
    root = twiml(
        twilio.post(url("dial-action", dial_flow, "dial"), call_fields(DialCallStatus="no-answer"))
    )

    assert root.find("Say").text == "Nobody answered."


def test_an_answered_dial_ends_the_call(twilio, dial_flow):
    root = twiml(
        twilio.post(url("dial-action", dial_flow, "dial"), call_fields(DialCallStatus="completed"))
    )

    assert verbs(root) == ["Hangup"]


def test_a_goto_step_redirects_to_the_other_flow_start(twilio, db):
    other = import_flow([{"name": "welcome", "kind": "say", "text": "Other flow."}], name="Other")
    import_flow([{"name": "jump", "kind": "goto", "goto_flow": "Other"}], number=NUMBER)

    root = incoming(twilio)
    start = reverse("ivr:start", kwargs={"flow_id": other.id})
    followed = twiml(twilio.post(start, call_fields()))

    assert root.find("Redirect").text == f"http://testserver{start}"
    assert followed.find("Say").text == "Other flow."
    assert list(CallPathEntry.objects.values_list("step_name", flat=True)) == ["jump", "welcome"]


def test_a_hangup_step_says_goodbye_and_hangs_up(twilio, db):
    flow = import_flow(
        [
            {"name": "start", "kind": "say", "text": "Hi."},
            {"name": "bye", "kind": "hangup", "text": "Goodbye."},
        ]
    )

    root = twiml(twilio.post(url("step", flow, "bye"), call_fields()))

    assert verbs(root) == ["Say", "Hangup"]
    assert root.find("Say").text == "Goodbye."


def test_a_step_of_another_flow_gets_the_apology(twilio, db):
    flow = import_flow([{"name": "start", "kind": "say", "text": "Hi."}])
    other = import_flow([{"name": "x", "kind": "say", "text": "X"}], name="Other")
    step = other.steps.get()

    path = reverse("ivr:step", kwargs={"flow_id": flow.id, "step_id": step.id})
    root = twiml(twilio.post(path, call_fields()))

    assert verbs(root)[-1] == "Hangup"
    assert not CallPathEntry.objects.exists()
