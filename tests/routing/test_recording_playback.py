"""Recordings listed on the call detail page and played through the app: the app fetches the
WAV from Twilio's media address with the account's credentials (here a stand-in serving what
the local Twilio makes up) and passes it on; only supervisors, superusers and analysts granted
the permission may play; no Twilio address ever reaches the page."""

import base64
import contextlib
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import Permission

from emulator.recordings import recording_wav
from queues.models import Queue
from routing.models import Recording

from . import test_end_to_end
from .test_end_to_end import run
from .test_hold import _connected_call

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu

MEDIA = re.compile(r"^/2010-04-01/Accounts/(AC\w+)/Recordings/(RE\w+)\.wav$")


@contextlib.contextmanager
def media_host(emu, token):
    """Twilio's media host for the test: the emulator's WAV of a completed recording, behind
    basic auth with the account SID and auth token."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            expected = base64.b64encode(f"{emu.account_sid}:{token}".encode()).decode()
            match = MEDIA.match(self.path)
            seen.append(self.path)
            if self.headers.get("Authorization") != f"Basic {expected}":
                self.send_response(401)
                self.end_headers()
                return
            recording = emu.recordings.get(match.group(2)) if match else None
            if recording is None or recording["status"] != "completed":
                self.send_response(404)
                self.end_headers()
                return
            body = recording_wav(recording)
            self.send_response(200)
            self.send_header("Content-Type", "audio/x-wav")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def recorded(emu):
    Queue.objects.update(record_answered_calls=True)
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=20)
    run(emu, 40)
    recording = Recording.objects.get()
    assert recording.status == "completed"
    return agent, leg, recording


def test_a_supervisor_plays_the_recording_through_the_app(
    emu, recorded, client, supervisor, settings
):
    agent, leg, recording = recorded
    client.force_login(supervisor)
    with media_host(emu, settings.TWILIO_AUTH_TOKEN) as (base, seen):
        settings.TWILIO_API_URL = base
        response = client.get(f"/recordings/{recording.pk}/audio")
        audio = b"".join(response.streaming_content)

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/x-wav"
    assert audio == recording_wav(emu.recordings[recording.sid])
    assert audio[:4] == b"RIFF"
    assert seen == [f"/2010-04-01/Accounts/{emu.account_sid}/Recordings/{recording.sid}.wav"]


def test_the_call_detail_page_lists_the_recording_with_the_apps_player_only(
    emu, recorded, client, supervisor
):
    agent, leg, recording = recorded
    client.force_login(supervisor)
    page = client.get(f"/reports/calls/{leg.sid}/").content.decode()

    assert 'id="call-recordings"' in page
    assert f'src="/recordings/{recording.pk}/audio"' in page
    assert "api.twilio.com" not in page
    assert recording.media_url not in page


@pytest.mark.parametrize("who", ["agent_user", "analyst"])
def test_agents_and_analysts_without_the_permission_may_not_play(
    emu, recorded, client, request, who
):
    agent, leg, recording = recorded
    client.force_login(request.getfixturevalue(who))
    assert client.get(f"/recordings/{recording.pk}/audio").status_code == 403


def test_an_analyst_granted_the_permission_plays(emu, recorded, client, analyst, settings):
    agent, leg, recording = recorded
    analyst.user_permissions.add(Permission.objects.get(codename="play_recording"))
    client.force_login(analyst)
    with media_host(emu, settings.TWILIO_AUTH_TOKEN) as (base, _seen):
        settings.TWILIO_API_URL = base
        response = client.get(f"/recordings/{recording.pk}/audio")
        assert b"".join(response.streaming_content)[:4] == b"RIFF"
    page = client.get(f"/reports/calls/{leg.sid}/").content.decode()
    assert f'src="/recordings/{recording.pk}/audio"' in page
