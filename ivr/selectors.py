"""Reads: flows as cached, query-free snapshots for the webhooks, and each call's path."""

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.core.cache import cache
from django.db.models import Prefetch

from telephony import configcache

from .models import CallPathEntry, Flow, PhoneNumber, Step

CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class HoursVerdict:
    """Why a schedule is open or closed at one moment."""

    state: str  # "open", "closed" or "holiday"
    local: datetime  # the moment in the schedule's time zone
    opening: tuple[tuple[time, time], ...]  # that weekday's opening ranges


@dataclass(frozen=True)
class ScheduleSnapshot:
    name: str
    time_zone: str
    ranges: tuple[tuple[int, time, time], ...]  # (weekday, opens, closes)
    holidays: frozenset[date]

    def verdict(self, moment: datetime) -> HoursVerdict:
        import zoneinfo

        local = moment.astimezone(zoneinfo.ZoneInfo(self.time_zone))
        opening = tuple(
            (opens, closes)
            for weekday, opens, closes in sorted(self.ranges)
            if weekday == local.weekday()
        )
        if local.date() in self.holidays:
            return HoursVerdict("holiday", local, opening)
        now = local.time()
        for opens, closes in opening:
            until_midnight = closes == time(0, 0)
            if opens <= now and (until_midnight or now < closes):
                return HoursVerdict("open", local, opening)
        return HoursVerdict("closed", local, opening)

    def is_open(self, moment: datetime) -> bool:
        return self.verdict(moment).state == "open"


@dataclass(frozen=True)
class StepSnapshot:
    id: int
    name: str
    kind: str
    text: str
    audio_url: str
    next_id: int | None
    num_digits: int
    timeout: int
    invalid_message: str
    repeat_prompt: bool
    no_input_message: str
    max_retries: int
    no_input_id: int | None
    options: dict[str, int] = field(default_factory=dict)
    queue_id: int | None = None
    caller_priority: int = 0
    schedule: ScheduleSnapshot | None = None
    open_id: int | None = None
    closed_id: int | None = None
    max_length: int = 120
    dial_number: str = ""
    goto_flow_id: int | None = None


@dataclass(frozen=True)
class FlowSnapshot:
    """Everything a webhook needs to render any step of one flow version, without queries."""

    id: int
    version: int
    name: str
    language: str
    voice: str
    start_id: int | None
    steps: dict[int, StepSnapshot]
    updated_at: datetime | None = None

    def step(self, step_id: int | None) -> StepSnapshot | None:
        return self.steps.get(step_id) if step_id is not None else None

    def say_attrs(self) -> dict:
        attrs = {"language": self.language}
        if self.voice:
            attrs["voice"] = self.voice
        return attrs


def _cache_key(flow_id: int, version: int, updated_at: datetime) -> str:
    # updated_at too: ids can be reused after a delete (SQLite), versions restart at 1.
    return f"ivr:flow:{flow_id}:v{version}:{updated_at.timestamp():.6f}"


def _schedule_snapshot(schedule) -> ScheduleSnapshot | None:
    if schedule is None:
        return None
    return ScheduleSnapshot(
        name=schedule.name,
        time_zone=schedule.time_zone,
        ranges=tuple((r.weekday, r.opens, r.closes) for r in schedule.ranges.all()),
        holidays=frozenset(h.date for h in schedule.holidays.all()),
    )


def build_snapshot(flow_id: int) -> FlowSnapshot | None:
    """The flow as stored now, uncached. Five queries whatever the flow's size: the flow, its
    steps with their schedules, options, schedule ranges, holidays."""
    flow = (
        Flow.objects.filter(pk=flow_id)
        .prefetch_related(
            Prefetch(
                "steps",
                queryset=Step.objects.select_related("schedule").prefetch_related(
                    "options", "schedule__ranges", "schedule__holidays"
                ),
            )
        )
        .first()
    )
    if flow is None:
        return None
    steps = {}
    for step in flow.steps.all():
        steps[step.id] = StepSnapshot(
            id=step.id,
            name=step.name,
            kind=step.kind,
            text=step.text,
            audio_url=step.audio_url,
            next_id=step.next_step_id,
            num_digits=step.num_digits,
            timeout=step.timeout,
            invalid_message=step.invalid_message,
            repeat_prompt=step.repeat_prompt,
            no_input_message=step.no_input_message,
            max_retries=step.max_retries,
            no_input_id=step.no_input_step_id,
            options={option.key: option.target_id for option in step.options.all()},
            queue_id=step.queue_id,
            caller_priority=step.caller_priority,
            schedule=_schedule_snapshot(step.schedule),
            open_id=step.open_step_id,
            closed_id=step.closed_step_id,
            max_length=step.max_length,
            dial_number=step.dial_number,
            goto_flow_id=step.goto_flow_id,
        )
    return FlowSnapshot(
        id=flow.id,
        version=flow.version,
        name=flow.name,
        language=flow.language,
        voice=flow.voice,
        start_id=flow.start_step_id,
        steps=steps,
        updated_at=flow.updated_at,
    )


