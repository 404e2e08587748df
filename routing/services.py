"""The ACD: which agent rings for which caller, the ring, the answer, the bridge, the end of
a ring. Every decision is taken in the database (docs/routing.md, "Exactly once"):

- offers are created only under the routing lock (one ``Clock`` row updated first), so two
  processes never decide at the same time on stale reads;
- an open offer's end is written with its row locked (``select_for_update``); code that reacts
  to another event (the caller left, the agent went on break) skips an offer whose row an
  answer in progress holds, and lets that answer decide;
- partial unique constraints refuse a second open offer for one agent or one caller, whatever
  the code above does.

Lock order, to stay free of deadlocks: agent → routing lock → offer; visit → routing lock →
offer; offer → visit → agent (the answer).
"""

import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import (
    CharField,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Value,
)
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from twilio.base.exceptions import TwilioRestException

from agents.models import Agent, AgentStatus
from agents.selectors import device_registered_since, skill_level
from agents.services import (
    agent_call_started,
    agent_expire_missed,
    agent_expire_wrap_up,
    agent_set_missed,
)
from queues.models import QueueResult, QueueVisit, RoutingMode
from queues.selectors import waiting_since, waiting_since_q
from queues.services import TWILIO_UNREACHABLE, visit_record_handoff
from telephony.client import get_client
from telephony.models import FINAL_STATUSES, Call, WebhookEvent
from telephony.prepared import Family, Param, Prepared

from . import callbacks
from .clocks import ROUTING_LOCK, clock_lock, clock_mark, clock_unmark
from .models import (
    Bridge,
    BridgeParticipant,
    Callback,
    Monitoring,
    Offer,
    OfferOutcome,
    ParticipantRole,
)
from .priority import effective_priority
from .rest import create_call_paced, with_retry

logger = logging.getLogger("routing")

# A VIP customer is offered as if the flow had given at least this caller priority (0–9).
# An agent who missed or rejected a caller is not offered that caller again for this long
# (others are; alone, the agent is rung again after it).
REOFFER_SAME_AGENT_AFTER = timedelta(seconds=60)
# The sweep ends an offer Twilio said nothing about this long after its ring should have ended.
SWEEP_MARGIN = timedelta(seconds=15)
# An offer whose ring task never ran (a worker died before calls.create) is ended after this.
RING_NEVER_STARTED_AFTER = timedelta(seconds=60)
# The clock recording that an offer's calls.create was begun (offer_ring), until it is recorded.
RING_MARK = "ring:"
# How many waiting callers one dispatch looks at (the oldest, highest priority first).
DISPATCH_BATCH = 100

# The ring's status callbacks: ``ringing`` (the softphone was reached: the leg's history tells a
# ring that never got there from one not answered) and the final status, which ends an
# unanswered offer. Not ``initiated`` (nothing to learn) nor ``answered``: the answer URL's
# request says so first, with the same CallStatus; each would be one more request per offer.
RING_CALLBACK_EVENTS = ["ringing", "completed"]

# What the status callback of the agent's leg says about an offer that was not answered.
RING_END_OUTCOMES = {
    "no-answer": OfferOutcome.MISSED,
    "busy": OfferOutcome.REJECTED,  # declined in the browser (call.reject())
    "failed": OfferOutcome.MISSED,
    "canceled": OfferOutcome.WITHDRAWN,
    "completed": OfferOutcome.MISSED,  # ended without the answer URL ever being requested
}


def _epoch() -> datetime:
    """Before any agent was idle: stands in for a moment never recorded."""
    return datetime(2000, 1, 1, tzinfo=UTC)


# --- Who may ring, who waits ------------------------------------------------------------------


def eligible_agents(*, now: datetime):
    """Agents who may be offered a call now: active, available, softphone registered, no
    ringing offer (a call in hand or wrap-up, break, missed are other statuses)."""
    return _eligible(device_registered_since(now))


def _eligible(device_since):
    """``eligible_agents`` given ``device_registered_since(now)`` (or a Param)."""
    return (
        Agent.objects.filter(
            is_active=True,
            user__is_active=True,
            status=AgentStatus.AVAILABLE,
            device_seen_at__gt=device_since,
        )
        # Not ringing already, and not a supervisor listening to a call from their softphone.
        # Each as one set, read once per statement (``NOT IN``, hashed by PostgreSQL), not
        # probed agent by agent: a partial index of open rows, churned by every offer, keeps
        # dead entries until a vacuum, and a probe per agent reads them all again each time.
        .exclude(pk__in=_open_offers().values("agent_id"))
        .exclude(pk__in=Monitoring.objects.filter(ended_at=None).values("supervisor_agent_id"))
        .annotate(
            idle_since=Greatest(
                Coalesce("last_call_ended_at", Value(_epoch()), output_field=DateTimeField()),
                Coalesce("status_changed_at", Value(_epoch()), output_field=DateTimeField()),
            )
        )
    )


