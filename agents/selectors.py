"""Reads about agents: who the agent is, their queues, presence counts, the screen-pop."""

import re
from datetime import datetime, timedelta

from django.db.models import Case, CharField, Count, F, Q, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone

from config.security import csv_writer

# ivr stands beside agents, not below: the screen-pop reads the caller's IVR path only through
# ivr's one public read of it, and ivr never imports agents.
from ivr.selectors import call_path_for
from queues.models import Queue, QueueVisit
from queues.selectors import waiting_stats
from telephony.models import Call

from .models import Agent, AgentStatus, ContactNote, Customer, DialPrefix, QueueMembership
from .phone import number_types, to_e164
from .roles import AGENTS, user_has_role

CLIENT_PREFIX = "client:"
# The desk refreshes a registered softphone's time while it polls (every few seconds); past
# this without news, the browser is gone and the softphone no longer counts as registered.
DEVICE_STALE_AFTER = timedelta(minutes=2)
DEVICE_REFRESH_AFTER = timedelta(seconds=30)
SCREEN_POP_NOTES = 10
# Columns of the customer CSV, export and import alike.
CUSTOMER_CSV_COLUMNS = ("phone_number", "name", "company", "email", "notes")


def skill_level(*, agent, queue_id) -> Subquery:
    """The agent's skill level in the queue — its membership priority, 1 first — as a
    subquery of a routing decision (``agent`` and ``queue_id``: references or parameters)."""
    return Subquery(
        QueueMembership.objects.filter(agent=agent, queue_id=queue_id).values("priority")[:1]
    )


def agent_for_user(user) -> Agent | None:
    """The active agent a logged-in user works as, or None for anyone else."""
    if not user_has_role(user, AGENTS):
        return None
    return Agent.objects.filter(user=user, is_active=True).first()


def client_identity(address: str) -> str | None:
    """The identity of a softphone address (``client:<identity>``), else None."""
    if not address.startswith(CLIENT_PREFIX):
        return None
    return address[len(CLIENT_PREFIX) :]


def agent_for_client(address: str) -> Agent | None:
    """The agent behind ``client:<identity>`` if it may use the softphone now, else None."""
    identity = client_identity(address)
    if identity is None:
        return None
    agent = (
        Agent.objects.select_related("user")
        .filter(identity=identity, is_active=True, user__is_active=True)
        .first()
    )
    if agent is None or not user_has_role(agent.user, AGENTS):
        return None
    return agent


def agent_effective_status(agent: Agent, *, now: datetime) -> str:
    """The status as the agent lives it: an automatic wrap-up that ran out is over."""
    if (
        agent.status == AgentStatus.WRAP_UP
        and agent.wrap_up_until is not None
        and agent.wrap_up_until <= now
    ):
        return AgentStatus.AVAILABLE
    if (
        agent.status == AgentStatus.MISSED
        and agent.missed_until is not None
        and agent.missed_until <= now
    ):
        return AgentStatus.AVAILABLE
    return agent.status


def agent_queue_stats(agent: Agent) -> list[dict]:
    """The agent's queues, highest priority first, with how many wait and for how long."""
    stats = waiting_stats()
    rows = []
    for membership in agent.memberships.select_related("queue").order_by("priority", "queue__name"):
        queue = membership.queue
        queue_stats = stats.get(queue.id, {})
        rows.append(
            {
                "slug": queue.slug,
                "name": queue.name,
                "priority": membership.priority,
                "waiting": queue_stats.get("waiting", 0),
                "longest_wait_seconds": queue_stats.get("longest_wait_seconds"),
            }
        )
    return rows


def agent_queue(agent: Agent, slug: str) -> Queue | None:
    """The queue named ``slug`` if the agent is one of its members, else None."""
    return Queue.objects.filter(slug=slug, memberships__agent=agent).first()


def agent_is_member(agent: Agent, queue: Queue) -> bool:
    return QueueMembership.objects.filter(agent=agent, queue=queue).exists()


def device_registered_since(now: datetime) -> datetime:
    """A softphone last seen registered after this moment still counts as registered."""
    return now - DEVICE_STALE_AFTER


