"""Synthetic call-center history for demos, screenshots and benchmarks (generate_traffic).

A small discrete-event simulation per day: callers arrive following an hourly profile; each
queue has a pool of agents who work shifts (staffed to the expected load of each hour) with
short breaks and a lunch; a caller is taken by the agent on shift who is ready first, unless the
caller's patience or the queue's maximum wait runs out before. What comes out is written, one
row builder per visit outcome, into the very tables the webhooks fill (telephony.Call,
queues.QueueVisit, agents.AgentStatusInterval), consistent with each other, with bulk inserts.
"""

import gc
import heapq
import math
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models.base import ModelState
from django.utils import timezone

from agents.models import Agent, AgentStatus, AgentStatusInterval, QueueMembership
from agents.roles import AGENTS
from queues.models import Queue, QueueResult, QueueVisit
from reports.metrics import HOUR, report_zone, settled_hours, settled_until
from reports.models import AgentHourStats, QueueHourStats
from telephony.models import Call, CallStatus

BATCH = 5000
CENTER_NUMBER = "+815012345678"
# Share of the day's calls arriving in each local hour: a morning peak, a lunch dip, an
# afternoon peak and a quiet night.
HOURLY_PROFILE = [
    0.2,
    0.1,
    0.1,
    0.1,
    0.1,
    0.2,
    0.5,
    1.5,
    4.0,
    9.0,
    11.0,
    10.0,
    6.5,
    8.5,
    10.0,
    9.5,
    8.0,
    6.5,
    4.5,
    3.0,
    2.0,
    1.5,
    1.0,
    0.5,
]
WEEKEND_FACTOR = 0.45


@dataclass(frozen=True)
class QueuePlan:
    slug: str
    name: str
    share: float  # of the calls
    mean_talk: float  # seconds
    service_level_seconds: int = 20
    short_abandon_seconds: int = 5
    max_wait_seconds: int | None = None
    wrap_up_seconds: int = 0


QUEUE_PLANS = [
    QueuePlan("support", "サポート", 0.6, 260),
    QueuePlan("sales", "営業", 0.25, 180, service_level_seconds=30, max_wait_seconds=120),
    QueuePlan("billing", "請求", 0.15, 300, wrap_up_seconds=15),
]


# Staffing: agents work shifts with breaks, as many per hour as the hour's expected load (in
# Erlangs) divided by this, less the time on breaks. Callers who give up and agents who wait
# for the next caller bring the busy hours' occupancy (on call and wrap-up over the time on duty
# and not on a break) to 70-90 % at a few thousand calls a day; small queues run lower.
LOAD_PER_AGENT = 0.95
# Of a full shift, the time on a break (an hour and a half of nine).
BREAK_SHARE = 1.5 / 9
RING_SECONDS = 4  # on average, before an agent answers
FULL_SHIFT_HOURS = 9  # eight hours of work and a lunch hour
PART_SHIFT_HOURS = 5
# (hours after the shift starts, minutes): a short break, lunch, a short break; part-timers have
# one short break. Agents who start together take them twenty minutes apart.
FULL_SHIFT_BREAKS = ((2, 15), (4, 60), (6.5, 15))
PART_SHIFT_BREAKS = ((2.5, 15),)


@dataclass(frozen=True)
class Shift:
    start: int  # local hour
    end: int  # local hour, exclusive
    breaks: tuple[tuple[float, float], ...]  # planned (start, length) in seconds after midnight


@dataclass
class AgentState:
    identity: str
    agent_id: int
    # Seconds into the day the agent is still busy with a call from the day before.
    carried: float = 0
    # Today's shift (None: a day off), when the agent is free next, the breaks still to take.
    shift: Shift | None = None
    start: float = 0  # seconds since local midnight: on duty from start to end
    end: float = 0
    free_at: float = 0
    breaks: list[tuple[float, float]] = field(default_factory=list)
    # (start, end, status) in seconds since local midnight
    busy: list[tuple[float, float, str]] = field(default_factory=list)

    def start_day(self, shift: Shift | None, day_seconds: float) -> None:
        self.shift, self.busy = shift, []
        self.start = max(self.carried, shift.start * 3600) if shift else 0
        self.end = min(shift.end * 3600, day_seconds) if shift else 0
        self.free_at = self.start if shift else math.inf
        self.breaks = list(shift.breaks) if shift else []

    def ready_at(self, t: float) -> float:
        """When the agent can take a caller who arrives at ``t``: after the call in hand and
        every break due by then."""
        at = self.free_at
        for planned, length in self.breaks:
            if planned > max(at, t):
                break
            at = max(at, planned) + length
        return at

    def take_breaks(self, t: float) -> None:
        """Record the breaks ``ready_at(t)`` counted."""
        while self.breaks and self.breaks[0][0] <= max(self.free_at, t):
            planned, length = self.breaks.pop(0)
            start = max(self.free_at, planned)
            self.busy.append((start, start + length, AgentStatus.BREAK))
            self.free_at = start + length

    def end_day(self, day_seconds: float) -> None:
        """The breaks left that still fit in the shift; what runs past midnight carries over."""
        for planned, length in self.breaks:
            start = max(self.free_at, planned)
            if start + length > self.end:
                break
            self.busy.append((start, start + length, AgentStatus.BREAK))
            self.free_at = start + length
        self.breaks = []
        self.carried = max([0, *(end - day_seconds for _start, end, _status in self.busy)])


