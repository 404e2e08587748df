"""Supervisors on agents' live calls: listen, whisper, barge, from their own softphone.

The supervisor's softphone (their Agent row: supervisors can take calls too) is rung into the
agent's conference with participants.create, never ending the conference on exit, and with the
mode's settings: listen = muted; whisper = coaching the agent's leg (only the agent hears the
supervisor); barge = neither (everyone hears everyone). The mode can be switched during the
call (participants(CA).update) and the supervisor leaves with participants(CA).delete().

The supervisor's leg is not a bridge participant: its end never ends the bridge, it is not the
agent's talk, and the supervisor's presence does not change (no offer, not on-call); while a
session is open the supervisor is not offered callers (``eligible_agents``).
"""

import contextlib
import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from agents.models import Agent, AgentStatus
from agents.roles import SUPERVISORS, user_has_role
from agents.selectors import agent_for_user
from queues.services import TWILIO_UNREACHABLE
from telephony.client import get_client

from .control import CallControlError, bridge_conference_sid, bridge_of_agent
from .models import Bridge, BridgeParticipant, Monitoring, MonitoringMode, ParticipantRole
from .rest import wait_for_call_slot, with_retry
from .services import _ring_from, _url, public_base_url

logger = logging.getLogger("routing")


class SupervisionError(Exception):
    """The supervisor cannot do this now; ``str()`` is a sentence for them."""


def supervisor_softphone(user) -> Agent | None:
    """The supervisor's own softphone: the active agent profile they may open the softphone
    page with (the Agents group and an Agent row with a client identity), if any."""
    return agent_for_user(user)


def _agent_leg(bridge: Bridge, agent: Agent) -> str:
    leg = (
        BridgeParticipant.objects.filter(
            bridge=bridge, role=ParticipantRole.AGENT, agent=agent, left_at__isnull=True
        )
        .order_by("-joined_at")
        .values_list("call_sid", flat=True)
        .first()
    )
    return leg or bridge.offer.agent_call_sid


def _mode_settings(mode: str, agent_leg: str) -> dict:
    if mode == MonitoringMode.LISTEN:
        return {"muted": True, "coaching": False}
    if mode == MonitoringMode.WHISPER:
        return {"muted": False, "coaching": True, "call_sid_to_coach": agent_leg}
    if mode == MonitoringMode.BARGE:
        return {"muted": False, "coaching": False}
    raise SupervisionError(_("Unknown monitoring mode."))


def _change(mode: str, now: datetime) -> dict:
    return {"mode": str(mode), "at": now.isoformat()}


def monitoring_start(*, supervisor, agent: Agent, mode: str, now: datetime) -> Monitoring:
    """Ring the supervisor's softphone into the agent's live call in ``mode``."""
    if not user_has_role(supervisor, SUPERVISORS):
        raise SupervisionError(_("Only supervisors may listen to calls."))
    softphone = supervisor_softphone(supervisor)
    if softphone is None:
        raise SupervisionError(
            _(
                "You have no softphone: an administrator can add you to the Agents group with "
                "an agent profile (a client identity); then keep the Softphone page open."
            )
        )
    if softphone.pk == agent.pk:
        raise SupervisionError(_("You cannot monitor your own call."))
    if softphone.status == AgentStatus.ON_CALL:
        raise SupervisionError(_("You are on a call yourself."))
    bridge = bridge_of_agent(agent)
    if bridge is None:
        raise SupervisionError(_("That agent is not on a call."))
    agent_leg = _agent_leg(bridge, agent)
    settings_ = _mode_settings(mode, agent_leg)
    try:
        conference_sid = bridge_conference_sid(bridge)
    except CallControlError as exc:
        raise SupervisionError(str(exc)) from exc
    try:
        with transaction.atomic():
            monitoring = Monitoring.objects.create(
                supervisor=supervisor,
                supervisor_agent=softphone,
                agent=agent,
                bridge=bridge,
                mode=mode,
                mode_changes=[_change(mode, now)],
                started_at=now,
            )
    except IntegrityError as exc:
        raise SupervisionError(_("You are already listening to a call.")) from exc
    base = public_base_url(bridge.visit.call)
    client = get_client()
    try:
        wait_for_call_slot()  # a created call, paced like every other
        participant = with_retry(
            lambda: client.conferences(conference_sid).participants.create(
                from_=_ring_from(bridge.offer),
                to=f"client:{softphone.identity}",
                start_conference_on_enter=False,
                end_conference_on_exit=False,
                beep="false",
                label=f"monitor-{monitoring.pk}",
                status_callback=_url(
                    base, "routing:monitoring-status", monitoring_id=monitoring.pk
                ),
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                **settings_,
            )
        )
    except TWILIO_UNREACHABLE as exc:
        logger.warning("monitoring of %s refused: %s", agent, exc)
        monitoring.delete()
        raise SupervisionError(_("Your softphone could not be called.")) from exc
    Monitoring.objects.filter(pk=monitoring.pk).update(call_sid=participant.call_sid)
    monitoring.call_sid = participant.call_sid
    return monitoring


