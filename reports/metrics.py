"""The call-center metrics of docs/api.md §7, computed once here for every page, CSV and API.

Everything is an SQL aggregate over queue visits (or agent status intervals); Python only loops
over the few aggregated rows. Periods are buckets of local time in settings.TIME_ZONE, and a
visit belongs to the period in which it entered the queue.
"""

from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import (
    Coalesce,
    Greatest,
    Least,
    TruncDay,
    TruncHour,
    TruncMonth,
    TruncWeek,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agents.models import Agent, AgentStatus, AgentStatusInterval
from agents.selectors import agent_status_counts
from queues.models import Queue, QueueVisit
from queues.selectors import (
    ABANDONED,
    ANSWERED,
    HANDLED,
    OFFERED,
    OVERFLOWED,
    REJECTED,
    waiting_stats,
)
from routing.callbacks import callbacks_waiting_counts
from routing.models import Callback, CallbackStatus, Hold, Offer, OfferOutcome, Transfer
from routing.selectors import ringing_counts

from .models import AgentHourStats, QueueHourStats

RATIO_DIGITS = 4


class Interval:
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    TOTAL = "total"
    CHOICES = [
        (HOUR, _("hour")),
        (DAY, _("day")),
        (WEEK, _("week")),
        (MONTH, _("month")),
        (TOTAL, _("total")),
    ]
    VALUES = [value for value, _label in CHOICES]


TRUNCS = {
    Interval.HOUR: TruncHour,
    Interval.DAY: TruncDay,
    Interval.WEEK: TruncWeek,
    Interval.MONTH: TruncMonth,
}


def report_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class DateRange:
    """Inclusive local dates; as instants, [start 00:00, the day after end 00:00) in the zone."""

    start: date
    end: date

    @property
    def zone(self) -> ZoneInfo:
        return report_zone()

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(), tzinfo=self.zone)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=self.zone)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def local_today(now: datetime) -> date:
    return now.astimezone(report_zone()).date()


def ratio(numerator: int, denominator: int) -> float | None:
    if not denominator:
        return None
    return round(numerator / denominator, RATIO_DIGITS)


def periods(date_range: DateRange, interval: str) -> list[datetime]:
    """Every bucket start of the range, in the zone, as the database truncates them."""
    zone = date_range.zone
    if interval == Interval.TOTAL:
        return [date_range.start_at]
    if interval == Interval.HOUR:
        # Step real hours so that a daylight-saving change gives the hours the clock shows
        # (23 or 25 on the days it changes).
        return [
            hour.astimezone(zone) for hour in _real_hours(date_range.start_at, date_range.end_at)
        ]
    if interval == Interval.DAY:
        days = [date_range.start + timedelta(days=n) for n in range(date_range.days)]
    elif interval == Interval.WEEK:
        monday = date_range.start - timedelta(days=date_range.start.weekday())
        days = []
        while monday <= date_range.end:
            days.append(monday)
            monday += timedelta(days=7)
    else:
        first = date_range.start.replace(day=1)
        days = []
        while first <= date_range.end:
            days.append(first)
            first = (first + timedelta(days=32)).replace(day=1)
    return [datetime.combine(day, time(), tzinfo=zone) for day in days]


def _real_hours(start: datetime, stop: datetime) -> list[datetime]:
    """The starts of the local hours in [start, stop), as UTC instants.

    In UTC on purpose: arithmetic and comparisons between datetimes of the same zone use the
    wall clock, which skips or repeats an hour when daylight-saving time changes."""
    start, stop = start.astimezone(UTC), stop.astimezone(UTC)
    return [start + n * HOUR for n in range(round((stop - start) / HOUR))]


def _local_hour(start: datetime):
    """An expression giving the start of the local hour a visit entered in, in UTC.

    Truncated in UTC, shifted by the minutes a local hour starts past the UTC hour (0 for most
    zones, 30 for India): a local hour is always the same real hour, so the two 01:00 hours of
    the night daylight-saving time ends stay apart, as they would not with a truncation in the
    zone. ``start`` is a local hour start of the range."""
    shift = timedelta(minutes=start.astimezone(UTC).minute)
    if not shift:
        return TruncHour("entered_at", tzinfo=UTC), shift
    shifted = ExpressionWrapper(F("entered_at") - Value(shift), output_field=DateTimeField())
    return TruncHour(shifted, tzinfo=UTC), shift


