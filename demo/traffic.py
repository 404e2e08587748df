"""Synthetic call-center history for demos, screenshots and benchmarks (generate_traffic).

A small discrete-event simulation per day: callers arrive following an hourly profile; each
queue has a pool of agents who work shifts (staffed to the expected load of each hour) with
short breaks and a lunch; a caller is taken by the agent on shift who is ready first, unless the
caller's patience or the queue's maximum wait runs out before. What comes out is written, one
row builder per visit outcome, into the very tables the webhooks fill (telephony.Call,
queues.QueueVisit, agents.AgentStatusInterval), consistent with each other, with bulk inserts.
"""

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from operator import attrgetter

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


def _agent_intervals(pool: list[AgentState], midnight: datetime) -> list[AgentStatusInterval]:
    """Available between calls and breaks within the shift; on call, wrap-up and break as
    simulated; nothing (offline) outside the shift."""
    rows = []

    def at(seconds: float) -> datetime:
        # Real seconds after midnight (in UTC: wall-clock arithmetic in the zone would jump
        # back and forth across a daylight-saving change).
        return midnight.astimezone(UTC) + timedelta(seconds=seconds)

    def interval(agent: AgentState, status: str, start: float, end: float):
        return _interval_row(
            agent_id=agent.agent_id, status=status, started_at=at(start), ended_at=at(end)
        )

    for agent in pool:
        if agent.shift is None:
            continue
        cursor = agent.start
        for start, end, status in agent.busy:
            if start > cursor:
                rows.append(interval(agent, AgentStatus.AVAILABLE, cursor, start))
            rows.append(interval(agent, status, start, end))
            cursor = end
        if cursor < agent.end:
            rows.append(interval(agent, AgentStatus.AVAILABLE, cursor, agent.end))
    return rows


# --- One row builder per outcome of a visit. Each writes the fields the webhooks' services
# (queues.services.visit_record_exit / visit_record_connect / visit_record_talk,
# agents.services for the wrap-up) would have written for that outcome, and nothing else.


class _Rows:
    """Model instances made as fast as a dict copy: the model's defaults once, then the given
    values by attribute name (``queue_id``, not ``queue``). A year of history is tens of
    millions of rows; Model.__init__ would take most of the time of making them."""

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


def _outcome_rows(call: Call, queue: Queue, entered: datetime, outcome: dict, agent_sid: str):
    result, wait = outcome["result"], int(outcome["wait"])
    if result == QueueResult.BRIDGED:
        return answered_rows(
            call,
            queue,
            entered,
            wait,
            agent_sid=agent_sid,
            identity=outcome["agent"].identity,
            talk=int(outcome["talk"]),
            wrap=int(outcome["wrap"]),
        )
    if result == QueueResult.QUEUE_FULL:
        return rejected_rows(call, queue, entered)
    if result == QueueResult.LEAVE:
        return overflowed_rows(call, queue, entered, wait)
    return abandoned_rows(call, queue, entered, wait)


def _day_rows(
    rng: random.Random,
    *,
    seed: int,
    day_index: int,
    count: int,
    midnight: datetime,
    day_seconds: float,
    plans,
    numbers: list[str],
) -> tuple[list[CallRows], list[AgentStatusInterval]]:
    """One day of callers (every queue's) and the agents' status intervals."""
    rows, intervals = [], []
    n = 0
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
            entered = midnight.astimezone(UTC) + timedelta(seconds=arrival)
            started = entered - timedelta(seconds=rng.uniform(12, 40))  # IVR before
            call = _caller_leg(_sid(seed, day_index, n, 0), rng.choice(numbers), started)
            rows.append(_outcome_rows(call, queue, entered, outcome, _sid(seed, day_index, n, 1)))
        for agent in pool:
            agent.end_day(day_seconds)
        intervals.extend(_agent_intervals(pool, midnight))
    return rows, intervals


