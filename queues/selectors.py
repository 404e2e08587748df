"""Reads about queues and visits."""

import copy
import math
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from telephony import configcache, rows
from telephony.models import FINAL_STATUSES
from telephony.services import AttachedRead

from .models import Queue, QueueResult, QueueVisit

# --- What each outcome of a visit means, as filters on QueueVisit: the one vocabulary of the
# admin's queue list, the wallboard and every report (docs/api.md §7).
ANSWERED = Q(result=QueueResult.BRIDGED) | Q(answered_at__isnull=False)
NOT_ANSWERED = Q(answered_at__isnull=True) & ~Q(result=QueueResult.BRIDGED)
REJECTED = Q(result=QueueResult.QUEUE_FULL)
OFFERED = ~REJECTED
# A caller who reached the connect URL was answered, even if the result is a hang-up.
ABANDONED = Q(result=QueueResult.HANGUP) & NOT_ANSWERED
SHORT_ABANDONED = ABANDONED & Q(wait_seconds__lt=F("queue__short_abandon_seconds"))
OVERFLOWED = Q(result__in=[QueueResult.LEAVE, QueueResult.REDIRECTED]) & NOT_ANSWERED
# AHT averages handled calls: an answered visit whose talk time is not known yet is still talking.
HANDLED = ANSWERED & Q(talk_seconds__isnull=False)

# How many of a queue's latest answered visits the estimated wait is averaged over.
ESTIMATE_SAMPLE = 20


def queue_by_slug(slug: str, token: str | None = None) -> Queue:
    """The queue named ``slug`` with its messages; raises Queue.DoesNotExist. No query when
    this process already read it for configuration ``token`` (telephony.configcache); each
    caller gets its own copy."""
    queue = configcache.cached(("queues:queue", slug), token, lambda: _queue_read(slug))
    if queue is None:
        raise Queue.DoesNotExist(f"no queue {slug!r}")
    return _copy(queue)


_LATEST_VISIT_SQL = (
    f"SELECT {rows.column_list(QueueVisit)} FROM {QueueVisit._meta.db_table}"
    " WHERE queue_id = %s AND call_id = %s ORDER BY entry DESC LIMIT 1"
)


def latest_visit(*, queue: Queue, call) -> QueueVisit | None:
    """The caller's latest visit of ``queue`` (None before the first), unlocked: the wait loop's
    one read, written by hand so that a pass does not build the ORM query again
    (docs/architecture.md §7). The same as
    ``QueueVisit.objects.filter(queue=queue, call=call).order_by("-entry").first()``."""
    with connection.cursor() as cursor:
        cursor.execute(_LATEST_VISIT_SQL, [queue.pk, call.pk])
        row = cursor.fetchone()
    return rows.from_row(QueueVisit, row) if row is not None else None


def latest_visit_read(slug: str) -> AttachedRead | None:
    """What the wait loop's leg upsert may read with it (telephony.services.AttachedRead): the
    caller's latest visit of the queue this process keeps for ``slug``, when it keeps one, for
    the configuration token it keeps it under. No query."""
    kept = configcache.kept(("queues:queue", slug))
    if kept is None or kept[1] is None:
        return None
    token, queue = kept
    return AttachedRead(
        model=QueueVisit,
        call_field="call",
        filters=(("queue", queue.pk),),
        order_by="entry",
        token=token,
    )


def latest_visit_from_leg(call, queue: Queue, token: str | None):
    """(the visit, True) when the leg's upsert read it for ``queue`` under ``token`` (the
    configuration token this request read; ``latest_visit_read``), else (None, False)."""
    read = getattr(call, "attached_read", None)
    if read is None or not token:
        return None, False
    asked, visit = read
    if asked.token != token or asked.filters != (("queue", queue.pk),):
        return None, False
    return visit, True


def _copy(queue: Queue) -> Queue:
    """A copy a view may change without touching the one kept (its prefetched messages kept
    too, which pickling and copy.deepcopy drop)."""
    clone = Queue.__new__(Queue)
    clone.__dict__.update(queue.__dict__)
    clone._state = copy.copy(queue._state)
    clone._state.fields_cache = {}
    clone._prefetched_objects_cache = dict(getattr(queue, "_prefetched_objects_cache", {}))
    return clone


