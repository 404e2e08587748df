"""Every webhook row of docs/api.md §1: path, method, signature, malformed fields, idempotence."""

import pytest
from django.test import Client

from telephony.models import Call, CallStatusEvent, WebhookEvent
from tests.conftest import call_fields
from tests.factories import CALLER_SID, DEMO_NUMBER, incoming, softphone_fields, twiml, verbs

pytestmark = pytest.mark.django_db

WEBHOOKS = [
    "/twilio/voice/incoming",
    "/twilio/voice/status",
    "/twilio/voice/fallback",
    "/twilio/agent/outgoing",
]
STORED = [path for path in WEBHOOKS if path != "/twilio/voice/fallback"]


@pytest.mark.parametrize("path", WEBHOOKS)
def test_it_answers_405_to_a_get(client, path):
    response = client.get(path, call_fields())

    assert response.status_code == 405
    assert "POST" in response["Allow"]
    assert not Call.objects.exists()


@pytest.mark.parametrize("path", WEBHOOKS)
@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl"])
def test_it_answers_403_to_a_bad_or_missing_signature_and_executes_nothing(path, signature):
    client = Client()
    headers = {} if signature is None else {"HTTP_X_TWILIO_SIGNATURE": signature}
    response = client.post(path, call_fields(CallStatus="completed"), **headers)

    assert response.status_code == 403
    assert not Call.objects.exists()
    assert not CallStatusEvent.objects.exists()
    events = list(WebhookEvent.objects.values_list("outcome", flat=True))
    assert events == ([] if path == "/twilio/voice/fallback" else ["forged"])


@pytest.mark.parametrize("path", WEBHOOKS)
def test_a_signature_for_other_fields_is_refused(twilio, path):
    signature = twilio.validator.compute_signature(f"http://testserver{path}", call_fields())
    response = twilio.post(path, call_fields(To="+819000000000"), signature=signature)

    assert response.status_code == 403


@pytest.mark.parametrize("path", STORED)
def test_a_missing_call_sid_is_a_400_with_a_plain_reason_and_the_request_is_kept(twilio, path):
    fields = call_fields(CallStatus="completed")
    del fields["CallSid"]
    response = twilio.post(path, fields)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "CallSid" in response.content.decode()
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.response_status, event.path) == ("invalid", 400, path)
    assert event.fields["From"] == "+819012345678"
    assert not Call.objects.exists()


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/twilio/voice/status", "CallStatus", "exploded"),
        ("/twilio/voice/status", "SequenceNumber", "two"),
        ("/twilio/voice/status", "CallDuration", "-3"),
        ("/twilio/voice/status", "Timestamp", "yesterday"),
        ("/twilio/voice/incoming", "CallStatus", "exploded"),
        ("/twilio/voice/incoming", "CallSid", "CA" + "1" * 40),
        ("/twilio/voice/status", "CallSid", "not-a-call-sid"),
        ("/twilio/agent/outgoing", "CallSid", "CA" + "1" * 40),
        ("/twilio/voice/incoming", "From", "+81" + "9" * 200),
        ("/twilio/agent/outgoing", "From", "client:" + "a" * 200),
        ("/twilio/voice/status", "AccountSid", "AC" + "0" * 40),
        ("/twilio/voice/status", "ParentCallSid", "CA" + "0" * 40),
    ],
)
def test_a_malformed_field_is_a_400_naming_it_and_the_request_is_kept(twilio, path, field, value):
    response = twilio.post(path, call_fields(**{"CallStatus": "completed", field: value}))

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert field in response.content.decode()
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.response_status) == ("invalid", 400)
    assert event.fields[field] == value
    assert not Call.objects.exists()


@pytest.mark.parametrize(("path", "field"), [("/twilio/voice/status", "CallStatus")])
def test_a_missing_status_is_a_400(twilio, path, field):
    fields = call_fields()
    del fields[field]
    response = twilio.post(path, fields)

    assert response.status_code == 400
    assert field in response.content.decode()
    assert WebhookEvent.objects.get().outcome == "invalid"


def test_an_incoming_call_without_to_is_a_400(twilio):
    fields = call_fields()
    del fields["To"]
    response = twilio.post("/twilio/voice/incoming", fields)

    assert response.status_code == 400
    assert "To" in response.content.decode()
    assert WebhookEvent.objects.get().outcome == "invalid"


def test_an_unknown_number_hears_a_short_apology_then_hangup(twilio, demo):
    root = twiml(incoming(twilio, to="+815099999999"))

    assert verbs(root)[-1] == "Hangup"
    assert set(verbs(root)[:-1]) == {"Say"}
    assert all(0 < len(say.text) <= 120 for say in root.findall("Say"))
    assert WebhookEvent.objects.get().outcome == "processed"


def test_the_demo_number_answers_its_flow(twilio, demo):
    root = twiml(incoming(twilio, to=DEMO_NUMBER))

    assert verbs(root)[0] == "Gather"


# --- /twilio/voice/status ---------------------------------------------------------------------


def status(twilio, sequence, call_status, **extra):
    return twilio.post(
        "/twilio/voice/status",
        call_fields(
            CALLER_SID,
            CallStatus=call_status,
            SequenceNumber=str(sequence),
            CallbackSource="call-progress-events",
            Timestamp=f"Mon, 02 Nov 2026 00:00:{sequence:02d} +0000",
            **extra,
        ),
    )


