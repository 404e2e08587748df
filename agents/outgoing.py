"""What a softphone call may reach: the TwiML App's Voice URL (docs/api.md §1).

``queue:<slug>`` takes the front caller of a queue the agent is a member of, ``+E164`` calls a
number valid in its country's numbering plan, under an allowed prefix and of a type that prefix
allows (never premium-rate or shared-cost by default), with the company caller ID;
``client:<identity>`` rings another agent. Anything else is refused, so a stolen session or a
leaked TwiML App cannot be used for toll fraud.
"""

from dataclasses import dataclass

from django.conf import settings

from queues.models import Queue
from queues.selectors import queue_by_slug

from .models import Agent
from .phone import is_e164
from .selectors import CLIENT_PREFIX, agent_for_client, agent_is_member, dial_refusal

QUEUE_PREFIX = "queue:"

# What the agent hears when a call is refused (caller-facing text is data, not UI text).
REFUSAL_JA = "申し訳ございません。この発信はできません。"
REFUSAL_EN = "Sorry, this call cannot be made."


@dataclass(frozen=True)
class Outgoing:
    kind: str  # "queue", "number", "client" or "refused"
    agent: Agent | None = None
    queue: Queue | None = None
    number: str = ""
    client: Agent | None = None
    reason: str = ""

    @property
    def refused(self) -> bool:
        return self.kind == "refused"


def _refuse(reason: str, agent: Agent | None = None) -> Outgoing:
    return Outgoing(kind="refused", agent=agent, reason=reason)


def outgoing_decide(*, from_: str, to: str) -> Outgoing:
    if not from_.startswith(CLIENT_PREFIX):
        return _refuse(f"From {from_!r} is not a softphone client")
    agent = agent_for_client(from_)
    if agent is None:
        return _refuse(f"{from_!r} is not an active agent")
    to = to.strip()
    if to.startswith(QUEUE_PREFIX):
        slug = to[len(QUEUE_PREFIX) :]
        try:
            queue = queue_by_slug(slug)
        except Queue.DoesNotExist:
            queue = None
        if queue is None:
            return _refuse(f"queue {slug!r} does not exist", agent)
        if not agent_is_member(agent, queue):
            return _refuse(f"agent {agent.identity} is not a member of queue {slug!r}", agent)
        return Outgoing(kind="queue", agent=agent, queue=queue)
    if to.startswith(CLIENT_PREFIX):
        target = agent_for_client(to)
        if target is None:
            return _refuse(f"{to!r} is not an active agent", agent)
        if target.pk == agent.pk:
            return _refuse("an agent cannot call themselves", agent)
        return Outgoing(kind="client", agent=agent, client=target)
    if to.startswith("+"):
        if not is_e164(to):
            return _refuse(f"{to!r} is not an E.164 number", agent)
        if refusal := dial_refusal(to):
            return _refuse(refusal, agent)
        if not settings.TWILIO_CALLER_ID:
            return _refuse("TWILIO_CALLER_ID is not set", agent)
        return Outgoing(kind="number", agent=agent, number=to)
    return _refuse(f"destination {to!r} is not understood", agent)