def _queue_read(slug: str) -> Queue | None:
    return Queue.objects.prefetch_related("messages").filter(slug=slug).first()


def queue_waited_in(*, call) -> Queue | None:
    """The queue of the call's latest visit (for an Enqueue action whose flow step is gone)."""
    visit = (
        QueueVisit.objects.filter(call=call).select_related("queue").order_by("-entered_at").first()
    )
    return visit.queue if visit is not None else None


# How long a caller can possibly still be in a queue: Twilio ends every call after 4 hours, so
# an older visit without a result is one whose exit webhook was lost, not a caller waiting.
WAITING_HORIZON = timedelta(hours=4)


def _waiting_q(now: datetime) -> Q:
    """The one definition of "waiting now", shared by the admin, the agent desk and the wallboard.

    Still without a result, not answered, entered within the horizon, and its call not ended
    (a visit whose call already ended is not waiting, even if its Enqueue action never came).
    """
    return waiting_since_q(waiting_since(now))


def waiting_since(now: datetime) -> datetime:
    """The earliest entry of a visit that may still be waiting at ``now``."""
    return now - WAITING_HORIZON


def waiting_since_q(since) -> Q:
    """ "Waiting now" given ``waiting_since(now)`` (a moment, or a prepared statement's
    parameter)."""
    return (
        Q(result=QueueResult.WAITING, answered_at__isnull=True)
        & Q(entered_at__gte=since)
        & ~Q(call__status__in=FINAL_STATUSES)
    )


def waiting_stats(*, now: datetime | None = None) -> dict[int, dict]:
    """Per queue id: callers waiting now and the longest of their waits so far (s or None)."""
    now = now or timezone.now()
    waiting = _waiting_q(now)
    oldest = Subquery(
        QueueVisit.objects.reported()
        .filter(waiting, queue=OuterRef("pk"))
        .order_by("entered_at")
        .values("entered_at")[:1]
    )
    # Subqueries on (queue, entered_at) rather than a join over every visit the queue ever had.
    rows = Queue.objects.annotate(waiting=_count(waiting), oldest=oldest).values_list(
        "pk", "waiting", "oldest"
    )
    return {
        pk: {
            "waiting": count,
            "longest_wait_seconds": max(0, int((now - first).total_seconds())) if first else None,
        }
        for pk, count, first in rows
    }


def estimated_wait_minutes(*, queue: Queue, queue_time: int) -> int | None:
    """Minutes this caller may still wait: the mean of the queue's recent answered waits minus
    what the caller already waited, rounded up, at least 1. None without any answered visit."""
    waits = list(
        QueueVisit.objects.reported()
        .filter(queue=queue, answered_at__isnull=False, wait_seconds__isnull=False)
        .order_by("-answered_at")
        .values_list("wait_seconds", flat=True)[:ESTIMATE_SAMPLE]
    )
    if not waits:
        return None
    remaining = sum(waits) / len(waits) - queue_time
    return max(1, math.ceil(remaining / 60))


def _day_start(now: datetime) -> datetime:
    """Local midnight of ``now``'s day in settings.TIME_ZONE, the zone every report counts in
    (not the zone a request may have activated)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    return datetime.combine(now.astimezone(zone).date(), time(), tzinfo=zone)


def _count(filters: Q):
    return Coalesce(
        Subquery(
            QueueVisit.objects.reported()
            .filter(filters, queue=OuterRef("pk"))
            .order_by()
            .values("queue")
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def queues_with_live_figures(queryset, *, now: datetime | None = None):
    """Annotate queues with ``waiting`` now and today's ``offered``, ``answered``,
    ``abandoned`` (the day in TIME_ZONE), all in the one query that lists them."""
    now = now or timezone.now()
    today = Q(entered_at__gte=_day_start(now))
    return queryset.annotate(
        waiting=_count(_waiting_q(now)),
        offered_today=_count(today & OFFERED),
        answered_today=_count(today & OFFERED & ANSWERED),
        abandoned_today=_count(today & OFFERED & ABANDONED),
    )
