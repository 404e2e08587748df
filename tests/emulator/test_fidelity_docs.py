"""Details checked against Twilio's documentation: <Record finishOnKey>, redirects Twilio does
not follow, queue names, the Gather timeout between keys, SSML effects."""

import pytest

from emulator import Caller
from emulator.devices import press_keys
from tests.emulator.urls_conference import DOCS, HITS, hits

pytestmark = pytest.mark.urls("tests.emulator.urls_conference")

PERSON = "+819011112222"


@pytest.fixture(autouse=True)
def _docs():
    DOCS.clear()
    HITS.clear()
    yield
    DOCS.clear()
    HITS.clear()


def _call(emu, url, caller=None):
    emu.add_callee(PERSON, caller or Caller(answer_after=0))
    return emu.create_call(to=PERSON, from_="+815012345678", url=url)


def test_a_key_in_finish_on_key_ends_the_recording_and_is_the_digits_field(emu):
    DOCS["record"] = (
        '<Response><Record action="/c/recorded" timeout="10" finishOnKey="#"/></Response>'
    )
    DOCS["recorded"] = '<Response><Gather action="/c/gathered" timeout="3"/></Response>'
    call = _call(emu, "/c/record", Caller(answer_after=0, message_seconds=4, record_key="#"))
    emu.run()

    [recorded] = hits("recorded")
    assert (recorded["Digits"], recorded["RecordingDuration"]) == ("#", "4")
    assert call.requests[1][0] == 5  # beep 1 s + 4 s of speech, no 10 s of silence
    assert hits("gathered") == []  # the key is not passed on to the next <Gather>


def test_a_live_callers_key_ends_the_recording_but_not_the_next_gather(emu):
    DOCS["record"] = '<Response><Record action="/c/recorded" timeout="10"/></Response>'
    DOCS["recorded"] = '<Response><Gather action="/c/gathered" timeout="3"/></Response>'
    call = _call(emu, "/c/record", Caller(answer_after=0, live=True, message_seconds=30))
    emu.run(until=3)
    press_keys(call, "7")
    emu.run()

    [recorded] = hits("recorded")
    assert (recorded["Digits"], recorded["RecordingDuration"]) == ("7", "2")
    assert hits("gathered") == []


def test_a_recording_ended_by_silence_sends_no_digits(emu):
    DOCS["record"] = '<Response><Record action="/c/recorded" timeout="2"/></Response>'
    _call(emu, "/c/record", Caller(answer_after=0, message_seconds=3))
    emu.run()

    assert "Digits" not in hits("recorded")[0]


@pytest.mark.parametrize(
    ("url", "code"),
    [("/r/302/loop", 11215), ("/r/308/record", 11216), ("/r/300/record", 11216)],
)
def test_a_redirect_loop_and_redirects_twilio_does_not_follow_are_errors(emu, url, code):
    call = _call(emu, url)
    emu.run()

    assert call.errors[0]["code"] == code


def test_a_307_is_followed_with_the_same_method(emu):
    DOCS["record"] = "<Response><Say>Followed.</Say></Response>"
    call = _call(emu, "/r/307/record")
    emu.run()

    assert call.heard() == ["Followed."]


@pytest.mark.parametrize(
    ("twiml", "code"),
    [
        ("<Enqueue>  </Enqueue>", 14204),
        (f"<Enqueue>{'q' * 65}</Enqueue>", 14205),
        ("<Dial><Queue></Queue></Dial>", 14212),
        (f"<Dial><Queue>{'q' * 65}</Queue></Dial>", 14213),
    ],
)
def test_bad_queue_names_get_their_own_error_codes(emu, twiml, code):
    DOCS["doc"] = f"<Response>{twiml}</Response>"
    call = _call(emu, "/c/doc")
    emu.run()

    assert call.errors[0]["code"] == code


def test_the_gather_timeout_also_runs_between_key_presses(emu):
    DOCS["menu"] = '<Response><Gather action="/c/chosen" numDigits="3" timeout="5"/></Response>'
    _call(emu, "/c/menu", Caller(answer_after=0, digits=["123"], key_gap=7))
    emu.run()

    assert hits("chosen")[0]["Digits"] == "1"


def test_an_amazon_effect_inside_say_is_accepted(emu):
    DOCS["say"] = (
        '<Response><Say voice="Polly.Mizuki">Hello <amazon:effect name="whispered">'
        "quietly</amazon:effect> there.</Say></Response>"
    )
    call = _call(emu, "/c/say")
    emu.run()

    assert call.errors == []
    assert call.heard() == ["Hello quietly there."]
