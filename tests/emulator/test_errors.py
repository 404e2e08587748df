import pytest

from emulator import Caller
from emulator.engine import APPLICATION_ERROR
from tests.emulator.conftest import NUMBER, requests_to

pytestmark = pytest.mark.urls("tests.emulator.urls_flows")


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/t/bad-root", 12100),
        ("/t/bad-verb", 12200),
        ("/t/bad-nesting", 12200),
        ("/t/bad-noun", 12200),
        ("/t/bad-type", 12300),
        ("/t/server-error", 11217),
        ("/t/no-such-view", 11217),
    ],
)
def test_a_bad_answer_sends_the_caller_to_the_fallback_with_the_error(emu, received, path, code):
    emu.add_number(NUMBER, voice_url=path, fallback_url="/t/fallback", status_callback="/t/status")
    call = emu.place_call(to=NUMBER, from_="+819011112222", caller=Caller())
    emu.run()

    [(at, fields)] = requests_to(call, "/t/fallback")
    assert fields["ErrorCode"] == str(code)
    assert fields["ErrorUrl"] == f"http://testserver{path}"
    assert fields["CallSid"] == call.sid
    assert [error["code"] for error in call.errors] == [code]
    assert call.heard() == ["Fallback speaking."]
    assert call.status == "completed"


def test_without_a_fallback_the_caller_hears_twilios_generic_error(emu, received):
    emu.add_number(NUMBER, voice_url="/t/bad-verb")
    call = emu.place_call(to=NUMBER, from_="+819011112222")
    emu.run()

    assert call.heard() == [APPLICATION_ERROR]
    assert call.errors[0]["code"] == 12200


def test_a_broken_wait_document_takes_the_caller_out_with_queue_result_error(emu, received, rest):
    emu.add_number(NUMBER, voice_url="/t/menu")
    call = emu.place_call(to=NUMBER, from_="+819011112222")
    emu.run(until=1)
    # Moved by the REST API into a queue whose wait URL answers 500.
    rest.calls(call.sid).update(
        twiml='<Response><Enqueue action="/t/exit" waitUrl="/t/server-error">other</Enqueue>'
        "</Response>"
    )
    emu.run()

    [(at, fields)] = requests_to(call, "/t/exit")
    assert (at, fields["QueueResult"]) == (1, "error")
    assert call.errors[0]["code"] == 11217
    assert emu.ground_truth()[0]["result"] == "error"


def test_the_fallback_request_has_the_failed_requests_own_fields(emu, received, rest):
    emu.add_number(NUMBER, voice_url="/t/menu", fallback_url="/t/fallback")
    # Silent at the first menu, key 7 at the second: the Gather whose action fails.
    call = emu.place_call(to=NUMBER, from_="+819011112222", caller=Caller(digits=["-", "7"]))
    emu.run(until=1)
    rest.calls(call.sid).update(
        twiml='<Response><Gather numDigits="1" action="/t/server-error"/></Response>'
    )
    emu.run()

    [(_at, fields)] = requests_to(call, "/t/fallback")
    assert (fields["Digits"], fields["ErrorCode"]) == ("7", "11217")
    assert fields["ErrorUrl"] == "http://testserver/t/server-error"
