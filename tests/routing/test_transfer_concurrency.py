"""Transfer rings and dispatch at once (threads with their own database connections, on
PostgreSQL): agents on calls transfer to colleagues while workers offer waiting callers to the
same colleagues and rings end — and no colleague is ever rung for a transfer and a caller (or
two of either) at the same time. (Offers' times are each process's clock read before it waited
for the routing lock, so a watcher samples the ringing offers instead of comparing times.)"""

import random
import threading
import time
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.utils import timezone

from agents.models import Agent, AgentStatus
from queues.models import QueueResult, QueueVisit
from routing.control import CallControlError, call_transfer_to_agent
from routing.models import (
    Bridge,
    BridgeParticipant,
    Offer,
    OfferOutcome,
    ParticipantRole,
    Transfer,
)
from routing.services import offer_ring_ended, routing_dispatch
from tests.conftest import TwilioClient
from tests.factories import new_sid

from .helpers import caller_waits, ready_agent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TRANSFERRING = 4
TARGETS = 4
CALLERS = 16


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


def _on_a_call(agent, support, twilio, now):
    """``agent`` talks to a caller in a bridge (the rows an answered offer leaves)."""
    caller_sid = new_sid()
    caller_waits(twilio, support, caller_sid, number="+819055550000")
    visit = QueueVisit.objects.get(call__sid=caller_sid)
    agent_sid = new_sid()
    QueueVisit.objects.filter(pk=visit.pk).update(
        answered_at=now,
        result=QueueResult.REDIRECTED,
        agent_identity=agent.identity,
        agent_call_sid=agent_sid,
    )
    offer = Offer.objects.create(
        agent=agent,
        visit=visit,
        queue=support,
        ring_timeout_seconds=15,
        started_at=now - timedelta(minutes=5),
        ended_at=now - timedelta(minutes=5),
        outcome=OfferOutcome.ACCEPTED,
        agent_call_sid=agent_sid,
    )
    bridge = Bridge.objects.create(
        visit=visit,
        offer=offer,
        friendly_name=f"visit-{visit.pk}",
        conference_sid="CF" + "0" * 24 + f"{visit.pk:08d}",
        created_at=now,
    )
    BridgeParticipant.objects.create(
        bridge=bridge, call_sid=agent_sid, role=ParticipantRole.AGENT, agent=agent, joined_at=now
    )
    BridgeParticipant.objects.create(
        bridge=bridge, call_sid=caller_sid, role=ParticipantRole.CUSTOMER, joined_at=now
    )
    Agent.objects.filter(pk=agent.pk).update(status=AgentStatus.ON_CALL)


def test_transfer_rings_and_dispatch_never_ring_one_agent_twice(support, django_user_model, rest):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions: run with DATABASE_URL=postgres://…")
    now = timezone.now()
    twilio = TwilioClient(Client())
    transferring = [ready_agent(django_user_model, f"t{i}", support) for i in range(TRANSFERRING)]
    for agent in transferring:
        _on_a_call(agent, support, twilio, now)
    targets = [ready_agent(django_user_model, f"c{i}", support) for i in range(TARGETS)]
    alone = call_transfer_to_agent(agent=transferring[0], target=targets[0], now=timezone.now())
    offer_ring_ended(offer_id=alone.offers.get().pk, status="busy", now=timezone.now())
    errors: list[BaseException] = []
    refused = []
    rng = random.Random(31)

    def arrive(sids):
        client = TwilioClient(Client())
        for sid in sids:
            caller_waits(client, support, sid)

    def transfer(agent_id):
        agent = Agent.objects.get(pk=agent_id)
        while not settled.is_set():
            for target_id in rng.sample([t.pk for t in targets], len(targets)):
                target = Agent.objects.get(pk=target_id)
                try:
                    call_transfer_to_agent(agent=agent, target=target, now=timezone.now())
                except CallControlError as exc:  # rung for a caller, or for another transfer
                    refused.append(exc)

    def worker():
        for _ in range(20):
            routing_dispatch()
            time.sleep(0.02)  # between events, as a worker's dispatch tasks come

    def rings_end():
        # Colleagues decline whatever rings them (busy: rejected, they stay available), so
        # the same agents are fought over again and again.
        while not settled.is_set():
            time.sleep(0.01)
            for offer_id in Offer.objects.filter(outcome=OfferOutcome.OPEN).values_list(
                "pk", flat=True
            ):
                offer_ring_ended(offer_id=offer_id, status="busy", now=timezone.now())

    settled = threading.Event()  # the callers and workers are done
    doubles = []
    running = threading.Event()
    running.set()

    def watch():
        # What any process would see at any moment: agents with two ringing offers.
        from django.db.models import Count

        while running.is_set():
            doubles.extend(
                Offer.objects.filter(outcome=OfferOutcome.OPEN)
                .values("agent_id")
                .annotate(n=Count("pk"))
                .filter(n__gt=1)
            )

    watcher = _in_thread(watch, errors)
    watcher.start()
    callers = [new_sid() for _ in range(CALLERS)]
    threads = [_in_thread(lambda c=callers[i::2]: arrive(c), errors) for i in range(2)]
    threads += [_in_thread(lambda a=a.pk: transfer(a), errors) for a in transferring]
    threads += [_in_thread(worker, errors) for _ in range(2)]
    threads += [_in_thread(rings_end, errors)]
    for thread in threads:
        thread.start()
    for thread in threads[:2] + threads[2 + TRANSFERRING : -1]:  # callers and workers
        thread.join()
    time.sleep(1.0)  # transfers and ring ends go on a moment without dispatch
    settled.set()
    for thread in threads:
        thread.join()
    running.clear()
    watcher.join()

    assert errors == []  # no deadlock, no refusal of the database leaking out
    assert doubles == []
    offers = list(Offer.objects.filter(agent__in=targets).order_by("started_at", "pk"))
    kinds = {("transfer" if o.transfer_id else "visit") for o in offers if o.transfer != alone}
    assert kinds == {"transfer", "visit"}, kinds  # both were fought over
    assert refused, "no transfer was ever refused: nothing competed"
    for target in targets:
        assert sum(o.is_open for o in offers if o.agent_id == target.pk) <= 1
    # Every transfer that rang has exactly its one offer.
    for transfer_row in Transfer.objects.exclude(call_sid=""):
        assert Offer.objects.filter(transfer=transfer_row).count() == 1
