"""Call control on a bridge, asked for by the agent at the desk: hold and resume, cold and warm
transfers, a three-way call with a colleague or an outside number, dropping a party.

These run synchronously in the desk's request (the agent must see at once whether the caller is
on hold); each is one REST request to Twilio, retried on a rate refusal like every other
(routing/rest.py). The hold itself is written only after Twilio accepted it, and its end when
the agent resumes or the bridge ends (``holds_close``), so a hold never outlives its call; the
conference's hold events then set its start and end to Twilio's timestamps
(``hold_event_record``).
"""

import contextlib
import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, IntegerField, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Agent, AgentStatus
from queues.models import Queue
from queues.services import TWILIO_UNREACHABLE
from telephony.client import get_client
from telephony.prepared import Param, Prepared

from .models import (
    Bridge,
    BridgeParticipant,
    Hold,
    Offer,
    OfferOutcome,
    ParticipantRole,
    Transfer,
    TransferKind,
)
from .rest import create_call_paced, with_retry
from .services import _url, legs_bridged, offer_marked, public_base_url

logger = logging.getLogger("routing")


class CallControlError(Exception):
    """The control cannot be done now; ``str()`` is a sentence for the agent."""


def bridge_of_agent(agent: Agent) -> Bridge | None:
    """The open bridge the agent is talking in (answered by them), if any."""
    in_it = BridgeParticipant.objects.filter(
        bridge=OuterRef("pk"), role=ParticipantRole.AGENT, agent=agent, left_at__isnull=True
    )
    return (
        Bridge.objects.filter(Exists(in_it), ended_at__isnull=True)
        .select_related("visit__call", "visit__queue")
        .order_by("-created_at")
        .first()
    )


def bridge_conference_sid(bridge: Bridge) -> str:
    """The bridge's conference SID, looked up once by its name (conferences.list) and kept."""
    if bridge.conference_sid:
        return bridge.conference_sid
    client = get_client()
    found = with_retry(
        lambda: client.conferences.list(
            friendly_name=bridge.friendly_name, status="in-progress", limit=1
        )
    )
    if not found:
        raise CallControlError(_("The call is not connected yet."))
    bridge.conference_sid = found[0].sid
    Bridge.objects.filter(pk=bridge.pk).update(conference_sid=bridge.conference_sid)
    return bridge.conference_sid


def _customer_leg(bridge: Bridge) -> BridgeParticipant:
    leg = (
        BridgeParticipant.objects.filter(
            bridge=bridge, role=ParticipantRole.CUSTOMER, left_at__isnull=True
        )
        .order_by("-joined_at")
        .first()
    )
    if leg is None:
        raise CallControlError(_("The caller has not joined the call yet."))
    return leg


def call_hold(*, agent: Agent, now: datetime) -> Hold:
    """Put the caller of the agent's call on hold: participants(caller).update(hold=True,
    hold_url=the bridge's hold music: the queue's, else silence). A hold already on is kept."""
    bridge = bridge_of_agent(agent)
    if bridge is None:
        raise CallControlError(_("You are not on a call."))
    current = Hold.objects.filter(bridge=bridge, ended_at__isnull=True).first()
    if current is not None:
        return current
    leg = _customer_leg(bridge)
    conference_sid = bridge_conference_sid(bridge)
    base = public_base_url(bridge.visit.call)
    client = get_client()
    try:
        with_retry(
            lambda: (
                client.conferences(conference_sid)
                .participants(leg.call_sid)
                .update(
                    hold=True,
                    hold_url=_url(base, "routing:bridge-hold-music", bridge_id=bridge.pk),
                    hold_method="POST",
                )
            )
        )
    except TWILIO_UNREACHABLE as exc:
        logger.warning("hold on bridge %s refused: %s", bridge.pk, exc)
        raise CallControlError(_("The caller could not be put on hold.")) from exc
    try:
        with transaction.atomic():
            return Hold.objects.create(bridge=bridge, agent=agent, started_at=now)
    except IntegrityError:  # a second click raced the first
        return Hold.objects.get(bridge=bridge, ended_at__isnull=True)


def call_resume(*, agent: Agent, now: datetime) -> Hold | None:
    """Take the caller of the agent's call off hold (participants(caller).update(hold=False));
    the hold ends. None: the caller was not on hold."""
    bridge = bridge_of_agent(agent)
    if bridge is None:
        raise CallControlError(_("You are not on a call."))
    current = Hold.objects.filter(bridge=bridge, ended_at__isnull=True).first()
    if current is None:
        return None
    leg = _customer_leg(bridge)
    conference_sid = bridge_conference_sid(bridge)
    client = get_client()
    try:
        with_retry(
            lambda: client.conferences(conference_sid).participants(leg.call_sid).update(hold=False)
        )
    except TWILIO_UNREACHABLE as exc:
        logger.warning("resume on bridge %s refused: %s", bridge.pk, exc)
        raise CallControlError(_("The caller could not be taken off hold.")) from exc
    holds_close(bridge_id=bridge.pk, now=now)
    current.refresh_from_db()
    return current