def test_a_status_callback_is_answered_204_with_an_empty_body(twilio):
    response = status(twilio, 0, "completed", CallDuration="42")

    assert response.status_code == 204
    assert response.content == b""
    call = Call.objects.get()
    assert (call.status, call.duration_seconds) == ("completed", 42)


def test_a_repeated_status_callback_changes_nothing(twilio):
    status(twilio, 0, "ringing")
    status(twilio, 1, "completed", CallDuration="42")
    again = status(twilio, 1, "completed", CallDuration="99")

    assert again.status_code == 204
    assert CallStatusEvent.objects.count() == 2
    call = Call.objects.get()
    assert (call.status, call.duration_seconds) == ("completed", 42)


def test_status_callbacks_out_of_order_never_move_the_status_backwards(twilio):
    status(twilio, 2, "completed", CallDuration="30")
    status(twilio, 1, "in-progress")
    status(twilio, 0, "ringing")

    call = Call.objects.get()
    assert (call.status, call.duration_seconds) == ("completed", 30)
    assert sorted(CallStatusEvent.objects.values_list("sequence_number", flat=True)) == [0, 1, 2]


def test_the_duration_is_twilios_call_duration_not_the_server_clock(twilio):
    status(twilio, 0, "in-progress")
    status(twilio, 1, "completed", CallDuration="7")

    assert Call.objects.get().duration_seconds == 7


# --- /twilio/voice/fallback -------------------------------------------------------------------


@pytest.mark.django_db(False)
def test_the_fallback_answers_with_no_database_at_all(twilio, django_assert_num_queries):
    # No database access is allowed in this test: any query would raise.
    with django_assert_num_queries(0):
        response = twilio.post(
            "/twilio/voice/fallback",
            call_fields(ErrorCode="11200", ErrorUrl="http://testserver/twilio/voice/incoming"),
        )

    root = twiml(response)
    assert verbs(root)[-1] == "Hangup"
    assert "Say" in verbs(root)


# --- /twilio/agent/outgoing field handling ---------------------------------------------------


def test_the_softphone_request_fields_are_accepted(twilio, demo):
    response = twilio.post(
        "/twilio/agent/outgoing",
        softphone_fields("agent1", to="queue:support", CustomerId="42", Note="日本語"),
    )

    assert verbs(twiml(response)) == ["Dial"]
    call = Call.objects.get()
    assert (call.from_number, call.to_number, call.direction) == (
        "client:agent1",
        "queue:support",
        "inbound",
    )


# --- the URLs the app generates: same rules ---------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fields", "named"),
    [
        ("/twilio/queues/support/wait", {"QueuePosition": "1"}, "QueueTime"),
        ("/twilio/queues/support/wait", {"QueueTime": "soon"}, "QueueTime"),
        ("/twilio/queues/support/wait", {"QueueTime": "3", "QueuePosition": "x"}, "QueuePosition"),
        ("/twilio/queues/support/connect", {"DequeingCallSid": "CA" + "a" * 32}, "QueueTime"),
        ("/twilio/queues/support/exit", {"QueueTime": "3"}, "QueueResult"),
        ("/twilio/queues/support/exit", {"QueueResult": "teleported"}, "QueueResult"),
        ("/twilio/queues/support/dial-action", {"DialCallDuration": "long"}, "DialCallDuration"),
        ("/twilio/queues/support/wait", {"QueueTime": "1", "QueueSid": "QU" + "0" * 40},
         "QueueSid"),
        ("/twilio/queues/support/connect", {"QueueTime": "1", "DequeingCallSid": "CA" + "1" * 40},
         "DequeingCallSid"),
        ("/twilio/queues/support/exit", {"QueueResult": "hangup", "QueueSid": "QU" + "0" * 40},
         "QueueSid"),
    ],
)  # fmt: skip
def test_generated_webhooks_answer_400_to_missing_or_malformed_fields(
    twilio, demo, path, fields, named
):
    response = twilio.post(path, call_fields(CallStatus="in-progress", **fields))

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert named in response.content.decode()
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.path) == ("invalid", path)


@pytest.mark.parametrize(
    "path",
    [
        "/twilio/queues/support/wait",
        "/twilio/queues/support/exit",
        "/twilio/queues/support/connect",
        "/twilio/queues/support/dial-action",
        "/agent/twilio/dial-action",
        "/twilio/ivr/flows/1/start",
    ],
)
def test_generated_webhooks_refuse_get_and_bad_signatures(twilio, demo, path):
    assert twilio.client.get(path).status_code == 405
    response = twilio.post(path, call_fields(QueueTime="1"), signature="bad")
    assert response.status_code == 403
    assert not Call.objects.exists()


@pytest.mark.parametrize("zone", ["+0000", "-0000", "GMT", ""])
def test_the_status_timestamp_is_read_as_utc(twilio, zone):
    from datetime import UTC, datetime

    status(twilio, 0, "ringing")
    twilio.post(
        "/twilio/voice/status",
        call_fields(
            CALLER_SID,
            CallStatus="completed",
            SequenceNumber="1",
            Timestamp=f"Mon, 02 Nov 2026 09:30:00 {zone}".strip(),
        ),
    )

    call = Call.objects.get()
    assert call.ended_at == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    event = CallStatusEvent.objects.get(sequence_number=1)
    assert event.timestamp == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
