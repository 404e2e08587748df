"""The demo line with push routing, through the local Twilio in process (virtual clock): the
caller presses 1, waits, agent1's softphone rings and answers, they talk in a conference, and
the reports count what the emulator says happened. Background tasks run between the emulator's
seconds, as a worker would."""

import pytest
from django.utils import timezone

from agents.models import Agent, AgentStatus
from emulator import Caller
from queues.models import Queue, QueueResult, QueueVisit
from routing.models import Offer, OfferOutcome
from routing.worker import run_pending_tasks
from telephony.client import set_http_client
from tests.factories import DEMO_NUMBER, emulator

from .helpers import TwilioRest  # noqa: F401  (the same REST surface, played by the emulator)

pytestmark = pytest.mark.django_db


@pytest.fixture
def emu(demo, settings):
    settings.TWILIO_REST_CALLS_PER_SECOND = 1000.0
    settings.PUBLIC_URL = ""
    local = emulator(start=timezone.now().replace(microsecond=0))
    set_http_client(local.rest_http_client())
    yield local
    set_http_client(None)


def ready(identity: str) -> Agent:
    from agents.services import agent_choose_status, agent_report_device

    agent = Agent.objects.get(identity=identity)
    agent_report_device(agent=agent, registered=True, now=timezone.now())
    agent_choose_status(agent=agent, status=AgentStatus.AVAILABLE, now=timezone.now())
    return agent


def run(emu, seconds: float, step: float = 0.5) -> None:
    """Advance the emulator ``seconds``, running the worker's tasks every ``step``."""
    end = emu.now + seconds
    while emu.now < end:
        emu.run(until=min(end, emu.now + step))
        run_pending_tasks()


def test_a_caller_is_pushed_to_agent1_who_answers_and_talks(emu):
    ready("agent1")
    emu.add_agent("agent1", answer_after=3, talk_seconds=30)
    caller = Caller(digits=["1"])
    leg = emu.place_call(to=DEMO_NUMBER, from_="+819011112222", caller=caller)

    run(emu, 90)

    offer = Offer.objects.get()
    assert offer.agent.identity == "agent1"
    assert offer.outcome == OfferOutcome.ACCEPTED
    visit = QueueVisit.objects.get(call__sid=leg.sid)
    assert visit.answered_at is not None
    assert visit.result == QueueResult.REDIRECTED
    assert visit.agent_identity == "agent1"
    assert visit.talk_seconds == 30
    truth = [row for row in emu.ground_truth() if row.get("call_sid", leg.sid) == leg.sid]
    assert truth, emu.ground_truth()
    assert visit.wait_seconds == truth[0]["wait_seconds"]
    assert leg.heard()[-1] == "オペレータにおつなぎします。"  # the connect message, then the agent
    assert leg.status == "completed"
    agent = Agent.objects.get(identity="agent1")
    assert agent.status == AgentStatus.AVAILABLE
    assert Queue.objects.get(slug="support").routing_mode == "push"


@pytest.mark.parametrize(
    ("on_ring", "outcome", "status"),
    [
        ("ignore", OfferOutcome.MISSED, AgentStatus.MISSED),
        ("reject", OfferOutcome.REJECTED, AgentStatus.AVAILABLE),
    ],
)
def test_a_ring_not_answered_goes_to_the_next_agent(emu, on_ring, outcome, status):
    from datetime import timedelta

    first = ready("agent1")
    Agent.objects.filter(pk=first.pk).update(status_changed_at=timezone.now() - timedelta(hours=1))
    ready("agent2")
    emu.add_agent("agent1", answer_after=2, on_ring=on_ring)
    emu.add_agent("agent2", answer_after=2, talk_seconds=20)
    leg = emu.place_call(to=DEMO_NUMBER, from_="+819011112222", caller=Caller(digits=["1"]))

    run(emu, 120)

    offers = list(Offer.objects.order_by("pk").values_list("agent__identity", "outcome"))
    assert offers == [("agent1", outcome), ("agent2", OfferOutcome.ACCEPTED)]
    visit = QueueVisit.objects.get(call__sid=leg.sid)
    assert (visit.agent_identity, visit.talk_seconds) == ("agent2", 20)
    [truth] = [row for row in emu.ground_truth() if row["call_sid"] == leg.sid]
    assert visit.wait_seconds == truth["wait_seconds"]
    assert Agent.objects.get(identity="agent1").status == status


def test_the_caller_hanging_up_while_agent1_rings_stops_the_ring(emu):
    ready("agent1")
    emu.add_agent("agent1", on_ring="ignore")
    caller = Caller(digits=["1"], patience=8)
    leg = emu.place_call(to=DEMO_NUMBER, from_="+819011112222", caller=caller)

    run(emu, 60)

    offer = Offer.objects.get()
    assert offer.outcome == OfferOutcome.WITHDRAWN
    ring = emu.call_by_sid(offer.agent_call_sid)
    assert ring.status == "canceled"
    visit = QueueVisit.objects.get(call__sid=leg.sid)
    assert visit.result == QueueResult.HANGUP and visit.answered_at is None
    assert Agent.objects.get(identity="agent1").status == AgentStatus.AVAILABLE