_OPEN_HOLD_LOCKED = Prepared(
    lambda: (
        Hold.objects.select_for_update()
        .filter(bridge_id=Param("bridge_id", IntegerField()), ended_at__isnull=True)
        .order_by("pk")[:1]
    )
)


def holds_close(*, bridge_id: int, now: datetime) -> int:
    """End the bridge's open hold (resumed, or the call ended) and add its seconds to the
    bridge. Returns the seconds added."""
    with transaction.atomic(savepoint=False):  # nothing here is caught: no savepoint needed
        hold = _OPEN_HOLD_LOCKED.first(bridge_id=bridge_id)
        if hold is None:
            return 0
        hold.ended_at = max(now, hold.started_at)
        hold.save(update_fields=["ended_at"])
        _bridge_hold_total(bridge_id)
    return hold.seconds or 0


def _bridge_hold_total(bridge_id: int) -> None:
    """The bridge's hold seconds: the sum of its ended holds (added up again, not incremented,
    as Twilio's timestamps may correct a hold after it ended)."""
    holds = Hold.objects.filter(bridge_id=bridge_id, ended_at__isnull=False)
    total = sum(hold.seconds or 0 for hold in holds.only("started_at", "ended_at"))
    Bridge.objects.filter(pk=bridge_id).update(hold_seconds=total)


def _holding_agent(bridge: Bridge) -> Agent | None:
    """The agent talking with the caller: the one in the bridge who joined it first."""
    leg = (
        BridgeParticipant.objects.filter(
            bridge=bridge, role=ParticipantRole.AGENT, left_at__isnull=True
        )
        .select_related("agent")
        .order_by("joined_at", "pk")
        .first()
    )
    return leg.agent if leg is not None else None


def hold_event_changes(params) -> bool:
    """Whether a conference event may start or end a hold (hold_event_record): a participant
    leaving off hold changes nothing, so its webhook reads no bridge."""
    event = params.get("StatusCallbackEvent", "")
    if event in ("participant-hold", "participant-unhold"):
        return True
    return event == "participant-leave" and params.get("Hold", "").lower() == "true"


def hold_event_record(*, bridge: Bridge, params, now: datetime) -> None:
    """The bridge's conference reports the caller's hold: ``participant-hold`` starts a hold,
    ``participant-unhold`` ends it, and so does ``participant-leave`` with ``Hold=true`` (the
    caller hung up, or was transferred, while on hold). The event's ``Timestamp`` (Twilio's
    clock) is the hold's start or end, replacing the moment the desk asked (the server's clock
    when Twilio accepted the update); the event may come before or after the desk's own row.
    Events about anyone but the caller change nothing."""
    from telephony.services import parse_timestamp

    event = params.get("StatusCallbackEvent", "")
    if not hold_event_changes(params) or params.get("CallSid", "") != bridge.visit.call.sid:
        return
    at = parse_timestamp(params, default=now)
    if event == "participant-hold":
        _hold_started(bridge, at)
    else:
        _hold_ended(bridge, at)


def _hold_started(bridge: Bridge, at: datetime) -> None:
    with transaction.atomic():
        holds = Hold.objects.select_for_update().filter(bridge=bridge)
        hold = holds.filter(ended_at__isnull=True).first()
        if hold is None:
            latest = holds.order_by("-started_at", "-pk").first()
            if latest is not None and latest.ended_at >= at:
                hold = latest  # held and resumed at the desk before this report came
        if hold is not None:
            hold.started_at = at
            if hold.ended_at is not None and hold.ended_at < at:
                hold.ended_at = at
            hold.save(update_fields=["started_at", "ended_at"])
            if hold.ended_at is not None:
                _bridge_hold_total(bridge.pk)
            return
        agent = _holding_agent(bridge)
        if agent is None or bridge.ended_at is not None:
            return
        with contextlib.suppress(IntegrityError), transaction.atomic():
            # Reported before the desk's request wrote its hold: the desk finds this one.
            Hold.objects.create(bridge=bridge, agent=agent, started_at=at)


def _hold_ended(bridge: Bridge, at: datetime) -> None:
    with transaction.atomic():
        hold = (
            Hold.objects.select_for_update()
            .filter(bridge=bridge, started_at__lte=at)
            .order_by("-started_at", "-pk")
            .first()
        )
        if hold is None:
            return
        hold.ended_at = at
        hold.save(update_fields=["ended_at"])
        _bridge_hold_total(bridge.pk)


def bridge_on_hold(bridge: Bridge) -> bool:
    return Hold.objects.filter(bridge=bridge, ended_at__isnull=True).exists()