@dataclass
class Totals:
    calls: int = 0
    visits: int = 0
    intervals: int = 0
    queues_created: list[str] = field(default_factory=list)
    agents_created: list[str] = field(default_factory=list)
    # Per queue slug: the identities of its agents.
    staff: dict[str, list[str]] = field(default_factory=dict)
    indexes_rebuilt: bool = False


def _sid(seed: int, day_index: int, n: int, leg: int) -> str:
    # 34 characters like Twilio's: CA + 32 hex; unique per (seed, day, call, leg).
    return f"CA{seed & 0xFFFFFFFF:08x}{day_index:06x}{n:08x}{leg:02x}{0:08x}"


def _shifts(plan: QueuePlan, *, calls: float, wrap_up_seconds: int) -> list[Shift]:
    """Shifts that cover every hour's expected load (see LOAD_PER_AGENT), in the order they
    start: a full shift where the load lasts, a part-time one for a short peak."""
    handle = plan.mean_talk + wrap_up_seconds + RING_SECONDS
    weight = calls * plan.share / sum(HOURLY_PROFILE)
    need = [
        max(1, round(weight * share * handle / 3600 / LOAD_PER_AGENT / (1 - BREAK_SHARE)))
        for share in HOURLY_PROFILE
    ]
    coverage = [0] * 24
    shifts = []
    for hour in range(24):
        starting = 0
        while coverage[hour] < need[hour]:
            lasting = all(coverage[h] < need[h] for h in range(hour, min(24, hour + 6)))
            length, breaks = (
                (FULL_SHIFT_HOURS, FULL_SHIFT_BREAKS)
                if lasting
                else (PART_SHIFT_HOURS, PART_SHIFT_BREAKS)
            )
            end = min(24, hour + length)
            stagger = (starting % 5) * 1200
            planned = tuple(
                ((hour + after) * 3600 + stagger, minutes * 60)
                for after, minutes in breaks
                if hour + after < end
            )
            shifts.append(Shift(hour, end, planned))
            for h in range(hour, end):
                coverage[h] += 1
            starting += 1
    return shifts


def _queues_and_agents(
    calls_per_day: int, totals: Totals
) -> list[tuple[Queue, QueuePlan, list[AgentState]]]:
    """The demo queues and enough agents for the busiest day's shifts, created when missing
    (and listed in ``totals``)."""
    User = get_user_model()
    agents_group = Group.objects.filter(name=AGENTS).first()
    result = []
    number = 0
    for plan in QUEUE_PLANS:
        queue, created = Queue.objects.get_or_create(
            slug=plan.slug,
            defaults={
                "name": plan.name,
                "service_level_seconds": plan.service_level_seconds,
                "short_abandon_seconds": plan.short_abandon_seconds,
                "max_wait_seconds": plan.max_wait_seconds,
                "wrap_up_seconds": plan.wrap_up_seconds,
            },
        )
        if created:
            totals.queues_created.append(queue.slug)
        busiest = calls_per_day * 1.08  # a weekday at its most
        staff = len(_shifts(plan, calls=busiest, wrap_up_seconds=queue.wrap_up_seconds))
        states = []
        for _ in range(staff):
            number += 1
            identity = f"agent{number}"
            agent = Agent.objects.filter(identity=identity).first()
            if agent is None:
                user, user_created = User.objects.get_or_create(username=identity)
                if user_created:
                    user.set_unusable_password()
                    user.save(update_fields=["password"])
                if agents_group:
                    user.groups.add(agents_group)
                agent = Agent.objects.create(user=user, identity=identity)
                totals.agents_created.append(identity)
            QueueMembership.objects.get_or_create(agent=agent, queue=queue)
            states.append(AgentState(identity=identity, agent_id=agent.pk))
        totals.staff[queue.slug] = [state.identity for state in states]
        result.append((queue, plan, states))
    return result


def _next_agent(heap: list[tuple[float, int]], pool: list[AgentState], t: float):
    """(ready, index) of the agent who can take a caller arriving at ``t`` first, or None.

    Heap keys are lower bounds (a break may fall due before an agent is ready): a key that
    turns out low goes back with the real time; an agent whose shift is over (callers come in
    arrival order) leaves the heap.
    """
    while heap:
        key, i = heap[0]
        ready = pool[i].ready_at(t)
        if max(ready, t) >= pool[i].end:
            heapq.heappop(heap)
        elif ready > key:
            heapq.heapreplace(heap, (ready, i))
        else:
            return ready, i
    return None


