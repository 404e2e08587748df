"""In autocommit (``atomic=False``) the raw event is stored by the leg's upsert statement before
the view runs (docs/architecture.md §7): every guarantee of the event log still holds."""

import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from telephony.models import Call, WebhookEvent
from tests.conftest import call_fields

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.telephony.urls_vectors"),
]


def test_the_event_is_stored_with_the_leg_as_processed(twilio):
    with CaptureQueriesContext(connection) as queries:
        response = twilio.post("/autocommit/echo", call_fields(Digits="42"))

    assert response.status_code == 200
    assert ET.fromstring(response.content).find("Say").text == "42"
    sql = [query["sql"] for query in queries.captured_queries]
    assert len(sql) == (1 if connection.vendor == "postgresql" else 2), sql
    assert not any(statement.startswith("UPDATE") for statement in sql)
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.response_status, event.error) == ("processed", 200, "")
    assert event.fields["Digits"] == "42"
    assert event.call_sid == Call.objects.get().sid


def test_a_malformed_request_writes_nothing_but_its_event(twilio):
    response = twilio.post("/autocommit/echo", call_fields(Digits="abc"))

    assert response.status_code == 400
    assert response.content.decode() == "field Digits must be digits"
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.response_status) == ("invalid", 400)
    assert event.error == "field Digits must be digits"
    assert event.fields["Digits"] == "abc"
    assert not Call.objects.exists()


def test_a_malformed_call_sid_writes_nothing_but_its_event(twilio):
    response = twilio.post("/autocommit/echo", call_fields(CallSid="CA-not-a-sid", Digits="1"))

    assert response.status_code == 400
    assert WebhookEvent.objects.get().outcome == "invalid"
    assert not Call.objects.exists()


def test_the_event_stays_marked_failed_when_the_view_raises_after_the_statement(twilio):
    response = twilio.post("/autocommit/explode", call_fields())

    assert response.status_code == 200
    assert [child.tag for child in ET.fromstring(response.content)] == ["Say", "Say", "Hangup"]
    event = WebhookEvent.objects.get()  # the one stored with the leg, not a second one
    assert (event.outcome, event.response_status) == ("failed", 200)
    assert "handler bug" in event.error
    assert event.fields["CallSid"] == "CA" + "1" * 32
    # Autocommit: the leg and what the view wrote before it raised stay.
    assert Call.objects.get().caller_name == "changed"


def test_an_answer_other_than_the_usual_one_is_written_on_the_event(twilio):
    response = twilio.post("/autocommit/no-content", call_fields())

    assert response.status_code == 204
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.response_status) == ("processed", 204)


def test_a_forged_request_is_refused_and_stored_as_before(twilio):
    response = twilio.post(
        "/autocommit/echo", call_fields(Digits="1"), signature="bm90IHNpZ25lZA=="
    )

    assert response.status_code == 403
    event = WebhookEvent.objects.get()
    assert event.outcome == "forged"
    assert not Call.objects.exists()


def test_a_final_status_still_runs_in_one_transaction_with_its_event(twilio):
    with CaptureQueriesContext(connection) as queries:
        response = twilio.post("/autocommit/echo", call_fields(Digits="7", CallStatus="completed"))

    assert response.status_code == 200
    sql = [query["sql"] for query in queries.captured_queries]
    assert sql[0].startswith("BEGIN") and sql[-1] == "COMMIT"
    assert "telephony_webhookevent" in sql[-2]  # stored after the view, as before
    assert WebhookEvent.objects.get().outcome == "processed"
