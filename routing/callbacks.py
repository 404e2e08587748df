"""Callbacks (virtual hold): a caller who left a queue to be called back keeps their place.

- The caller accepts in the queue's wait loop (queues); ``queues.signals.callback_requested``
  makes the ``Callback`` here, in the same transaction.
- The dispatch (``services.routing_dispatch``) serves due callbacks interleaved with waiting
  callers of the same queue, by caller priority then original entry, and rings an agent for one
  exactly as for a caller (an ``Offer`` naming the callback).
- The agent accepts: their leg waits in the callback's conference and the task ``dial_callback``
  calls the customer (``calls.create``, paced like the rings) with a url that joins the same
  conference. The customer answers: connected. No answer, busy or failed: the agent's leg is
  told and ended, and the callback waits the queue's retry delay — or, after the queue's
  attempts, is failed and listed for supervisors.
- Callbacks are offered and dialled only within the queue's callback hours (``CallbackHours``,
  an IVR business-hours schedule); outside them they wait for the next opening.

Decisions lock the callback's row, like offers: offer → callback → agent.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from agents.models import Agent, AgentStatus
from agents.selectors import skill_level
from agents.services import agent_call_ended, agent_call_started
from ivr.selectors import ScheduleSnapshot
from queues.models import QueueVisit
from queues.services import TWILIO_UNREACHABLE
from telephony import configcache
from telephony.client import get_client
from telephony.models import Call

from .clocks import clock_mark, clock_unmark
from .models import Callback, CallbackHours, CallbackStatus, Offer, OfferOutcome
from .priority import effective_priority
from .rest import create_call_paced, with_retry

logger = logging.getLogger("routing")

# How long the customer's phone rings for a callback.
CUSTOMER_RING_SECONDS = 30
# The clock recording that an attempt's calls.create was begun (callback_dial), until recorded.
DIAL_MARK = "dial:"
# The sweep treats an attempt with no word from Twilio this long after it began as unanswered.
DIALLING_LOST_AFTER = timedelta(seconds=CUSTOMER_RING_SECONDS + 90)
# Customer leg final statuses that mean "not reached".
NOT_REACHED = {"no-answer", "busy", "failed", "canceled"}


# --- Hours -----------------------------------------------------------------------------------


def _callback_hours(queue_ids=None) -> dict[int, ScheduleSnapshot]:
    rows = CallbackHours.objects.select_related("hours").prefetch_related(
        "hours__ranges", "hours__holidays"
    )
    if queue_ids is not None:
        rows = rows.filter(queue_id__in=list(queue_ids))
    return {
        row.queue_id: ScheduleSnapshot(
            name=row.hours.name,
            time_zone=row.hours.time_zone,
            ranges=tuple((r.weekday, r.opens, r.closes) for r in row.hours.ranges.all()),
            holidays=frozenset(h.date for h in row.hours.holidays.all()),
        )
        for row in rows
    }


def closed_queue_ids(*, now: datetime, queue_ids=None) -> set[int]:
    """Queues whose callback hours are closed at ``now`` (a queue without hours is open)."""
    hours = _callback_hours(queue_ids)
    return {queue_id for queue_id, schedule in hours.items() if not schedule.is_open(now)}


def callback_hours_closed(*, queue_id: int, now: datetime) -> bool:
    """Whether ``queue_id``'s callback hours are closed at ``now``, from the callback hours
    this process keeps for the current configuration (the wait loop asks on every pass)."""
    hours = configcache.cached_current(("routing:callback-hours",), _callback_hours)
    schedule = hours.get(queue_id)
    return schedule is not None and not schedule.is_open(now)


# --- Requested -------------------------------------------------------------------------------


def callback_create(*, visit: QueueVisit, now: datetime) -> Callback:
    """The caller accepted a callback: it keeps their place (entry, caller priority); any ring
    for the caller stops (the visit no longer waits for an agent)."""
    from .services import offers_withdraw
    from .tasks import dispatch

    callback, _ = Callback.objects.get_or_create(
        visit=visit,
        defaults={
            "queue_id": visit.queue_id,
            "number": visit.callback_number,
            "entered_at": visit.entered_at,
            "caller_priority": visit.caller_priority,
            "requested_at": visit.callback_requested_at or now,
            "next_attempt_at": visit.callback_requested_at or now,
        },
    )
    if Offer.objects.filter(visit=visit, outcome=OfferOutcome.OPEN).exists():
        offers_withdraw(now=now, visit_id=visit.pk)
    dispatch.enqueue(queue_ids=[visit.queue_id])
    return callback


# --- Whose turn ------------------------------------------------------------------------------


def due_callbacks(*, now: datetime, closed: set[int] | None = None):
    """Callbacks whose turn may come now: requested, retry delay over, no ringing offer, within
    their queue's callback hours (``closed``: the queues closed at ``now``, when already read)
    — annotated like waiting callers (``effective_priority``, ``entered_at``) so both can be
    ordered together."""
    if closed is None:
        closed = closed_queue_ids(now=now)
    return (
        Callback.objects.filter(status=CallbackStatus.REQUESTED, next_attempt_at__lte=now)
        .exclude(queue_id__in=closed)
        .exclude(Exists(Offer.objects.filter(callback=OuterRef("pk"), outcome=OfferOutcome.OPEN)))
        .annotate(
            effective_priority=effective_priority("visit__call__from_number"),
            queue_priority=F("queue__priority"),
        )
        .order_by("-queue_priority", "-effective_priority", "entered_at", "pk")
    )


def best_callbacks(agent, *, now, declined, closed: set[int]):
    """The agent's due callbacks, best first (``agent``: the agent or its id; ``closed``: the
    queues whose callback hours are closed at ``now``). ``agent``, ``now`` and ``declined`` may
    be a prepared statement's parameters."""
    return (
        due_callbacks(now=now, closed=closed)
        .filter(queue__memberships__agent=agent)
        .exclude(declined)
        .annotate(level=skill_level(agent=agent, queue_id=OuterRef("queue_id")))
        .order_by("-queue_priority", "level", "-effective_priority", "entered_at", "pk")
    )