def _simulate_queue(
    rng: random.Random,
    *,
    plan: QueuePlan,
    queue: Queue,
    arrivals: list[float],
    pool: list[AgentState],
):
    """Yield (arrival, outcome dict) per caller, FIFO by arrival, taken by the agent on shift
    who is ready first (not on a call, in wrap-up or on a break)."""
    heap = [(agent.free_at, i) for i, agent in enumerate(pool) if agent.shift]
    heapq.heapify(heap)
    for arrival in arrivals:
        # Most callers hold on a while; a few hang up at once (short abandons).
        patience = 6 + rng.expovariate(1 / 100) if rng.random() < 0.97 else rng.uniform(0, 5)
        if rng.random() < 0.004:
            yield arrival, {"result": QueueResult.QUEUE_FULL, "wait": 0}
            continue
        ring = rng.randint(2, 6)
        ready, i = _next_agent(heap, pool, arrival) or (math.inf, -1)
        answer_at = max(arrival + ring, ready)
        wait = answer_at - arrival
        limit = plan.max_wait_seconds or math.inf
        if wait > min(patience, limit):
            if limit < patience:
                yield arrival, {"result": QueueResult.LEAVE, "wait": int(limit)}
            else:
                yield arrival, {"result": QueueResult.HANGUP, "wait": int(patience)}
            continue
        # Whole seconds, as Twilio reports them.
        talk = max(15, round(rng.lognormvariate(math.log(plan.mean_talk) - 0.18, 0.6)))
        wrap = queue.wrap_up_seconds
        agent = pool[i]
        agent.take_breaks(arrival)
        agent.free_at = answer_at + talk + wrap
        agent.busy.append((answer_at, answer_at + talk, AgentStatus.ON_CALL))
        if wrap:
            agent.busy.append((answer_at + talk, answer_at + talk + wrap, AgentStatus.WRAP_UP))
        heapq.heapreplace(heap, (agent.free_at, i))
        yield (
            arrival,
            {
                "result": QueueResult.BRIDGED,
                "wait": wait,
                "talk": talk,
                "wrap": wrap,
                "agent": agent,
            },
        )


# --- What a day leaves in the tables, first as plain tuples (cheap to make in the thread that
# simulates), then either as COPY text (PostgreSQL) or as model instances (elsewhere) made by
# one row builder per visit outcome. Each builder writes the fields the webhooks' services
# (queues.services.visit_record_exit / visit_record_connect / visit_record_talk,
# agents.services for the wrap-up) would have written for that outcome, and nothing else; the
# COPY text holds the very same values (tests/demo/test_generate_traffic_copy.py compares them).

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


@dataclass
class DayRecords:
    """One simulated day. ``visits``: per caller (n, queue, entered, started_us, number, result,
    wait, talk, wrap, identity), ``entered`` in whole seconds since the epoch, the caller leg's
    start in microseconds (the IVR before the queue takes a fraction of a second too);
    ``intervals``: (agent_id, status, start, end) in seconds after ``midnight``."""

    index: int
    day: date
    midnight: datetime  # local
    next_midnight: datetime
    visits: list[tuple]
    intervals: list[tuple]
    # The COPY text (PostgreSQL), see _copy_lines: call legs and visits without their last
    # column (the leg's id, the caller leg's id: taken from the sequence when written) and
    # without the columns left at their default; status intervals without those columns.
    caller_lines: list[str] | None = None
    agent_lines: list[str] | None = None
    visit_lines: list[str] | None = None
    interval_lines: list[str] | None = None

    @property
    def agent_legs(self) -> int:
        return sum(1 for visit in self.visits if visit[5] == QueueResult.BRIDGED)


def _agent_intervals(pool: list[AgentState]) -> list[tuple]:
    """Available between calls and breaks within the shift; on call, wrap-up and break as
    simulated; nothing (offline) outside the shift. (agent_id, status, start, end) in seconds
    after midnight."""
    rows = []
    for agent in pool:
        if agent.shift is None:
            continue
        cursor = agent.start
        agent_id = agent.agent_id
        for start, end, status in agent.busy:
            if start > cursor:
                rows.append((agent_id, AgentStatus.AVAILABLE, cursor, start))
            rows.append((agent_id, status, start, end))
            cursor = end
        if cursor < agent.end:
            rows.append((agent_id, AgentStatus.AVAILABLE, cursor, agent.end))
    return rows