# A caller transferred to a queue enters it with this caller priority (the highest): push
# routing offers them first, ahead of callers who have not talked to anyone yet.
TRANSFER_PRIORITY = 9
# The kinds of transfer that bring a third party into the call (one at a time).
THIRD_PARTY_KINDS = (TransferKind.CONSULT, TransferKind.THREE_WAY, TransferKind.THREE_WAY_NUMBER)
# How long an outside number added to a call rings before it counts as not answering.
OUTSIDE_RING_SECONDS = 30


def call_transfer_to_queue(*, agent: Agent, queue: Queue, now: datetime) -> Transfer:
    """Cold transfer to a queue: the caller leaves the conference into ``queue``'s Enqueue
    (calls(caller).update(url)), a new visit there (first in line for push routing, the IVR
    path and notes follow the call); the agent's leg ends with the conference, the visit the
    caller came from stays answered."""
    return _transfer_out(agent=agent, now=now, kind=TransferKind.QUEUE, to_queue=queue)


def call_transfer_to_number(*, agent: Agent, number: str, now: datetime) -> Transfer:
    """Cold transfer to an outside number, under the softphone's outgoing rules (the number's
    type and the allowed prefixes, agents/outgoing.py): the caller leaves the conference into
    a Dial of that number with the company caller ID; the agent's leg ends."""
    e164 = allowed_number(agent=agent, number=number)
    return _transfer_out(agent=agent, now=now, kind=TransferKind.NUMBER, to_number=e164)


def allowed_number(*, agent: Agent, number: str) -> str:
    """The number in E.164 if the softphone's outgoing rules let this agent call it (allowed
    prefixes and number types, agents/outgoing.py); else CallControlError."""
    from agents.outgoing import outgoing_decide
    from agents.phone import to_e164

    e164 = to_e164(number or "") or ""
    decision = outgoing_decide(from_=f"client:{agent.identity}", to=e164)
    if decision.refused or decision.kind != "number":
        raise CallControlError(
            _("Calls to %(number)s are not allowed from the softphone.") % {"number": number}
        )
    return e164


def _transfer_out(*, agent: Agent, now: datetime, kind: str, **target) -> Transfer:
    """The caller leaves the agent's conference for the transfer's TwiML (its url): the
    customer participant is marked left first, so the end of the bridge does not hang the
    caller up; Twilio refusing undoes it."""
    bridge = bridge_of_agent(agent)
    if bridge is None:
        raise CallControlError(_("You are not on a call."))
    leg = _customer_leg(bridge)
    with transaction.atomic():
        transfer = Transfer.objects.create(
            bridge=bridge,
            agent=agent,
            kind=kind,
            from_queue_id=bridge.visit.queue_id,
            created_at=now,
            **target,
        )
        BridgeParticipant.objects.filter(pk=leg.pk).update(left_at=now)
    holds_close(bridge_id=bridge.pk, now=now)
    base = public_base_url(bridge.visit.call)
    url = _url(base, "routing:transfer-caller", transfer_id=transfer.pk)
    client = get_client()
    try:
        with_retry(lambda: client.calls(leg.call_sid).update(url=url, method="POST"))
    except TWILIO_UNREACHABLE as exc:
        logger.warning("transfer %s of bridge %s refused: %s", kind, bridge.pk, exc)
        BridgeParticipant.objects.filter(pk=leg.pk).update(left_at=None)
        transfer.delete()
        raise CallControlError(_("The caller could not be transferred.")) from exc
    return transfer


def _ring_offer_create(
    *, bridge: Bridge, agent: Agent, target: Agent, kind: str, now: datetime
) -> tuple[Transfer, Offer]:
    """The transfer row and the offer that guards the colleague's ring, decided like any offer:
    under the routing lock, with the colleague's row locked (skipped when a status change holds
    it), and refused by the database's one-open-offer-per-agent if a caller rings them already.
    So a colleague is never rung for a transfer and for a queue caller at once."""
    from .clocks import ROUTING_LOCK, clock_lock
    from .services import eligible_agents

    if target.pk == agent.pk:
        raise CallControlError(_("That agent is not available."))
    with transaction.atomic():
        clock_lock(name=ROUTING_LOCK, now=now)
        free = Agent.objects.select_for_update(skip_locked=True).filter(
            pk=target.pk, status=AgentStatus.AVAILABLE
        )
        if not free.exists() or not eligible_agents(now=now).filter(pk=target.pk).exists():
            raise CallControlError(_("That agent is not available."))
        transfer = Transfer.objects.create(
            bridge=bridge,
            agent=agent,
            kind=kind,
            from_queue_id=bridge.visit.queue_id,
            to_agent=target,
            connected=False,
            created_at=now,
        )
        try:
            with transaction.atomic():
                offer = Offer.objects.create(
                    agent=target,
                    transfer=transfer,
                    queue_id=bridge.visit.queue_id,
                    ring_timeout_seconds=bridge.visit.queue.ring_timeout_seconds,
                    started_at=now,
                )
        except IntegrityError as exc:
            raise CallControlError(_("That agent is not available.")) from exc
        offer_marked(agent_id=target.pk)
    return transfer, offer