def _per_queue(queues: list[Queue], attribute: str):
    """A queue's threshold as a constant per queue_id, so the big scan needs no join."""
    if len(queues) == 1:
        return Value(getattr(queues[0], attribute))
    return Case(
        *(When(queue_id=queue.pk, then=Value(getattr(queue, attribute))) for queue in queues),
        output_field=IntegerField(),
    )


def _visit_aggregates(queues: list[Queue], names: tuple[str, ...] | None = None) -> dict:
    """Sums, counts and maxima only, so that hours add up to days, weeks and months."""
    short = ABANDONED & Q(wait_seconds__lt=_per_queue(queues, "short_abandon_seconds"))
    in_sl = ANSWERED & Q(wait_seconds__lte=_per_queue(queues, "service_level_seconds"))
    aggregates = {
        "offered": Count("pk", filter=OFFERED),
        "answered": Count("pk", filter=ANSWERED),
        "abandoned": Count("pk", filter=ABANDONED),
        "short_abandoned": Count("pk", filter=short),
        "overflowed": Count("pk", filter=OVERFLOWED),
        "rejected": Count("pk", filter=REJECTED),
        "answered_in_sl": Count("pk", filter=in_sl),
        "wait_sum": Sum("wait_seconds", filter=ANSWERED),
        "wait_count": Count("wait_seconds", filter=ANSWERED),
        "handle_sum": Sum(
            Coalesce("talk_seconds", 0) + Coalesce("wrap_up_seconds", 0) + HOLD_SECONDS,
            filter=HANDLED,
        ),
        "handle_count": Count("pk", filter=HANDLED),
        "longest_wait": Max("wait_seconds", filter=OFFERED),
    }
    return {name: aggregates[name] for name in names} if names else aggregates


SUMMED = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "overflowed",
    "rejected",
    "answered_in_sl",
    "wait_sum",
    "wait_count",
    "handle_sum",
    "handle_count",
)


def _empty() -> dict:
    return {**dict.fromkeys(SUMMED, 0), "longest_wait": None}


def _add(total: dict, part: dict) -> None:
    for name in SUMMED:
        total[name] += part[name] or 0
    if part["longest_wait"] is not None:
        total["longest_wait"] = max(total["longest_wait"] or 0, part["longest_wait"])


def queue_row(queue: Queue, period_start: datetime, agg: dict) -> dict:
    """One row of the queue report, exactly as the API returns it."""
    offered, short = agg["offered"], agg["short_abandoned"]
    return {
        "queue": queue.slug,
        "period_start": period_start.isoformat(),
        "offered": offered,
        "answered": agg["answered"],
        "abandoned": agg["abandoned"],
        "short_abandoned": short,
        "overflowed": agg["overflowed"],
        "rejected": agg["rejected"],
        "abandon_rate": ratio(agg["abandoned"] - short, offered - short),
        "asa_seconds": _mean(agg["wait_sum"], agg["wait_count"]),
        "service_level": ratio(agg["answered_in_sl"], offered - short),
        "service_level_seconds": queue.service_level_seconds,
        "aht_seconds": _mean(agg["handle_sum"], agg["handle_count"]),
        "longest_wait_seconds": agg["longest_wait"],
        "callbacks_requested": agg.get("callbacks_requested", 0),
        "callbacks_connected": agg.get("callbacks_connected", 0),
        "callbacks_failed": agg.get("callbacks_failed", 0),
    }


# A callback is its own record, dated by when the caller requested it; of those requested in a
# period, how many have connected and how many failed (so far).
CALLBACK_FIGURES = ("callbacks_requested", "callbacks_connected", "callbacks_failed")


def _callback_counts(*, queues: list[Queue], bounds: list[datetime], end: datetime) -> dict:
    """Per (queue id, period index): the callback figures (dated by the request)."""
    rows = (
        Callback.objects.filter(
            queue__in=[queue.pk for queue in queues],
            visit__is_test_call=False,
            requested_at__gte=bounds[0],
            requested_at__lt=end,
        )
        .values_list("queue_id", "requested_at", "status")
        .order_by()
    )
    counts: dict = {}
    for queue_id, requested_at, status in rows:
        index = bisect_right(bounds, requested_at) - 1
        figures = counts.setdefault((queue_id, index), dict.fromkeys(CALLBACK_FIGURES, 0))
        figures["callbacks_requested"] += 1
        if status == CallbackStatus.CONNECTED:
            figures["callbacks_connected"] += 1
        elif status == CallbackStatus.FAILED:
            figures["callbacks_failed"] += 1
    return counts