def _open_offers():
    return Offer.objects.filter(outcome=OfferOutcome.OPEN)


def _declined(since):
    """Offers missed or rejected after ``since`` (the decision's ``now`` −
    REOFFER_SAME_AGENT_AFTER)."""
    return Offer.objects.filter(
        outcome__in=(OfferOutcome.MISSED, OfferOutcome.REJECTED), ended_at__gt=since
    )


def _agents_who_declined(*, since, target: str, target_id) -> Q:
    """Agents who declined the target (``target``: "visit" or "callback", ``target_id`` its
    id) after ``since``: one set, read once per statement."""
    return Q(pk__in=_declined(since).filter(**{target: target_id}).values("agent_id"))


def _declined_recently(*, since, agent_ref, visit_ref, target="visit"):
    """An offer of the target to the agent missed or rejected after ``since``."""
    return Exists(_declined(since).filter(agent=agent_ref, **{target: visit_ref}))


def _waiting(since):
    """Callers waiting in push queues with no ringing offer, in the order they are served:
    queue priority, then caller priority (VIP raised), then the longest wait (original
    entry). ``since``: ``queues.selectors.waiting_since(now)``, or a Param."""
    return (
        QueueVisit.objects.reported()
        .filter(waiting_since_q(since), queue__routing_mode=RoutingMode.PUSH)
        .filter(callback_requested_at__isnull=True)  # leaving for a callback, which waits
        .exclude(pk__in=_open_offers().filter(visit__isnull=False).values("visit_id"))
        .annotate(
            effective_priority=effective_priority("call__from_number"),
            queue_priority=F("queue__priority"),
        )
        .order_by("-queue_priority", "-effective_priority", "entered_at", "pk")
    )


# A decision's reads, built and compiled once per process (telephony.prepared): a dispatch runs
# them for every caller and agent, and building them cost more than running them. Their
# parameters: the decision's moments (``device_since``, ``waiting_since``, ``declined_since``,
# ``now``) and the ids of its agent, caller and queue.
def _param(name: str) -> Param:
    return Param(name, DateTimeField() if name.endswith(("since", "now")) else IntegerField())


_ELIGIBLE_AGENT = Prepared(
    lambda: _eligible(_param("device_since")).filter(pk=_param("agent_id")).order_by("pk")[:1]
)
_ELIGIBLE_COUNT = Prepared(lambda: _eligible(_param("device_since")))
_MEMBERS_FREE = Prepared(
    lambda: _eligible(_param("device_since")).filter(memberships__queue_id=_param("queue_id"))
)


def _best_agents(target: str):
    """Eligible members of the target's queue who did not just decline it: skill level in the
    queue (membership priority, 1 first), then longest idle."""
    return (
        _eligible(_param("device_since"))
        .filter(memberships__queue_id=_param("queue_id"))
        .exclude(
            _agents_who_declined(
                since=_param("declined_since"), target=target, target_id=_param("target_id")
            )
        )
        # The skill level: the priority of the membership the filter above joined.
        .annotate(level=F("memberships__priority"))
        .order_by("level", "idle_since", "pk")[:1]
    )


_BEST_AGENT = {target: Prepared(partial(_best_agents, target)) for target in ("visit", "callback")}


def _best_visits():
    return (
        _waiting(_param("waiting_since"))
        .filter(queue__memberships__agent=_param("agent_id"))
        .exclude(
            _declined_recently(
                since=_param("declined_since"),
                agent_ref=_param("agent_id"),
                visit_ref=OuterRef("pk"),
            )
        )
        .annotate(level=skill_level(agent=_param("agent_id"), queue_id=OuterRef("queue_id")))
        .order_by("-queue_priority", "level", "-effective_priority", "entered_at", "pk")[:1]
    )


_BEST_VISIT = Prepared(_best_visits)


def _turns(key) -> tuple[Prepared, Prepared]:
    """The callers and the due callbacks a dispatch looks at, for ``key``: (its queues — None
    for every push queue, else a tuple of ids —, the queues whose callback hours are closed)."""
    queue_ids, closed = key

    def of_queues(rows):
        return rows if queue_ids is None else rows.filter(queue_id__in=queue_ids)

    return (
        Prepared(
            lambda: of_queues(_waiting(_param("waiting_since"))).select_related("queue")[
                :DISPATCH_BATCH
            ]
        ),
        Prepared(
            lambda: of_queues(
                callbacks.due_callbacks(now=_param("now"), closed=closed)
            ).select_related("queue")[:DISPATCH_BATCH]
        ),
    )


