from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest

from telephony.models import Call, CallStatusEvent
from tests.emulator.conftest import NUMBER, START, requests_to

pytestmark = pytest.mark.urls("tests.emulator.urls_flows")


def test_a_rest_call_reports_each_subscribed_status_in_sequence(emu, received, rest):
    emu.add_agent("agent1", answer_after=4)
    created = rest.calls.create(
        to="client:agent1",
        from_="+815012345678",
        url="http://testserver/t/fallback",
        status_callback="http://testserver/twilio/voice/status",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
    )
    emu.run()

    call = emu.call_by_sid(created.sid)
    callbacks = requests_to(call, "/twilio/voice/status")
    assert [f["SequenceNumber"] for _, f in callbacks] == ["0", "1", "2", "3"]
    assert [f["CallStatus"] for _, f in callbacks] == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert {f["CallbackSource"] for _, f in callbacks} == {"call-progress-events"}
    for at, fields in callbacks:
        assert parsedate_to_datetime(fields["Timestamp"]) == START + timedelta(seconds=at)
    # answered at 4, "Fallback speaking." lasts 2 s
    assert callbacks[-1][1]["CallDuration"] == "2"
    assert "CallDuration" not in callbacks[0][1]
    # The app stored every one of them.
    stored = Call.objects.get(sid=created.sid)
    assert stored.status == "completed"
    assert stored.duration_seconds == 2
    assert list(
        CallStatusEvent.objects.filter(call=stored).values_list("sequence_number", flat=True)
    ) == [0, 1, 2, 3]


def test_a_numbers_status_callback_only_reports_the_end(emu, received):
    emu.add_number(
        NUMBER, voice_url="http://testserver/t/fallback", status_callback="/twilio/voice/status"
    )
    call = emu.place_call(to=NUMBER, from_="+819011112222")
    emu.run()

    [(at, fields)] = requests_to(call, "/twilio/voice/status")
    assert (at, fields["CallStatus"], fields["SequenceNumber"]) == (2, "completed", "0")
    assert fields["CallDuration"] == "2"
    assert fields["Direction"] == "inbound"
    assert fields["Caller"] == "+819011112222" and fields["Called"] == NUMBER


def test_every_request_carries_the_standard_fields(emu, received):
    emu.add_number(NUMBER, voice_url="/t/menu", status_callback="/twilio/voice/status")
    call = emu.place_call(to=NUMBER, from_="+819011112222")
    emu.run()

    standard = {"CallSid", "AccountSid", "From", "To", "CallStatus", "ApiVersion", "Direction"}
    for _, _, _, fields in call.requests:
        assert standard <= set(fields)
        assert fields["ApiVersion"] == "2010-04-01"
        assert fields["AccountSid"] == emu.account_sid
    assert call.requests[0][3]["CallStatus"] == "ringing"
    assert call.requests[1][3]["CallStatus"] == "in-progress"