def _copy(cursor, model, objects, *, with_pk: bool = False, now: datetime) -> None:
    """PostgreSQL's COPY FROM STDIN of model instances: every concrete column bulk_create would
    write (the primary key only when given), auto_now(_add) fields set to ``now``."""
    fields = [field for field in model._meta.concrete_fields if with_pk or not field.primary_key]
    stamped = [
        field
        for field in fields
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]
    given = [field for field in fields if field not in stamped]
    values = attrgetter(*(field.attname for field in given))
    tail = (now,) * len(stamped)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in given + stamped)
    table = connection.ops.quote_name(model._meta.db_table)
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for obj in objects:
            copy.write_row(values(obj) + tail)


def _next_ids(cursor, model, count: int) -> list[int]:
    """``count`` primary keys taken from the table's sequence (as INSERT would take them)."""
    if not count:
        return []
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [model._meta.db_table, model._meta.pk.column, count],
    )
    return [row[0] for row in cursor.fetchall()]


def _day_write(rows: list[CallRows], intervals, *, midnight: datetime, next_midnight: datetime):
    agent_legs = [row.agent_leg for row in rows if row.agent_leg]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # COPY: several times faster than INSERTs for a year of history.
            now = timezone.now()
            with connection.cursor() as cursor:
                callers = [row.call for row in rows]
                for call, pk in zip(callers, _next_ids(cursor, Call, len(callers)), strict=True):
                    call.pk = pk
                _copy(cursor, Call, callers, with_pk=True, now=now)
                _copy(cursor, Call, agent_legs, now=now)
                for row in rows:
                    row.visit.call_id = row.call.pk
                _copy(cursor, QueueVisit, [row.visit for row in rows], now=now)
                _copy(cursor, AgentStatusInterval, intervals, now=now)
        else:
            Call.objects.bulk_create([row.call for row in rows], batch_size=BATCH)
            Call.objects.bulk_create(agent_legs, batch_size=BATCH)
            for row in rows:
                row.visit.call_id = row.call.pk
            QueueVisit.objects.bulk_create([row.visit for row in rows], batch_size=BATCH)
            AgentStatusInterval.objects.bulk_create(intervals, batch_size=BATCH)
        # Bulk writes send no signals: drop the stored report hours they write into (an
        # agent's last call may run past midnight).
        QueueHourStats.objects.filter(
            hour_start__gte=midnight, hour_start__lt=next_midnight
        ).delete()
        until = max([next_midnight, *(interval.ended_at for interval in intervals)])
        AgentHourStats.objects.filter(hour_start__gt=midnight - HOUR, hour_start__lt=until).delete()


def traffic_generate(
    *,
    days: int,
    calls_per_day: int,
    seed: int,
    end: date,
    progress: Callable[[int, date, Totals], None] | None = None,
) -> Totals:
    """Write `days` days of history ending with local date `end`; the same seed and end give
    the same rows."""
    # The first call of any day: a quiet first day (no call at all) must not hide a rerun.
    if Call.objects.filter(sid__in=[_sid(seed, day, 1, 0) for day in range(days)]).exists():
        raise ValueError(f"traffic for seed {seed} is already in the database; use another seed")
    zone = report_zone()
    totals = Totals()
    plans = _queues_and_agents(calls_per_day, totals)
    numbers = [f"+8190{n:08d}" for n in range(max(100, calls_per_day * 2))]
    first_day = end - timedelta(days=days - 1)
    for day_index in range(days):
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
        rows, intervals = _day_rows(
            rng,
            seed=seed,
            day_index=day_index,
            count=count,
            midnight=midnight,
            day_seconds=day_seconds,
            plans=plans,
            numbers=numbers,
        )
        _day_write(rows, intervals, midnight=midnight, next_midnight=next_midnight)
        totals.calls += len(rows) + sum(1 for row in rows if row.agent_leg)
        totals.visits += len(rows)
        totals.intervals += len(intervals)
        if progress:
            progress(day_index + 1, day, totals)
    # Add up the settled hours now rather than in the first report someone opens.
    begin = datetime.combine(first_day, time(), tzinfo=zone)
    stop = min(
        settled_until(timezone.now()),
        datetime.combine(end + timedelta(days=1), time(), tzinfo=zone),
    )
    if stop > begin:
        settled_hours(queues=[queue for queue, _plan, _pool in plans], start=begin, stop=stop)
    return totals