def _best_callbacks(closed: frozenset) -> Prepared:
    return Prepared(
        lambda: callbacks.best_callbacks(
            _param("agent_id"),
            now=_param("now"),
            closed=closed,
            declined=_declined_recently(
                since=_param("declined_since"),
                agent_ref=_param("agent_id"),
                visit_ref=OuterRef("pk"),
                target="callback",
            ),
        )[:1]
    )


# Their shape depends on which queues a decision looks at, and which are closed: the queues
# of a dispatch are every push queue or one; the closed ones change with the callback hours.
_TURNS = Family(_turns)
_BEST_CALLBACK = Family(_best_callbacks)


@dataclass(frozen=True)
class _Moments:
    """A decision's moments, as its prepared reads take them."""

    now: datetime
    device_since: datetime
    waiting_since: datetime
    declined_since: datetime

    @classmethod
    def at(cls, now: datetime) -> "_Moments":
        return cls(
            now=now,
            device_since=device_registered_since(now),
            waiting_since=waiting_since(now),
            declined_since=now - REOFFER_SAME_AGENT_AFTER,
        )


def _best_agent_for(visit, *, moments: _Moments) -> Agent | None:
    """Skill level in the visit's (or callback's) queue (membership priority, 1 first), then
    longest idle, among the eligible agents. An agent offered a caller earlier in the same
    decision is no longer eligible: that offer is open."""
    target = "callback" if isinstance(visit, Callback) else "visit"
    return _BEST_AGENT[target].first(
        device_since=moments.device_since,
        declined_since=moments.declined_since,
        queue_id=visit.queue_id,
        target_id=visit.pk,
    )


def _best_visit_for(agent: Agent, *, moments: _Moments, closed: frozenset):
    """The queues' priority first, then the agent's skill level in each queue (their best
    queue), then the callers' order — waiting callers and due callbacks together (``closed``:
    the queues whose callback hours are closed)."""
    visit = _BEST_VISIT.first(
        waiting_since=moments.waiting_since,
        declined_since=moments.declined_since,
        agent_id=agent.pk,
    )
    callback = _BEST_CALLBACK[closed].first(
        now=moments.now, declined_since=moments.declined_since, agent_id=agent.pk
    )
    candidates = [c for c in (visit, callback) if c is not None]
    return min(candidates, key=_turn_key, default=None)


def _turn_key(target) -> tuple:
    """Whose turn first: queue priority, (skill level when known,) caller priority, original
    entry."""
    return (
        -target.queue_priority,
        getattr(target, "level", 0) or 0,
        -target.effective_priority,
        target.entered_at,
        isinstance(target, Callback),
        target.pk,
    )


# --- Decisions ---------------------------------------------------------------------------------


def _offer_create(*, agent: Agent, visit, now: datetime) -> Offer | None:
    from .tasks import ring_offer

    if isinstance(visit, Callback):
        return callbacks.offer_create(agent=agent, callback=visit, now=now)
    # Lock both rows, skipping any a concurrent change holds (the caller leaving, the agent's
    # status moving): that change's receivers then see this offer once it is committed, and a
    # skipped agent or caller is offered again by the task that change enqueues.
    if not _VISIT_FREE.exists(visit_id=visit.pk) or not _AGENT_FREE.exists(agent_id=agent.pk):
        return None
    try:
        with transaction.atomic():
            offer = Offer.objects.create(
                agent=agent,
                visit=visit,
                queue_id=visit.queue_id,
                ring_timeout_seconds=visit.queue.ring_timeout_seconds,
                started_at=now,
            )
    except IntegrityError:
        return None  # the partial unique constraints: one open offer per agent and per caller
    offer_marked(agent_id=agent.pk, visit_id=visit.pk)
    ring_offer.enqueue(offer_id=offer.pk)
    return offer


def offer_marked(*, agent_id: int, visit_id: int | None = None) -> None:
    """An offer was created (the agent's row, and the visit's, locked): mark that the agent
    (Agent.may_have_offer) and the caller (QueueVisit.offered) may have an open one, so that
    taking a call looks for a ring to stop (receivers). Nothing when already marked."""
    _MARK_AGENT.update(agent_id=agent_id)
    if visit_id is not None:
        _MARK_VISIT.update(visit_id=visit_id)


