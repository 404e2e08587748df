"""Many web processes and workers at once (threads with their own database connections, on
PostgreSQL): callers arriving and hanging up, agents going available and on break, workers
dispatching — and never two ringing offers for one agent or one caller, nor an offer left
ringing for a caller who is gone or an agent on break."""

import random
import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.utils import timezone

from agents.models import Agent, AgentStatus
from agents.services import agent_choose_status
from queues.models import QueueResult, QueueVisit
from routing.models import Offer, OfferOutcome
from routing.services import routing_dispatch
from tests.conftest import TwilioClient
from tests.factories import new_sid

from .helpers import caller_hangs_up, caller_waits, ready_agent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CALLERS = 40
AGENTS = 8


def _in_thread(target, errors):
    def run():
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    return threading.Thread(target=run)


def test_simultaneous_events_never_give_anyone_two_offers(support, django_user_model, settings):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions: run with DATABASE_URL=postgres://…")
    settings.PUBLIC_URL = "http://testserver"
    agents = [ready_agent(django_user_model, f"a{i}", support) for i in range(AGENTS)]
    callers = [new_sid() for _ in range(CALLERS)]
    errors: list[BaseException] = []
    rng = random.Random(14)

    def arrive(sids):
        twilio = TwilioClient(Client())
        for sid in sids:
            caller_waits(twilio, support, sid, queue_time=rng.randint(0, 5))

    def hang_up(sids):
        twilio = TwilioClient(Client())
        for sid in sids:
            caller_hangs_up(twilio, support, sid, queue_time=3)

    def flap(agent_ids):
        for _ in range(5):
            for agent_id in agent_ids:
                agent = Agent.objects.get(pk=agent_id)
                status = rng.choice([AgentStatus.AVAILABLE, AgentStatus.BREAK])
                agent_choose_status(agent=agent, status=status, now=timezone.now())

    def worker():
        for _ in range(30):
            routing_dispatch()

    threads = [_in_thread(lambda c=callers[i::4]: arrive(c), errors) for i in range(4)]
    threads += [_in_thread(worker, errors) for _ in range(3)]
    threads += [
        _in_thread(lambda ids=[a.pk for a in agents[i::2]]: flap(ids), errors) for i in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads[:4]:
        thread.join()
    leaving = _in_thread(lambda: hang_up(callers[::3]), errors)
    leaving.start()
    for thread in [*threads[4:], leaving]:
        thread.join()
    routing_dispatch()

    assert errors == []
    offers = list(Offer.objects.order_by("started_at"))
    assert offers, "nothing was offered at all"
    far = timezone.now() + timedelta(days=1)
    for agent in agents:
        mine = [o for o in offers if o.agent_id == agent.pk]
        for earlier, later in zip(mine, mine[1:], strict=False):
            assert (earlier.ended_at or far) <= later.started_at, (earlier, later)
    for visit_id in {o.visit_id for o in offers}:
        ringing = [o for o in offers if o.visit_id == visit_id and o.is_open]
        assert len(ringing) <= 1
    gone = QueueVisit.objects.filter(result=QueueResult.HANGUP).values_list("pk", flat=True)
    assert not Offer.objects.filter(visit_id__in=list(gone), outcome=OfferOutcome.OPEN).exists()
    on_break = Agent.objects.exclude(status=AgentStatus.AVAILABLE).values_list("pk", flat=True)
    assert not Offer.objects.filter(agent_id__in=list(on_break), outcome=OfferOutcome.OPEN).exists()
