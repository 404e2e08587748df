"""Call control on a bridge, asked for by the agent at the desk: hold and resume, and a cold
transfer of the caller to another queue.

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
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from agents.models import Agent
from queues.models import Queue
from queues.services import TWILIO_UNREACHABLE
from telephony.client import get_client

from .models import Bridge, BridgeParticipant, Hold, ParticipantRole, Transfer, TransferKind
from .rest import create_call_paced, with_retry
from .services import _url, public_base_url

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


def holds_close(*, bridge_id: int, now: datetime) -> int:
    """End the bridge's open hold (resumed, or the call ended) and add its seconds to the
    bridge. Returns the seconds added."""
    with transaction.atomic():
        hold = (
            Hold.objects.select_for_update()
            .filter(bridge_id=bridge_id, ended_at__isnull=True)
            .first()
        )
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


def hold_event_record(*, bridge: Bridge, params, now: datetime) -> None:
    """The bridge's conference reports the caller's hold: ``participant-hold`` starts a hold,
    ``participant-unhold`` ends it, and so does ``participant-leave`` with ``Hold=true`` (the
    caller hung up, or was transferred, while on hold). The event's ``Timestamp`` (Twilio's
    clock) is the hold's start or end, replacing the moment the desk asked (the server's clock
    when Twilio accepted the update); the event may come before or after the desk's own row.
    Events about anyone but the caller change nothing."""
    from telephony.services import parse_timestamp

    event = params.get("StatusCallbackEvent", "")
    if params.get("CallSid", "") != bridge.visit.call.sid:
        return
    at = parse_timestamp(params, default=now)
    if event == "participant-hold":
        _hold_started(bridge, at)
    elif event == "participant-unhold" or (
        event == "participant-leave" and params.get("Hold", "").lower() == "true"
    ):
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
    from agents.outgoing import outgoing_decide
    from agents.phone import to_e164

    e164 = to_e164(number or "") or ""
    decision = outgoing_decide(from_=f"client:{agent.identity}", to=e164)
    if decision.refused or decision.kind != "number":
        raise CallControlError(
            _("Calls to %(number)s are not allowed from the softphone.") % {"number": number}
        )
    return _transfer_out(agent=agent, now=now, kind=TransferKind.NUMBER, to_number=e164)


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


def call_transfer_to_agent(*, agent: Agent, target: Agent, now: datetime) -> Transfer:
    """Cold transfer to a colleague who is available: their softphone rings like an offer
    (calls.create to client:<identity>); the caller stays with this agent until the colleague
    answers (``transfer_agent_answered``), then this agent leaves the conference. A ring not
    answered leaves everything as it was (the transfer stays unconnected, not counted)."""
    from .services import _ring_from, eligible_agents

    bridge = bridge_of_agent(agent)
    if bridge is None:
        raise CallControlError(_("You are not on a call."))
    if target.pk == agent.pk or not eligible_agents(now=now).filter(pk=target.pk).exists():
        raise CallControlError(_("That agent is not available."))
    _customer_leg(bridge)
    transfer = Transfer.objects.create(
        bridge=bridge,
        agent=agent,
        kind=TransferKind.AGENT,
        from_queue_id=bridge.visit.queue_id,
        to_agent=target,
        connected=False,
        created_at=now,
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
        transfer.delete()
        raise CallControlError(_("The caller could not be transferred.")) from exc
    Transfer.objects.filter(pk=transfer.pk).update(call_sid=call.sid)
    transfer.call_sid = call.sid
    return transfer


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
        transfer.save(update_fields=["connected"])
        BridgeParticipant.objects.get_or_create(
            bridge=bridge,
            call_sid=agent_call.sid,
            defaults={"role": ParticipantRole.AGENT, "agent": transfer.to_agent, "joined_at": now},
        )
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


def transfer_rings_stop(*, bridge_id: int) -> int:
    """The bridge ended while a colleague's softphone still rang for a transfer: the ring is
    stopped (a task), so nobody answers into an ended call."""
    from .tasks import cancel_ring

    rings = Transfer.objects.filter(
        bridge_id=bridge_id, kind=TransferKind.AGENT, connected=False
    ).exclude(call_sid="")
    sids = list(rings.values_list("call_sid", flat=True))
    for sid in sids:
        cancel_ring.enqueue(agent_call_sid=sid)
    return len(sids)


# --- Warm (consult) transfer and three-way ----------------------------------------------------


def consult_start(*, agent: Agent, target: Agent, now: datetime) -> Transfer:
    """Consult a colleague: the caller goes on hold, the colleague's softphone is rung into
    the same conference (participants.create to client:<identity>, not ending it on exit);
    the agent talks to them first, then completes, joins all three, or cancels."""
    from .services import _ring_from, eligible_agents

    bridge = bridge_of_agent(agent)
    if bridge is None:
        raise CallControlError(_("You are not on a call."))
    if target.pk == agent.pk or not eligible_agents(now=now).filter(pk=target.pk).exists():
        raise CallControlError(_("That agent is not available."))
    if Transfer.objects.filter(bridge=bridge, kind=TransferKind.CONSULT, connected=False).exists():
        raise CallControlError(_("A consultation is already going on."))
    call_hold(agent=agent, now=now)
    conference_sid = bridge_conference_sid(bridge)
    transfer = Transfer.objects.create(
        bridge=bridge,
        agent=agent,
        kind=TransferKind.CONSULT,
        from_queue_id=bridge.visit.queue_id,
        to_agent=target,
        connected=False,
        created_at=now,
    )
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
        transfer.delete()
        raise CallControlError(_("Your colleague could not be called.")) from exc
    Transfer.objects.filter(pk=transfer.pk).update(call_sid=participant.call_sid)
    transfer.call_sid = participant.call_sid
    return transfer


def consult_answered(*, transfer_id: int, call_sid: str, now: datetime) -> None:
    """The consulted colleague's leg answered (its status callback): they are in the bridge
    and on call."""
    from agents.services import agent_call_started

    with transaction.atomic():
        transfer = (
            Transfer.objects.select_for_update(of=("self",))
            .select_related("bridge__visit")
            .filter(pk=transfer_id, kind=TransferKind.CONSULT)
            .first()
        )
        if transfer is None or transfer.bridge.ended_at is not None:
            return
        _, created = BridgeParticipant.objects.get_or_create(
            bridge=transfer.bridge,
            call_sid=call_sid,
            defaults={"role": ParticipantRole.AGENT, "agent": transfer.to_agent, "joined_at": now},
        )
        if created:
            agent_call_started(
                agent=Agent.objects.get(pk=transfer.to_agent_id),
                agent_call_sid=call_sid,
                visit=transfer.bridge.visit,
                now=now,
            )


def _open_consult(agent: Agent, kinds=(TransferKind.CONSULT,)) -> tuple[Bridge, Transfer]:
    bridge = bridge_of_agent(agent)
    if bridge is None:
        raise CallControlError(_("You are not on a call."))
    transfer = (
        Transfer.objects.filter(bridge=bridge, kind__in=kinds, connected=False)
        .exclude(call_sid="")
        .order_by("-created_at")
        .first()
    )
    if transfer is None:
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
    over (not a transfer: this agent stays)."""
    bridge, transfer = _open_consult(agent)
    call_resume(agent=agent, now=now)
    Transfer.objects.filter(pk=transfer.pk).update(kind=TransferKind.THREE_WAY)
    transfer.refresh_from_db()
    return transfer


def consult_cancel(*, agent: Agent, now: datetime) -> None:
    """Back to the caller: the colleague is taken out (their call ends), the caller resumed.
    Also drops the colleague from a three-way call."""
    bridge, transfer = _open_consult(agent, kinds=(TransferKind.CONSULT, TransferKind.THREE_WAY))
    conference_sid = bridge_conference_sid(bridge)
    client = get_client()
    try:
        with_retry(
            lambda: client.conferences(conference_sid).participants(transfer.call_sid).delete()
        )
    except TWILIO_UNREACHABLE as exc:
        logger.info("consulted leg %s already gone: %s", transfer.call_sid, exc)
    with contextlib.suppress(TWILIO_UNREACHABLE):
        with_retry(lambda: client.calls(transfer.call_sid).update(status="completed"))
    BridgeParticipant.objects.filter(bridge=bridge, call_sid=transfer.call_sid).update(left_at=now)
    Transfer.objects.filter(pk=transfer.pk, kind=TransferKind.CONSULT).update(
        kind=TransferKind.CANCELLED
    )
    call_resume(agent=agent, now=now)