_VISIT_FREE = Prepared(
    lambda: QueueVisit.objects.select_for_update(skip_locked=True).filter(
        pk=_param("visit_id"),
        result=QueueResult.WAITING,
        answered_at__isnull=True,
        callback_requested_at__isnull=True,
    )
)
_AGENT_FREE = Prepared(
    lambda: Agent.objects.select_for_update(skip_locked=True).filter(
        pk=_param("agent_id"), status=AgentStatus.AVAILABLE
    )
)
_MARK_AGENT = Prepared(
    lambda: (
        Agent.objects.filter(pk=_param("agent_id"), may_have_offer=False),
        {"may_have_offer": True},
    )
)
_MARK_VISIT = Prepared(
    lambda: (QueueVisit.objects.filter(pk=_param("visit_id"), offered=False), {"offered": True})
)


def routing_dispatch(
    *, now: datetime | None = None, agent_id: int | None = None, queue_ids=None
) -> list[Offer]:
    """Offer waiting callers to eligible agents, under the routing lock. ``agent_id`` first
    finds the best caller for that agent (an agent who became available); then every waiting
    caller (of ``queue_ids``, or all push queues) is matched with the best free agent."""
    clock_now = now is None
    now = now or timezone.now()
    offers: list[Offer] = []
    with transaction.atomic():
        clock_lock(name=ROUTING_LOCK, now=now)
        if clock_now:
            # Dated when the lock is ours, not when we began waiting for it: an offer the
            # previous holder ended then ended before any offer this decision starts.
            now = timezone.now()

        def dated() -> datetime:
            # Each offer is dated when it is made, after its agent was read available: the
            # agent's move, which that read saw committed, is dated before it. The decision's
            # reads see what was committed after `now` too.
            return timezone.now() if clock_now else now

        moments = _Moments.at(now)
        closed = None
        if agent_id is not None:
            agent = _ELIGIBLE_AGENT.first(device_since=moments.device_since, agent_id=agent_id)
            if agent is not None:
                closed = frozenset(callbacks.closed_queue_ids(now=now))
            visit = (
                _best_visit_for(agent, moments=moments, closed=closed)
                if agent is not None
                else None
            )
            # Only if no better agent is free for that caller (a task may run late).
            best = _best_agent_for(visit, moments=moments) if visit is not None else None
            if visit is not None and best is not None and best.pk == agent.pk:
                offer = _offer_create(agent=agent, visit=visit, now=dated())
                if offer is not None:
                    offers.append(offer)
        free = _ELIGIBLE_COUNT.count(device_since=moments.device_since)
        if not free:
            return offers
        if closed is None:
            closed = frozenset(callbacks.closed_queue_ids(now=now))
        visits, due = _TURNS[None if queue_ids is None else tuple(sorted(set(queue_ids))), closed]
        taken_visits = {_offer_target(offer) for offer in offers}
        queues_without_agents: set[int] = set()
        # Waiting callers and due callbacks in one line: a callback keeps its caller's place.
        turns = sorted(
            [
                *visits.rows(waiting_since=moments.waiting_since),
                *due.rows(now=moments.now),
            ],
            key=_turn_key,
        )
        for visit in turns[:DISPATCH_BATCH]:
            if free <= 0:
                break  # every free agent rings: the lock is held no longer than needed
            if _target(visit) in taken_visits or visit.queue_id in queues_without_agents:
                continue
            agent = _best_agent_for(visit, moments=moments)
            if agent is None:
                if not _MEMBERS_FREE.exists(
                    device_since=moments.device_since, queue_id=visit.queue_id
                ):
                    queues_without_agents.add(visit.queue_id)  # not just this caller's decliners
                continue
            offer = _offer_create(agent=agent, visit=visit, now=dated())
            if offer is not None:
                offers.append(offer)
                free -= 1
    return offers


def _target(visit) -> tuple[str, int]:
    return ("callback" if isinstance(visit, Callback) else "visit", visit.pk)


def _offer_target(offer: Offer) -> tuple[str, int]:
    if offer.callback_id is not None:
        return ("callback", offer.callback_id)
    return ("visit", offer.visit_id)


def _end(offer: Offer, *, outcome: str, now: datetime, also=()) -> None:
    """The offer ends with ``outcome`` (saved with the fields ``also`` names, in one UPDATE)."""
    offer.outcome = outcome
    offer.ended_at = max(now, offer.started_at)
    offer.save(update_fields=["outcome", "ended_at", *also])


def _open_offers_locked(**filters):
    """Open offers matching ``filters``, locked; those an answer in progress holds are skipped
    (the answer decides about them)."""
    return list(
        Offer.objects.select_for_update(skip_locked=True).filter(
            outcome=OfferOutcome.OPEN, **filters
        )
    )


