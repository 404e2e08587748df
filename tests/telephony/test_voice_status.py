"""/twilio/voice/status: idempotent per (CallSid, SequenceNumber); status never moves backwards."""

import pytest

from telephony.models import Call, CallStatusEvent, WebhookEvent
from tests.conftest import call_fields
from tests.factories import OWN_INSERT

pytestmark = pytest.mark.django_db

URL = "/twilio/voice/status"
SID = "CA" + "1" * 32


def status(seq, call_status, **extra):
    return call_fields(
        SequenceNumber=str(seq),
        CallStatus=call_status,
        CallbackSource="call-progress-events",
        Timestamp=f"Mon, 02 Nov 2026 01:00:{seq:02d} +0000",
        **extra,
    )


def test_it_answers_204_and_records_the_final_status(twilio):
    response = twilio.post(URL, status(3, "completed", CallDuration="95"))

    assert response.status_code == 204
    call = Call.objects.get(sid=SID)
    assert (call.status, call.duration_seconds) == ("completed", 95)
    assert call.ended_at.isoformat() == "2026-11-02T01:00:03+00:00"


def test_a_duplicated_callback_changes_nothing(twilio):
    twilio.post(URL, status(3, "completed", CallDuration="95"))
    before = Call.objects.values().get(sid=SID)

    response = twilio.post(URL, status(3, "completed", CallDuration="95"))

    assert response.status_code == 204
    after = Call.objects.values().get(sid=SID)
    assert {k: v for k, v in before.items() if k != "updated_at"} == {
        k: v for k, v in after.items() if k != "updated_at"
    }
    assert CallStatusEvent.objects.count() == 1
    assert WebhookEvent.objects.count() == 2  # both requests are kept raw


def test_a_late_earlier_callback_never_moves_the_status_backwards(twilio):
    twilio.post(URL, status(3, "completed", CallDuration="95"))

    twilio.post(URL, status(1, "ringing"))
    twilio.post(URL, status(2, "in-progress"))

    call = Call.objects.get(sid=SID)
    assert call.status == "completed"
    assert call.duration_seconds == 95
    assert list(call.status_events.values_list("sequence_number", "status")) == [
        (1, "ringing"),
        (2, "in-progress"),
        (3, "completed"),
    ]


def test_in_order_callbacks_walk_the_ladder(twilio):
    twilio.post(URL, status(0, "initiated"))
    twilio.post(URL, status(1, "ringing"))
    assert Call.objects.get(sid=SID).status == "ringing"

    twilio.post(URL, status(2, "in-progress"))
    twilio.post(URL, status(3, "no-answer"))

    call = Call.objects.get(sid=SID)
    assert call.status == "no-answer"
    assert call.ended_at is not None


def test_it_keeps_the_recording_of_the_leg(twilio):
    twilio.post(
        URL,
        status(
            3,
            "completed",
            CallDuration="30",
            RecordingSid="RE" + "2" * 32,
            RecordingUrl="https://api.twilio.com/rec/RE22",
            RecordingDuration="28",
        ),
    )

    call = Call.objects.get(sid=SID)
    assert (call.recording_sid, call.recording_duration_seconds) == ("RE" + "2" * 32, 28)


@pytest.mark.parametrize(
    ("field", "value"),
    [("SequenceNumber", "x"), ("CallDuration", "-1"), ("Timestamp", "yesterday")],
)
def test_it_answers_400_for_a_malformed_field(twilio, field, value):
    fields = status(3, "completed", CallDuration="10")
    fields[field] = value

    response = twilio.post(URL, fields)

    assert response.status_code == 400
    assert field in response.content.decode()
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.INVALID
    assert not Call.objects.exists()


def test_it_answers_400_without_a_call_status(twilio):
    fields = status(3, "completed")
    del fields["CallStatus"]

    response = twilio.post(URL, fields)

    assert response.status_code == 400
    assert "CallStatus" in response.content.decode()


def test_a_status_callback_costs_a_bounded_number_of_queries(twilio, django_assert_num_queries):
    twilio.post(URL, status(1, "ringing"))

    # A final status runs in a transaction (SAVEPOINT … RELEASE here): the call upsert (one
    # INSERT … ON CONFLICT) with the webhook event and the status event (INSERT … ON CONFLICT
    # DO NOTHING), one INSERT each on SQLite. No bridge lookup: an inbound leg routing never put
    # in a bridge (Call.bridged).
    with django_assert_num_queries(3 + 2 * OWN_INSERT):
        twilio.post(URL, status(2, "completed", CallDuration="10"))