def _ring_placed(*, transfer: Transfer, offer: Offer, call_sid: str) -> None:
    Transfer.objects.filter(pk=transfer.pk).update(call_sid=call_sid)
    transfer.call_sid = call_sid
    Offer.objects.filter(pk=offer.pk, outcome=OfferOutcome.OPEN).update(
        agent_call_sid=call_sid, rang_at=timezone.now()
    )


def _ring_refused(*, transfer: Transfer) -> None:
    """Twilio refused the ring: the transfer and its offer go, the colleague may be offered
    callers again."""
    from .tasks import dispatch

    target_id = transfer.to_agent_id
    transfer.delete()  # and its offer
    dispatch.enqueue(agent_id=target_id)


def call_transfer_to_agent(*, agent: Agent, target: Agent, now: datetime) -> Transfer:
    """Cold transfer to a colleague who is available: their softphone rings like an offer
    (calls.create to client:<identity>, an Offer naming the transfer); the caller stays with
    this agent until the colleague answers (``transfer_agent_answered``), then this agent
    leaves the conference. A ring not answered leaves the call as it was (the transfer stays
    unconnected, not counted; the offer missed or rejected, as any other)."""
    from .services import _ring_from

    bridge = bridge_of_agent(agent)
    if bridge is None:
        raise CallControlError(_("You are not on a call."))
    _customer_leg(bridge)
    transfer, offer = _ring_offer_create(
        bridge=bridge, agent=agent, target=target, kind=TransferKind.AGENT, now=now
    )
    base = public_base_url(bridge.visit.call)
    client = get_client()
    try:
        call = create_call_paced(
            client,
            to=f"client:{target.identity}",
            from_=_ring_from(bridge.offer),
            url=_url(base, "routing:transfer-agent-answer", transfer_id=transfer.pk),
            method="POST",
            timeout=bridge.visit.queue.ring_timeout_seconds,
            status_callback=_url(base, "routing:transfer-agent-status", transfer_id=transfer.pk),
            status_callback_method="POST",
            status_callback_event=["initiated", "ringing", "answered", "completed"],
        )
    except TWILIO_UNREACHABLE as exc:
        logger.warning("transfer ring of %s refused: %s", target, exc)
        _ring_refused(transfer=transfer)
        raise CallControlError(_("The caller could not be transferred.")) from exc
    _ring_placed(transfer=transfer, offer=offer, call_sid=call.sid)
    return transfer


def _offer_accept(*, transfer: Transfer, call_sid: str, now: datetime) -> None:
    offer = (
        Offer.objects.select_for_update(of=("self",))
        .filter(transfer=transfer, outcome=OfferOutcome.OPEN)
        .first()
    )
    if offer is not None:
        offer.outcome = OfferOutcome.ACCEPTED
        offer.ended_at = max(now, offer.started_at)
        offer.agent_call_sid = offer.agent_call_sid or call_sid
        offer.save(update_fields=["outcome", "ended_at", "agent_call_sid"])


def transfer_agent_answered(*, transfer_id: int, agent_call, now: datetime) -> Bridge | None:
    """The colleague answered the transfer's ring: they are on call in the bridge, the agent
    who transferred is marked as left and taken out of the conference (a task), so the caller
    stays with the colleague. None: the caller is gone (the ring is told so)."""
    from agents.services import agent_call_started

    from .tasks import release_agent

    with transaction.atomic():
        transfer = (
            Transfer.objects.select_for_update(of=("self",))
            .select_related("bridge__visit", "to_agent")
            .filter(pk=transfer_id, kind=TransferKind.AGENT)
            .first()
        )
        if transfer is None or transfer.bridge.ended_at is not None:
            return None
        bridge = transfer.bridge
        if transfer.connected:
            return bridge  # a repeated request
        transfer.connected = True
        transfer.answered_at = now
        transfer.save(update_fields=["connected", "answered_at"])
        _offer_accept(transfer=transfer, call_sid=agent_call.sid, now=now)
        _, joined = BridgeParticipant.objects.get_or_create(
            bridge=bridge,
            call_sid=agent_call.sid,
            defaults={"role": ParticipantRole.AGENT, "agent": transfer.to_agent, "joined_at": now},
        )
        if joined and agent_call.direction == "inbound" and not agent_call.bridged:
            legs_bridged(call_ids=[agent_call.pk])
        leaving = BridgeParticipant.objects.filter(
            bridge=bridge, role=ParticipantRole.AGENT, agent=transfer.agent, left_at__isnull=True
        ).first()
        if leaving is not None:
            BridgeParticipant.objects.filter(pk=leaving.pk).update(left_at=now)
            release_agent.enqueue(bridge_id=bridge.pk, call_sid=leaving.call_sid)
        agent_call_started(
            agent=Agent.objects.get(pk=transfer.to_agent_id),
            agent_call_sid=agent_call.sid,
            visit=bridge.visit,
            now=now,
        )
    return bridge