def offers_withdraw(*, now: datetime, visit_id=None, agent_id=None, reroute=True) -> list[Offer]:
    """End the open offers of a caller who is gone or was taken elsewhere, or of an agent
    who can no longer answer: withdrawn; a ringing softphone is stopped (a task). With
    ``reroute``, the caller or agent left behind is offered again."""
    from .tasks import cancel_ring, dispatch

    filters = {"visit_id": visit_id} if visit_id is not None else {"agent_id": agent_id}
    with transaction.atomic():
        clock_lock(name=ROUTING_LOCK, now=now)
        offers = _open_offers_locked(**filters)
        for offer in offers:
            _end(offer, outcome=OfferOutcome.WITHDRAWN, now=now)
            if offer.agent_call_sid:
                cancel_ring.enqueue(agent_call_sid=offer.agent_call_sid)
            if reroute:
                if visit_id is not None:
                    dispatch.enqueue(agent_id=offer.agent_id)
                else:
                    dispatch.enqueue(queue_ids=[offer.queue_id])
    return offers


# --- The ring ----------------------------------------------------------------------------------


def public_base_url(call: Call | None) -> str:
    """Where Twilio reaches the app: PUBLIC_URL, else the address Twilio used for this call's
    own webhooks (the worker has no request to build URLs from)."""
    if settings.PUBLIC_URL:
        return settings.PUBLIC_URL.rstrip("/")
    events = WebhookEvent.objects.order_by("-received_at", "-pk")
    if call is not None:
        url = events.filter(call_sid=call.sid).values_list("url", flat=True).first()
        if url:
            return _origin(url)
    url = events.values_list("url", flat=True).first()
    return _origin(url) if url else "http://127.0.0.1:8000"


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _url(base: str, name: str, **kwargs) -> str:
    return base + reverse(name, kwargs=kwargs)


def offer_ring(*, offer_id: int) -> None:
    """Ring the agent's softphone for an open offer (calls.create to client:<identity>),
    paced and retried; the agent's leg is kept on the offer. An offer ended meanwhile is not
    rung, or its ring is cancelled at once.

    Run again (a task handed back after its worker died) it never rings twice: an offer with its
    agent's leg is left as it is, and an offer whose ring was begun (the clock ``ring:<id>``,
    written before calls.create) but never recorded is ended as missed, its caller offered
    again, since nobody knows whether the softphone rang."""
    with transaction.atomic():
        # A callback's visit and call, rarely needed, are read below when it is one.
        offer = _OFFER_TO_RING_LOCKED.get(offer_id=offer_id)
        if not offer.is_open or offer.agent_call_sid:
            return
    marker = RING_MARK + str(offer.pk)
    if not clock_mark(name=marker, now=timezone.now()):
        logger.warning("ring of offer %s begun by a lost worker: not rung again", offer.pk)
        offer_ring_ended(offer_id=offer.pk, status="failed", now=timezone.now())
        clock_unmark(name=marker)
        return
    visit = offer.visit or (offer.callback.visit if offer.callback_id else None)
    base = public_base_url(visit.call if visit else None)
    client = get_client()
    try:
        call = create_call_paced(
            client,
            to=f"client:{offer.agent.identity}",
            from_=_ring_from(offer),
            url=_url(base, "routing:offer-answer", offer_id=offer.pk),
            method="POST",
            timeout=offer.ring_timeout_seconds,
            status_callback=_url(base, "routing:offer-status", offer_id=offer.pk),
            status_callback_method="POST",
            status_callback_event=RING_CALLBACK_EVENTS,
        )
    except TWILIO_UNREACHABLE as exc:
        logger.warning("could not ring %s for offer %s: %s", offer.agent, offer.pk, exc)
        offer_ring_ended(offer_id=offer.pk, status="failed", now=timezone.now())
        clock_unmark(name=marker)
        return
    now = timezone.now()
    rang = Offer.objects.filter(pk=offer.pk, outcome=OfferOutcome.OPEN).update(
        agent_call_sid=call.sid, rang_at=now
    )
    if not rang:
        # Withdrawn while calls.create ran: stop the ring that just started.
        Offer.objects.filter(pk=offer.pk).update(agent_call_sid=call.sid)
        ring_cancel(agent_call_sid=call.sid)
    clock_unmark(name=marker)


def _ring_from(offer: Offer) -> str:
    """The ring's caller ID. Twilio accepts only one of the account's numbers (or a client
    identifier) there: the number the caller dialled, else TWILIO_CALLER_ID. The desk learns
    the caller's own number from GET /agent/offer."""
    visit = offer.visit or (offer.callback.visit if offer.callback_id else None)
    dialled = visit.call.to_number if visit is not None else ""
    if dialled.startswith("+"):
        return dialled
    return settings.TWILIO_CALLER_ID or "client:tsunagu"


