"""The emulator driving the real queue and agent webhooks: its ground truth is what they store."""

import pytest

from emulator import Caller
from queues.models import QueueVisit
from tests.emulator.conftest import NUMBER
from tests.factories import START, emulator

pytestmark = pytest.mark.urls("tests.emulator.urls_app")


@pytest.fixture
def app_emu(demo):
    """The demo data; the number enqueues straight into `support`, the softphones use the
    real TwiML App."""
    return emulator(number=NUMBER, voice_url="/t/enqueue/support", start=START)


def test_the_apps_queue_visits_match_the_emulators_ground_truth(app_emu):
    emu = app_emu
    answered = emu.place_call(to=NUMBER, from_="+819011110001", at=0)
    second = emu.place_call(to=NUMBER, from_="+819011110002", at=2)
    gives_up = emu.place_call(to=NUMBER, from_="+819011110003", at=4, caller=Caller(patience=15))
    emu.agent_dial("agent1", to="queue:support", at=20, talk_seconds=30)
    emu.agent_dial("agent2", to="queue:support", at=25, talk_seconds=40)
    emu.run()

    assert not emu.errors
    truth = {visit["call_sid"]: visit for visit in emu.ground_truth()}
    stored = {
        visit.call.sid: visit
        for visit in QueueVisit.objects.select_related("call").filter(queue__slug="support")
    }
    assert set(stored) == set(truth) == {answered.sid, second.sid, gives_up.sid}
    for sid, visit in truth.items():
        row = stored[sid]
        assert row.result == visit["result"], sid
        assert row.wait_seconds == visit["wait_seconds"], sid
        assert row.talk_seconds == visit["talk_seconds"], sid
        assert (row.agent_identity or None) == visit["agent"], sid
    assert truth[answered.sid]["agent"] == "agent1"
    assert truth[second.sid]["agent"] == "agent2"
    assert truth[gives_up.sid]["result"] == "hangup"
    assert truth[gives_up.sid]["wait_seconds"] == 15
    for call in (answered, second, gives_up):
        assert call.status == "completed"
        assert call.requests[-1][3]["CallStatus"] == "completed"  # the status callback


def test_an_agent_who_is_not_a_member_is_refused_and_takes_nobody(app_emu, django_user_model):
    emu = app_emu
    caller = emu.place_call(to=NUMBER, from_="+819011110001", caller=Caller(patience=60))
    stranger = emu.agent_dial("nobody", to="queue:support", at=10)
    emu.run()

    assert stranger.status == "completed"
    assert not stranger.entries("dial")
    assert emu.ground_truth()[0]["result"] == "hangup"
    assert caller.duration == 60 + 5  # the enqueue announcement lasts 5 s