def offer_create(*, agent: Agent, callback: Callback, now: datetime) -> Offer | None:
    """Ring ``agent`` for ``callback`` (both rows locked, skipping any a change holds)."""
    from .tasks import ring_offer

    callback_free = Callback.objects.select_for_update(skip_locked=True).filter(
        pk=callback.pk, status=CallbackStatus.REQUESTED
    )
    agent_free = Agent.objects.select_for_update(skip_locked=True).filter(
        pk=agent.pk, status=AgentStatus.AVAILABLE
    )
    if not callback_free.exists() or not agent_free.exists():
        return None
    try:
        with transaction.atomic():
            offer = Offer.objects.create(
                agent=agent,
                callback=callback,
                queue_id=callback.queue_id,
                ring_timeout_seconds=callback.queue.ring_timeout_seconds,
                started_at=now,
            )
    except IntegrityError:
        return None
    from .services import offer_marked

    offer_marked(agent_id=agent.pk)
    ring_offer.enqueue(offer_id=offer.pk)
    return offer


# --- The agent accepts, the customer is called -------------------------------------------------


def callback_offer_answered(*, offer_id: int, agent_call: Call, now: datetime) -> Callback | None:
    """The agent answered a callback's ring: the offer is accepted, the agent on call, and the
    customer is called (a task). None: the callback was taken meanwhile (offer withdrawn)."""
    from .services import _end
    from .tasks import dial_callback, dispatch

    with transaction.atomic():
        offer = Offer.objects.select_for_update(of=("self",)).filter(pk=offer_id).first()
        if offer is None or offer.callback_id is None:
            return None
        callback = Callback.objects.select_for_update().get(pk=offer.callback_id)
        if offer.outcome == OfferOutcome.ACCEPTED and callback.agent_call_sid == agent_call.sid:
            return callback  # a repeated request
        if not offer.is_open:
            return None
        offer.agent_call_sid = offer.agent_call_sid or agent_call.sid
        if callback.status != CallbackStatus.REQUESTED:
            _end(offer, outcome=OfferOutcome.WITHDRAWN, now=now)
            offer.save(update_fields=["agent_call_sid"])
            dispatch.enqueue(agent_id=offer.agent_id)
            return None
        _end(offer, outcome=OfferOutcome.ACCEPTED, now=now)
        offer.save(update_fields=["agent_call_sid"])
        callback.status = CallbackStatus.DIALLING
        callback.attempts += 1
        callback.agent_id = offer.agent_id
        callback.agent_call_sid = agent_call.sid
        callback.customer_call_sid = ""
        callback.dialled_at = now
        callback.save()
        agent = Agent.objects.get(pk=offer.agent_id)
        Agent.objects.filter(pk=agent.pk).update(current_visit=None)
        agent.current_visit = None
        agent_call_started(agent=agent, agent_call_sid=agent_call.sid, visit=None, now=now)
        dial_callback.enqueue(callback_id=callback.pk)
    return callback