def _simulate_day(
    rng: random.Random,
    *,
    count: int,
    midnight: datetime,
    day_seconds: float,
    plans,
    numbers: list[str],
) -> tuple[list[tuple], list[tuple]]:
    """One day of callers (every queue's) and the agents' status intervals, as tuples (see
    DayRecords)."""
    visits, intervals = [], []
    n = 0
    base = _whole_seconds(midnight)
    uniform, choice = rng.uniform, rng.choice
    for queue, plan, pool in plans:
        shifts = _shifts(plan, calls=count, wrap_up_seconds=queue.wrap_up_seconds)
        for index, agent in enumerate(pool):
            agent.start_day(shifts[index] if index < len(shifts) else None, day_seconds)
        share = round(count * plan.share)
        hours = rng.choices(range(24), weights=HOURLY_PROFILE, k=share)
        arrivals = sorted(hour * 3600 + rng.randrange(3600) for hour in hours)
        arrivals = [arrival for arrival in arrivals if arrival < day_seconds]
        for arrival, outcome in _simulate_queue(
            rng, plan=plan, queue=queue, arrivals=arrivals, pool=pool
        ):
            n += 1
            entered = base + arrival
            # The IVR before the queue; rounded to the microsecond as a timedelta would be.
            before = timedelta(seconds=uniform(12, 40)) // MICROSECOND
            number = choice(numbers)
            result = outcome["result"]
            bridged = result == QueueResult.BRIDGED
            visits.append(
                (
                    n,
                    queue,
                    entered,
                    entered * 1_000_000 - before,
                    number,
                    result,
                    int(outcome["wait"]),
                    int(outcome["talk"]) if bridged else None,
                    int(outcome["wrap"]) if bridged else None,
                    outcome["agent"].identity if bridged else "",
                )
            )
        for agent in pool:
            agent.end_day(day_seconds)
        intervals.extend(_agent_intervals(pool))
    return visits, intervals


def _whole_seconds(moment: datetime) -> int:
    seconds = moment.timestamp()
    if seconds != int(seconds):
        raise ValueError(f"{moment} is not a whole second")
    return int(seconds)


# --- Model instances (SQLite and other databases: bulk_create).


class _Rows:
    """Model instances made as fast as a dict copy: the model's defaults once, then the given
    values by attribute name (``queue_id``, not ``queue``)."""

    def __init__(self, model):
        self.model = model
        self.defaults = {name: value for name, value in vars(model()).items() if name != "_state"}

    def __call__(self, **values):
        obj = self.model.__new__(self.model)
        obj.__dict__.update(self.defaults)
        obj.__dict__.update(values)
        obj._state = ModelState()
        return obj


_call_row = _Rows(Call)
_visit_row = _Rows(QueueVisit)
_interval_row = _Rows(AgentStatusInterval)


@dataclass
class CallRows:
    """What one caller leaves in the tables: the caller's leg, the visit, the agent's leg."""

    call: Call
    visit: QueueVisit
    agent_leg: Call | None = None


def _caller_leg(sid: str, number: str, started: datetime) -> Call:
    return _call_row(
        sid=sid,
        account_sid="",
        direction="inbound",
        from_number=number,
        to_number=CENTER_NUMBER,
        status=CallStatus.COMPLETED,
        started_at=started,
    )


def _hung_up(rows: CallRows, at: datetime) -> CallRows:
    """The caller's leg ends a second after its last event."""
    rows.call.ended_at = at + timedelta(seconds=1)
    rows.call.duration_seconds = int((rows.call.ended_at - rows.call.started_at).total_seconds())
    return rows


def _left_unanswered(call: Call, queue: Queue, entered: datetime, result: str, wait: int):
    """The Enqueue action's fields alone (visit_record_exit): result, QueueTime, left now."""
    visit = _visit_row(
        queue_id=queue.pk,
        entered_at=entered,
        result=result,
        wait_seconds=wait,
        left_at=entered + timedelta(seconds=wait),
    )
    return _hung_up(CallRows(call, visit), visit.left_at)


def rejected_rows(call: Call, queue: Queue, entered: datetime) -> CallRows:
    """Queue full: Twilio refused the caller at once (offered to nobody)."""
    return _left_unanswered(call, queue, entered, QueueResult.QUEUE_FULL, 0)


def abandoned_rows(call: Call, queue: Queue, entered: datetime, wait: int) -> CallRows:
    """The caller hung up after waiting ``wait`` seconds."""
    return _left_unanswered(call, queue, entered, QueueResult.HANGUP, wait)


def overflowed_rows(call: Call, queue: Queue, entered: datetime, wait: int) -> CallRows:
    """The queue's maximum wait ran out: the flow sent the caller on (QueueResult leave)."""
    return _left_unanswered(call, queue, entered, QueueResult.LEAVE, wait)


