"""Where the emulator follows Twilio's documentation more closely (found by an outside check)."""

from urllib.parse import parse_qs, urlsplit

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from emulator import Caller, Emulator
from emulator.transport import TransportResponse

ACCOUNT = "AC" + "1" * 32
NUMBER = "+815012345678"
CALLER = "+819011112222"


class StaticApp:
    """Answers each path with a fixed document and remembers every request's fields."""

    def __init__(self, documents):
        self.documents = documents
        self.requests = []

    def send(self, method, url, *, body, headers):
        path = urlsplit(url).path
        fields = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        self.requests.append((path, fields))
        if path not in self.documents:
            return TransportResponse(204)
        return TransportResponse(200, {"content-type": "text/xml"}, self.documents[path].encode())


def emulator(documents):
    app = StaticApp(documents)
    emu = Emulator(app, account_sid=ACCOUNT, auth_token="t", base_url="http://app")
    emu.add_number(NUMBER, voice_url="/in")
    return emu, app


def test_a_whisper_may_not_enqueue_the_callee():
    emu, _app = emulator(
        {
            "/in": "<Response><Dial>"
            '<Number url="/whisper">+819099998888</Number>'
            "</Dial></Response>",
            "/whisper": "<Response><Enqueue>elsewhere</Enqueue></Response>",
        }
    )
    emu.add_callee("+819099998888", Caller(talk_seconds=5))
    call = emu.place_call(to=NUMBER, from_=CALLER)
    emu.run()

    child = next(leg for leg in emu.calls if leg.parent is call)
    assert [error["code"] for error in child.errors] == [12200]
    assert "elsewhere" not in emu.queues


def test_dial_without_caller_id_shows_the_original_callers_number():
    emu, app = emulator({"/in": "<Response><Dial>+819099998888</Dial></Response>"})
    emu.add_callee("+819099998888", Caller(talk_seconds=2))
    call = emu.place_call(to=NUMBER, from_=CALLER)
    emu.run()

    child = next(leg for leg in emu.calls if leg.parent is call)
    assert child.from_ == CALLER


def test_whitespace_before_the_xml_declaration_is_error_12100():
    emu, _app = emulator({"/in": '\n  <?xml version="1.0"?><Response><Say>Hi</Say></Response>'})
    call = emu.place_call(to=NUMBER, from_=CALLER)
    emu.run()

    assert [error["code"] for error in call.errors] == [12100]


def test_play_digits_with_loop_0_repeats_until_the_caller_hangs_up():
    emu, _app = emulator({"/in": '<Response><Play digits="1234" loop="0"/></Response>'})
    call = emu.place_call(to=NUMBER, from_=CALLER, caller=Caller(hangup_after=10))
    emu.run()

    assert len(call.entries("play-digits")) == 11  # 1 s of tones each, at 0, 1, … 10 s
    assert call.status == "completed"


def test_calls_create_without_from_is_error_21213():
    emu, _app = emulator({})
    rest = Client(ACCOUNT, "t", http_client=emu.rest_http_client())

    with pytest.raises(TwilioRestException) as raised:
        rest.calls.create(to=CALLER, from_="", twiml="<Response/>")

    assert (raised.value.status, raised.value.code) == (400, 21213)


def test_status_callbacks_come_only_for_the_events_asked_for():
    emu, app = emulator({})
    emu.add_callee("+819099998888", Caller(answer_after=2))
    rest = Client(ACCOUNT, "t", http_client=emu.rest_http_client())

    rest.calls.create(
        to="+819099998888",
        from_=NUMBER,
        twiml="<Response><Pause length='1'/></Response>",
        status_callback="http://app/status",
        status_callback_event=["answered"],
    )
    emu.run()

    statuses = [fields["CallStatus"] for path, fields in app.requests if path == "/status"]
    assert statuses == ["in-progress"]
