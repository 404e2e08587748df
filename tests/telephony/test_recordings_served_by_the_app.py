"""Voicemails and the recordings Twilio reports on a leg itself (``<Record>``, ``<Dial record>``)
are played through the app like routing's recordings: it fetches the WAV from Twilio with the
account's credentials (here a stand-in media host serving what the local Twilio recorded) and
passes it on to those allowed; no page shows Twilio's media address."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from agents.models import Agent
from emulator import Caller
from emulator.recordings import recording_wav
from ivr.models import Voicemail
from telephony.client import set_http_client
from telephony.models import Call, WebhookEvent
from tests.factories import emulator, import_flow
from tests.routing.test_recording_playback import media_host

pytestmark = pytest.mark.django_db

NUMBER = "+815011110000"
CALLER = "+819011112222"


@pytest.fixture
def left(db):
    """A caller leaves a six-second message on a voicemail step (the local Twilio in process)."""
    import_flow(
        [
            {"name": "vm", "kind": "voicemail", "text": "Leave a message.", "next_step": "bye"},
            {"name": "bye", "kind": "hangup", "text": "Thank you."},
        ],
        number=NUMBER,
    )
    emu = emulator(number=NUMBER)
    set_http_client(emu.rest_http_client())
    leg = emu.place_call(to=NUMBER, from_=CALLER, caller=Caller(message_seconds=6, record_key="#"))
    emu.run(until=60)
    yield emu, leg, Voicemail.objects.get()
    set_http_client(None)


def _listened(client, url, emu, settings):
    with media_host(emu, settings.TWILIO_AUTH_TOKEN) as (base, seen):
        settings.TWILIO_API_URL = base
        response = client.get(url)
        audio = b"".join(response.streaming_content) if response.status_code == 200 else b""
    return response, audio, seen


@pytest.mark.parametrize("persona", ["agent_user", "supervisor"])
def test_agents_and_supervisors_play_a_voicemail_through_the_app(
    left, client, request, persona, settings
):
    emu, leg, voicemail = left
    user = request.getfixturevalue(persona)
    if persona == "agent_user":
        Agent.objects.create(user=user, identity="agt")
    client.force_login(user)

    response, audio, seen = _listened(client, f"/voicemails/{voicemail.pk}/audio", emu, settings)

    assert response.status_code == 200 and response["Content-Type"] == "audio/x-wav"
    assert response["Cache-Control"] == "private, no-store"
    assert audio == recording_wav(emu.recordings[voicemail.recording_sid])
    assert seen == [
        f"/2010-04-01/Accounts/{emu.account_sid}/Recordings/{voicemail.recording_sid}.wav"
    ]


@pytest.mark.parametrize("persona", ["analyst", "outsider"])
def test_others_may_not_play_a_voicemail(left, client, request, persona):
    emu, leg, voicemail = left
    client.force_login(request.getfixturevalue(persona))

    assert client.get(f"/voicemails/{voicemail.pk}/audio").status_code == 403


def test_a_voicemail_twilio_no_longer_has_is_not_found(left, client, supervisor, settings):
    emu, leg, voicemail = left
    del emu.recordings[voicemail.recording_sid]
    client.force_login(supervisor)

    response, _audio, seen = _listened(client, f"/voicemails/{voicemail.pk}/audio", emu, settings)
    assert response.status_code == 404 and len(seen) == 1


def test_the_credentials_go_to_no_address_but_twilios(client, supervisor, settings):
    settings.TWILIO_API_URL = ""
    voicemail = Voicemail.objects.create(
        caller=CALLER,
        recording_url="https://media.example.com/2010-04-01/Recordings/RE1",
        received_at="2026-11-02T01:00:00Z",
    )
    client.force_login(supervisor)

    assert client.get(f"/voicemails/{voicemail.pk}/audio").status_code == 404


def test_the_voicemail_pages_link_the_app_never_twilio(left, client, supervisor):
    emu, leg, voicemail = left
    client.force_login(supervisor)

    for url in (
        "/voicemails/",
        "/admin/ivr/voicemail/",
        f"/admin/ivr/voicemail/{voicemail.pk}/change/",
    ):
        page = client.get(url).content.decode()
        assert f"/voicemails/{voicemail.pk}/audio" in page, url
        assert voicemail.recording_url not in page and "api.twilio.com" not in page, url


def test_the_call_page_plays_the_legs_recording_through_the_app(left, client, supervisor, settings):
    emu, leg, voicemail = left
    call = Call.objects.get(sid=leg.sid)
    assert call.recording_url == voicemail.recording_url
    client.force_login(supervisor)

    page = client.get(f"/reports/calls/{leg.sid}/").content.decode()
    assert f'src="/reports/calls/{leg.sid}/recording"' in page
    assert call.recording_url not in page and "api.twilio.com" not in page

    response, audio, _seen = _listened(client, f"/reports/calls/{leg.sid}/recording", emu, settings)
    assert response.status_code == 200
    assert audio == recording_wav(emu.recordings[call.recording_sid])


def test_an_analyst_sees_the_call_but_plays_only_when_granted(left, client, analyst, settings):
    emu, leg, voicemail = left
    client.force_login(analyst)

    page = client.get(f"/reports/calls/{leg.sid}/").content.decode()
    assert "/recording" not in page.split('id="call-summary"')[1].split("</dl>")[0]
    assert client.get(f"/reports/calls/{leg.sid}/recording").status_code == 403

    analyst.user_permissions.add(Permission.objects.get(codename="play_recording"))
    response, audio, _seen = _listened(client, f"/reports/calls/{leg.sid}/recording", emu, settings)
    assert response.status_code == 200 and audio[:4] == b"RIFF"


def test_the_admin_shows_no_recording_address_of_a_call_or_its_webhooks(left, client, supervisor):
    emu, leg, voicemail = left
    client.force_login(supervisor)
    event = WebhookEvent.objects.filter(fields__has_key="RecordingUrl").first()
    assert event is not None

    for url in (
        reverse("admin:telephony_call_change", args=[Call.objects.get(sid=leg.sid).pk]),
        reverse("admin:telephony_webhookevent_change", args=[event.pk]),
    ):
        page = client.get(url).content.decode()
        assert voicemail.recording_url not in page and "api.twilio.com" not in page, url


def test_a_voicemail_plays_from_the_local_twilio_over_http(db, client, supervisor, settings):
    """The local Twilio's own HTTP server (``manage.py twilio_emulator``) serves the WAV behind
    basic auth; the app fetches it at TWILIO_API_URL with the account's credentials."""
    from emulator.server import LocalTwilio
    from tests.emulator.hooks import Hooks

    with Hooks() as hooks:
        local = LocalTwilio(
            app_url=hooks.url,
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            numbers=(NUMBER,),
        ).serve("127.0.0.1", 0)
        try:
            sid = "RE" + "7" * 32
            recording = {
                "sid": sid,
                "status": "completed",
                "duration": 3,
                "channels": 1,
                "url": f"https://api.twilio.com/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}"
                f"/Recordings/{sid}",
            }
            local.runner.call(local.emulator.recordings.__setitem__, sid, recording)
            voicemail = Voicemail.objects.create(
                caller=CALLER,
                recording_sid=sid,
                recording_url=recording["url"],
                received_at="2026-11-02T01:00:00Z",
            )
            settings.TWILIO_API_URL = local.url
            client.force_login(supervisor)
            response = client.get(f"/voicemails/{voicemail.pk}/audio")
            audio = b"".join(response.streaming_content)
            settings.TWILIO_AUTH_TOKEN = "not-the-token"
            refused = client.get(f"/voicemails/{voicemail.pk}/audio")
        finally:
            local.stop()

    assert response.status_code == 200 and audio == recording_wav(recording)
    assert refused.status_code == 502  # Twilio answered 401: refused, not gone
