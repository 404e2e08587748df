"""Reads for supervisors: the live team view (every active agent, their call, the queues)."""

from datetime import datetime

from django.db.models import Prefetch

from agents.models import Agent, AgentStatus, Customer
from agents.phone import to_e164
from queues.models import Queue
from queues.selectors import waiting_stats

from .models import Bridge, Hold


def _seconds_since(moment: datetime | None, now: datetime) -> int | None:
    if moment is None:
        return None
    return max(0, int((now - moment).total_seconds()))


def clock(seconds: int | None) -> str:
    """m:ss, or "–" for no time."""
    if seconds is None:
        return "–"
    return f"{seconds // 60}:{seconds % 60:02d}"


def team_view(*, now: datetime) -> dict:
    """Every active agent (status, time in it, the caller they talk to, the queue, the call's
    length, on hold or not) and every queue's waiting callers. A fixed number of queries."""
    agents = list(
        Agent.objects.filter(is_active=True)
        .select_related("user", "current_visit__call", "current_visit__queue")
        .order_by("identity")
    )
    on_call = [a for a in agents if a.status == AgentStatus.ON_CALL and a.current_visit_id]
    visit_ids = [a.current_visit_id for a in on_call]
    bridges = {
        bridge.visit_id: bridge
        for bridge in Bridge.objects.filter(visit_id__in=visit_ids, ended_at=None).prefetch_related(
            Prefetch("holds", queryset=Hold.objects.filter(ended_at=None), to_attr="open_holds")
        )
    }
    numbers = {
        a.pk: to_e164(a.current_visit.call.from_number) or a.current_visit.call.from_number
        for a in on_call
    }
    names = dict(
        Customer.objects.filter(phone_number__in=set(numbers.values())).values_list(
            "phone_number", "name"
        )
        if numbers
        else []
    )
    rows = []
    for agent in agents:
        row = {
            "id": agent.pk,
            "identity": agent.identity,
            "name": agent.user.get_full_name() or agent.user.get_username(),
            "status": agent.status,
            "status_label": str(AgentStatus(agent.status).label),
            "status_seconds": _seconds_since(agent.status_changed_at, now),
            "status_clock": clock(_seconds_since(agent.status_changed_at, now)),
            "call": None,
        }
        if agent in on_call:
            visit = agent.current_visit
            bridge = bridges.get(visit.pk)
            row["call"] = {
                "phone_number": visit.call.from_number,
                "customer_name": names.get(numbers[agent.pk], ""),
                "queue": {"slug": visit.queue.slug, "name": visit.queue.name},
                "duration_seconds": _seconds_since(visit.answered_at, now),
                "duration_clock": clock(_seconds_since(visit.answered_at, now)),
                "on_hold": bool(bridge and bridge.open_holds),
                "bridge_id": bridge.pk if bridge else None,
            }
        rows.append(row)
    stats = waiting_stats(now=now)
    queues = []
    for queue in Queue.objects.order_by("name"):
        figures = stats.get(queue.pk, {})
        longest = figures.get("longest_wait_seconds")
        queues.append(
            {
                "slug": queue.slug,
                "name": queue.name,
                "waiting": figures.get("waiting", 0),
                "longest_wait_seconds": longest,
                "longest_wait_clock": clock(longest),
            }
        )
    return {"at": now.isoformat(), "agents": rows, "queues": queues}