def bridge_release_agent(*, bridge_id: int, call_sid: str) -> None:
    """Take a transferring agent out of the conference without ending it: their participant
    no longer ends the conference on exit, then is removed (their call ends after)."""
    bridge = Bridge.objects.get(pk=bridge_id)
    client = get_client()
    try:
        conference_sid = bridge_conference_sid(bridge)
        participant = client.conferences(conference_sid).participants(call_sid)
        with_retry(lambda: participant.update(end_conference_on_exit=False))
        with_retry(lambda: participant.delete())
    except (CallControlError, *TWILIO_UNREACHABLE) as exc:
        logger.info("agent %s not taken out of bridge %s: %s", call_sid, bridge_id, exc)


_TRANSFER_RINGS = Prepared(
    lambda: (
        Transfer.objects.filter(
            bridge_id=Param("bridge_id", IntegerField()),
            kind__in=(TransferKind.AGENT, *THIRD_PARTY_KINDS),
            connected=False,
            answered_at__isnull=True,
            ended_at__isnull=True,
        )
        .exclude(call_sid="")
        .only("call_sid")
        .order_by("pk")
    )
)


def transfer_rings_stop(*, bridge_id: int) -> int:
    """The bridge ended while a colleague's softphone or an outside number still rang for it:
    the ring is stopped (a task), so nobody answers into an ended call (or a new, silent
    conference of the same name)."""
    from .tasks import cancel_ring

    sids = [ring.call_sid for ring in _TRANSFER_RINGS.rows(bridge_id=bridge_id)]
    for sid in sids:
        cancel_ring.enqueue(agent_call_sid=sid)
    return len(sids)


# --- Warm (consult) transfer and three-way ----------------------------------------------------


def consult_start(*, agent: Agent, target: Agent, now: datetime) -> Transfer:
    """Consult a colleague: the caller goes on hold, the colleague's softphone is rung into
    the same conference (participants.create to client:<identity>, not ending it on exit);
    the agent talks to them first, then completes, joins all three, or cancels."""
    from .services import _ring_from

    bridge = bridge_of_agent(agent)
    if bridge is None:
        raise CallControlError(_("You are not on a call."))
    if third_party(bridge) is not None:
        raise CallControlError(_("A consultation is already going on."))
    conference_sid = bridge_conference_sid(bridge)
    transfer, offer = _ring_offer_create(
        bridge=bridge, agent=agent, target=target, kind=TransferKind.CONSULT, now=now
    )
    try:
        call_hold(agent=agent, now=now)
    except CallControlError:
        _ring_refused(transfer=transfer)
        raise
    base = public_base_url(bridge.visit.call)
    client = get_client()
    try:
        participant = with_retry(
            lambda: client.conferences(conference_sid).participants.create(
                from_=_ring_from(bridge.offer),
                to=f"client:{target.identity}",
                end_conference_on_exit=False,
                beep="false",
                timeout=bridge.visit.queue.ring_timeout_seconds,
                status_callback=_url(
                    base, "routing:transfer-agent-status", transfer_id=transfer.pk
                ),
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
            )
        )
    except TWILIO_UNREACHABLE as exc:
        logger.warning("consult of %s refused: %s", target, exc)
        _ring_refused(transfer=transfer)
        call_resume(agent=agent, now=now)
        raise CallControlError(_("Your colleague could not be called.")) from exc
    _ring_placed(transfer=transfer, offer=offer, call_sid=participant.call_sid)
    return transfer