def _mean(total: int, count: int) -> float | None:
    return round(total / count, RATIO_DIGITS) if count else None


# Up to this many periods, each period is its own aggregate over an index range, glued with
# UNION ALL: no per-row time-zone arithmetic, and PostgreSQL runs the parts in parallel. More
# periods are grouped by truncating each visit's time instead.
UNION_MAX_PERIODS = 100
# Hours that ended this long ago are added up once and kept (QueueHourStats, AgentHourStats);
# later hours are added up from the visits and status intervals at each request. Almost every
# visit is final (result, wait, talk, hold, wrap-up) within two hours of entering its queue, and
# a change to an older one drops its stored hour (reports.receivers), so this only weighs what a
# request adds up live (the wallboard: at most the last three hours of today) against how often
# a long call drops a stored hour. Closing a status interval never changes a stored hour: it
# closes now, and a stored hour counted the open interval through to its end.
SETTLED_AFTER = timedelta(hours=2)
HOUR = timedelta(hours=1)


def settled_until(now: datetime) -> datetime:
    """The start of the first local hour that is not settled yet."""
    local = (now - SETTLED_AFTER).astimezone(report_zone())
    return local.replace(minute=0, second=0, microsecond=0)


def queue_report(
    *, date_range: DateRange, interval: str, queues: list[Queue], now: datetime | None = None
) -> list[dict]:
    """Rows per (period, queue) for every period of the range and every given queue, zeros
    included, so that tables and charts show quiet hours too.

    Settled hours come from QueueHourStats (filled from the visits the first time they are
    needed); the last hours come straight from the visits. Both are the same aggregates."""
    if not queues:
        return []
    now = now or timezone.now()
    starts = periods(date_range, interval)
    # As UTC instants (see _real_hours). Weeks and months may begin before the range: clip.
    range_start, range_end = date_range.start_at.astimezone(UTC), date_range.end_at.astimezone(UTC)
    bounds = [max(start.astimezone(UTC), range_start) for start in starts]
    ends = [*bounds[1:], range_end]
    split = min(max(settled_until(now).astimezone(UTC), range_start), range_end)
    totals = {(queue.pk, index): _empty() for queue in queues for index in range(len(starts))}
    if split > range_start:
        for hour in settled_hours(queues=queues, start=range_start, stop=split):
            index = bisect_right(bounds, hour["hour_start"]) - 1
            _add(totals[(hour["queue_id"], index)], hour)
    if split < range_end:
        live = [
            (index, max(begin, split), end)
            for index, (begin, end) in enumerate(zip(bounds, ends, strict=True))
            if end > split
        ]
        for part in _aggregate_periods(queues, live, date_range.zone, interval, starts):
            _add(totals[(part["queue_id"], part["period"])], part)
    for key, figures in _callback_counts(queues=queues, bounds=bounds, end=range_end).items():
        totals[key].update(figures)
    rows = [
        queue_row(queue, period, totals[(queue.pk, index)])
        for index, period in enumerate(starts)
        for queue in queues
    ]
    add_transfer_figures(rows, queues=queues, bounds=bounds, end=range_end)
    return rows


def _aggregate_periods(queues, spans, zone, interval, starts):
    """Visits added up per queue and period; spans are (period index, begin, end)."""
    visits = QueueVisit.objects.reported().filter(queue__in=[queue.pk for queue in queues])
    aggregates = _visit_aggregates(queues)
    if interval == Interval.TOTAL or len(spans) <= UNION_MAX_PERIODS:
        parts = [
            visits.filter(entered_at__gte=begin, entered_at__lt=end)
            .values("queue_id")
            .annotate(period=Value(index, output_field=IntegerField()), **aggregates)
            .order_by()
            for index, begin, end in spans
        ]
        return parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    index_of = {start.astimezone(UTC): index for index, start in enumerate(starts)}
    if interval == Interval.HOUR:
        bucket, shift = _local_hour(spans[0][1])
    else:
        bucket, shift = TRUNCS[interval]("entered_at", tzinfo=zone), timedelta(0)
    grouped = (
        visits.filter(entered_at__gte=spans[0][1], entered_at__lt=spans[-1][2])
        .annotate(bucket=bucket)
        .values("queue_id", "bucket")
        .annotate(**aggregates)
        .order_by()
    )
    return ({**row, "period": index_of[(row["bucket"] + shift).astimezone(UTC)]} for row in grouped)


