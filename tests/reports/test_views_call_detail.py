"""The timeline of one call."""

import pytest
from django.urls import reverse

from queues.models import QueueResult
from telephony.models import CallStatusEvent, WebhookEvent
from tests.factories import make_visit, tokyo

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(support):
    visit = make_visit(
        support,
        tokyo(2026, 11, 2, 10),
        QueueResult.BRIDGED,
        7,
        answered=True,
        agent="agent1",
        talk=42,
    )
    call = visit.call
    call.recording_url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
    call.save(update_fields=["recording_url"])
    WebhookEvent.objects.create(
        received_at=tokyo(2026, 11, 2, 9, 59, 50),
        path="/twilio/voice/incoming",
        url="http://x/twilio/voice/incoming",
        method="POST",
        call_sid=call.sid,
        fields={"Digits": "1", "CallStatus": "ringing"},
        outcome=WebhookEvent.Outcome.PROCESSED,
        response_status=200,
    )
    CallStatusEvent.objects.create(
        call=call,
        sequence_number=0,
        status="completed",
        timestamp=tokyo(2026, 11, 2, 10, 1),
        duration_seconds=70,
    )
    return visit


def test_it_shows_webhooks_queue_agent_and_recording_in_order(client, analyst, visit):
    client.force_login(analyst)
    response = client.get(reverse("reports:call-detail", args=[visit.call.sid]))
    assert response.status_code == 200
    kinds = [entry["kind"] for entry in response.context["events"]]
    assert kinds == ["webhook", "enqueued", "answered", "left", "status"]
    html = response.content.decode()
    assert "Digits=1" in html and "agent1" in html
    # The leg's recording is said to exist; Twilio's address never reaches the page (the app
    # plays it, for those allowed: an analyst is not by default).
    assert "Only supervisors may play recordings." in html and "Recordings/RE1" not in html


def test_an_unknown_call_is_404(client, analyst, db):
    client.force_login(analyst)
    assert client.get(reverse("reports:call-detail", args=["CA" + "0" * 32])).status_code == 404


@pytest.mark.parametrize("persona", ["agent_user", "outsider"])
def test_it_refuses_people_without_a_report_role(client, request, persona, visit):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("reports:call-detail", args=[visit.call.sid])).status_code == 403
