"""Presence follows calls: the queues and telephony apps say what happened, agents listen."""

from django.db.models import CharField
from django.dispatch import receiver
from django.utils import timezone

from queues.models import QueueVisit
from queues.signals import caller_connected, talk_recorded
from telephony.prepared import Param, Prepared
from telephony.services import AttachedRead
from telephony.signals import call_status_changed, leg_ending

from .models import Agent, AgentStatus
from .selectors import client_identity
from .services import agent_call_connected, agent_call_ended, agent_talk_ended


@receiver(caller_connected, dispatch_uid="agents.on_caller_connected")
def on_caller_connected(sender, visit, **kwargs):
    if visit.agent_identity:
        agent_call_connected(visit=visit, now=timezone.now())


@receiver(talk_recorded, dispatch_uid="agents.on_talk_recorded")
def on_talk_recorded(sender, visit, **kwargs):
    agent_talk_ended(visit=visit, now=timezone.now())


def _agent_read_with(call, identity: str) -> tuple[Agent | None, bool]:
    """The agent named ``identity``, and whether its row is locked: as the leg's upsert read
    it (on_leg_ending), else read now."""
    read = getattr(call, "attached_read", None)
    if read is not None and read[0].model is Agent and read[0].filters == (("identity", identity),):
        return read[1], read[0].lock
    return _AGENT_BY_IDENTITY.first(identity=identity), False


_AGENT_BY_IDENTITY = Prepared(
    lambda: Agent.objects.filter(identity=Param("identity", CharField())).order_by("pk")[:1]
)
# The visit an agent's leg answered, with its queue.
_VISIT_OF_AGENT_LEG = Prepared(
    lambda: (
        QueueVisit.objects.select_related("queue")
        .filter(agent_call_sid=Param("call_sid", CharField()))
        .order_by("pk")[:1]
    )
)


@receiver(leg_ending, dispatch_uid="agents.on_leg_ending")
def on_leg_ending(sender, params, **kwargs):
    """A leg is ending: when an agent's softphone placed it (the TwiML App's legs: a call
    taken from a queue, a call out), the leg's upsert reads the agent, locked as
    on_call_status_changed would lock it, in the same statement.

    Not for a leg that rang the agent (routing's rings and transfers, To=client:): routing
    ends their offers after, and takes an offer's lock before its agent's elsewhere (the
    sweep), so the agent is read after the leg's statement, the old way."""
    identity = client_identity(params.get("From", ""))
    if identity is None:
        return None
    return AttachedRead(
        model=Agent,
        call_field=None,
        filters=(("identity", identity),),
        order_by=None,
        token="",
        lock=True,
    )


@receiver(call_status_changed, dispatch_uid="agents.on_call_status_changed")
def on_call_status_changed(sender, call, previous_status, **kwargs):
    """The agent's own leg ended (the TwiML App's status callback, or a pushed call's leg)."""
    if not call.is_final:
        return
    for address in (call.from_number, call.to_number):
        identity = client_identity(address)
        if identity is None:
            continue
        agent, locked = _agent_read_with(call, identity)
        if agent is None:
            continue
        if agent.status != AgentStatus.ON_CALL or (
            agent.current_call_sid and agent.current_call_sid != call.sid
        ):
            return  # not on this call: agent_call_ended would change nothing
        visit = _VISIT_OF_AGENT_LEG.first(call_sid=call.sid)
        agent_call_ended(
            agent=agent,
            agent_call_sid=call.sid,
            queue=visit.queue if visit is not None else None,
            now=call.ended_at or timezone.now(),
            locked=locked,
        )
        return