def settled_hours(*, queues: list[Queue], start: datetime, stop: datetime) -> list[dict]:
    """Every (queue, local hour) in [start, stop), from QueueHourStats; hours missing there, or
    added up with another time zone or other thresholds, are added up again from the visits."""
    zone = report_zone()
    start, stop = start.astimezone(UTC), stop.astimezone(UTC)
    expected = len(_real_hours(start, stop))
    matching = Q()
    for queue in queues:
        matching |= Q(
            queue=queue.pk,
            service_level_seconds=queue.service_level_seconds,
            short_abandon_seconds=queue.short_abandon_seconds,
        )
    stored = list(
        QueueHourStats.objects.filter(
            matching, hour_start__gte=start, hour_start__lt=stop, time_zone=zone.key
        ).values("queue_id", "hour_start", "longest_wait", *SUMMED)
    )
    found = Counter(row["queue_id"] for row in stored)
    stale = [queue for queue in queues if found[queue.pk] != expected]
    if not stale:
        return stored
    stale_ids = {queue.pk for queue in stale}
    fresh = _fill_hours(queues=stale, start=start, stop=stop, zone=zone)
    return [row for row in stored if row["queue_id"] not in stale_ids] + fresh


def _fill_hours(*, queues: list[Queue], start: datetime, stop: datetime, zone) -> list[dict]:
    hour, shift = _local_hour(start)
    grouped = (
        QueueVisit.objects.reported()
        .filter(
            queue__in=[queue.pk for queue in queues], entered_at__gte=start, entered_at__lt=stop
        )
        .annotate(hour=hour)
        .values("queue_id", "hour")
        .annotate(**_visit_aggregates(queues))
        .order_by()
    )
    found = {(row["queue_id"], (row["hour"] + shift).astimezone(UTC)): row for row in grouped}
    hours = _real_hours(start, stop)
    rows, objects = [], []
    for queue in queues:
        for hour in hours:
            row = _empty()
            _add(row, found.get((queue.pk, hour), row))
            rows.append({**row, "queue_id": queue.pk, "hour_start": hour})
            objects.append(
                QueueHourStats(
                    queue_id=queue.pk,
                    hour_start=hour,
                    time_zone=zone.key,
                    service_level_seconds=queue.service_level_seconds,
                    short_abandon_seconds=queue.short_abandon_seconds,
                    **row,
                )
            )
    with transaction.atomic():
        QueueHourStats.objects.filter(
            queue__in=[queue.pk for queue in queues], hour_start__gte=start, hour_start__lt=stop
        ).delete()
        QueueHourStats.objects.bulk_create(objects, batch_size=2000, ignore_conflicts=True)
    return rows


def forget_settled_hour(*, queue_id: int, entered_at: datetime) -> None:
    """Drop the stored hour a visit belongs to (it is added up again when next needed)."""
    QueueHourStats.objects.filter(
        queue_id=queue_id, hour_start__gt=entered_at - HOUR, hour_start__lte=entered_at
    ).delete()


def _clipped_duration(start_at: datetime, end_at: datetime, now: datetime):
    """Seconds of an interval inside [start_at, end_at); an open interval runs until now."""
    dt = DateTimeField()
    return ExpressionWrapper(
        Least(Coalesce("ended_at", Value(now, output_field=dt)), Value(end_at, output_field=dt))
        - Greatest("started_at", Value(start_at, output_field=dt)),
        output_field=DurationField(),
    )


# --- Agent report: settled hours stored (AgentHourStats), the rest from the visits and intervals

# The figures of an agent's hour; all sums, so that hours add up exactly to any range.
AGENT_SUMMED = ("answered", "talk_sum", "handle_sum", "handle_count", "available_us", "busy_us")
# The agent_identity of the row that says an hour has been added up.
HOUR_ADDED_UP = ""
BUSY = (AgentStatus.ON_CALL, AgentStatus.WRAP_UP)
MICROSECOND = timedelta(microseconds=1)