def _third_party_answered(*, transfer_id: int, call_sid: str, now: datetime) -> None:
    """A consulted colleague's or an outside number's leg answered (its status callback): they
    are in the bridge (a colleague also on call, their ring's offer accepted); the conference
    is settled for three (routing's ``settle_bridge`` task)."""
    from agents.services import agent_call_started

    from .tasks import settle_bridge

    with transaction.atomic():
        transfer = (
            Transfer.objects.select_for_update(of=("self",))
            .select_related("bridge__visit")
            .filter(pk=transfer_id, kind__in=THIRD_PARTY_KINDS)
            .first()
        )
        if transfer is None or transfer.bridge.ended_at is not None:
            return
        if transfer.ended_at is not None:
            return  # dropped while it rang (the leg is being hung up)
        outside = transfer.kind == TransferKind.THREE_WAY_NUMBER
        _, created = BridgeParticipant.objects.get_or_create(
            bridge=transfer.bridge,
            call_sid=call_sid,
            defaults={
                "role": ParticipantRole.OUTSIDE if outside else ParticipantRole.AGENT,
                "agent": None if outside else transfer.to_agent,
                "joined_at": now,
            },
        )
        if not created:
            return
        Transfer.objects.filter(pk=transfer.pk).update(answered_at=now)
        settle_bridge.enqueue(bridge_id=transfer.bridge_id)
        if outside:
            return
        _offer_accept(transfer=transfer, call_sid=call_sid, now=now)
        agent_call_started(
            agent=Agent.objects.get(pk=transfer.to_agent_id),
            agent_call_sid=call_sid,
            visit=transfer.bridge.visit,
            now=now,
        )


def consult_answered(*, transfer_id: int, call_sid: str, now: datetime) -> None:
    """The consulted colleague's leg answered: they are in the bridge and on call."""
    _third_party_answered(transfer_id=transfer_id, call_sid=call_sid, now=now)


def third_party_status(*, transfer_id: int, call_sid: str, status: str, now: datetime) -> None:
    """A status callback of a transfer's ring, a consulted colleague's leg or an outside
    number's leg. Answered: into the bridge. Ended without an answer (no-answer, busy,
    failed, canceled): the attempt ends with that status and the colleague's offer ends as
    any offer does (missed, rejected, withdrawn); the agent and the caller go on as they
    were. Ended after the answer: the bridge already learnt it (``bridge_party_left``)."""
    from .services import RING_END_OUTCOMES, offer_ring_ended

    transfer = Transfer.objects.filter(pk=transfer_id).first()
    if transfer is None:
        return
    if status == "in-progress" and transfer.kind in THIRD_PARTY_KINDS:
        _third_party_answered(transfer_id=transfer_id, call_sid=call_sid, now=now)
        return
    if status not in RING_END_OUTCOMES:
        return
    Transfer.objects.filter(pk=transfer.pk, ended_at__isnull=True).update(
        ended_at=now, end_status=status
    )
    offer = Offer.objects.filter(transfer=transfer, outcome=OfferOutcome.OPEN).first()
    if offer is not None:
        offer_ring_ended(offer_id=offer.pk, status=status, now=now)


def third_party(bridge: Bridge) -> Transfer | None:
    """The bridge's third party now — a consulted colleague or an outside number, ringing or
    in the call (not yet handed the caller) — if any. One at a time."""
    return (
        Transfer.objects.filter(
            bridge=bridge, kind__in=THIRD_PARTY_KINDS, connected=False, ended_at__isnull=True
        )
        .exclude(call_sid="")
        .order_by("-created_at")
        .first()
    )


def _open_consult(agent: Agent, kinds=(TransferKind.CONSULT,)) -> tuple[Bridge, Transfer]:
    bridge = bridge_of_agent(agent)
    if bridge is None:
        raise CallControlError(_("You are not on a call."))
    transfer = third_party(bridge)
    if transfer is None or transfer.kind not in kinds:
        raise CallControlError(_("No consultation is going on."))
    return bridge, transfer


def consult_complete(*, agent: Agent, now: datetime) -> Transfer:
    """Hand the caller to the consulted colleague: the caller comes off hold with them, the
    colleague's leaving now ends the conference, and this agent leaves (a task)."""
    from .tasks import release_agent

    bridge, transfer = _open_consult(agent)
    conference_sid = bridge_conference_sid(bridge)
    client = get_client()
    try:
        with_retry(
            lambda: (
                client.conferences(conference_sid)
                .participants(transfer.call_sid)
                .update(end_conference_on_exit=True)
            )
        )
    except TWILIO_UNREACHABLE as exc:
        raise CallControlError(_("The caller could not be transferred.")) from exc
    call_resume(agent=agent, now=now)
    Transfer.objects.filter(pk=transfer.pk).update(connected=True)
    leaving = BridgeParticipant.objects.filter(
        bridge=bridge, role=ParticipantRole.AGENT, agent=agent, left_at__isnull=True
    ).first()
    if leaving is not None:
        BridgeParticipant.objects.filter(pk=leaving.pk).update(left_at=now)
        release_agent.enqueue(bridge_id=bridge.pk, call_sid=leaving.call_sid)
    transfer.refresh_from_db()
    return transfer


def consult_join(*, agent: Agent, now: datetime) -> Transfer:
    """All three together (a three-way call): the caller comes off hold; the consultation is
    over (not a transfer while this agent stays; hanging up hands the caller over)."""
    bridge, transfer = _open_consult(agent)
    call_resume(agent=agent, now=now)
    Transfer.objects.filter(pk=transfer.pk).update(kind=TransferKind.THREE_WAY)
    transfer.refresh_from_db()
    return transfer