def answered_rows(
    call: Call,
    queue: Queue,
    entered: datetime,
    wait: int,
    *,
    agent_sid: str,
    identity: str,
    talk: int,
    wrap: int,
) -> CallRows:
    """Answered after ``wait`` seconds by ``identity``'s leg, then ``talk`` seconds of talk
    and ``wrap`` seconds of wrap-up. The visit leaves the queue when it is answered (the connect
    URL), its talk time comes from the agent's Dial action, its result from the Enqueue action."""
    answered = entered + timedelta(seconds=wait)
    hung_up = answered + timedelta(seconds=talk)
    agent_leg = _call_row(
        sid=agent_sid,
        direction="inbound",
        from_number=f"client:{identity}",
        to_number=f"queue:{queue.slug}",
        status=CallStatus.COMPLETED,
        started_at=answered - timedelta(seconds=1),
        ended_at=hung_up,
        duration_seconds=talk + 1,
    )
    visit = _visit_row(
        queue_id=queue.pk,
        entered_at=entered,
        result=QueueResult.BRIDGED,
        wait_seconds=wait,
        answered_at=answered,
        left_at=answered,
        agent_identity=identity,
        agent_call_sid=agent_sid,
        talk_seconds=talk,
        wrap_up_seconds=wrap,
    )
    return _hung_up(CallRows(call, visit, agent_leg), hung_up)


def _model_rows(records: DayRecords, seed: int) -> tuple[list[CallRows], list]:
    """The day's rows as model instances, one builder per outcome."""
    rows = []
    for (
        n,
        queue,
        entered_s,
        started_us,
        number,
        result,
        wait,
        talk,
        wrap,
        identity,
    ) in records.visits:
        entered = EPOCH + timedelta(seconds=entered_s)
        started = EPOCH + timedelta(microseconds=started_us)
        call = _caller_leg(_sid(seed, records.index, n, 0), number, started)
        if result == QueueResult.BRIDGED:
            rows.append(
                answered_rows(
                    call,
                    queue,
                    entered,
                    wait,
                    agent_sid=_sid(seed, records.index, n, 1),
                    identity=identity,
                    talk=talk,
                    wrap=wrap,
                )
            )
        elif result == QueueResult.QUEUE_FULL:
            rows.append(rejected_rows(call, queue, entered))
        elif result == QueueResult.LEAVE:
            rows.append(overflowed_rows(call, queue, entered, wait))
        else:
            rows.append(abandoned_rows(call, queue, entered, wait))
    # Real seconds after midnight, in UTC: wall-clock arithmetic in the zone would jump back
    # and forth across a daylight-saving change.
    midnight = records.midnight.astimezone(UTC)
    intervals = [
        _interval_row(
            agent_id=agent_id,
            status=status,
            started_at=midnight + timedelta(seconds=start),
            ended_at=midnight + timedelta(seconds=end),
        )
        for agent_id, status, start, end in records.intervals
    ]
    return rows, intervals


# --- COPY text (PostgreSQL). The same values as the model instances above, written as COPY's
# text format straight from the tuples: no model instance, no per-value adaptation.


