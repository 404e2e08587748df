"""A voicemail whose RecordingUrl is not https is refused (400) and not kept."""

import pytest
from django.urls import reverse

from ivr.models import Voicemail
from tests.conftest import call_fields

from .conftest import import_flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def flow(db):
    return import_flow(
        [
            {"name": "vm", "kind": "voicemail", "text": "Leave a message.", "next_step": "bye"},
            {"name": "bye", "kind": "hangup", "text": "Thank you."},
        ],
        number="+815011110000",
    )


def voicemail_url(flow):
    step = flow.steps.get(name="vm")
    return reverse("ivr:voicemail", kwargs={"flow_id": flow.id, "step_id": step.id})


@pytest.mark.parametrize(
    "recording_url",
    ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "http://x.example/r"],
)
def test_a_recording_url_that_is_not_https_is_refused(twilio, flow, recording_url):
    response = twilio.post(voicemail_url(flow), call_fields(RecordingUrl=recording_url, Digits="#"))

    assert response.status_code == 400
    assert not Voicemail.objects.exists()
