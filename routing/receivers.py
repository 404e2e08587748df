"""Routing listens: a caller enqueued, connected or gone (queues); an agent available or
unreachable (agents). Each receiver runs in the transaction of the event and only enqueues a
task or ends offers, so the event's own request stays short."""

from django.db.models import Exists, IntegerField
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from agents.models import Agent
from agents.signals import (
    agent_became_available,
    agent_became_busy,
    agent_became_unreachable,
    customer_history_sections,
)
from queues.models import QueueResult, RoutingMode
from queues.signals import (
    callback_number_refused,
    callback_offer_allowed,
    callback_requested,
    caller_connected,
    caller_enqueued,
    caller_left,
)
from telephony.configcache import config_changed
from telephony.prepared import Param, Prepared
from telephony.signals import call_status_changed

from . import tasks
from .models import CallbackHours, Offer, OfferOutcome
from .services import bridge_leg_ended, offers_withdraw


@receiver(caller_enqueued, dispatch_uid="routing.on_caller_enqueued")
def on_caller_enqueued(sender, visit, **kwargs):
    if visit.queue.routing_mode == RoutingMode.PUSH and not visit.is_test_call:
        tasks.dispatch.enqueue(queue_ids=[visit.queue_id])


@receiver(caller_left, dispatch_uid="routing.on_caller_left")
def on_caller_left(sender, visit, **kwargs):
    """The caller hung up or left while an agent rang: stop the ring, offer withdrawn."""
    # A quick look first is safe: an offer is only created with the visit's row locked, and
    # this transaction holds that lock (queues' services), so any offer is committed by now.
    if visit.result == QueueResult.QUEUE_FULL:
        return  # never entered, never offered
    if visit.answered_at is None and _VISIT_RINGS.exists(visit_id=visit.pk):
        offers_withdraw(now=timezone.now(), visit_id=visit.pk)


@receiver(caller_connected, dispatch_uid="routing.on_caller_connected")
def on_caller_connected(sender, visit, **kwargs):
    """An agent took the caller (by hand, or by answering an offer): any other ring for this
    caller stops. (A ring of the agent who took them stops as they go on call:
    on_agent_busy.) A visit never offered (QueueVisit.offered) has none to look for."""
    if visit.offered and _VISIT_RINGS.exists(visit_id=visit.pk):
        offers_withdraw(now=timezone.now(), visit_id=visit.pk, reroute=False)


@receiver(agent_became_busy, dispatch_uid="routing.on_agent_busy")
def on_agent_busy(sender, agent, **kwargs):
    """The agent went on call: a ring of theirs stops. An agent never offered a call since the
    last look (Agent.may_have_offer) has none; else one UPDATE clears the mark when no offer of
    theirs is open (the agent's row is locked by the move: no offer can be created
    meanwhile); only when one is open is it withdrawn."""
    if not agent.may_have_offer:
        return
    if _CLEAR_OFFER_MARK.update(agent_id=agent.pk):
        agent.may_have_offer = False
        return
    offers_withdraw(now=timezone.now(), agent_id=agent.pk)


@receiver(agent_became_available, dispatch_uid="routing.on_agent_available")
def on_agent_available(sender, agent, **kwargs):
    tasks.dispatch.enqueue(agent_id=agent.pk)


@receiver(agent_became_unreachable, dispatch_uid="routing.on_agent_unreachable")
def on_agent_unreachable(sender, agent, **kwargs):
    """Break, offline or softphone gone while ringing: the ring stops, the caller goes on.
    (An offer is only created with the agent's row locked; a status change holds that lock.)"""
    if _AGENT_RINGS.exists(agent_id=agent.pk):
        offers_withdraw(now=timezone.now(), agent_id=agent.pk)


def _clear_offer_mark():
    agent_id = Param("agent_id", IntegerField())
    open_offers = Offer.objects.filter(agent_id=agent_id, outcome=OfferOutcome.OPEN)
    return (
        Agent.objects.filter(pk=agent_id).exclude(Exists(open_offers)),
        {"may_have_offer": False},
    )


_CLEAR_OFFER_MARK = Prepared(_clear_offer_mark)
# Whether an offer of the visit, or of the agent, rings.
_VISIT_RINGS = Prepared(
    lambda: Offer.objects.filter(
        visit_id=Param("visit_id", IntegerField()), outcome=OfferOutcome.OPEN
    )
)
_AGENT_RINGS = Prepared(
    lambda: Offer.objects.filter(
        agent_id=Param("agent_id", IntegerField()), outcome=OfferOutcome.OPEN
    )
)


@receiver(call_status_changed, dispatch_uid="routing.on_call_status_changed")
def on_call_status_changed(sender, call, previous_status, **kwargs):
    """Either side of a bridge hung up: the other side is hung up too. An inbound leg never put
    in a bridge (Call.bridged, set below) has none to look for."""
    if call.is_final and not call.never_bridged:
        bridge_leg_ended(call=call, now=call.ended_at or timezone.now())


@receiver(callback_requested, dispatch_uid="routing.on_callback_requested")
def on_callback_requested(sender, visit, **kwargs):
    """The caller accepted a callback: it is created in the same transaction."""
    from .callbacks import callback_create

    callback_create(visit=visit, now=visit.callback_requested_at or timezone.now())


@receiver(callback_offer_allowed, dispatch_uid="routing.on_callback_offer_allowed")
def on_callback_offer_allowed(sender, queue, now, **kwargs):
    """No callback is offered outside the queue's callback hours."""
    from .callbacks import callback_hours_closed

    return not callback_hours_closed(queue_id=queue.pk, now=now)


@receiver(callback_number_refused, dispatch_uid="routing.on_callback_number_refused")
def on_callback_number_refused(sender, number, **kwargs):
    """A callback dials only what an agent may dial (agents' outgoing-number rules)."""
    from agents.selectors import dial_refusal

    return dial_refusal(number)


@receiver(customer_history_sections, dispatch_uid="routing.on_customer_history_sections")
def on_customer_history_sections(sender, customer, request, **kwargs):
    """The customer's recorded calls on their history page: the app's player for those who may
    play; a quality review for supervisors and the agent it scores."""
    from django.template.loader import render_to_string

    from agents.roles import ANALYSTS, SUPERVISORS, user_has_role

    from .models import REVIEW_CHECKLIST
    from .selectors import recordings_for_customer, user_may_play_recordings

    recordings = recordings_for_customer(customer.phone_number)
    if not recordings:
        return ""
    supervisor = user_has_role(request.user, SUPERVISORS)
    viewer = getattr(request, "agent", None)
    rows = [
        {
            "recording": recording,
            "agent": recording.agent,
            "queue": recording.queue,
            "review": (
                review
                if (review := recording.review_or_none) is not None
                and (supervisor or (viewer is not None and review.agent_id == viewer.pk))
                else None
            ),
        }
        for recording in recordings
    ]
    return render_to_string(
        "routing/customer_recordings.html",
        {
            "rows": rows,
            "may_play": user_may_play_recordings(request.user),
            "may_open_call": user_has_role(request.user, ANALYSTS, SUPERVISORS),
            "review_total": len(REVIEW_CHECKLIST),
        },
        request=request,
    )


@receiver(post_save, sender=CallbackHours, dispatch_uid="routing.callback_hours.saved")
@receiver(post_delete, sender=CallbackHours, dispatch_uid="routing.callback_hours.deleted")
def on_callback_hours_changed(sender, **kwargs):
    """Callback hours are configuration the wait loop reads from each process's cache: a
    change gives the configuration a new token, so every process reads them again."""
    config_changed()