def _caller_id(callback: Callback) -> str:
    """The number the caller originally dialled: Twilio accepts only the account's numbers."""
    dialled = callback.visit.call.to_number
    return dialled if dialled.startswith("+") else settings.TWILIO_CALLER_ID


def callback_dial(*, callback_id: int, base_url: str) -> Callback:
    """Call the customer (paced ``calls.create``); Twilio requests the answer URL when they
    pick up, and the status callback when the leg ends.

    Run again (a task handed back after its worker died) it never dials twice: an attempt with
    the customer's leg is left as it is, and one whose dial was begun (the clock
    ``dial:<id>:<attempt>``, written before calls.create) but never recorded fails, since nobody
    knows whether the customer's phone rang."""
    from django.urls import reverse

    with transaction.atomic():
        callback = (
            Callback.objects.select_for_update(of=("self",))
            .select_related("visit__call")
            .get(pk=callback_id)
        )
        if callback.status != CallbackStatus.DIALLING or callback.customer_call_sid:
            return callback
    marker = f"{DIAL_MARK}{callback.pk}:{callback.attempts}"
    if not clock_mark(name=marker, now=timezone.now()):
        logger.warning("dial of callback %s begun by a lost worker: not dialled again", callback.pk)
        failed = callback_attempt_failed(
            callback_id=callback.pk, reason="dial interrupted", now=timezone.now()
        )
        clock_unmark(name=marker)
        return failed
    kwargs = {"callback_id": callback.pk}
    try:
        call = create_call_paced(
            get_client(),
            to=callback.number,
            from_=_caller_id(callback),
            url=base_url + reverse("routing:callback-answer", kwargs=kwargs),
            method="POST",
            timeout=CUSTOMER_RING_SECONDS,
            status_callback=base_url + reverse("routing:callback-status", kwargs=kwargs),
            status_callback_method="POST",
            status_callback_event=["completed"],
        )
    except TWILIO_UNREACHABLE as exc:
        logger.warning("callback %s not dialled: %s", callback.pk, exc)
        failed = callback_attempt_failed(
            callback_id=callback.pk, reason=f"not placed: {exc}"[:200], now=timezone.now()
        )
        clock_unmark(name=marker)
        return failed
    Callback.objects.filter(pk=callback.pk, status=CallbackStatus.DIALLING).update(
        customer_call_sid=call.sid
    )
    clock_unmark(name=marker)
    callback.refresh_from_db()
    return callback


def callback_customer_answered(*, callback_id: int, call: Call, now: datetime) -> Callback | None:
    """The customer picked up: connected (None: the attempt is already over, hang up)."""
    with transaction.atomic():
        callback = Callback.objects.select_for_update().filter(pk=callback_id).first()
        if callback is None:
            return None
        if callback.status == CallbackStatus.CONNECTED:
            return callback
        if callback.status != CallbackStatus.DIALLING:
            return None
        callback.status = CallbackStatus.CONNECTED
        callback.connected_at = now
        callback.customer_call_sid = callback.customer_call_sid or call.sid
        callback.last_error = ""
        callback.save()
    return callback