def consult_cancel(*, agent: Agent, now: datetime) -> None:
    """Back to the caller: the colleague is taken out (their call ends, or their ring stops),
    the caller resumed. Also drops the colleague from a three-way call."""
    bridge, transfer = _open_consult(agent, kinds=(TransferKind.CONSULT, TransferKind.THREE_WAY))
    call_drop(agent=agent, call_sid=transfer.call_sid, now=now)


# --- Three-way with an outside number; dropping a party; leaving a call of three ----------------


def call_add_number(*, agent: Agent, number: str, now: datetime) -> Transfer:
    """Add an outside number to the agent's call (a three-way call; the caller stays in and
    hears everyone): the number must pass the softphone's outgoing rules, as a transfer to a
    number does; it is rung into the conference (participants.create from the company caller
    ID, not ending the conference on exit). Its ring ending unanswered changes nothing for the
    agent and the caller; once answered, all three hear each other."""
    from django.conf import settings

    from .services import _ring_from

    bridge = bridge_of_agent(agent)
    if bridge is None:
        raise CallControlError(_("You are not on a call."))
    _customer_leg(bridge)
    e164 = allowed_number(agent=agent, number=number)
    if third_party(bridge) is not None:
        raise CallControlError(_("Somebody else is already being added to this call."))
    conference_sid = bridge_conference_sid(bridge)
    transfer = Transfer.objects.create(
        bridge=bridge,
        agent=agent,
        kind=TransferKind.THREE_WAY_NUMBER,
        from_queue_id=bridge.visit.queue_id,
        to_number=e164,
        connected=False,
        created_at=now,
    )
    base = public_base_url(bridge.visit.call)
    client = get_client()
    try:
        participant = with_retry(
            lambda: client.conferences(conference_sid).participants.create(
                from_=settings.TWILIO_CALLER_ID or _ring_from(bridge.offer),
                to=e164,
                end_conference_on_exit=False,
                beep="false",
                timeout=OUTSIDE_RING_SECONDS,
                status_callback=_url(
                    base, "routing:transfer-agent-status", transfer_id=transfer.pk
                ),
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
            )
        )
    except TWILIO_UNREACHABLE as exc:
        logger.warning("adding %s to bridge %s refused: %s", e164, bridge.pk, exc)
        transfer.delete()
        raise CallControlError(_("The number could not be called.")) from exc
    Transfer.objects.filter(pk=transfer.pk).update(call_sid=participant.call_sid)
    transfer.call_sid = participant.call_sid
    return transfer


def call_drop(*, agent: Agent, call_sid: str, now: datetime) -> None:
    """Drop one party of the agent's call of three: the caller, a colleague or an outside
    number (the other two go on talking), or stop a third party's ring. The party's participant
    first no longer ends the conference on exit, then is removed; a colleague's or a number's
    call is ended; a dropped caller's call ends after their conference (their visit stays
    answered, its talk is the agent's). To leave the call oneself, hang up."""
    bridge = bridge_of_agent(agent)
    if bridge is None:
        raise CallControlError(_("You are not on a call."))
    mine = BridgeParticipant.objects.filter(
        bridge=bridge, role=ParticipantRole.AGENT, agent=agent, left_at__isnull=True
    ).first()
    if mine is not None and mine.call_sid == call_sid:
        raise CallControlError(_("To leave the call, hang up."))
    transfer = third_party(bridge)
    if transfer is not None and transfer.call_sid != call_sid:
        transfer = None
    party = BridgeParticipant.objects.filter(
        bridge=bridge, call_sid=call_sid, left_at__isnull=True
    ).first()
    if party is None and transfer is None:
        raise CallControlError(_("That party is not in the call."))
    live = BridgeParticipant.objects.filter(bridge=bridge, left_at__isnull=True)
    if party is not None and live.count() < 3:
        raise CallControlError(_("Only a party of a call of three can be dropped."))
    client = get_client()
    if party is not None:
        BridgeParticipant.objects.filter(pk=party.pk).update(left_at=now)
        conference_sid = bridge_conference_sid(bridge)
        participant = client.conferences(conference_sid).participants(call_sid)
        try:
            with_retry(lambda: participant.update(end_conference_on_exit=False))
            with_retry(lambda: participant.delete())
        except TWILIO_UNREACHABLE as exc:
            if getattr(exc, "status", None) != 404:  # already gone: dropped all the same
                BridgeParticipant.objects.filter(pk=party.pk).update(left_at=None)
                raise CallControlError(_("That party could not be dropped.")) from exc
        if party.role == ParticipantRole.CUSTOMER:
            holds_close(bridge_id=bridge.pk, now=now)
    else:  # still ringing: the pending participant goes, the ring stops
        with contextlib.suppress(TWILIO_UNREACHABLE):
            conference_sid = bridge_conference_sid(bridge)
            with_retry(lambda: client.conferences(conference_sid).participants(call_sid).delete())
    if party is None or party.role != ParticipantRole.CUSTOMER:
        status = "canceled" if party is None else "completed"
        with contextlib.suppress(TWILIO_UNREACHABLE):
            with_retry(lambda: client.calls(call_sid).update(status=status))
    if transfer is not None:
        Transfer.objects.filter(pk=transfer.pk, ended_at__isnull=True).update(
            ended_at=now, end_status="dropped"
        )
        Transfer.objects.filter(pk=transfer.pk, kind=TransferKind.CONSULT).update(
            kind=TransferKind.CANCELLED
        )
    if bridge_on_hold(bridge) and (party is None or party.role != ParticipantRole.CUSTOMER):
        call_resume(agent=agent, now=now)  # back to the caller after a consultation
    bridge_settle(bridge_id=bridge.pk, now=now)


