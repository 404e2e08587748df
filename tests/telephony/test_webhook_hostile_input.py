"""What strangers can send a webhook: huge unsigned bodies, NUL bytes, integers no column holds."""

import json

import pytest
from django.test import Client

from queues.models import Queue
from telephony.models import Call, CallStatusEvent, WebhookEvent
from tests.conftest import call_fields

pytestmark = pytest.mark.django_db

# Every kind of webhook: the leg's own, a queue's (slug in the path), an IVR step's, the
# softphone's.
WEBHOOKS = [
    "/twilio/voice/incoming",
    "/twilio/voice/status",
    "/twilio/agent/outgoing",
    "/twilio/queues/support/wait",
    "/twilio/queues/support/exit",
    "/twilio/queues/support/connect",
    "/twilio/queues/support/dial-action",
    "/twilio/ivr/flows/1/steps/1/gather",
    "/agent/twilio/dial-action",
]
# One stored event, at most this big, however big the request was.
SUMMARY_BYTES = 16_000


@pytest.fixture
def support(db):
    return Queue.objects.create(slug="support", name="Support")


def stored_size(event: WebhookEvent) -> int:
    return len(json.dumps(event.fields)) + len(event.url) + len(event.error) + len(event.path)


def test_an_unsigned_request_of_2_4_mb_is_kept_as_a_bounded_summary(django_assert_num_queries):
    fields = call_fields(Junk="x" * 2_400_000, **{f"F{i}": "y" * 500 for i in range(100)})

    with django_assert_num_queries(1):  # the event insert
        response = Client().post("/twilio/voice/incoming", fields)

    assert response.status_code == 403
    event = WebhookEvent.objects.get()
    assert event.outcome == WebhookEvent.Outcome.FORGED
    assert stored_size(event) < SUMMARY_BYTES
    assert event.call_sid == fields["CallSid"]
    assert event.fields["From"] == "+819012345678"
    assert len(event.fields["Junk"]) == 200
    assert event.error.startswith("missing X-Twilio-Signature (fields cut to a summary;")


def test_a_summary_cuts_long_names_and_repeated_values():
    body = "&".join(["CallSid=CA1", "N" * 5000 + "=1", *["Many=v"] * 50])

    Client().post("/twilio/voice/incoming", body, content_type="application/x-www-form-urlencoded")

    event = WebhookEvent.objects.get()
    assert stored_size(event) < SUMMARY_BYTES
    assert event.fields["N" * 64] == "1"
    assert event.fields["Many"] == ["v"] * 5


def test_a_get_with_a_long_query_is_kept_as_a_bounded_summary():
    response = Client().get("/twilio/voice/incoming", {f"F{i}": "z" * 1000 for i in range(60)})

    assert response.status_code == 405
    event = WebhookEvent.objects.get()
    assert event.outcome == WebhookEvent.Outcome.METHOD
    assert stored_size(event) < SUMMARY_BYTES
    assert len(event.fields) == 30


def test_a_small_unsigned_request_is_kept_whole_without_a_note():
    Client().post("/twilio/voice/incoming", call_fields(Digits="1"))

    event = WebhookEvent.objects.get()
    assert event.fields == call_fields(Digits="1")
    assert event.error == "missing X-Twilio-Signature"


def test_a_signed_request_is_kept_raw_even_when_long(twilio):
    twilio.post("/twilio/voice/incoming", call_fields(Digits="1" * 5000))

    assert WebhookEvent.objects.get().fields["Digits"] == "1" * 5000


@pytest.mark.parametrize("path", WEBHOOKS)
def test_a_nul_byte_in_a_field_is_a_400_with_the_reason_and_is_kept_sanitised(
    twilio, support, path, django_assert_num_queries
):
    fields = call_fields(From="a\x00b", QueueTime="3", QueueResult="hangup")
    with django_assert_num_queries(1):  # the event insert; nothing else runs
        response = twilio.post(path, fields)

    assert response.status_code == 400
    assert response.content.decode() == "field From contains a NUL byte"
    event = WebhookEvent.objects.get()
    assert event.outcome == WebhookEvent.Outcome.INVALID
    assert event.fields["From"] == "a\ufffdb"
    assert event.response_status == 400
    assert not Call.objects.exists()


def test_a_nul_byte_in_a_field_name_is_a_400(twilio):
    response = twilio.post("/twilio/voice/status", call_fields(**{"Caller\x00Name": "x"}))

    assert response.status_code == 400
    assert response.content.decode() == "a field name contains a NUL byte"
    assert WebhookEvent.objects.get().fields["Caller\ufffdName"] == "x"
    assert not CallStatusEvent.objects.exists()


def test_a_nul_byte_in_the_queue_slug_is_a_400_and_is_kept_sanitised(twilio, support):
    response = twilio.post("/twilio/queues/sup%00port/wait", call_fields(QueueTime="3"))

    assert response.status_code == 400
    assert response.content.decode() == "the path contains a NUL byte"
    event = WebhookEvent.objects.get()
    assert event.path == "/twilio/queues/sup\ufffdport/wait"
    assert event.url == "http://testserver/twilio/queues/sup%00port/wait"


def test_a_get_with_a_nul_byte_is_a_405_and_is_kept_sanitised(client):
    response = client.get("/twilio/voice/incoming", {"From": "\x00"})

    assert response.status_code == 405
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.fields) == (WebhookEvent.Outcome.METHOD, {"From": "\ufffd"})


def test_an_unsigned_request_with_a_nul_byte_is_a_403_and_is_kept_sanitised():
    response = Client().post("/twilio/voice/incoming", call_fields(From="\x00"))

    assert response.status_code == 403
    assert WebhookEvent.objects.get().fields["From"] == "\ufffd"


LARGE = str(2**31)


@pytest.mark.parametrize(
    ("path", "field", "extra"),
    [
        ("/twilio/voice/status", "CallDuration", {"CallStatus": "completed"}),
        ("/twilio/voice/status", "RecordingDuration", {"CallStatus": "completed"}),
        ("/twilio/voice/status", "SequenceNumber", {"CallStatus": "completed"}),
        ("/twilio/queues/support/wait", "QueueTime", {"CallStatus": "in-progress"}),
        ("/twilio/queues/support/exit", "QueueTime", {"QueueResult": "hangup"}),
        ("/twilio/queues/support/connect", "QueueTime", {"DequeingCallSid": "CA" + "a" * 32}),
        ("/twilio/queues/support/dial-action", "DialCallDuration", {"DialCallStatus": "completed"}),
    ],
)
@pytest.mark.parametrize("value", [LARGE, "9" * 30])
def test_an_integer_no_column_holds_is_a_400(twilio, support, path, field, extra, value):
    response = twilio.post(path, call_fields(**extra, **{field: value}))

    assert response.status_code == 400
    assert response.content.decode().startswith(f"field {field} must be at most 2147483647")
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.response_status) == (WebhookEvent.Outcome.INVALID, 400)
    assert not Call.objects.exists()


def test_the_largest_integer_a_column_holds_is_accepted(twilio):
    fields = call_fields(CallStatus="completed", CallDuration=str(2**31 - 1), SequenceNumber="0")

    response = twilio.post("/twilio/voice/status", fields)

    assert response.status_code == 204
    assert Call.objects.get().duration_seconds == 2**31 - 1