def agent_report(*, date_range: DateRange, now: datetime) -> list[dict]:
    """Per agent: calls answered in the range and time spent per status, clipped to the range.

    Settled hours come from AgentHourStats (added up from the visits and status intervals the
    first time they are needed); the rest straight from the tables. Both are the same sums."""
    range_start, range_end = date_range.start_at.astimezone(UTC), date_range.end_at.astimezone(UTC)
    split = min(max(settled_until(now).astimezone(UTC), range_start), range_end)
    figures: dict[str, dict] = {}

    def add(identity: str, part: dict) -> None:
        total = figures.setdefault(identity, dict.fromkeys(AGENT_SUMMED, 0))
        for name in AGENT_SUMMED:
            total[name] += part.get(name) or 0

    if split > range_start:
        for identity, part in settled_agent_hours(start=range_start, stop=split).items():
            add(identity, part)
    if split < range_end:
        for row in _agent_visit_sums(start=split, stop=range_end):
            add(row["agent_identity"], row)
        end_at = min(range_end, max(now, split))
        for identity, part in _agent_time_sums(start=split, stop=end_at, now=now).items():
            add(identity, part)
    offers = agent_offer_figures(date_range=date_range)
    holds = agent_hold_figures(date_range=date_range)
    transfers = agent_transfer_figures(date_range=date_range)
    called_back = agent_callback_figures(date_range=date_range)
    answering = {identity for identity, part in figures.items() if part["handle_count"]}
    answering |= {identity for identity, part in figures.items() if part["answered"]}
    identities = set(Agent.objects.values_list("identity", flat=True)) | answering
    rows = []
    for identity in sorted(identities):
        spent = figures.get(identity, dict.fromkeys(AGENT_SUMMED, 0))
        available = _seconds(spent["available_us"] * MICROSECOND)
        busy_seconds = _seconds(spent["busy_us"] * MICROSECOND)
        callbacks = called_back.get(identity, {})
        rows.append(
            {
                "agent": identity,
                "answered": spent["answered"] + callbacks.get("answered", 0),
                "talk_seconds": spent["talk_sum"] + (callbacks.get("talk") or 0),
                "aht_seconds": _mean(spent["handle_sum"], spent["handle_count"]),
                "available_seconds": available,
                "occupancy": ratio(busy_seconds, available + busy_seconds),
                **offers.get(identity, _NO_OFFERS),
                "hold_seconds": holds.get(identity, 0),
                "transfers_out": transfers.get(identity, 0),
            }
        )
    return rows


def _agent_visit_sums(*, start: datetime, stop: datetime, by_hour: bool = False):
    """Per agent identity (and local hour), the sums of the visits they answered."""
    visits = QueueVisit.objects.reported().filter(
        entered_at__gte=start, entered_at__lt=stop, agent_identity__gt=""
    )
    keys = ["agent_identity"]
    shift = timedelta(0)
    if by_hour:
        hour, shift = _local_hour(start)
        visits = visits.annotate(hour=hour)
        keys.append("hour")
    rows = (
        visits.values(*keys)
        .annotate(
            answered=Count("pk", filter=ANSWERED),
            talk_sum=Sum("talk_seconds", filter=ANSWERED),
            handle_sum=Sum(
                Coalesce("talk_seconds", 0) + Coalesce("wrap_up_seconds", 0) + HOLD_SECONDS,
                filter=HANDLED,
            ),
            handle_count=Count("pk", filter=HANDLED),
        )
        .order_by()
    )
    for row in rows:
        if by_hour:
            row["hour"] = (row["hour"] + shift).astimezone(UTC)
        yield row


def _intervals_overlapping(start: datetime, stop: datetime) -> list:
    """Status intervals that overlap [start, stop), as two querysets: those that began in it
    (an index range) and, per agent, the one in progress at ``start``. An agent's intervals
    follow each other (agents.services closes one as it opens the next), so only the last one
    begun before ``start`` can reach into the range: no scan of all the older history. (One
    query with OR would make PostgreSQL scan the whole table.)"""
    in_progress = (
        AgentStatusInterval.objects.filter(agent=OuterRef("pk"), started_at__lt=start)
        .order_by("-started_at", "-pk")
        .values("pk")[:1]
    )
    return [
        AgentStatusInterval.objects.filter(started_at__gte=start, started_at__lt=stop),
        AgentStatusInterval.objects.filter(
            pk__in=Agent.objects.annotate(current=Subquery(in_progress)).values("current")
        ).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start)),
    ]


