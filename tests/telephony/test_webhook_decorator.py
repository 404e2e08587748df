"""The raw request is kept on every path through @twilio_webhook."""

import xml.etree.ElementTree as ET

import pytest

from telephony.models import Call, WebhookEvent
from tests.conftest import call_fields
from tests.factories import OWN_INSERT

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.telephony.urls_vectors")]


def test_it_rejects_a_missing_signature_with_403_and_keeps_the_attempt(client):
    response = client.post("/myapp.php", call_fields(Digits="1"))

    assert response.status_code == 403
    event = WebhookEvent.objects.get()
    assert event.outcome == WebhookEvent.Outcome.FORGED
    assert event.error == "missing X-Twilio-Signature"
    assert event.fields["Digits"] == "1"
    assert not Call.objects.exists()  # nothing executed


def test_it_rejects_a_bad_signature_with_403(twilio):
    response = twilio.post("/myapp.php", call_fields(), signature="bm90IGEgc2lnbmF0dXJl")

    assert response.status_code == 403
    assert WebhookEvent.objects.get().error == "X-Twilio-Signature does not match"


def test_it_refuses_get_with_405_and_keeps_the_attempt(client):
    response = client.get("/myapp.php", {"CallSid": "CA1"})

    assert response.status_code == 405
    event = WebhookEvent.objects.get()
    assert event.outcome == WebhookEvent.Outcome.METHOD
    assert event.fields == {"CallSid": "CA1"}


def test_it_answers_400_with_the_reason_when_callsid_is_missing(twilio):
    fields = call_fields()
    del fields["CallSid"]

    response = twilio.post("/myapp.php", fields)

    assert response.status_code == 400
    assert "CallSid" in response.content.decode()
    event = WebhookEvent.objects.get()
    assert event.outcome == WebhookEvent.Outcome.INVALID
    assert event.fields["From"] == "+819012345678"


def test_it_answers_400_for_a_malformed_field_and_rolls_back(twilio):
    response = twilio.post("/strict", call_fields(Digits="abc"))

    assert response.status_code == 400
    assert response.content.decode() == "field Digits must be digits"
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.INVALID
    assert not Call.objects.exists()


def test_it_answers_400_for_an_unknown_call_status(twilio):
    response = twilio.post("/myapp.php", call_fields(CallStatus="exploded"))

    assert response.status_code == 400
    assert "CallStatus" in response.content.decode()


def test_it_stores_the_event_and_the_leg_with_the_effect(twilio):
    response = twilio.post("/myapp.php", call_fields(Digits="42"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert ET.fromstring(response.content).find("Say").text == "42"
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.call_sid, event.path) == (
        WebhookEvent.Outcome.PROCESSED,
        "CA" + "1" * 32,
        "/myapp.php",
    )
    call = Call.objects.get()
    assert (call.from_number, call.to_number, call.status) == (
        "+819012345678",
        "+815012345678",
        "ringing",
    )


def test_a_failing_handler_keeps_the_event_marked_failed_and_apologises(twilio):
    response = twilio.post("/explode", call_fields())

    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert [child.tag for child in root] == ["Say", "Say", "Hangup"]
    event = WebhookEvent.objects.get()
    assert event.outcome == WebhookEvent.Outcome.FAILED
    assert "handler bug" in event.error
    assert event.fields["CallSid"] == "CA" + "1" * 32
    # The handler's effect (and the leg upsert in its transaction) was rolled back.
    assert not Call.objects.exists()


def test_a_webhook_costs_a_bounded_number_of_queries(twilio, django_assert_num_queries):
    twilio.post("/myapp.php", call_fields())

    # SAVEPOINT, the call upsert (one INSERT … ON CONFLICT) with the event (its own INSERT on
    # SQLite), RELEASE
    with django_assert_num_queries(3 + OWN_INSERT):
        twilio.post("/myapp.php", call_fields(CallStatus="in-progress"))
