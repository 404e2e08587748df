"""A node lost while a caller's request was in it: the proxy answers 502 (nginx does not hand a
POST it already sent to another node), Twilio asks the number's fallback URL, and the fallback
sends the caller to the same URL once more (a repeatable webhook): the caller taken out of the
queue still meets the agent who accepted them, and a new caller still hears the menu. Through
the local Twilio in process."""

from urllib.parse import urlsplit

import pytest

from emulator import Caller
from emulator.transport import TransportResponse
from queues.models import QueueResult, QueueVisit
from routing.models import BridgeParticipant
from telephony.models import WebhookEvent
from telephony.twiml import APOLOGY_EN, APOLOGY_JA
from tests.factories import DEMO_NUMBER

from . import test_end_to_end
from .test_end_to_end import ready, run

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu


def _join(path: str) -> bool:
    return path.startswith("/twilio/routing/bridges/") and path.endswith("/join")


class NodeLost:
    """The network between the local Twilio and the app: the first ``times`` requests whose
    path ``lost(path)`` reach a node that dies with them, after it did its work (``commit``)
    or before; the proxy answers 502 Bad Gateway."""

    def __init__(self, transport, *, lost=_join, times=1, commit=True):
        self.transport, self.lost, self.left, self.commit = transport, lost, times, commit
        self.base_url = getattr(transport, "base_url", "http://testserver")

    def send(self, method, url, *, body, headers):
        if self.left and self.lost(urlsplit(url).path):
            self.left -= 1
            if self.commit:
                self.transport.send(method, url, body=body, headers=headers)
            return TransportResponse(status=502, headers={"content-type": "text/html"})
        return self.transport.send(method, url, body=body, headers=headers)


def _answered_call(emu):
    ready("agent1")
    emu.add_agent("agent1", answer_after=2, talk_seconds=20)
    leg = emu.place_call(to=DEMO_NUMBER, from_="+819011112222", caller=Caller(digits=["1"]))
    run(emu, 90)
    return leg


@pytest.mark.parametrize("commit", [True, False], ids=["died-after-its-work", "died-before"])
def test_a_caller_whose_join_request_was_lost_still_meets_the_agent(emu, commit):
    emu.transport = NodeLost(emu.transport, commit=commit)

    leg = _answered_call(emu)

    visit = QueueVisit.objects.get(call__sid=leg.sid)
    assert (visit.result, visit.agent_identity, visit.talk_seconds) == (
        QueueResult.REDIRECTED,
        "agent1",
        20,
    )
    assert leg.heard()[-1] == "オペレータにおつなぎします。"  # the connect message, no apology
    assert BridgeParticipant.objects.filter(call_sid=leg.sid).count() == 1
    fallbacks = WebhookEvent.objects.filter(path="/twilio/voice/fallback")
    assert not fallbacks.exists()  # it answers without the database; its log line says it
    joins = WebhookEvent.objects.filter(path__endswith="/join", call_sid=leg.sid)
    assert joins.count() == (2 if commit else 1)  # the retry is stored like any request


def test_a_join_that_fails_twice_ends_with_the_apology_not_a_loop(emu):
    emu.transport = NodeLost(emu.transport, times=2, commit=False)

    leg = _answered_call(emu)

    assert leg.heard()[-2:] == [APOLOGY_JA, APOLOGY_EN]
    assert leg.status == "completed"
    assert not BridgeParticipant.objects.filter(call_sid=leg.sid).exists()


def test_a_caller_whose_first_request_was_lost_hears_the_menu_and_meets_the_agent(emu):
    emu.transport = NodeLost(emu.transport, lost=lambda path: path == "/twilio/voice/incoming")

    leg = _answered_call(emu)

    visit = QueueVisit.objects.get(call__sid=leg.sid)
    assert (visit.agent_identity, visit.talk_seconds) == ("agent1", 20)
    assert APOLOGY_JA not in leg.heard()


def test_a_caller_whose_key_press_was_lost_still_reaches_the_queue_and_the_agent(emu):
    emu.transport = NodeLost(emu.transport, lost=lambda path: path.endswith("/gather"))

    leg = _answered_call(emu)

    visit = QueueVisit.objects.get(call__sid=leg.sid)
    assert (visit.agent_identity, visit.talk_seconds) == ("agent1", 20)
    assert APOLOGY_JA not in leg.heard()
