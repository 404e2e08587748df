"""A recording URL is a link on three pages: only an https URL is stored or rendered."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from ivr.models import Voicemail
from telephony.models import Call
from tests.conftest import call_fields

pytestmark = pytest.mark.django_db

EVIL = "javascript:alert(document.cookie)//https://api.twilio.com/"
SID = "CA" + "5" * 32


def test_a_status_callback_with_a_javascript_recording_url_stores_no_link(twilio):
    fields = call_fields(
        SID, CallStatus="completed", CallDuration="30", RecordingUrl=EVIL, SequenceNumber="1"
    )

    twilio.post("/twilio/voice/status", fields)

    assert Call.objects.get(sid=SID).recording_url == ""


def test_a_plain_http_recording_url_is_not_stored_either(twilio):
    fields = call_fields(
        SID,
        CallStatus="completed",
        CallDuration="30",
        RecordingUrl="http://api.twilio.com/rec",
        SequenceNumber="1",
    )

    twilio.post("/twilio/voice/status", fields)

    assert Call.objects.get(sid=SID).recording_url == ""


@pytest.fixture
def stored_evil(db):
    """Rows written before URLs were checked."""
    call = Call.objects.create(
        sid=SID,
        from_number="+819011112222",
        recording_url=EVIL,
        started_at=datetime(2026, 11, 2, 1, 0, tzinfo=UTC),
    )
    voicemail = Voicemail.objects.create(
        call=call,
        caller="+819011112222",
        recording_url=EVIL,
        received_at=datetime(2026, 11, 2, 1, 0, tzinfo=UTC),
    )
    return call, voicemail


def test_the_voicemail_page_renders_no_javascript_link(client, supervisor, stored_evil):
    client.force_login(supervisor)

    body = client.get(reverse("voicemails")).content.decode()

    assert "+819011112222" in body
    assert "javascript:" not in body


def test_the_voicemail_admin_renders_no_javascript_link(client, supervisor, stored_evil):
    client.force_login(supervisor)

    body = client.get("/admin/ivr/voicemail/").content.decode()

    assert "+819011112222" in body
    assert 'href="javascript:' not in body


def test_the_call_detail_renders_no_javascript_link(client, analyst, stored_evil):
    client.force_login(analyst)

    response = client.get(reverse("reports:call-detail", args=[SID]))

    assert response.status_code == 200
    assert "javascript:" not in response.content.decode()
