import xml.etree.ElementTree as ET

import pytest

from telephony.models import Call, WebhookEvent
from tests.conftest import call_fields

pytestmark = pytest.mark.django_db

URL = "/twilio/voice/incoming"


def test_an_unknown_number_gets_an_apology_and_hangup(twilio):
    response = twilio.post(URL, call_fields(To="+81300000000"))

    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    assert root[-1].tag == "Hangup"
    assert root[0].tag == "Say"
    assert Call.objects.get().to_number == "+81300000000"
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.PROCESSED


def test_a_forged_incoming_call_gets_403_and_runs_nothing(client):
    response = client.post(URL, call_fields(), HTTP_X_TWILIO_SIGNATURE="forged")

    assert response.status_code == 403
    assert not Call.objects.exists()