def flow_snapshot(flow_id: int, version: int, updated_at: datetime) -> FlowSnapshot | None:
    """The flow at ``version`` from the cache, built on a miss. The version comes from the
    webhook's one lookup query, so a save in any process is seen at the next request."""
    snapshot = cache.get(_cache_key(flow_id, version, updated_at))
    if snapshot is None:
        snapshot = build_snapshot(flow_id)
        if snapshot is None:
            return None
        # Stored under the version actually read: a save racing this build cannot put an old
        # snapshot under the new version's key.
        key = _cache_key(flow_id, snapshot.version, snapshot.updated_at)
        cache.set(key, snapshot, CACHE_SECONDS)
    return snapshot


def flow_snapshot_current(flow_id: int, token: str | None = None) -> FlowSnapshot | None:
    """No query when this process already holds the flow for configuration ``token`` (the one
    the webhook read with its call leg); else one (the version), plus the build on a miss."""
    return configcache.cached(("ivr:flow", flow_id), token, lambda: _flow_current(flow_id))


def _flow_current(flow_id: int) -> FlowSnapshot | None:
    row = Flow.objects.filter(pk=flow_id).values_list("version", "updated_at").first()
    if row is None:
        return None
    return flow_snapshot(flow_id, *row)


def flow_for_number(number: str, token: str | None = None) -> FlowSnapshot | None:
    """The flow a call to ``number`` starts: no query when this process holds it for
    configuration ``token``, else one on a cache hit."""
    return configcache.cached(("ivr:number", number), token, lambda: _flow_for_number(number))


def _flow_for_number(number: str) -> FlowSnapshot | None:
    row = (
        PhoneNumber.objects.filter(number=number)
        .values_list("flow_id", "flow__version", "flow__updated_at")
        .first()
    )
    if row is None:
        return None
    return flow_snapshot(*row)


def queue_slug(queue_id: int | None, token: str | None = None) -> str | None:
    """The slug of the queue a queue step enqueues into (None: the queue is gone)."""

    def read():
        from queues.models import Queue

        return Queue.objects.filter(pk=queue_id).values_list("slug", flat=True).first()

    return configcache.cached(("ivr:queue-slug", queue_id), token, read)


def call_path_for(call_sid: str) -> list[dict]:
    """Every step one call visited and every key it pressed, in order."""
    rows = (
        CallPathEntry.objects.filter(call__sid=call_sid)
        .order_by("at", "id")
        .values("at", "step_name", "kind", "digits", "outcome")
    )
    return [
        {
            "at": row["at"],
            "step": row["step_name"],
            "kind": row["kind"],
            "digits": row["digits"],
            "outcome": row["outcome"],
        }
        for row in rows
    ]


VOICEMAIL_PAGE_SIZE = 50


VOICEMAIL_FILTERS = ("open", "mine", "handled", "all")


def voicemail_page(page_number, *, show: str = "all", user=None):
    """Voicemails newest first (two queries: count, page). ``show``: ``open`` (not handled),
    ``mine`` (not handled, assigned to ``user``), ``handled``, or ``all``."""
    from django.core.paginator import Paginator

    from .models import Voicemail

    queryset = Voicemail.objects.select_related("flow", "assigned_to", "handled_by").order_by(
        "-received_at", "-id"
    )
    if show == "open":
        queryset = queryset.filter(handled_at__isnull=True)
    elif show == "mine":
        queryset = queryset.filter(handled_at__isnull=True, assigned_to=user)
    elif show == "handled":
        queryset = queryset.filter(handled_at__isnull=False)
    return Paginator(queryset, VOICEMAIL_PAGE_SIZE).get_page(page_number)
