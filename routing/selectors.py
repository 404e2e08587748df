"""Reads of routing: the desk's offer details, offers ringing now."""

from datetime import datetime

from django.db.models import Count, IntegerField

from agents.models import Agent, Customer
from agents.phone import to_e164
from agents.selectors import customer_as_dict
from ivr.selectors import call_path_for
from telephony.prepared import Param, Prepared

from .models import Bridge, Hold, Offer, OfferOutcome


def bridge_of_call(bridge_id: int) -> Bridge | None:
    """The bridge with its caller's visit, queue and leg (one statement)."""
    return _BRIDGE_OF_CALL.first(bridge_id=bridge_id)


_BRIDGE_OF_CALL = Prepared(
    lambda: (
        Bridge.objects.select_related("visit__queue", "visit__call")
        .filter(pk=Param("bridge_id", IntegerField()))
        .order_by("pk")[:1]
    )
)


def offer_is_for_callback(offer_id: int) -> bool:
    """Whether the offer rings an agent for a callback (not a waiting caller)."""
    return _CALLBACK_OFFER.exists(offer_id=offer_id)


_CALLBACK_OFFER = Prepared(
    lambda: Offer.objects.filter(pk=Param("offer_id", IntegerField()), callback__isnull=False)
)


def offer_for_desk(*, agent: Agent, call_sid: str, now: datetime) -> dict | None:
    """The offer that rings this agent's softphone with leg ``call_sid``: the caller (number,
    customer, VIP), the queue, the wait so far, the IVR path, and whether it is still open."""
    if not call_sid:
        return None
    offer = (
        Offer.objects.select_related("visit__call", "queue", "callback__visit__call")
        .filter(agent=agent, agent_call_sid=call_sid)
        .first()
    )
    if offer is not None and offer.callback is not None:
        return _callback_for_desk(offer, agent=agent, now=now)
    if offer is None or offer.visit is None:
        return None
    visit = offer.visit
    number = visit.call.from_number
    e164 = to_e164(number)
    customer = Customer.objects.filter(phone_number=e164).first() if e164 else None
    return {
        "id": offer.pk,
        "outcome": offer.outcome or "ringing",
        "phone_number": number,
        "customer": customer_as_dict(customer) if customer is not None else None,
        "vip": bool(customer and customer.is_vip),
        "queue": {"slug": offer.queue.slug, "name": offer.queue.name},
        "wait_seconds": max(0, int((now - visit.entered_at).total_seconds())),
        "caller_priority": visit.caller_priority,
        "ivr_path": [
            {**entry, "at": entry["at"].isoformat()} for entry in call_path_for(visit.call.sid)
        ],
        "auto_answer": agent.auto_answer,
    }