def ring_cancel(*, agent_call_sid: str) -> None:
    """Stop a ringing softphone (calls(CA).update(status="canceled")); a leg that already
    ended or was answered is left as it is."""
    client = get_client()
    try:
        with_retry(lambda: client.calls(agent_call_sid).update(status="canceled"))
    except TwilioRestException as exc:
        logger.info("ring %s not cancelled: %s", agent_call_sid, exc)


# --- The ring ends -----------------------------------------------------------------------------


def offer_ring_ended(*, offer_id: int, status: str, now: datetime) -> Offer | None:
    """The agent's leg ended without an answer (its status callback, or the ring failed):
    missed (the agent goes to *missed*), rejected, or withdrawn; the caller is offered to the
    next agent at once, in the same place."""
    from .tasks import dispatch

    outcome = RING_END_OUTCOMES.get(status)
    if outcome is None:
        return None
    # No savepoint inside a status callback's transaction: nothing here is caught and retried.
    with transaction.atomic(savepoint=False):
        offer = _OFFER_WITH_QUEUE_LOCKED.first(offer_id=offer_id)
        if offer is None or not offer.is_open:
            return offer
        _end(offer, outcome=outcome, now=now)
        if outcome == OfferOutcome.MISSED:
            agent = _AGENT.get(agent_id=offer.agent_id)
            agent_set_missed(
                agent=agent, now=now, ready_after=offer.queue.missed_ready_after_seconds
            )
        dispatch.enqueue(queue_ids=[offer.queue_id])
        if outcome != OfferOutcome.MISSED:
            dispatch.enqueue(agent_id=offer.agent_id)
    return offer


def _offer_locked(*related: str):
    return (
        Offer.objects.select_for_update(of=("self",))
        .select_related(*related)
        .filter(pk=Param("offer_id", IntegerField()))
        .order_by("pk")[:1]
    )


# The agent as stored now (after a move this transaction made).
_AGENT = Prepared(lambda: Agent.objects.filter(pk=Param("agent_id", IntegerField()))[:1])


_OFFER_WITH_QUEUE_LOCKED = Prepared(partial(_offer_locked, "queue"))
_OFFER_WITH_AGENT_LOCKED = Prepared(partial(_offer_locked, "agent", "queue"))
_OFFER_TO_RING_LOCKED = Prepared(partial(_offer_locked, "agent", "visit__call"))


# --- The answer and the bridge -------------------------------------------------------------


def offer_answered(*, offer_id: int, agent_call: Call, now: datetime) -> Bridge | None:
    """Twilio requested the offer's URL on the agent's leg: the agent answered. If the caller
    still waits: the offer is accepted, the visit answered, the agent on call, and the caller
    is taken out of the queue into the bridge (a task). None: the caller is gone (withdrawn)."""
    from .tasks import bridge_caller

    # No savepoint inside the webhook's transaction: nothing here is caught and retried.
    with transaction.atomic(savepoint=False):
        offer = _OFFER_WITH_AGENT_LOCKED.first(offer_id=offer_id)
        if offer is None:
            return None
        if offer.outcome == OfferOutcome.ACCEPTED:
            return Bridge.objects.filter(offer=offer).first()  # a repeated request
        if not offer.is_open:
            return None
        if not offer.agent_call_sid:
            offer.agent_call_sid = agent_call.sid
        _end(offer, outcome=OfferOutcome.ACCEPTED, now=now, also=["agent_call_sid"])
        visit = visit_record_handoff(
            visit_id=offer.visit_id,
            agent_call_sid=agent_call.sid,
            agent_identity=offer.agent.identity,
            now=now,
        )
        if visit is None:
            offer.outcome = OfferOutcome.WITHDRAWN
            offer.save(update_fields=["outcome"])
            from .tasks import dispatch

            dispatch.enqueue(agent_id=offer.agent_id)
            return None
        if visit.queue_id == offer.queue_id:
            visit.queue = offer.queue  # read with the offer: the bridge's TwiML asks for it
        bridge = Bridge.objects.create(
            visit=visit, offer=offer, friendly_name=f"visit-{visit.pk}", created_at=now
        )
        legs_bridged(call_ids=[visit.call_id])
        BridgeParticipant.objects.create(
            bridge=bridge,
            call_sid=agent_call.sid,
            role=ParticipantRole.AGENT,
            agent=offer.agent,
            joined_at=now,
        )
        # The agent may already be on call (visit_record_handoff told agents); make sure.
        agent = _AGENT.get(agent_id=offer.agent_id)
        if agent.status != AgentStatus.ON_CALL:
            agent_call_started(agent=agent, agent_call_sid=agent_call.sid, visit=visit, now=now)
        bridge_caller.enqueue(bridge_id=bridge.pk)
    return bridge