def _agent_time_sums(*, start: datetime, stop: datetime, now: datetime) -> dict[str, dict]:
    """Per agent identity, microseconds available and busy inside [start, stop); an open
    interval runs until ``now``."""
    duration = _clipped_duration(start, stop, now)
    sums: dict[str, dict] = {}
    for intervals in _intervals_overlapping(start, stop):
        rows = (
            intervals.values("agent__identity")
            .annotate(
                available=Sum(duration, filter=Q(status=AgentStatus.AVAILABLE)),
                busy=Sum(duration, filter=Q(status__in=BUSY)),
            )
            .order_by()
        )
        for row in rows:
            part = sums.setdefault(row["agent__identity"], {"available_us": 0, "busy_us": 0})
            part["available_us"] += (row["available"] or timedelta(0)) // MICROSECOND
            part["busy_us"] += (row["busy"] or timedelta(0)) // MICROSECOND
    return sums


def settled_agent_hours(*, start: datetime, stop: datetime) -> dict[str, dict]:
    """Per agent identity, the sums of the settled local hours in [start, stop), from
    AgentHourStats; hours not added up there (or in another time zone) are added up first."""
    zone = report_zone()
    start, stop = start.astimezone(UTC), stop.astimezone(UTC)
    stored = AgentHourStats.objects.filter(
        hour_start__gte=start, hour_start__lt=stop, time_zone=zone.key
    )
    added_up = stored.filter(agent_identity=HOUR_ADDED_UP)
    hours = _real_hours(start, stop)
    if added_up.count() != len(hours):
        done = set(added_up.values_list("hour_start", flat=True))
        missing = [hour for hour in hours if hour not in done]
        for first, last in _runs(missing):
            _fill_agent_hours(start=first, stop=last + HOUR, zone=zone)
    rows = (
        stored.exclude(agent_identity=HOUR_ADDED_UP)
        .values("agent_identity")
        .annotate(**{name: Sum(name) for name in AGENT_SUMMED})
        .order_by()
    )
    return {row["agent_identity"]: row for row in rows}


def _runs(hours: list[datetime]):
    """(first, last) of each run of consecutive hours."""
    first = previous = None
    for hour in hours:
        if previous is None or hour - previous != HOUR:
            if first is not None:
                yield first, previous
            first = hour
        previous = hour
    if first is not None:
        yield first, previous


def _fill_agent_hours(*, start: datetime, stop: datetime, zone) -> None:
    """Add up and store every agent's hours in [start, stop), a day at a time."""
    while start < stop:
        chunk = min(stop, start + timedelta(days=1))
        _fill_agent_chunk(start=start, stop=chunk, zone=zone)
        start = chunk


def _fill_agent_chunk(*, start: datetime, stop: datetime, zone) -> None:
    hours = _real_hours(start, stop)
    sums: dict[tuple[str, datetime], dict] = {}

    def part(identity: str, hour: datetime) -> dict:
        figures = sums.get((identity, hour))
        if figures is None:
            figures = sums[(identity, hour)] = dict.fromkeys(AGENT_SUMMED, 0)
        return figures

    for row in _agent_visit_sums(start=start, stop=stop, by_hour=True):
        figures = part(row["agent_identity"], row["hour"])
        for name in ("answered", "talk_sum", "handle_sum", "handle_count"):
            figures[name] += row[name] or 0
    # Each hour's share of the status intervals, clipped to the hour, added up by the database
    # (two indexed queries an hour; glued with UNION ALL, PostgreSQL planned them badly).
    # Settled hours are over: an open interval fills them (``now`` is any instant after them).
    for hour in hours:
        for identity, times in _agent_time_sums(start=hour, stop=hour + HOUR, now=stop).items():
            figures = part(identity, hour)
            figures["available_us"] += times["available_us"]
            figures["busy_us"] += times["busy_us"]
    objects = [
        AgentHourStats(agent_identity=HOUR_ADDED_UP, hour_start=hour, time_zone=zone.key)
        for hour in hours
    ]
    objects += [
        AgentHourStats(agent_identity=identity, hour_start=hour, time_zone=zone.key, **figures)
        for (identity, hour), figures in sums.items()
    ]
    with transaction.atomic():
        AgentHourStats.objects.filter(hour_start__gte=start, hour_start__lt=stop).delete()
        AgentHourStats.objects.bulk_create(objects, batch_size=2000, ignore_conflicts=True)