def callback_attempt_failed(*, callback_id: int, reason: str, now: datetime) -> Callback:
    """The customer was not reached (or the agent left first): the agent's leg is told and
    ended (the agent is free again when it has ended: ``callback_agent_leg_ended``); the
    callback is retried after the queue's delay, or failed after its attempts."""
    from .tasks import dispatch, tell_agent_not_reached

    with transaction.atomic():
        callback = (
            Callback.objects.select_for_update(of=("self",))
            .select_related("queue")
            .get(pk=callback_id)
        )
        if callback.status != CallbackStatus.DIALLING:
            return callback
        callback.last_error = reason[:200]
        if callback.attempts >= callback.queue.callback_max_attempts:
            callback.status = CallbackStatus.FAILED
            callback.ended_at = now
        else:
            callback.status = CallbackStatus.REQUESTED
            callback.next_attempt_at = now + timedelta(
                seconds=callback.queue.callback_retry_seconds
            )
        callback.save()
        if callback.agent_call_sid:
            tell_agent_not_reached.enqueue(agent_call_sid=callback.agent_call_sid)
        dispatch.enqueue(queue_ids=[callback.queue_id])
    return callback


def callback_customer_status(*, callback_id: int, status: str, now: datetime) -> Callback | None:
    """The customer leg's final status: not reached → the attempt failed."""
    callback = Callback.objects.filter(pk=callback_id).first()
    if callback is None or status not in NOT_REACHED:
        return callback
    return callback_attempt_failed(callback_id=callback_id, reason=status, now=now)


def callback_agent_done(*, callback_id: int, agent_call: Call, params, now: datetime) -> None:
    """The agent's conference Dial action: talk seconds of a connected callback; the agent's
    call ends as after any queued call. An agent who left before the customer answered ends
    the attempt (retried)."""
    callback = Callback.objects.select_related("queue").filter(pk=callback_id).first()
    if callback is None or callback.agent_call_sid != agent_call.sid:
        return
    if callback.status == CallbackStatus.DIALLING:
        callback_attempt_failed(callback_id=callback.pk, reason="agent left", now=now)
        if callback.customer_call_sid:
            from .tasks import cancel_ring

            cancel_ring.enqueue(agent_call_sid=callback.customer_call_sid)
        return
    if callback.status == CallbackStatus.CONNECTED and callback.talk_seconds is None:
        try:
            seconds = max(0, int(params.get("DialCallDuration", "0") or 0))
        except ValueError:
            seconds = 0
        Callback.objects.filter(pk=callback.pk).update(talk_seconds=seconds, ended_at=now)
    agent = Agent.objects.filter(pk=callback.agent_id).first()
    if agent is not None:
        agent_call_ended(agent=agent, agent_call_sid=agent_call.sid, queue=callback.queue, now=now)


def callback_agent_leg_ended(*, offer_id: int, call: Call, now: datetime) -> None:
    """The agent's leg of an accepted callback offer ended (its final status): the agent is
    free again if still on that call (after "the customer did not answer", or a call whose
    Dial action never came)."""
    offer = Offer.objects.filter(pk=offer_id, callback__isnull=False).first()
    if offer is None or offer.outcome != OfferOutcome.ACCEPTED:
        return
    agent = Agent.objects.filter(pk=offer.agent_id).first()
    if agent is not None and agent.status == AgentStatus.ON_CALL:
        agent_call_ended(agent=agent, agent_call_sid=call.sid, queue=None, now=now)


def tell_agent(*, agent_call_sid: str, url: str) -> None:
    """Move the agent's leg to a document that says the customer was not reached, then hangs up."""
    client = get_client()
    try:
        with_retry(lambda: client.calls(agent_call_sid).update(url=url, method="POST"))
    except TWILIO_UNREACHABLE as exc:
        logger.info("agent leg %s not told: %s", agent_call_sid, exc)


# --- The sweep ---------------------------------------------------------------------------------


def callbacks_sweep(*, now: datetime) -> int:
    """Attempts Twilio never reported on (a worker died, a callback lost) end as not reached."""
    stuck = list(
        Callback.objects.filter(
            status=CallbackStatus.DIALLING, dialled_at__lte=now - DIALLING_LOST_AFTER
        ).values_list("pk", flat=True)
    )
    for pk in stuck:
        callback_attempt_failed(callback_id=pk, reason="no word from Twilio", now=now)
    return len(stuck)


def callbacks_waiting_counts() -> dict[int, int]:
    """Per queue id: callbacks requested and not yet connected or failed."""
    from django.db.models import Count

    rows = (
        Callback.objects.filter(status__in=(CallbackStatus.REQUESTED, CallbackStatus.DIALLING))
        .values("queue_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["queue_id"]: row["n"] for row in rows}