_BRIDGE_TO_JOIN = Prepared(
    lambda: (
        Bridge.objects.select_related("visit__call", "visit__queue", "offer")
        .filter(pk=Param("bridge_id", IntegerField()))
        .order_by("pk")[:1]
    )
)
_IN_BRIDGE = Prepared(
    lambda: BridgeParticipant.objects.filter(
        bridge_id=Param("bridge_id", IntegerField()), call_sid=Param("call_sid", CharField())
    )
)


def bridge_caller_join(*, bridge_id: int) -> None:
    """Take the caller out of the queue into the bridge: members(<caller>).update(url) on the
    visit's Twilio queue (or calls(<caller>).update(url) when its SID is unknown).

    Run again (a task handed back after its worker died) it moves nobody twice: a bridge that
    ended, or whose caller already requested the join URL, is left as it is."""
    bridge = _BRIDGE_TO_JOIN.get(bridge_id=bridge_id)
    visit = bridge.visit
    if bridge.ended_at is not None:
        return
    if _IN_BRIDGE.exists(bridge_id=bridge.pk, call_sid=visit.call.sid):
        return
    base = public_base_url(visit.call)
    url = _url(base, "routing:bridge-join", bridge_id=bridge.pk)
    client = get_client()
    queue_sid = visit.queue_sid or visit.queue.twilio_sid
    try:
        if queue_sid:
            with_retry(
                lambda: (
                    client.queues(queue_sid).members(visit.call.sid).update(url=url, method="POST")
                )
            )
        else:
            with_retry(lambda: client.calls(visit.call.sid).update(url=url, method="POST"))
    except TWILIO_UNREACHABLE as exc:
        # The caller left the queue a moment ago: end the agent's lone conference.
        logger.warning("caller of bridge %s not taken out of the queue: %s", bridge.pk, exc)
        with contextlib.suppress(TWILIO_UNREACHABLE):
            with_retry(lambda: client.calls(bridge.offer.agent_call_sid).update(status="completed"))


def bridge_leg_ended(*, call: Call, now: datetime) -> Bridge | None:
    """A leg of an open bridge ended (its final status). The caller leaving ends the call for
    everyone; anyone else leaving a call of three (a three-way call, a consultation) leaves the
    other two talking — an agent who leaves hands the caller over (routing/control.py). When
    fewer than two remain, the bridge ends and a task hangs up whoever is still up: a caller
    still hearing the connect message when the agent hung up would otherwise join an empty
    conference, and an agent wait alone for a caller who left."""
    from .control import bridge_party_left

    bridge = _OPEN_BRIDGE_OF_LEG.first(call_id=call.pk, call_sid=call.sid)
    if bridge is None:
        return None
    if _LEFT_BRIDGE.exists(bridge_id=bridge.pk, call_sid=call.sid):
        return None  # left on purpose (handed over, transferred, dropped): the call goes on
    if bridge_party_left(bridge=bridge, call_sid=call.sid, now=now):
        return None  # two others go on talking
    return bridge_end(bridge=bridge, now=now)


def _open_bridge_of_leg():
    sid = Param("call_sid", CharField())
    in_bridge = BridgeParticipant.objects.filter(call_sid=sid, bridge=OuterRef("pk"))
    return (
        Bridge.objects.filter(ended_at__isnull=True)
        .filter(
            Q(visit__call_id=Param("call_id", IntegerField()))
            | Q(offer__agent_call_sid=sid)
            | Exists(in_bridge)
        )
        .order_by("pk")[:1]
    )


_OPEN_BRIDGE_OF_LEG = Prepared(_open_bridge_of_leg)
_LEFT_BRIDGE = Prepared(
    lambda: BridgeParticipant.objects.filter(
        bridge_id=Param("bridge_id", IntegerField()),
        call_sid=Param("call_sid", CharField()),
        left_at__isnull=False,
    )
)


def bridge_end(*, bridge: Bridge, now: datetime) -> Bridge | None:
    """The bridge ends: its hold closes, rings for it stop, and a task hangs up every leg of it
    still up."""
    from .control import holds_close, transfer_rings_stop
    from .tasks import end_bridge

    if not _BRIDGE_END.update(bridge_id=bridge.pk, now=now):
        return None
    holds_close(bridge_id=bridge.pk, now=now)  # a caller on hold who hung up, or was hung up
    transfer_rings_stop(bridge_id=bridge.pk)  # a colleague or a number still ringing
    end_bridge.enqueue(bridge_id=bridge.pk)
    return bridge


