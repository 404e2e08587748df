"""The call-center metrics of CONTRACT.md, computed once here for every page, CSV and API.

Everything is an SQL aggregate over queue visits (or agent status intervals); Python only loops
over the few aggregated rows. Periods are buckets of local time in settings.TIME_ZONE, and a
visit belongs to the period in which it entered the queue.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    Min,
    Q,
    Sum,
    Value,
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
from django.utils.translation import gettext_lazy as _

from agents.models import Agent, AgentStatus, AgentStatusInterval
from agents.selectors import agent_status_counts
from queues.models import Queue, QueueResult, QueueVisit
from telephony.models import FINAL_STATUSES

# --- What each outcome means, as filters on QueueVisit (CONTRACT.md "Metric definitions").
ANSWERED = Q(result=QueueResult.BRIDGED) | Q(answered_at__isnull=False)
NOT_ANSWERED = Q(answered_at__isnull=True) & ~Q(result=QueueResult.BRIDGED)
REJECTED = Q(result=QueueResult.QUEUE_FULL)
OFFERED = ~REJECTED
ABANDONED = Q(result=QueueResult.HANGUP) & NOT_ANSWERED
SHORT_ABANDONED = ABANDONED & Q(wait_seconds__lt=F("queue__short_abandon_seconds"))
OVERFLOWED = Q(result__in=[QueueResult.LEAVE, QueueResult.REDIRECTED]) & NOT_ANSWERED
ANSWERED_IN_SERVICE_LEVEL = ANSWERED & Q(wait_seconds__lte=F("queue__service_level_seconds"))
# AHT averages handled calls: an answered visit whose talk time is not known yet is still talking.
HANDLED = ANSWERED & Q(talk_seconds__isnull=False)

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


def mean(value) -> float | None:
    return None if value is None else round(float(value), RATIO_DIGITS)


def periods(date_range: DateRange, interval: str) -> list[datetime]:
    """Every bucket start of the range, in the zone, as the database truncates them."""
    zone = date_range.zone
    if interval == Interval.TOTAL:
        return [date_range.start_at]
    if interval == Interval.HOUR:
        # Step real hours so that a daylight-saving change gives the hours the clock shows.
        utc_start = date_range.start_at.astimezone(ZoneInfo("UTC"))
        hours = int((date_range.end_at - date_range.start_at).total_seconds() // 3600)
        return [(utc_start + timedelta(hours=n)).astimezone(zone) for n in range(hours)]
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


def _visit_aggregates() -> dict:
    return {
        "offered": Count("pk", filter=OFFERED),
        "answered": Count("pk", filter=ANSWERED),
        "abandoned": Count("pk", filter=ABANDONED),
        "short_abandoned": Count("pk", filter=SHORT_ABANDONED),
        "overflowed": Count("pk", filter=OVERFLOWED),
        "rejected": Count("pk", filter=REJECTED),
        "answered_in_sl": Count("pk", filter=ANSWERED_IN_SERVICE_LEVEL),
        "asa": Avg("wait_seconds", filter=ANSWERED, output_field=FloatField()),
        "aht": Avg(
            Coalesce("talk_seconds", 0) + Coalesce("wrap_up_seconds", 0),
            filter=HANDLED,
            output_field=FloatField(),
        ),
        "longest_wait": Max("wait_seconds", filter=OFFERED),
    }


EMPTY_AGGREGATES = {
    "offered": 0, "answered": 0, "abandoned": 0, "short_abandoned": 0, "overflowed": 0,
    "rejected": 0, "answered_in_sl": 0, "asa": None, "aht": None, "longest_wait": None,
}


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
        "asa_seconds": mean(agg["asa"]),
        "service_level": ratio(agg["answered_in_sl"], offered - short),
        "service_level_seconds": queue.service_level_seconds,
        "aht_seconds": mean(agg["aht"]),
        "longest_wait_seconds": agg["longest_wait"],
    }


def queue_report(*, date_range: DateRange, interval: str, queues: list[Queue]) -> list[dict]:
    """Rows per (period, queue) for every period of the range and every given queue, zeros
    included, so that tables and charts show quiet hours too."""
    visits = QueueVisit.objects.filter(
        entered_at__gte=date_range.start_at, entered_at__lt=date_range.end_at,
        queue__in=[queue.pk for queue in queues],
    )
    if interval == Interval.TOTAL:
        grouped = visits.values("queue_id").annotate(**_visit_aggregates()).order_by()
        found = {(row["queue_id"], date_range.start_at): row for row in grouped}
    else:
        trunc = TRUNCS[interval]("entered_at", tzinfo=date_range.zone)
        grouped = (
            visits.annotate(period=trunc).values("queue_id", "period")
            .annotate(**_visit_aggregates()).order_by()
        )
        found = {(row["queue_id"], row["period"]): row for row in grouped}
    return [
        queue_row(queue, period, found.get((queue.pk, period), EMPTY_AGGREGATES))
        for period in periods(date_range, interval)
        for queue in queues
    ]


def _clipped_duration(start_at: datetime, end_at: datetime, now: datetime):
    """Seconds of an interval inside [start_at, end_at); an open interval runs until now."""
    dt = DateTimeField()
    return ExpressionWrapper(
        Least(Coalesce("ended_at", Value(now, output_field=dt)), Value(end_at, output_field=dt))
        - Greatest("started_at", Value(start_at, output_field=dt)),
        output_field=DurationField(),
    )


def agent_report(*, date_range: DateRange, now: datetime) -> list[dict]:
    """Per agent: calls answered in the range and time spent per status, clipped to the range."""
    handled = (
        QueueVisit.objects.filter(
            entered_at__gte=date_range.start_at, entered_at__lt=date_range.end_at,
            agent_identity__gt="",
        )
        .values("agent_identity")
        .annotate(
            answered=Count("pk", filter=ANSWERED),
            talk=Sum("talk_seconds", filter=ANSWERED),
            aht=Avg(
                Coalesce("talk_seconds", 0) + Coalesce("wrap_up_seconds", 0),
                filter=HANDLED,
                output_field=FloatField(),
            ),
        )
        .order_by()
    )
    handled = {row["agent_identity"]: row for row in handled}
    end_at = min(date_range.end_at, max(now, date_range.start_at))
    duration = _clipped_duration(date_range.start_at, end_at, now)
    busy = [AgentStatus.ON_CALL, AgentStatus.WRAP_UP]
    times = (
        AgentStatusInterval.objects.filter(started_at__lt=end_at)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=date_range.start_at))
        .values("agent__identity")
        .annotate(
            available=Sum(duration, filter=Q(status=AgentStatus.AVAILABLE)),
            busy=Sum(duration, filter=Q(status__in=busy)),
        )
        .order_by()
    )
    times = {row["agent__identity"]: row for row in times}
    identities = set(Agent.objects.values_list("identity", flat=True)) | set(handled)
    rows = []
    for identity in sorted(identities):
        calls = handled.get(identity, {})
        spent = times.get(identity, {})
        available = _seconds(spent.get("available"))
        busy_seconds = _seconds(spent.get("busy"))
        rows.append({
            "agent": identity,
            "answered": calls.get("answered", 0),
            "talk_seconds": calls.get("talk") or 0,
            "aht_seconds": mean(calls.get("aht")),
            "available_seconds": available,
            "occupancy": ratio(busy_seconds, available + busy_seconds),
        })
    return rows


def _seconds(duration: timedelta | None) -> int:
    return 0 if duration is None else max(0, round(duration.total_seconds()))


# How long a caller can possibly still be in a queue: Twilio ends every call after 4 hours, so
# an older visit without a result is one whose exit webhook was lost, not a caller waiting.
WAITING_HORIZON = timedelta(hours=4)


def waiting_now(*, now: datetime) -> dict[int, dict]:
    """Per queue id: callers waiting right now and how long the longest of them has waited."""
    grouped = (
        QueueVisit.objects.filter(result=QueueResult.WAITING, answered_at__isnull=True,
                                  entered_at__gte=now - WAITING_HORIZON)
        # A visit whose call already ended is not waiting, even if its Enqueue action never came.
        .exclude(call__status__in=FINAL_STATUSES)
        .values("queue_id")
        .annotate(waiting=Count("pk"), first_entered=Min("entered_at"))
        .order_by()
    )
    return {
        row["queue_id"]: {
            "waiting": row["waiting"],
            "longest_wait_seconds": max(0, int((now - row["first_entered"]).total_seconds())),
        }
        for row in grouped
    }


def wallboard(*, now: datetime, queues: list[Queue]) -> list[dict]:
    """Per queue: who is waiting and which agents are free now, and today's figures so far."""
    today = local_today(now)
    waiting = waiting_now(now=now)
    agents = agent_status_counts()
    today_rows = queue_report(date_range=DateRange(today, today), interval=Interval.TOTAL,
                              queues=queues)
    rows = []
    for queue, today_row in zip(queues, today_rows, strict=True):
        queue_waiting = waiting.get(queue.pk, {})
        queue_agents = agents.get(queue.pk, {})
        rows.append({
            "queue": queue.slug,
            "name": queue.name,
            "waiting": queue_waiting.get("waiting", 0),
            "longest_wait_seconds": queue_waiting.get("longest_wait_seconds"),
            "agents_available": queue_agents.get(AgentStatus.AVAILABLE, 0),
            "agents_on_call": queue_agents.get(AgentStatus.ON_CALL, 0),
            "agents_wrap_up": queue_agents.get(AgentStatus.WRAP_UP, 0),
            "offered": today_row["offered"],
            "answered": today_row["answered"],
            "abandoned": today_row["abandoned"],
            "service_level": today_row["service_level"],
            "service_level_seconds": queue.service_level_seconds,
        })
    return rows