def open_monitoring(user) -> Monitoring | None:
    return (
        Monitoring.objects.select_related("bridge", "agent", "supervisor_agent")
        .filter(supervisor=user, ended_at__isnull=True)
        .first()
    )


def monitoring_change_mode(*, monitoring: Monitoring, mode: str, now: datetime) -> Monitoring:
    """Switch listen / whisper / barge during the call (participants(CA).update)."""
    if monitoring.ended_at is not None:
        raise SupervisionError(_("You are no longer on that call."))
    if mode == monitoring.mode:
        return monitoring
    settings_ = _mode_settings(mode, _agent_leg(monitoring.bridge, monitoring.agent))
    try:
        conference_sid = bridge_conference_sid(monitoring.bridge)
        client = get_client()
        with_retry(
            lambda: (
                client.conferences(conference_sid)
                .participants(monitoring.call_sid)
                .update(**settings_)
            )
        )
    except (CallControlError, *TWILIO_UNREACHABLE) as exc:
        logger.info("monitoring %s: mode not changed: %s", monitoring.pk, exc)
        raise SupervisionError(
            _("The mode could not be changed (answer your softphone first).")
        ) from exc
    monitoring.mode = mode
    monitoring.mode_changes = [*monitoring.mode_changes, _change(mode, now)]
    monitoring.save(update_fields=["mode", "mode_changes"])
    return monitoring


def monitoring_end(*, monitoring: Monitoring, now: datetime) -> Monitoring:
    """The supervisor leaves: their participant is removed and their leg hung up; the agent
    and the caller go on talking."""
    if monitoring.call_sid:
        client = get_client()
        with contextlib.suppress(CallControlError, *TWILIO_UNREACHABLE):
            conference_sid = bridge_conference_sid(monitoring.bridge)
            with_retry(
                lambda: (
                    client.conferences(conference_sid).participants(monitoring.call_sid).delete()
                )
            )
        with contextlib.suppress(*TWILIO_UNREACHABLE):
            with_retry(lambda: client.calls(monitoring.call_sid).update(status="completed"))
    Monitoring.objects.filter(pk=monitoring.pk, ended_at__isnull=True).update(ended_at=now)
    monitoring.refresh_from_db()
    return monitoring


def monitoring_leg_status(*, monitoring_id: int, call_sid: str, status: str, now: datetime):
    """The supervisor's leg's status callback: answered, or ended (hung up at the softphone,
    removed, or the call ended for everyone)."""
    monitoring = Monitoring.objects.filter(pk=monitoring_id).first()
    if monitoring is None:
        return None
    if not monitoring.call_sid and call_sid:
        Monitoring.objects.filter(pk=monitoring.pk, call_sid="").update(call_sid=call_sid[:34])
    if status == "in-progress":
        Monitoring.objects.filter(pk=monitoring.pk, answered_at__isnull=True).update(
            answered_at=now
        )
    elif status in ("completed", "busy", "failed", "no-answer", "canceled"):
        Monitoring.objects.filter(pk=monitoring.pk, ended_at__isnull=True).update(ended_at=now)
    return monitoring