def forget_settled_agent_hours(*, start: datetime, end: datetime | None) -> None:
    """Drop the stored agent hours that [start, end] touches (``end`` None: all later ones);
    they are added up again when next needed."""
    hours = AgentHourStats.objects.filter(hour_start__gt=start - HOUR)
    if end is not None:
        hours = hours.filter(hour_start__lte=end)
    hours.delete()


def agent_callback_figures(*, date_range: DateRange) -> dict[str, dict]:
    """Per agent identity, callbacks they connected (dated by the connection): counted as
    answered, their talk (the agent's conference DialCallDuration) as talk. Offers of
    callbacks are offers like any other (agent_offer_figures)."""
    rows = (
        Callback.objects.filter(
            connected_at__gte=date_range.start_at,
            connected_at__lt=date_range.end_at,
            visit__is_test_call=False,
            agent__isnull=False,
        )
        .values("agent__identity")
        .annotate(answered=Count("pk"), talk=Sum("talk_seconds"))
        .order_by()
    )
    return {row["agent__identity"]: row for row in rows}


_NO_OFFERS = {"offers": 0, "missed": 0, "rejected": 0, "ring_seconds_avg": None}


def agent_offer_figures(*, date_range: DateRange) -> dict[str, dict]:
    """Per agent identity, the offers (rings of push routing) that started in the range:
    how many, how many missed (rang out) and rejected, and the mean ring time of those that
    ended (from the offer to its end: accepted, missed, rejected or withdrawn)."""
    ring = ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())
    ended = Q(ended_at__isnull=False)
    rows = (
        Offer.objects.filter(started_at__gte=date_range.start_at, started_at__lt=date_range.end_at)
        .values("agent__identity")
        .annotate(
            offers=Count("pk"),
            missed=Count("pk", filter=Q(outcome=OfferOutcome.MISSED)),
            rejected=Count("pk", filter=Q(outcome=OfferOutcome.REJECTED)),
            rang=Sum(ring, filter=ended),
            ended=Count("pk", filter=ended),
        )
        .order_by()
    )
    return {
        row["agent__identity"]: {
            "offers": row["offers"],
            "missed": row["missed"],
            "rejected": row["rejected"],
            "ring_seconds_avg": (
                round(row["rang"].total_seconds() / row["ended"], 1) if row["ended"] else None
            ),
        }
        for row in rows
    }


# --- Hold (routing's call control) ---------------------------------------------------------------

# A visit's hold: the seconds its caller spent on hold in the agent's conference (summed on the
# bridge as each hold ends). AHT is talk + hold + wrap-up (docs/reports.md).
HOLD_SECONDS = Coalesce("bridge__hold_seconds", 0)


def agent_hold_figures(*, date_range: DateRange) -> dict[str, int]:
    """Per agent identity, the seconds callers spent on hold that the agent put them on, in
    visits that entered their queue in the range (as every visit figure is dated)."""
    rows = (
        Hold.objects.filter(
            ended_at__isnull=False,
            bridge__visit__entered_at__gte=date_range.start_at,
            bridge__visit__entered_at__lt=date_range.end_at,
        )
        .values("agent__identity")
        .annotate(
            held=Sum(
                ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())
            )
        )
        .order_by()
    )
    return {row["agent__identity"]: _seconds(row["held"]) for row in rows}


# --- Transfers (routing's call control) -----------------------------------------------------------


def agent_transfer_figures(*, date_range: DateRange) -> dict[str, int]:
    """Per agent identity, the callers they transferred (to a queue, an agent or a number) in
    the range, dated by the transfer."""
    rows = (
        Transfer.objects.filter(
            created_at__gte=date_range.start_at, created_at__lt=date_range.end_at, connected=True
        )
        .values("agent__identity")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["agent__identity"]: row["count"] for row in rows}


def add_transfer_figures(rows: list[dict], *, queues, bounds: list[datetime], end: datetime):
    """Add ``transferred_out`` (callers passed on from a visit of the queue, whatever the
    target) and ``transferred_in`` (visits opened in the queue by a transfer) to the queue
    report's rows, each transfer in the period of its moment. ``bounds``: the periods' starts
    (UTC, clipped to the range), in the order of ``rows``."""
    index = {(row["queue"], n): row for n, row in _rows_by_period(rows, len(queues))}
    for row in rows:
        row["transferred_in"] = row["transferred_out"] = 0
    slugs = {queue.pk: queue.slug for queue in queues}
    transfers = Transfer.objects.filter(
        created_at__gte=bounds[0], created_at__lt=end, connected=True
    ).filter(Q(from_queue_id__in=slugs) | Q(to_queue_id__in=slugs))
    for at, from_id, to_id in transfers.values_list("created_at", "from_queue_id", "to_queue_id"):
        period = bisect_right(bounds, at) - 1
        if from_id in slugs:
            index[(slugs[from_id], period)]["transferred_out"] += 1
        if to_id in slugs:
            index[(slugs[to_id], period)]["transferred_in"] += 1