def agent_device_registered(agent: Agent, *, now: datetime) -> bool:
    return agent.device_seen_at is not None and agent.device_seen_at > device_registered_since(now)


def agent_status_counts() -> dict[int, dict[str, int]]:
    """Per queue id: how many of its active agents are available, on a call, in wrap-up.

    Available means calls can reach the agent: an "available" agent whose softphone is not
    registered (never opened, offline, closed without a word for DEVICE_STALE_AFTER) is left out.
    """
    now = timezone.now()
    unreachable = Q(agent__device_seen_at__isnull=True) | Q(
        agent__device_seen_at__lte=device_registered_since(now)
    )
    effective = Case(
        When(unreachable & Q(agent__status=AgentStatus.AVAILABLE), then=Value("unreachable")),
        When(
            unreachable & Q(agent__status=AgentStatus.WRAP_UP, agent__wrap_up_until__lte=now),
            then=Value("unreachable"),
        ),
        When(
            agent__status=AgentStatus.WRAP_UP,
            agent__wrap_up_until__lte=now,
            then=Value(AgentStatus.AVAILABLE),
        ),
        default=F("agent__status"),
        output_field=CharField(),
    )
    counts = {
        queue_id: {
            AgentStatus.AVAILABLE.value: 0,
            AgentStatus.ON_CALL.value: 0,
            AgentStatus.WRAP_UP.value: 0,
        }
        for queue_id in Queue.objects.values_list("id", flat=True)
    }
    rows = (
        QueueMembership.objects.filter(agent__is_active=True, agent__user__is_active=True)
        .annotate(effective=effective)
        .values("queue_id", "effective")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        by_status = counts.setdefault(
            row["queue_id"],
            {
                AgentStatus.AVAILABLE.value: 0,
                AgentStatus.ON_CALL.value: 0,
                AgentStatus.WRAP_UP.value: 0,
            },
        )
        if row["effective"] in by_status:
            by_status[row["effective"]] += row["n"]
    return counts


def dial_refusal(e164: str) -> str:
    """Why an outbound number may not be called, or "" when it may: it must be a valid number
    of its country's plan, under an allowed prefix (the longest that matches decides) whose
    number types include this number's."""
    kinds = number_types(e164)
    if kinds is None:
        return f"{e164} is not a valid number"
    matching = [
        prefix
        for prefix in DialPrefix.objects.filter(is_active=True)
        if e164.startswith(prefix.prefix)
    ]
    if not matching:
        return f"{e164} is outside the allowed dialling prefixes"
    prefix = max(matching, key=lambda prefix: len(prefix.prefix))
    if not kinds & prefix.number_type_set:
        kind = ", ".join(sorted(kinds)) or "unknown"
        return f"{e164} is a kind of number ({kind}) that {prefix} does not allow"
    return ""


def dial_prefix_allows(e164: str) -> bool:
    """Whether agents may call an outbound number (see dial_refusal)."""
    return not dial_refusal(e164)


# --- Customers and the screen-pop


def customer_search(query: str):
    """Customers whose name, company, email or number matches; numbers in any written form."""
    customers = Customer.objects.all()
    query = (query or "").strip()
    if not query:
        return customers.order_by("-updated_at")
    e164 = to_e164(query)
    digits = re.sub(r"\D", "", query)
    condition = Q(name__icontains=query) | Q(company__icontains=query) | Q(email__icontains=query)
    if e164:
        condition |= Q(phone_number=e164)
    if len(digits) >= 3:
        condition |= Q(phone_number__contains=digits)
    return customers.filter(condition).order_by("name", "phone_number")


def contact_notes_for(*, customer: Customer | None, phone_e164: str | None, limit: int):
    condition = Q()
    if customer is not None:
        condition |= Q(customer=customer)
    if phone_e164:
        condition |= Q(phone_number=phone_e164)
    if not condition:
        return []
    return list(
        ContactNote.objects.filter(condition)
        .select_related("agent", "disposition", "queue")
        .order_by("-created_at")[:limit]
    )


def note_as_dict(note: ContactNote) -> dict:
    return {
        "id": note.id,
        "created_at": note.created_at.isoformat(),
        "agent": note.agent.identity,
        "disposition": note.disposition.name if note.disposition else "",
        "queue": note.queue.name if note.queue else "",
        "text": note.text,
    }


def customer_as_dict(customer: Customer) -> dict:
    return {
        "id": customer.id,
        "name": customer.name,
        "company": customer.company,
        "email": customer.email,
        "phone_number": customer.phone_number,
        "notes": customer.notes,
        "url": reverse("agents:customer", args=[customer.id]),
    }


def _visit_for_agent_call(agent: Agent, call_sid: str) -> QueueVisit | None:
    visits = QueueVisit.objects.select_related("queue", "call").filter(
        agent_identity=agent.identity
    )
    if call_sid:
        visit = visits.filter(agent_call_sid=call_sid).first()
        if visit is not None:
            return visit
    if agent.current_visit_id and agent.status in (AgentStatus.ON_CALL, AgentStatus.WRAP_UP):
        # A pushed call reaches the browser as a child leg Twilio may never report to us;
        # the visit the connect URL gave this agent is then the call in hand.
        return visits.filter(pk=agent.current_visit_id).first()
    return None


def _other_party(agent: Agent, call_sid: str) -> tuple[str, str, Call | None]:
    """(number, direction, caller leg) of a softphone call that went through no queue."""
    call = Call.objects.filter(sid=call_sid).first() if call_sid else None
    if call is None:
        return "", "", None
    me = CLIENT_PREFIX + agent.identity
    if call.from_number == me and not call.to_number.startswith("queue:"):
        return call.to_number, "outbound", call
    if call.to_number == me and call.parent_sid:
        parent = Call.objects.filter(sid=call.parent_sid).first()
        if parent is not None:
            return parent.from_number, "inbound", parent
    return "", "", None


def screen_pop_for(*, agent: Agent, call_sid: str = "", from_hint: str = "") -> dict | None:
    """What the agent should see about the call in hand: caller, queue, wait, customer, notes.

    ``call_sid`` is the agent's own leg as the softphone knows it; ``from_hint`` the caller's
    number the softphone was told, used only when the app has no record of the call.
    """
    visit = _visit_for_agent_call(agent, call_sid)
    caller_call = visit.call if visit is not None else None
    direction = "inbound" if visit is not None else ""
    number = caller_call.from_number if caller_call is not None else ""
    if visit is None:
        number, direction, caller_call = _other_party(agent, call_sid)
    if not number and from_hint and not from_hint.startswith(CLIENT_PREFIX):
        number, direction = from_hint, "inbound"
    if not number:
        return None
    e164 = to_e164(number)
    customer = Customer.objects.filter(phone_number=e164).first() if e164 else None
    notes = contact_notes_for(customer=customer, phone_e164=e164, limit=SCREEN_POP_NOTES)
    return {
        "call_sid": caller_call.sid if caller_call is not None else "",
        "agent_call_sid": (visit.agent_call_sid if visit is not None else call_sid),
        "direction": direction,
        "phone_number": number,
        "phone_e164": e164 or "",
        "queue": (
            {"slug": visit.queue.slug, "name": visit.queue.name} if visit is not None else None
        ),
        "wait_seconds": visit.wait_seconds if visit is not None else None,
        "entered_at": visit.entered_at.isoformat() if visit is not None else None,
        "ivr_path": _ivr_path(caller_call) if direction == "inbound" else [],
        "customer": customer_as_dict(customer) if customer is not None else None,
        "notes": [note_as_dict(note) for note in notes],
    }


def _ivr_path(caller_call: Call | None) -> list[dict]:
    """The menu steps the caller went through before reaching the agent, in order."""
    if caller_call is None:
        return []
    return [{**entry, "at": entry["at"].isoformat()} for entry in call_path_for(caller_call.sid)]


def customers_export_csv(*, customers, out) -> None:
    """Write customers as CSV in the columns customers_import_csv reads."""
    writer = csv_writer(out)
    writer.writerow(CUSTOMER_CSV_COLUMNS)
    for customer in customers.iterator():
        writer.writerow([getattr(customer, name) for name in CUSTOMER_CSV_COLUMNS])


def active_agent_users():
    """The users of active agents, by username: whom a supervisor may give a voicemail to."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(agent__is_active=True).order_by("username")
