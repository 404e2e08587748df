import pytest
from twilio.base.exceptions import TwilioRestException

from tests.emulator.conftest import NUMBER, requests_to

pytestmark = pytest.mark.urls("tests.emulator.urls_flows")


def test_queues_can_be_created_fetched_updated_listed_and_deleted(emu, rest):
    queue = rest.queues.create(friendly_name="billing", max_size=10)
    assert queue.sid.startswith("QU") and len(queue.sid) == 34
    assert (queue.friendly_name, queue.max_size, queue.current_size) == ("billing", 10, 0)

    updated = rest.queues(queue.sid).update(max_size=3)
    assert updated.max_size == 3
    assert emu.queues["billing"].max_size == 3
    assert rest.queues(queue.sid).fetch().friendly_name == "billing"
    assert [q.sid for q in rest.queues.list()] == [queue.sid]
    assert rest.queues(queue.sid).delete() is True
    with pytest.raises(TwilioRestException) as error:
        rest.queues(queue.sid).fetch()
    assert error.value.status == 404


def test_it_refuses_a_duplicate_queue_name_and_a_size_over_5000(emu, rest):
    rest.queues.create(friendly_name="support")
    with pytest.raises(TwilioRestException):
        rest.queues.create(friendly_name="support")
    with pytest.raises(TwilioRestException):
        rest.queues.create(friendly_name="other", max_size=5001)


def test_members_update_dequeues_the_front_or_a_given_caller_into_new_twiml(emu, received, rest):
    emu.add_number(NUMBER, voice_url="/t/queue-me")
    calls = [emu.place_call(to=NUMBER, from_=f"+8190111100{i}", at=i) for i in range(3)]
    emu.run(until=20)
    sid = emu.queues["support"].sid

    members = rest.queues(sid).members.list()
    assert [(m.call_sid, m.position, m.wait_time) for m in members] == [
        (calls[0].sid, 1, 19),
        (calls[1].sid, 2, 18),
        (calls[2].sid, 3, 17),
    ]
    queue = rest.queues(sid).fetch()
    assert (queue.current_size, queue.average_wait_time) == (3, 18)

    front = (
        rest.queues(sid).members("Front").update(url="http://testserver/t/fallback", method="POST")
    )
    assert front.call_sid == calls[0].sid
    rest.queues(sid).members(calls[2].sid).update(url="http://testserver/t/fallback")
    emu.run(until=60)

    for call in (calls[0], calls[2]):
        [(at, fields)] = requests_to(call, "/t/exit")
        assert (at, fields["QueueResult"]) == (20, "redirected")
        assert call.heard()[-1] == "Fallback speaking."
        assert call.status == "completed"
    assert [m.call_sid for m in rest.queues(sid).members.list()] == [calls[1].sid]
    with pytest.raises(TwilioRestException) as error:
        rest.queues(sid).members(calls[0].sid).update(url="http://testserver/t/fallback")
    assert error.value.status == 404


def test_calls_create_to_a_client_rings_the_agent_and_runs_the_twiml_on_its_leg(
    emu, received, rest
):
    emu.add_agent("agent1", answer_after=7)
    created = rest.calls.create(
        to="client:agent1", from_="+815012345678", url="http://testserver/t/fallback"
    )
    emu.run()

    call = emu.call_by_sid(created.sid)
    assert created.status == "queued"
    [(at, fields)] = requests_to(call, "/t/fallback")
    assert at == 7
    assert fields["To"] == "client:agent1"
    assert fields["Direction"] == "outbound-api"
    assert fields["CallStatus"] == "in-progress"
    assert call.heard() == ["Fallback speaking."]
    assert rest.calls(created.sid).fetch().status == "completed"


def test_calls_create_to_an_offline_client_ends_unanswered(emu, received, rest):
    emu.add_agent("agent2", online=False)
    created = rest.calls.create(
        to="client:agent2",
        from_="+815012345678",
        url="http://testserver/t/fallback",
        timeout=15,
        status_callback="http://testserver/t/status",
    )
    emu.run()

    call = emu.call_by_sid(created.sid)
    assert requests_to(call, "/t/fallback") == []
    [(at, fields)] = requests_to(call, "/t/status")
    assert (at, fields["CallStatus"], fields["CallDuration"]) == (15, "no-answer", "0")


def test_calls_update_redirects_or_completes_a_live_call(emu, received, rest):
    emu.add_number(NUMBER, voice_url="/t/queue-me")
    moved = emu.place_call(to=NUMBER, from_="+819011110001")
    ended = emu.place_call(to=NUMBER, from_="+819011110002")
    emu.run(until=10)
    rest.calls(moved.sid).update(url="http://testserver/t/fallback")
    rest.calls(ended.sid).update(status="completed")
    emu.run()

    assert moved.heard()[-1] == "Fallback speaking."
    assert requests_to(moved, "/t/exit")[0][1]["QueueResult"] == "redirected"
    assert ended.status == "completed" and ended.ended_at == 10
    assert requests_to(ended, "/t/exit")[0][1]["QueueResult"] == "hangup"
    with pytest.raises(TwilioRestException):
        rest.calls(ended.sid).update(url="http://testserver/t/fallback")


def test_the_apps_own_rest_client_can_be_pointed_at_the_emulator(emu, received):
    from telephony.client import get_client, set_http_client

    set_http_client(emu.rest_http_client())
    try:
        queue = get_client().queues.create(friendly_name="support", max_size=5)
    finally:
        set_http_client(None)
    assert emu.queues["support"].sid == queue.sid