def _rows_by_period(rows: list[dict], per_period: int):
    for n, row in enumerate(rows):
        yield n // per_period, row


def _seconds(duration: timedelta | None) -> int:
    return 0 if duration is None else max(0, round(duration.total_seconds()))


WALLBOARD_FIGURES = ("offered", "answered", "abandoned", "short_abandoned", "answered_in_sl")


def wallboard(*, now: datetime, queues: list[Queue], today: dict | None = None) -> list[dict]:
    """Per queue: who is waiting and which agents are free now, and today's figures so far
    (``today``: today_figures() with at least WALLBOARD_FIGURES, when the caller has them)."""
    waiting = waiting_stats(now=now)
    agents = agent_status_counts()
    ringing = ringing_counts()
    callbacks_waiting = callbacks_waiting_counts()
    counted = today or today_figures(now=now, queues=queues, names=WALLBOARD_FIGURES)
    rows = []
    for queue in queues:
        today_row = counted[queue.pk]
        queue_waiting = waiting.get(queue.pk, {})
        queue_agents = agents.get(queue.pk, {})
        rows.append(
            {
                "queue": queue.slug,
                "name": queue.name,
                "waiting": queue_waiting.get("waiting", 0),
                "longest_wait_seconds": queue_waiting.get("longest_wait_seconds"),
                "agents_available": queue_agents.get(AgentStatus.AVAILABLE, 0),
                "agents_on_call": queue_agents.get(AgentStatus.ON_CALL, 0),
                "agents_wrap_up": queue_agents.get(AgentStatus.WRAP_UP, 0),
                # Agents whose softphone rings for a caller of this queue (push routing).
                "agents_ringing": ringing.get(queue.pk, 0),
                # Callbacks requested and not yet connected or failed.
                "callbacks_waiting": callbacks_waiting.get(queue.pk, 0),
                "offered": today_row["offered"],
                "answered": today_row["answered"],
                "abandoned": today_row["abandoned"],
                "service_level": ratio(
                    today_row["answered_in_sl"], today_row["offered"] - today_row["short_abandoned"]
                ),
                "service_level_seconds": queue.service_level_seconds,
            }
        )
    return rows


def today_figures(*, now: datetime, queues: list[Queue], names) -> dict[int, dict]:
    """Per queue id, today's figures ``names`` (of SUMMED) so far: the settled hours of today
    from QueueHourStats, the rest from the visits. Asked every few seconds by wallboards, so what
    it adds up live is the last few hours, however busy the day."""
    today = DateRange(local_today(now), local_today(now))
    start, end = today.start_at.astimezone(UTC), today.end_at.astimezone(UTC)
    split = min(max(settled_until(now).astimezone(UTC), start), end)
    totals = {queue.pk: dict.fromkeys(names, 0) for queue in queues}
    # Asked even before the first hour of the day is settled (one query for nothing), so that
    # a wallboard costs the same number of queries at any time of day.
    for hour in settled_hours(queues=queues, start=start, stop=split):
        for name in names:
            totals[hour["queue_id"]][name] += hour[name] or 0
    if split < end:
        live = (
            QueueVisit.objects.reported()
            .filter(
                queue__in=[queue.pk for queue in queues],
                entered_at__gte=split,
                entered_at__lt=end,
            )
            .values("queue_id")
            .annotate(**_visit_aggregates(queues, names))
            .order_by()
        )
        for row in live:
            for name in names:
                totals[row["queue_id"]][name] += row[name] or 0
    return totals


def overflowed_today(*, now: datetime, queues: list[Queue]) -> dict[int, int]:
    """Today's overflowed visits per queue id (left at the max wait or redirected, not
    answered; the queue report's ``overflowed``), for the wallboard."""
    counted = today_figures(now=now, queues=queues, names=("overflowed",))
    return {queue_id: row["overflowed"] for queue_id, row in counted.items()}