def _copy_text(value) -> str:
    """One value in COPY's text format (for the columns left at their default)."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, int | float | str):
        text = str(value)
        return text.translate({92: r"\\", 9: r"\t", 10: r"\n", 13: r"\r"})
    raise TypeError(f"no COPY text for {value!r}")


class _CopyTable:
    """A table's COPY column list. With ``last`` (a key known only when the rows are written):
    the columns ``given`` (formatted by the caller, in this order), every other concrete column
    at its default (auto_now ones at the time of the write), then ``last``. Without: the other
    columns first, then ``given``."""

    def __init__(self, model, given: tuple[str, ...], last: str | None = None):
        fields = {field.attname: field for field in model._meta.concrete_fields}
        self.rest = [
            field
            for name, field in fields.items()
            if name not in given and name != last and not field.primary_key
        ]
        given_columns = [fields[name].column for name in given]
        rest_columns = [field.column for field in self.rest]
        if last:
            names = [*given_columns, *rest_columns, fields[last].column]
        else:
            names = [*rest_columns, *given_columns]
        quote = connection.ops.quote_name
        self.sql = (
            f"COPY {quote(model._meta.db_table)} ({', '.join(quote(name) for name in names)}) "
            "FROM STDIN"
        )
        self.defaults = {name: value for name, value in vars(model()).items() if name != "_state"}

    def tail(self, now: datetime) -> str:
        """The text of the columns left at their default, each followed by a tab."""
        values = []
        for column in self.rest:
            if getattr(column, "auto_now", False) or getattr(column, "auto_now_add", False):
                value = now
            else:
                value = column.get_db_prep_save(self.defaults[column.attname], connection)
            values.append(_copy_text(value))
        return "".join(f"{value}\t" for value in values)


class _Stamps(dict):
    """timestamptz in COPY text for whole seconds since the epoch (``stamps[seconds]``), made
    from an hour prefix and a table of the 3,600 minutes and seconds of an hour, and kept: an
    interval starts when the one before ended, many calls start and end in the same second."""

    MINUTES_SECONDS = [f":{s // 60:02d}:{s % 60:02d}" for s in range(3600)]

    def __init__(self):
        super().__init__()
        self.hours: dict[int, str] = {}

    def prefix(self, hour: int) -> str:
        text = self.hours.get(hour)
        if text is None:
            text = self.hours[hour] = f"{EPOCH + timedelta(hours=hour):%Y-%m-%d %H}"
        return text

    def __missing__(self, seconds: int) -> str:
        hour, rest = divmod(seconds, 3600)
        text = self[seconds] = f"{self.prefix(hour)}{self.MINUTES_SECONDS[rest]}+00"
        return text

    def micro(self, microseconds: int) -> str:
        seconds, fraction = divmod(microseconds, 1_000_000)
        hour, rest = divmod(seconds, 3600)
        return f"{self.prefix(hour)}{self.MINUTES_SECONDS[rest]}.{fraction:06d}+00"

    def new_day(self) -> None:
        """Forget the seconds kept (a day's are not the next day's): memory stays bounded."""
        self.clear()
        self.hours.clear()


_CALL_GIVEN = (
    "sid",
    "from_number",
    "to_number",
    "direction",
    "status",
    "started_at",
    "ended_at",
    "duration_seconds",
)
_VISIT_GIVEN = (
    "queue_id",
    "entered_at",
    "left_at",
    "result",
    "wait_seconds",
    "answered_at",
    "agent_identity",
    "agent_call_sid",
    "talk_seconds",
    "wrap_up_seconds",
)
_INTERVAL_GIVEN = ("agent_id", "status", "started_at", "ended_at")


class _CopyTables(NamedTuple):
    calls: _CopyTable
    visits: _CopyTable
    intervals: _CopyTable


def _copy_tables() -> _CopyTables:
    return _CopyTables(
        _CopyTable(Call, _CALL_GIVEN, last="id"),
        _CopyTable(QueueVisit, _VISIT_GIVEN, last="call_id"),
        _CopyTable(AgentStatusInterval, _INTERVAL_GIVEN),
    )


def _bulk_session(cursor) -> None:
    """For the rest of the transaction: no statement timeout (the web's DATABASE_STATEMENT_TIMEOUT
    would cancel a day's COPY on a busy machine, and building an index over a year of rows),
    and no wait for each commit's WAL flush (a database crash could lose the last days
    committed, never leave a day half written)."""
    cursor.execute("SET LOCAL statement_timeout TO 0")
    cursor.execute("SET LOCAL synchronous_commit TO off")


def _check_deferred(cursor) -> None:
    """Run the pending checks of the foreign keys from or to BULK_TABLES that wait for the
    commit (Django makes them deferrable, initially deferred), and defer them again."""
    cursor.execute(
        """
        SELECT DISTINCT quote_ident(conname) FROM pg_constraint
        WHERE contype = 'f' AND condeferred
          AND (conrelid = ANY(%s::regclass[]) OR confrelid = ANY(%s::regclass[]))
        """,
        [[model._meta.db_table for model in BULK_TABLES]] * 2,
    )
    names = ", ".join(name for (name,) in cursor.fetchall())
    if names:
        cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")
        cursor.execute(f"SET CONSTRAINTS {names} DEFERRED")


def _copy_lines(records: DayRecords, seed: int, stamps: _Stamps) -> None:
    """Fill ``records``' COPY text (see DayRecords): the columns of _CALL_GIVEN, _VISIT_GIVEN
    and _INTERVAL_GIVEN in that order; the defaults and the keys are added when written."""
    callers, agents, visits = [], [], []
    # _sid(): CA, the seed, the day, the call, the leg, in hex.
    prefix = f"CA{seed & 0xFFFFFFFF:08x}{records.index:06x}"
    completed = CallStatus.COMPLETED
    bridged = QueueResult.BRIDGED
    null = r"\N"
    for n, queue, entered, started_us, number, result, wait, talk, wrap, identity in records.visits:
        entered_text = stamps[entered]
        if result == bridged:
            answered = entered + wait
            last = answered + talk
            answered_text = stamps[answered]
            agent_sid = f"{prefix}{n:08x}01{0:08x}"
            agents.append(
                f"{agent_sid}\tclient:{identity}\tqueue:{queue.slug}\tinbound\t{completed}\t"
                f"{stamps[answered - 1]}\t{stamps[last]}\t{talk + 1}\t"
            )
            visits.append(
                f"{queue.pk}\t{entered_text}\t{answered_text}\t{result}\t{wait}\t"
                f"{answered_text}\t{identity}\t{agent_sid}\t{talk}\t{wrap}\t"
            )
        else:
            last = entered + wait
            visits.append(
                f"{queue.pk}\t{entered_text}\t{stamps[last]}\t{result}\t{wait}\t"
                f"{null}\t\t\t{null}\t{null}\t"
            )
        # The caller's leg ends a second after its last event.
        callers.append(
            f"{prefix}{n:08x}00{0:08x}\t{number}\t{CENTER_NUMBER}\tinbound\t{completed}\t"
            f"{stamps.micro(started_us)}\t{stamps[last + 1]}\t"
            f"{((last + 1) * 1_000_000 - started_us) // 1_000_000}\t"
        )
    midnight = records.midnight.astimezone(UTC)
    base = _whole_seconds(midnight)
    intervals = []
    for agent_id, status, start, end in records.intervals:
        # Whole seconds (shifts, breaks and calls are), else to the microsecond.
        if start == int(start) and end == int(end):
            started, ended = stamps[base + int(start)], stamps[base + int(end)]
        else:
            started = (midnight + timedelta(seconds=start)).isoformat(sep=" ")
            ended = (midnight + timedelta(seconds=end)).isoformat(sep=" ")
        intervals.append(f"{agent_id}\t{status}\t{started}\t{ended}\n")
    records.caller_lines, records.agent_lines, records.visit_lines = callers, agents, visits
    records.interval_lines = intervals
    stamps.new_day()


def _next_ids(cursor, model, count: int) -> list[int]:
    """``count`` primary keys taken from the table's sequence (as INSERT would take them)."""
    if not count:
        return []
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [model._meta.db_table, model._meta.pk.column, count],
    )
    return [row[0] for row in cursor.fetchall()]


