import pytest

from emulator import Caller
from tests.emulator.conftest import NUMBER, requests_to

pytestmark = pytest.mark.urls("tests.emulator.urls_flows")


def test_dial_client_rings_the_agent_and_reports_the_bridged_call(emu, received):
    emu.add_number(NUMBER, voice_url="/t/dial-client")
    emu.add_agent("agent1", answer_after=4, talk_seconds=20)
    call = emu.place_call(to=NUMBER, from_="+819011112222")
    emu.run()

    [(at, fields)] = requests_to(call, "/t/dial-action")
    child = emu.call_by_sid(fields["DialCallSid"])
    assert at == 4 + 20
    assert fields["DialCallStatus"] == "completed"
    assert fields["DialCallDuration"] == "20"
    assert fields["DialBridged"] == "true"
    assert (child.to, child.direction, child.parent) == ("client:agent1", "outbound-dial", call)
    assert child.status == "completed" and child.duration == 20


def test_dial_client_to_an_offline_agent_is_not_answered_before_the_timeout(emu, received):
    emu.add_number(NUMBER, voice_url="/t/dial-client")
    emu.add_agent("agent1", online=False)
    call = emu.place_call(to=NUMBER, from_="+819011112222")
    emu.run()

    [(at, fields)] = requests_to(call, "/t/dial-action")
    assert (at, fields["DialCallStatus"], fields["DialBridged"]) == (10, "no-answer", "false")


def test_dial_number_whispers_to_the_callee_and_reports_the_child_legs_progress(emu, received):
    emu.add_number(NUMBER, voice_url="/t/dial-number")
    emu.add_callee("+819099990000", Caller(answer_after=6, talk_seconds=15))
    call = emu.place_call(to=NUMBER, from_="+819011112222")
    emu.run()

    child = emu.call_by_sid(requests_to(call, "/t/dial-action")[0][1]["DialCallSid"])
    [(whisper_at, whisper)] = requests_to(child, "/t/whisper")
    assert whisper_at == 6
    assert whisper["ParentCallSid"] == call.sid
    assert whisper["From"] == "+815012345678"  # the callerId
    assert child.heard() == ["A customer is calling."]
    callbacks = requests_to(child, "/t/status")
    assert [(f["SequenceNumber"], f["CallStatus"]) for _, f in callbacks] == [
        ("0", "initiated"),
        ("1", "ringing"),
        ("2", "in-progress"),
        ("3", "completed"),
    ]
    # Talk starts after the 2 s whisper; the callee hangs up 15 s later.
    [(at, fields)] = requests_to(call, "/t/dial-action")
    assert (at, fields["DialCallDuration"]) == (6 + 2 + 15, "15")
    assert callbacks[-1][1]["CallDuration"] == "17"


def test_dial_number_that_is_busy_ends_the_dial_at_once(emu, received):
    emu.add_number(NUMBER, voice_url="/t/dial-number")
    emu.add_callee("+819099990000", Caller(answer="busy"))
    call = emu.place_call(to=NUMBER, from_="+819011112222")
    emu.run()

    [(at, fields)] = requests_to(call, "/t/dial-action")
    assert (at, fields["DialCallStatus"], fields["DialCallDuration"]) == (0, "busy", "0")


def test_record_posts_the_recording_to_the_action_and_the_status_callback(emu, received):
    emu.add_number(NUMBER, voice_url="/t/voicemail")
    call = emu.place_call(to=NUMBER, from_="+819011112222", caller=Caller(message_seconds=7))
    emu.run()

    [(at, fields)] = requests_to(call, "/t/recorded")
    # 1 s prompt, 1 s beep, 7 s message, 3 s of silence
    assert at == 1 + 1 + 7 + 3
    assert fields["RecordingDuration"] == "7"
    assert fields["RecordingUrl"].startswith("https://api.twilio.com/2010-04-01/Accounts/AC")
    [(_, status)] = requests_to(call, "/t/recording-status")
    assert status["RecordingSid"] == fields["RecordingSid"]
    assert status["RecordingStatus"] == "completed"
    assert call.heard() == ["Leave a message.", "Thank you."]


def test_record_with_nothing_said_falls_through_without_the_action(emu, received):
    emu.add_number(NUMBER, voice_url="/t/voicemail")
    call = emu.place_call(to=NUMBER, from_="+819011112222", caller=Caller(message_seconds=0))
    emu.run()

    assert requests_to(call, "/t/recorded") == []
    assert call.heard() == ["Leave a message.", "No message recorded."]


@pytest.mark.parametrize(("reason", "status"), [("busy", "busy"), ("rejected", "no-answer")])
def test_reject_ends_the_call_unanswered(emu, received, reason, status):
    emu.add_number(NUMBER, voice_url=f"/t/reject?reason={reason}", status_callback="/t/status")
    call = emu.place_call(to=NUMBER, from_="+819011112222")
    emu.run()

    assert call.status == status
    assert call.answered_at is None
    assert call.heard() == []
    [(_, fields)] = requests_to(call, "/t/status")
    assert (fields["CallStatus"], fields["CallDuration"]) == (status, "0")


def test_get_documents_are_signed_over_the_query_and_relative_urls_resolve(emu, received):
    emu.add_number(NUMBER, voice_url="/t/get-menu", voice_method="GET")
    call = emu.place_call(to=NUMBER, from_="+819011112222")
    emu.run()

    assert received[0][0] == "get_menu"
    assert received[0][1]["CallSid"] == call.sid
    assert call.requests[1][2] == "http://testserver/t/fallback?from=get"
    assert call.heard() == ["[digits 1w2]", "Fallback speaking."]
    assert not call.errors


def test_it_follows_a_307_redirect_and_signs_the_new_url(emu, received):
    emu.add_number(NUMBER, voice_url="/t/moved")
    call = emu.place_call(to=NUMBER, from_="+819011112222")
    emu.run()

    assert [name for name, _ in received] == ["moved", "fallback"]
    assert call.heard() == ["Fallback speaking."]


def test_cookies_are_kept_for_the_length_of_one_call(emu, received):
    emu.add_number(NUMBER, voice_url="/t/cookie")
    first = emu.place_call(to=NUMBER, from_="+819011110001", at=0)
    second = emu.place_call(to=NUMBER, from_="+819011110002", at=100)
    emu.run()

    for call in (first, second):
        assert call.heard() == ["Request 1.", "Request 2.", "Request 3."]


def test_an_answer_slower_than_twilios_timeout_is_error_11205(db, received, settings):
    from emulator import DjangoTransport, Emulator
    from emulator.engine import APPLICATION_ERROR
    from tests.conftest import ACCOUNT_SID, AUTH_TOKEN

    emu = Emulator(DjangoTransport(timeout=0.0), account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    emu.add_number(NUMBER, voice_url="/t/menu", fallback_url="/t/fallback")
    call = emu.place_call(to=NUMBER, from_="+819011112222")
    emu.run()

    assert [error["code"] for error in call.errors] == [11205, 11205]
    assert call.requests[1][3]["ErrorCode"] == "11205"
    assert call.heard() == [APPLICATION_ERROR]
