"""A caller taken out of a queue through the REST API (Member or Call update)."""

import pytest
from twilio.rest import Client

from emulator import Caller
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.emulator.urls_conference import DOCS, HITS, hits

pytestmark = pytest.mark.urls("tests.emulator.urls_conference")


@pytest.fixture(autouse=True)
def _docs():
    DOCS.clear()
    HITS.clear()
    DOCS["enqueue"] = (
        '<Response><Enqueue action="/c/exit" waitUrl="/c/wait">support</Enqueue>'
        "<Say>never after the queue</Say></Response>"
    )
    DOCS["wait"] = "<Response><Play>/music.mp3</Play></Response>"
    DOCS["exit"] = "<Response><Say>the action is not executed</Say></Response>"
    DOCS["moved"] = "<Response><Say>moved to an agent</Say></Response>"
    yield
    DOCS.clear()
    HITS.clear()


def _caller(emu, at=0):
    emu.add_callee("+819011112222", Caller(answer_after=0))
    return emu.create_call(to="+819011112222", from_="+815012345678", url="/c/enqueue", at=at)


@pytest.mark.parametrize("how", ["member", "front", "call"])
def test_a_redirected_caller_gets_its_action_at_once_and_runs_the_new_url(emu, how):
    rest = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=emu.rest_http_client())
    leg = _caller(emu)
    emu.run(until=42)
    queue = emu.queues["support"]
    if how == "call":
        rest.calls(leg.sid).update(url="http://testserver/c/moved")
    else:
        key = leg.sid if how == "member" else "Front"
        rest.queues(queue.sid).members(key).update(url="http://testserver/c/moved")
    emu.run(until=100)

    [action] = hits("exit")
    assert action["QueueResult"] == "redirected"
    assert action["QueueTime"] == "42"
    assert action["QueueSid"] == queue.sid
    assert len(hits("moved")) == 1
    assert leg.heard()[-1] == "moved to an agent"
    assert "the action is not executed" not in leg.heard()
    assert not queue.members
    [visit] = emu.ground_truth()
    assert (visit["result"], visit["wait_seconds"]) == ("redirected", 42)