def _copy_day(records: DayRecords, tables) -> None:
    """The day's COPY text into the three tables, one COPY each, in the open transaction."""
    calls, visits, intervals = tables.calls, tables.visits, tables.intervals
    now = timezone.now()
    call_tail, visit_tail, interval_tail = (table.tail(now) for table in tables)
    callers, agents = records.caller_lines, records.agent_lines
    with connection.cursor() as cursor:
        # Caller legs first, then agent legs: the ids INSERTs in that order would have taken.
        ids = _next_ids(cursor, Call, len(callers) + len(agents))
        with cursor.cursor.copy(calls.sql) as copy:
            copy.write(
                "".join(
                    f"{line}{call_tail}{pk}\n"
                    for line, pk in zip([*callers, *agents], ids, strict=True)
                )
            )
        with cursor.cursor.copy(visits.sql) as copy:
            copy.write(
                "".join(
                    f"{line}{visit_tail}{pk}\n"
                    for line, pk in zip(records.visit_lines, ids[: len(callers)], strict=True)
                )
            )
        with cursor.cursor.copy(intervals.sql) as copy:
            copy.write("".join(f"{interval_tail}{line}" for line in records.interval_lines))
        # The foreign keys' checks (deferred to the commit by Django) run now: a run in one
        # transaction would otherwise queue them all until its end, a year of them in the
        # database's memory, and the indexes could not be built with checks pending.
        _check_deferred(cursor)


def _day_write(records: DayRecords, *, seed: int, tables) -> None:
    with transaction.atomic():
        if tables:
            with connection.cursor() as cursor:
                _bulk_session(cursor)
            _copy_day(records, tables)
        else:
            rows, intervals = _model_rows(records, seed)
            Call.objects.bulk_create([row.call for row in rows], batch_size=BATCH)
            Call.objects.bulk_create(
                [row.agent_leg for row in rows if row.agent_leg], batch_size=BATCH
            )
            for row in rows:
                row.visit.call_id = row.call.pk
            QueueVisit.objects.bulk_create([row.visit for row in rows], batch_size=BATCH)
            AgentStatusInterval.objects.bulk_create(intervals, batch_size=BATCH)
        # Bulk writes send no signals: drop the stored report hours they write into (an
        # agent's last call may run past midnight).
        midnight, next_midnight = records.midnight, records.next_midnight
        QueueHourStats.objects.filter(
            hour_start__gte=midnight, hour_start__lt=next_midnight
        ).delete()
        last_end = max((end for *_, end in records.intervals), default=0)
        until = max(next_midnight, midnight.astimezone(UTC) + timedelta(seconds=last_end))
        AgentHourStats.objects.filter(hour_start__gt=midnight - HOUR, hour_start__lt=until).delete()


# The tables generate_traffic writes; their plain indexes are set aside during a bulk load.
BULK_TABLES = (Call, QueueVisit, AgentStatusInterval)


def _mostly_new(visits: int) -> bool:
    """Whether the run writes more visits than the table holds (counted up to that many): then
    building the indexes once at the end is cheaper than keeping them up to date row by row."""
    # Weekends are quieter: about three quarters of a week's days at the weekday's rate.
    expected = int(visits * 0.75)
    return QueueVisit.objects.all()[:expected].count() < expected