_LEG_IN_BRIDGE_LOCKED = Prepared(
    lambda: (
        BridgeParticipant.objects.select_for_update()
        .filter(
            bridge_id=Param("bridge_id", IntegerField()),
            call_sid=Param("call_sid", CharField()),
            left_at__isnull=True,
        )
        .order_by("pk")[:1]
    )
)
_OTHERS_IN_BRIDGE = Prepared(
    lambda: BridgeParticipant.objects.filter(
        bridge_id=Param("bridge_id", IntegerField()), left_at__isnull=True
    ).exclude(pk=Param("leg_id", IntegerField()))
)


def bridge_party_left(*, bridge: Bridge, call_sid: str, now: datetime) -> bool:
    """Somebody's leg of the bridge ended on its own (hung up). True: the call goes on — an
    agent or a third party left a call of three, and the other two stay; an agent who leaves
    hands the caller over to the third party (the transfer is connected: a completed transfer).
    False: the bridge is to end (the caller left, or fewer than two remain)."""
    from .tasks import settle_bridge

    with transaction.atomic(savepoint=False):  # nothing here is caught: no savepoint needed
        leg = _LEG_IN_BRIDGE_LOCKED.first(bridge_id=bridge.pk, call_sid=call_sid)
        if leg is None or leg.role == ParticipantRole.CUSTOMER:
            return False
        if _OTHERS_IN_BRIDGE.count(bridge_id=bridge.pk, leg_id=leg.pk) < 2:
            return False
        BridgeParticipant.objects.filter(pk=leg.pk).update(left_at=now)
        transfer = third_party(bridge)
        if transfer is not None and transfer.call_sid == call_sid:
            Transfer.objects.filter(pk=transfer.pk).update(ended_at=now, end_status="completed")
        elif transfer is not None and leg.role == ParticipantRole.AGENT:
            # The agent left the caller with the third party: a completed transfer.
            Transfer.objects.filter(pk=transfer.pk).update(connected=True)
        settle_bridge.enqueue(bridge_id=bridge.pk)
    return True


def bridge_settle(*, bridge_id: int, now: datetime) -> None:
    """Make the conference match who is in it. With three, only the caller ends it on exit
    (so an agent or a third party may leave and the other two stay); with two, everyone does
    (nobody is left alone in a silent conference). A hold whose agent is gone ends (the
    caller hears the one they were handed to)."""
    bridge = Bridge.objects.filter(pk=bridge_id, ended_at__isnull=True).first()
    if bridge is None:
        return
    live = list(BridgeParticipant.objects.filter(bridge=bridge, left_at__isnull=True))
    client = get_client()
    try:
        conference_sid = bridge_conference_sid(bridge)
    except CallControlError:
        return
    hold = Hold.objects.filter(bridge=bridge, ended_at__isnull=True).first()
    agents_in = {p.agent_id for p in live if p.role == ParticipantRole.AGENT}
    customer = next((p for p in live if p.role == ParticipantRole.CUSTOMER), None)
    if hold is not None and hold.agent_id not in agents_in and customer is not None:
        with contextlib.suppress(TWILIO_UNREACHABLE):
            with_retry(
                lambda: (
                    client.conferences(conference_sid)
                    .participants(customer.call_sid)
                    .update(hold=False)
                )
            )
        holds_close(bridge_id=bridge.pk, now=now)
    ends = len(live) <= 2
    for party in live:
        if party.role == ParticipantRole.CUSTOMER:
            continue
        try:
            with_retry(
                lambda party=party: (
                    client.conferences(conference_sid)
                    .participants(party.call_sid)
                    .update(end_conference_on_exit=ends)
                )
            )
        except TWILIO_UNREACHABLE as exc:
            logger.info("%s of bridge %s not settled: %s", party.call_sid, bridge_id, exc)
