"""The emulator against a real HTTP server (what simulate_call --url and the benchmark use)."""

import io
import socket

import pytest
from django.core.management import call_command

from emulator import Caller, Emulator, HttpTransport
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.emulator.conftest import NUMBER

pytestmark = pytest.mark.urls("tests.emulator.urls_flows")


def test_it_runs_a_call_over_http_with_valid_signatures(live_server, received):
    emu = Emulator(HttpTransport(live_server.url), account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    emu.add_number(NUMBER, voice_url="/t/menu", status_callback="/twilio/voice/status")
    call = emu.place_call(to=NUMBER, from_="+819011112222", caller=Caller(digits=["1"]))
    emu.run()

    assert not call.errors
    assert call.heard() == ["Press 1 for support.", "You pressed 1."]
    assert [name for name, _ in received] == ["menu", "choice"]
    assert call.requests[0][2] == live_server.url + "/t/menu"


def test_it_keeps_the_calls_cookies_over_http(live_server, received):
    emu = Emulator(HttpTransport(live_server.url), account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    emu.add_number(NUMBER, voice_url="/t/cookie")
    call = emu.place_call(to=NUMBER, from_="+819011112222")
    emu.run()

    assert call.heard() == ["Request 1.", "Request 2.", "Request 3."]


def test_an_unreachable_server_is_error_11205_and_the_call_still_ends(db):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    emu = Emulator(
        HttpTransport(f"http://127.0.0.1:{port}", timeout=2),
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
    )
    emu.add_number(NUMBER, voice_url="/t/menu")
    call = emu.place_call(to=NUMBER, from_="+819011112222")
    emu.run()

    assert call.errors[0]["code"] == 11205  # HTTP connection failure
    assert call.status == "completed"


def test_it_only_talks_to_this_machine():
    with pytest.raises(ValueError, match="only talks to this machine"):
        HttpTransport("http://192.0.2.1:8000")
    with pytest.raises(ValueError):
        HttpTransport("ftp://127.0.0.1/")


@pytest.mark.urls("tests.emulator.urls_app")
def test_simulate_call_drives_a_running_server(live_server):
    call_command("seed_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command(
        "simulate_call",
        "--url", live_server.url,
        "--auth-token", AUTH_TOKEN,
        "--voice-url", "/t/enqueue/support",
        "--agent", "agent2", "--answer-after", "5", "--talk", "20",
        stdout=out,
    )  # fmt: skip
    assert "agent2 と接続" in out.getvalue()
    assert "bridged" in out.getvalue()