@contextmanager
def _indexes_set_aside():
    """Drop the plain (not unique, no constraint's) indexes of BULK_TABLES, and create them
    again on the way out with the definitions PostgreSQL gave for them (``pg_get_indexdef``:
    name, columns, order, operator classes, conditions, storage parameters), exactly as they
    were. Must run inside a transaction: DDL is transactional in PostgreSQL, so whatever
    happens in between, the indexes are either all back or never went away; the tables are
    locked for the others meanwhile. Primary keys, unique indexes and constraints stay: they
    keep checking every row."""
    if not connection.in_atomic_block:
        raise RuntimeError("indexes can only be set aside inside a transaction")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid = ANY(%s::regclass[])
              AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            ORDER BY 1
            """,
            [[model._meta.db_table for model in BULK_TABLES]],
        )
        indexes = cursor.fetchall()
        _bulk_session(cursor)
        # Earlier writes of this transaction may have checks pending on these tables.
        _check_deferred(cursor)
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        _check_deferred(cursor)
        # Sorting a year of keys in memory rather than in temporary files.
        cursor.execute("SET LOCAL maintenance_work_mem TO '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)


def traffic_generate(
    *,
    days: int,
    calls_per_day: int,
    seed: int,
    end: date,
    progress: Callable[[int, date, Totals], None] | None = None,
    copy: bool | None = None,
    rebuild_indexes: bool | None = None,
) -> Totals:
    """Write `days` days of history ending with local date `end`; the same seed and end give
    the same rows. ``copy``: write with COPY (the default on PostgreSQL) or with bulk_create.
    ``rebuild_indexes`` (COPY only; by default when the tables hold fewer visits than the run
    writes): the whole run in one transaction, the tables' plain indexes dropped at its start
    and created again, exactly as they were, at its end (see _indexes_set_aside); otherwise a
    transaction per day with the indexes in place.

    One thread simulates the days in order and makes their rows, while this one writes the day
    before (the database does its share of the work meanwhile, in its own process): the rows
    are the same as in one thread, and at most two days are in memory."""
    # The first call of any day: a quiet first day (no call at all) must not hide a rerun.
    if Call.objects.filter(sid__in=[_sid(seed, day, 1, 0) for day in range(days)]).exists():
        raise ValueError(f"traffic for seed {seed} is already in the database; use another seed")
    if copy is None:
        copy = connection.vendor == "postgresql"
    zone = report_zone()
    totals = Totals()
    with transaction.atomic():
        plans = _queues_and_agents(calls_per_day, totals)
    numbers = [f"+8190{n:08d}" for n in range(max(100, calls_per_day * 2))]
    first_day = end - timedelta(days=days - 1)
    tables = _copy_tables() if copy else None
    stamps = _Stamps()

    def simulate(day_index: int) -> DayRecords:
        day = first_day + timedelta(days=day_index)
        rng = random.Random(f"{seed}:{day.isoformat()}")
        midnight = datetime.combine(day, time(), tzinfo=zone)
        next_midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
        # Real seconds: 82,800 or 90,000 on the days daylight-saving time starts or ends.
        day_seconds = (next_midnight.astimezone(UTC) - midnight.astimezone(UTC)).total_seconds()
        count = round(
            calls_per_day
            * (WEEKEND_FACTOR if day.weekday() >= 5 else 1.0)
            * rng.uniform(0.92, 1.08)
        )
        visits, intervals = _simulate_day(
            rng,
            count=count,
            midnight=midnight,
            day_seconds=day_seconds,
            plans=plans,
            numbers=numbers,
        )
        records = DayRecords(day_index, day, midnight, next_midnight, visits, intervals)
        if copy:
            _copy_lines(records, seed, stamps)
        return records

    def write_days():
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="traffic") as simulator:
            upcoming = simulator.submit(simulate, 0)
            for day_index in range(days):
                records = upcoming.result()
                if day_index + 1 < days:
                    upcoming = simulator.submit(simulate, day_index + 1)
                _day_write(records, seed=seed, tables=tables)
                totals.calls += len(records.visits) + records.agent_legs
                totals.visits += len(records.visits)
                totals.intervals += len(records.intervals)
                if progress:
                    progress(day_index + 1, records.day, totals)
                del records

    if copy and rebuild_indexes is None:
        rebuild_indexes = _mostly_new(days * calls_per_day)
    # Millions of short-lived tuples and strings, no reference cycles among them: the cyclic
    # garbage collector would walk them over and over for nothing.
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        if copy and rebuild_indexes:
            totals.indexes_rebuilt = True
            with transaction.atomic(), _indexes_set_aside():
                write_days()
        else:
            write_days()
    finally:
        gc.set_threshold(*thresholds)
    # Add up the settled hours now rather than in the first report someone opens.
    begin = datetime.combine(first_day, time(), tzinfo=zone)
    stop = min(
        settled_until(timezone.now()),
        datetime.combine(end + timedelta(days=1), time(), tzinfo=zone),
    )
    if stop > begin:
        with transaction.atomic():
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    # A year of visits is added up in one query.
                    cursor.execute("SET LOCAL statement_timeout TO 0")
            settled_hours(queues=[queue for queue, _plan, _pool in plans], start=begin, stop=stop)
    return totals