_BRIDGE_END = Prepared(
    lambda: (
        Bridge.objects.filter(pk=Param("bridge_id", IntegerField()), ended_at__isnull=True),
        {"ended_at": Param("now", DateTimeField())},
    )
)


def _legs_up():
    """The legs of a bridge still up: its caller's, its agent's, anyone else in it; but not a
    leg that left the bridge on purpose (a caller transferred to a queue), which goes on."""
    bridge_id = Param("bridge_id", IntegerField())
    bridge = Bridge.objects.filter(pk=bridge_id)
    in_it = BridgeParticipant.objects.filter(bridge_id=bridge_id)
    return (
        Call.objects.filter(
            Q(pk__in=bridge.values("visit__call_id"))
            | Q(sid__in=bridge.values("offer__agent_call_sid"))
            | Q(sid__in=in_it.filter(left_at__isnull=True).values("call_sid"))
        )
        .exclude(status__in=FINAL_STATUSES)
        .exclude(sid__in=in_it.filter(left_at__isnull=False).values("call_sid"))
        .only("sid")
        .order_by("pk")
    )


_LEGS_UP = Prepared(_legs_up)


def bridge_hang_up(*, bridge_id: int) -> list[str]:
    """Hang up every leg of an ended bridge that is still up (calls(CA).update(completed))."""
    client = get_client()
    ended = []
    for sid in [call.sid for call in _LEGS_UP.rows(bridge_id=bridge_id)]:
        try:
            with_retry(lambda sid=sid: client.calls(sid).update(status="completed"))
            ended.append(sid)
        except TwilioRestException as exc:
            logger.info("leg %s of bridge %s not hung up: %s", sid, bridge_id, exc)
    return ended


def legs_bridged(*, call_ids) -> None:
    """These legs are in a bridge: an inbound one is marked (Call.bridged), so that its final
    status looks for the bridge to end (receivers.on_call_status_changed); outbound legs (the
    ones routing places) are looked up always. One UPDATE."""
    Call.objects.filter(pk__in=list(call_ids), direction="inbound", bridged=False).update(
        bridged=True
    )


def bridge_customer_joined(*, bridge: Bridge, call: Call, now: datetime) -> None:
    """The caller's join request: the caller is a participant (once, however often Twilio
    asks: one INSERT that skips an existing row), and their leg is marked bridged."""
    BridgeParticipant.objects.bulk_create(
        [
            BridgeParticipant(
                bridge=bridge, call_sid=call.sid, role=ParticipantRole.CUSTOMER, joined_at=now
            )
        ],
        ignore_conflicts=True,
    )
    if not call.bridged and call.direction == "inbound":
        legs_bridged(call_ids=[call.pk])


# --- The sweep ---------------------------------------------------------------------------------


def routing_sweep(*, now: datetime | None = None) -> dict:
    """The periodic safety net: end offers Twilio never reported on (after the ring timeout
    and a margin), end automatic wrap-ups and missed states that are over, and offer every
    waiting caller again."""
    from .tasks import cancel_ring

    given = now
    now = now or timezone.now()
    swept = 0
    candidates = Offer.objects.filter(outcome=OfferOutcome.OPEN).values_list(
        "pk", "rang_at", "started_at", "ring_timeout_seconds", "agent_call_sid"
    )
    for pk, rang_at, started_at, timeout, agent_call_sid in list(candidates):
        if rang_at is not None:
            lost = rang_at + timedelta(seconds=timeout) + SWEEP_MARGIN <= now
        else:
            lost = started_at + RING_NEVER_STARTED_AFTER <= now
        if not lost:
            continue
        offer = offer_ring_ended(offer_id=pk, status="no-answer" if rang_at else "failed", now=now)
        if offer is not None and offer.outcome != OfferOutcome.OPEN:
            swept += 1
            if agent_call_sid:
                cancel_ring.enqueue(agent_call_sid=agent_call_sid)
    expired = 0
    for agent in Agent.objects.filter(
        Q(status=AgentStatus.WRAP_UP, wrap_up_until__lte=now)
        | Q(status=AgentStatus.MISSED, missed_until__lte=now)
    ):
        agent_expire_wrap_up(agent=agent, now=now)
        agent_expire_missed(agent=agent, now=now)
        expired += 1
    callbacks_lost = callbacks.callbacks_sweep(now=now)
    # Unless the caller fixed the time, the offers are dated when the routing lock is ours,
    # not when the sweep began: an offer another process ended meanwhile ended before them.
    offers = routing_dispatch(now=given)
    return {
        "swept": swept,
        "expired": expired,
        "offered": len(offers),
        "callbacks_lost": callbacks_lost,
    }