def ringing_counts() -> dict[int, int]:
    """Per queue id: agents whose softphone rings for one of its callers now."""
    rows = (
        Offer.objects.filter(outcome=OfferOutcome.OPEN)
        .values("queue_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["queue_id"]: row["n"] for row in rows}


def offers_ringing():
    return (
        Offer.objects.filter(outcome=OfferOutcome.OPEN)
        .select_related("agent", "queue", "visit")
        .order_by("started_at")
    )


def transfer_for_webhook(transfer_id: int):
    from .models import Transfer

    return Transfer.objects.select_related("to_queue").filter(pk=transfer_id).first()


def _callback_for_desk(offer: Offer, *, agent: Agent, now: datetime) -> dict:
    """A callback's ring on the desk: "callback to <number>", customer, queue, waited since
    (the caller's original entry), attempt."""
    callback = offer.callback
    customer = Customer.objects.filter(phone_number=callback.number).first()
    return {
        "id": offer.pk,
        "kind": "callback",
        "outcome": offer.outcome or "ringing",
        "phone_number": callback.number,
        "customer": customer_as_dict(customer) if customer is not None else None,
        "vip": bool(customer and customer.is_vip),
        "queue": {"slug": offer.queue.slug, "name": offer.queue.name},
        "wait_seconds": max(0, int((now - callback.entered_at).total_seconds())),
        "waiting_since": callback.entered_at.isoformat(),
        "attempt": callback.attempts + 1,
        "caller_priority": callback.caller_priority,
        "ivr_path": [
            {**entry, "at": entry["at"].isoformat()}
            for entry in call_path_for(callback.visit.call.sid)
        ],
        "auto_answer": agent.auto_answer,
    }


def recordings_for_call(sid: str):
    """The app's recordings of a call: of the customer's leg, of the bridge the agent's leg
    answered, or of the callback the agent's leg placed."""
    from django.db.models import Q

    from .models import Recording

    return Recording.objects.filter(
        Q(call_sid=sid) | Q(bridge__offer__agent_call_sid=sid) | Q(callback__agent_call_sid=sid)
    ).select_related("review__reviewer")


def user_may_play_recordings(user) -> bool:
    """Supervisors (by their role's permission), superusers, and analysts granted it."""
    return user.is_authenticated and user.is_active and user.has_perm("routing.play_recording")


# The newest recordings shown on a customer's history page.
CUSTOMER_RECORDINGS_SHOWN = 50


def recordings_for_customer(phone_number: str) -> list:
    """A customer's recorded calls, newest first: queued calls from their number and callbacks
    to it, each with its agent, queue and quality review (one query)."""
    from django.db.models import Q

    from .models import Recording

    if not phone_number:
        return []
    return list(
        Recording.objects.filter(
            Q(bridge__visit__call__from_number=phone_number) | Q(callback__number=phone_number)
        )
        .select_related(
            "bridge__offer__agent__user",
            "bridge__visit__queue",
            "callback__agent__user",
            "callback__queue",
            "review__reviewer",
        )
        .order_by("-started_at")[:CUSTOMER_RECORDINGS_SHOWN]
    )


def call_parties(*, agent: Agent) -> dict:
    """Who is in the agent's call now, for the desk: each party (the caller, agents, an outside
    number) ringing or connected, whether the agent may drop them (a call of three, or a third
    party still ringing), and the last third party whose leg ended (to say it did not answer,
    or left). ``{"parties": [], "ended": null}`` without a call."""
    from .control import THIRD_PARTY_KINDS, bridge_of_agent, third_party
    from .models import BridgeParticipant, ParticipantRole, Transfer

    bridge = bridge_of_agent(agent)
    if bridge is None:
        return {"parties": [], "ended": None}
    live = list(
        BridgeParticipant.objects.filter(bridge=bridge, left_at__isnull=True)
        .select_related("agent")
        .order_by("joined_at", "pk")
    )
    ringing = third_party(bridge)
    on_hold = Hold.objects.filter(bridge=bridge, ended_at__isnull=True).exists()
    transfers = {t.call_sid: t for t in Transfer.objects.filter(bridge=bridge).exclude(call_sid="")}
    parties = []
    for party in live:
        me = party.role == ParticipantRole.AGENT and party.agent_id == agent.pk
        if party.role == ParticipantRole.CUSTOMER:
            label = bridge.visit.call.from_number
        elif party.role == ParticipantRole.OUTSIDE:
            label = getattr(transfers.get(party.call_sid), "to_number", "")
        else:
            label = party.agent.identity if party.agent else ""
        parties.append(
            {
                "call_sid": party.call_sid,
                "role": "caller" if party.role == ParticipantRole.CUSTOMER else party.role,
                "label": label,
                "state": "connected",
                "on_hold": on_hold and party.role == ParticipantRole.CUSTOMER,
                "me": me,
                "can_drop": not me and len(live) >= 3,
            }
        )
    if ringing is not None and ringing.answered_at is None:
        colleague = ringing.to_agent.identity if ringing.to_agent else ""
        parties.append(
            {
                "call_sid": ringing.call_sid,
                "role": "outside" if ringing.to_number else "agent",
                "label": ringing.to_number or colleague,
                "state": "ringing",
                "on_hold": False,
                "me": False,
                "can_drop": True,
            }
        )
    last = (
        Transfer.objects.filter(bridge=bridge, kind__in=THIRD_PARTY_KINDS, ended_at__isnull=False)
        .select_related("to_agent")
        .order_by("-ended_at", "-pk")
        .first()
    )
    ended = None
    if last is not None:
        ended = {
            "id": last.pk,
            "label": last.to_number or (last.to_agent.identity if last.to_agent else ""),
            "status": last.end_status,
            "answered": last.answered_at is not None,
        }
    return {"parties": parties, "ended": ended}
