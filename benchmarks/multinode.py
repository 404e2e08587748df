"""Routing at load, across machines: push routing through two app nodes, a read replica and
PgBouncer, driven by the local Twilio; app nodes and workers killed mid-run.

    .venv/bin/python benchmarks/multinode.py --quick            # about a minute, lower rate
    .venv/bin/python benchmarks/multinode.py --rate 20 --minutes 10 --agents 200 --kill
    .venv/bin/python benchmarks/multinode.py --single --quick   # one node, no replica/PgBouncer

On this one machine it starts: a streaming replica of the local PostgreSQL (5432) made with
`pg_basebackup` and started on 5433, PgBouncer in transaction mode on 6432 in front of the
primary, two app nodes (gunicorn) and two workers (`manage.py worker`), nginx balancing the two
nodes, and the local Twilio (`manage.py twilio_emulator`) whose app is nginx. Then callers
arrive at `--rate` per second for `--minutes`, agents' emulated softphones answer after a short
ring and hang up after a talk time chosen so the agents keep up (Little's law), some callers
give up. With `--kill`, one app node and one worker are killed (SIGKILL) half-way. At the end it
checks the invariants (docs/benchmarks.md, *Routing at load*) and exits 1 if one fails.

It needs root (or the postgres user) for the replica, and installs Debian's `pgbouncer` when
missing (as root, with apt-get). Everything listens on 127.0.0.1.
"""

import argparse
import contextlib
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.nginx import nginx_conf  # noqa: E402

NUMBER = "+815012345678"
QUEUE = "support"
DATABASE = "tsunagu_multinode_bench"
PRIMARY = "postgres://postgres@127.0.0.1:5432"
PORTS = {"nginx": 8700, "node1": 8701, "node2": 8702, "twilio": 8710}
REPLICA_PORT = 5433
PGBOUNCER_PORT = 6432
AGENT_PREFIX = "mn-agent"
# A physical replication slot, so the primary keeps the WAL the replica has not received yet
# (without one, other databases' traffic on a shared primary can recycle it first).
SLOT = "tsunagu_multinode_bench"
FALLBACK_PATH = "/twilio/voice/fallback"
# The caller's request once taken out of the queue to an agent (routing:bridge-join).
JOIN_PATH = re.compile(r"/twilio/routing/bridges/\d+/join")
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- talking to the local Twilio's scripting API -------------------------------------------------


def api(base: str, method: str, path: str, body: dict | None = None, timeout: float = 60):
    request = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with OPENER.open(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


# --- the load, independent of how the servers run (the smoke test uses it in process) -----------


@dataclass
class Plan:
    rate: float  # callers per second
    seconds: float  # of arrivals
    agents: int
    answer_after: float = 1.0  # the softphone rings this long before it accepts
    talk_seconds: float = 0.0  # 0: chosen by Little's law (see talk_time)
    abandon_share: float = 0.1  # callers who give up after 1-6 s in the queue
    seed: int = 1

    def talk_time(self) -> float:
        """Talk time that keeps the agents about 60 % busy: busy agents = arrivals per second ×
        seconds per call (ring + talk + ~2 s of bridging and hanging up), but at least 6 s.
        The scripted agent's talk starts when the caller joins its conference (after the
        worker moved them out of the queue and they heard the connect message)."""
        if self.talk_seconds:
            return self.talk_seconds
        return max(6.0, round(0.6 * self.agents / self.rate - self.answer_after - 2.0, 1))

    def occupancy(self) -> float:
        """Little's law: busy agents / agents."""
        return self.rate * (self.answer_after + self.talk_time() + 2.0) / self.agents


def prepare_agents(count: int, *, now=None) -> list:
    """`count` agents (mn-agent1…) in `support` with push routing, wrap-up 0 and a missed
    agent ready again after 5 s; every other agent of the queue made inactive."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from agents.models import Agent, QueueMembership
    from agents.roles import AGENTS
    from queues.models import Queue, RoutingMode

    queue = Queue.objects.get(slug=QUEUE)
    queue.routing_mode = RoutingMode.PUSH
    queue.wrap_up_seconds = 0
    queue.ring_timeout_seconds = 15
    queue.missed_ready_after_seconds = 5
    queue.save()
    Agent.objects.exclude(identity__startswith=AGENT_PREFIX).update(is_active=False)
    group = Group.objects.get(name=AGENTS)
    User = get_user_model()
    agents = []
    for n in range(1, count + 1):
        identity = f"{AGENT_PREFIX}{n}"
        user, created = User.objects.get_or_create(username=identity)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.groups.add(group)
        agent, _ = Agent.objects.get_or_create(user=user, defaults={"identity": identity})
        QueueMembership.objects.get_or_create(agent=agent, queue=queue)
        agents.append(agent)
    return agents


def register_devices(twilio_url: str, agents: list, plan: Plan) -> None:
    """Each agent's emulated softphone registers (scripted: accept after the ring, hang up
    after the talk); then the agent reports it registered and becomes available, as the desk
    does (through the same services)."""
    from django.db import transaction
    from django.utils import timezone

    from agents.services import agent_choose_status, agent_report_device
    from agents.softphone import access_token_for

    talk = plan.talk_time()
    for agent in agents:
        status, body = api(
            twilio_url,
            "POST",
            "/emulator/devices",
            {
                "token": access_token_for(agent),
                # The talk starts when the caller joins, however long the app takes to bring
                # them in (a person talks with the caller, not with the connecting silence).
                "auto_answer": {
                    "after": plan.answer_after,
                    "talk": talk,
                    "talk_from": "connected",
                },
            },
        )
        if status != 201:
            raise SystemExit(f"device of {agent.identity} not registered: {status} {body}")
    for agent in agents:
        with transaction.atomic():
            now = timezone.now()
            agent_report_device(agent=agent, registered=True, now=now)
            agent_choose_status(agent=agent, status="available", now=now)


class DeskHeartbeat(threading.Thread):
    """What each desk's polling does for the softphone's registration: keeps it fresh."""

    def __init__(self, agents: list, every: float = 20.0):
        super().__init__(daemon=True, name="desk-heartbeat")
        self.agents, self.every, self.stopping = agents, every, threading.Event()

    def run(self):
        from django.db import close_old_connections
        from django.utils import timezone

        from agents.models import Agent
        from agents.services import agent_keep_device_seen

        while not self.stopping.wait(self.every):
            for agent in Agent.objects.filter(pk__in=[agent.pk for agent in self.agents]):
                agent_keep_device_seen(agent=agent, now=timezone.now())
            close_old_connections()


def drive_arrivals(twilio_url: str, plan: Plan, on_half=None) -> list[str]:
    """Place callers at `plan.rate` per second (Poisson arrivals) for `plan.seconds`; each
    presses 1 (support); `abandon_share` of them give up after 1-6 s in the queue, the others
    wait up to 5 minutes. Returns the CallSids. `on_half` runs once, half-way."""
    rng = random.Random(plan.seed)
    sids: list[str] = []
    started = time.monotonic()
    at = 0.0
    halfway_done = on_half is None
    while at < plan.seconds:
        delay = started + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if not halfway_done and at >= plan.seconds / 2:
            halfway_done = True
            threading.Thread(target=on_half, daemon=True).start()
        abandons = rng.random() < plan.abandon_share
        status, body = api(
            twilio_url,
            "POST",
            "/emulator/calls",
            {
                "from": f"+8190{rng.randrange(10**8):08d}",
                "to": NUMBER,
                "digits": "1",
                "patience": rng.uniform(1, 6) if abandons else 300,
            },
        )
        if status == 201:
            sids.append(body["sid"])
        at += rng.expovariate(plan.rate)
    return sids


def drain(twilio_url: str, seconds: float) -> dict:
    """Wait until every call at the local Twilio has ended (or `seconds` pass; then hang up
    whoever is left) and the app has answered every request it sent (status callbacks
    included; at most `seconds` more). Returns the local Twilio's load report, with the
    callers the drain hung up (`hung_up_by_drain`, CallSids)."""
    deadline = time.monotonic() + seconds
    hung_up = []
    while True:
        _, report = api(twilio_url, "GET", "/emulator/load-report", timeout=120)
        live = [leg for leg in report["calls"] if leg["ended_at"] is None]
        if not live:
            break
        if time.monotonic() > deadline:
            for leg in live:
                if leg["direction"] == "inbound":
                    api(twilio_url, "POST", f"/emulator/calls/{leg['sid']}/hangup")
                    hung_up.append(leg["sid"])
            time.sleep(10)
            break
        time.sleep(3)
    deadline = time.monotonic() + seconds
    while True:
        _, report = api(twilio_url, "GET", "/emulator/load-report", timeout=120)
        if not report.get("pending_requests") or time.monotonic() > deadline:
            return {**report, "hung_up_by_drain": hung_up}
        time.sleep(3)


def wait_until_settled(seconds: float = 60) -> None:
    """Until no offer rings and no task is left to run (the workers' sweep ends lost offers)."""
    from django_tasks_db.models import DBTaskResult

    from routing.models import Offer

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ringing = Offer.objects.filter(ended_at__isnull=True).exists()
        ready = DBTaskResult.objects.ready().exists()
        if not ringing and not ready:
            return
        time.sleep(2)


# --- the checks -----------------------------------------------------------------------------


def became_available(start: datetime, leg_ends: list[datetime]) -> datetime:
    """The moment an agent's available interval really began. The app dates an agent's move
    after a call by Twilio's `Timestamp` of the leg's end, which has whole seconds: an interval
    starting on a whole second began at the end, within that second, of one of the agent's
    legs as the local Twilio recorded it (``leg_ends``, to the microsecond), when there is one;
    otherwise ``start`` stands."""
    if start.microsecond:
        return start
    within = [end for end in leg_ends if start <= end < start + timedelta(seconds=1)]
    return max(within, default=start)


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))]


def _overlaps(rows: list[tuple]) -> int:
    """Pairs of intervals (start, end or None = open) of one owner that overlap."""
    count = 0
    rows = sorted(rows, key=lambda row: row[0])
    for (_, end), (start, _) in zip(rows, rows[1:], strict=False):
        if end is None or start < end:
            count += 1
    return count


@dataclass
class Outcome:
    figures: dict = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.failures.append(message)


@dataclass
class GroundTruth:
    results: Counter  # the local Twilio's QueueResult of each visit of the queue
    queue: dict  # the queue report's offered / answered / abandoned / rejected
    answered_by: Counter  # agent identity -> callers answered
    raced: list  # (caller CallSid, agent identity): see ground_truth
    cut_off: list  # (caller CallSid, agent identity): see ground_truth
    join_failed: list  # (caller CallSid, agent identity): see ground_truth


def ground_truth(report: dict, *, raced: list, agent_legs: dict) -> GroundTruth:
    """What the queue and agent reports must say, from the local Twilio's load report.

    Offered: every visit of the queue except the callers a full queue refused (`queue-full`:
    they never entered it; the report counts them as rejected, docs/reports.md). Answered: the
    callers taken out of the queue to an agent (`redirected`, push routing) or bridged to one.
    An agent answered the callers who met them in a started conference, and two kinds of
    caller who never did, named apart:

    - `raced` (from the app's rows, given): visits the app counts answered whose caller hung
      up in the queue (Twilio: `hangup`) before the worker took them out of it;
    - `cut_off`: the caller was taken out of the queue to the agent, then the drain hung them up
      (whoever is left when it gives up) before they joined the agent's conference. Twilio says
      `redirected` (answered, for both reports), and the agent sat alone in the conference.
      The agent is whose softphone the answered leg rang (`agent_legs`, caller CallSid ->
      agent CallSid, from the app's rows), provided that leg joined a conference.
    - `join_failed`: the same, but the caller's request for the join URL (JOIN_PATH) got no
      2xx: the node serving it was killed and nginx answered 502 (it passes a request a node
      took and never answered to the other node, but not after `proxy_next_upstream_timeout`,
      nor a third time), Twilio fell back and the fallback's apology hung the caller up. The
      app had answered the visit when the agent accepted, as Twilio did.

    Any other answered caller who never reached a conference is not explained away.
    """
    truth = [visit for visit in report["visits"] if visit["queue"] == QUEUE]
    results = Counter(visit["result"] for visit in truth)
    legs = {leg["sid"]: leg for leg in report["calls"]}
    # Who talked with whom: the callers and agents who joined the same conference once it
    # started (a bridge's room, `visit-<id>`).
    talked = {}
    in_a_conference = set()
    for conference in report["conferences"]:
        in_a_conference.update(conference["joined"])
        if not conference["started"]:
            continue
        joined = [legs[sid] for sid in conference["joined"] if sid in legs]
        agents_in = [
            leg["to"][len("client:") :] for leg in joined if leg["to"].startswith("client:")
        ]
        for leg in joined:
            if leg["direction"] == "inbound" and agents_in:
                talked[leg["sid"]] = agents_in[0]
    raced = [(sid, identity) for sid, identity in raced if sid not in talked]
    hung_up_by_drain = set(report.get("hung_up_by_drain", ()))
    join_failures = {
        sid
        for sid, _method, url, status in report.get("requests", ())
        if JOIN_PATH.fullmatch(urlsplit(url).path) and (status is None or not 200 <= status < 300)
    }
    cut_off, join_failed = [], []
    for visit in truth:
        sid = visit["call_sid"]
        agent_leg = legs.get(agent_legs.get(sid, ""))
        if (
            visit["result"] in ("redirected", "bridged")
            and sid not in in_a_conference
            and agent_leg is not None
            and agent_leg["sid"] in in_a_conference
            and agent_leg["to"].startswith("client:")
        ):
            if sid in hung_up_by_drain:
                cut_off.append((sid, agent_leg["to"][len("client:") :]))
            elif sid in join_failures:
                join_failed.append((sid, agent_leg["to"][len("client:") :]))
    answered = results.get("redirected", 0) + results.get("bridged", 0)
    return GroundTruth(
        results=results,
        queue={
            "offered": len(truth) - results.get("queue-full", 0),
            "answered": answered + len(raced),
            "abandoned": results.get("hangup", 0) - len(raced),
            "rejected": results.get("queue-full", 0),
        },
        answered_by=Counter(talked.values())
        + Counter(identity for _sid, identity in raced)
        + Counter(identity for _sid, identity in cut_off)
        + Counter(identity for _sid, identity in join_failed),
        raced=raced,
        cut_off=cut_off,
        join_failed=join_failed,
    )


def check_invariants(report: dict, *, since: datetime, ring_p99_limit: float = 1.0) -> Outcome:
    """Compare the app's rows (primary; reports through the replica alias when configured) with
    the local Twilio's load report. Django must be set up on the benchmark's database."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from agents.models import Agent, AgentStatus, AgentStatusInterval
    from agents.selectors import client_identity
    from queues.models import Queue, QueueVisit
    from reports import metrics
    from reports.routers import REPORTS_ALIAS, reading_from_replica, replica_configured
    from routing.models import BridgeParticipant, Offer, ParticipantRole
    from telephony.models import Call, WebhookEvent

    out = Outcome()
    offers = list(
        Offer.objects.filter(started_at__gte=since, visit__isnull=False).values(
            "id", "agent_id", "visit_id", "started_at", "rang_at", "ended_at", "outcome"
        )
    )
    out.figures["offers"] = len(offers)
    # The agent accepted -> the caller joined the bridge (the silence the agent waits through:
    # the app's answer, the bridge task, the caller's queue exit and join requests).
    joined = [
        (customer - accepted).total_seconds()
        for accepted, customer in BridgeParticipant.objects.filter(
            role=ParticipantRole.CUSTOMER,
            bridge__offer__started_at__gte=since,
            joined_at__isnull=False,
        ).values_list("bridge__offer__ended_at", "joined_at")
    ]
    out.figures["accepted -> caller's join request p50/p99/max (s)"] = tuple(
        round(value, 3)
        for value in (_percentile(joined, 0.5), _percentile(joined, 0.99), max(joined or [0]))
    )
    out.figures["offer outcomes"] = dict(Counter(offer["outcome"] or "open" for offer in offers))

    # 1. No double offer: per agent and per caller, offers never overlap.
    by_agent, by_visit = defaultdict(list), defaultdict(list)
    for offer in offers:
        by_agent[offer["agent_id"]].append((offer["started_at"], offer["ended_at"]))
        by_visit[offer["visit_id"]].append((offer["started_at"], offer["ended_at"]))
    agent_doubles = sum(_overlaps(rows) for rows in by_agent.values())
    visit_doubles = sum(_overlaps(rows) for rows in by_visit.values())
    out.figures["overlapping offers (agent / caller)"] = (agent_doubles, visit_doubles)
    out.check(agent_doubles == 0, f"{agent_doubles} agent(s) had two overlapping offers")
    out.check(visit_doubles == 0, f"{visit_doubles} caller(s) were offered to two agents at once")

    # 2. Every offer resolved.
    still_open = sum(1 for offer in offers if offer["ended_at"] is None)
    out.figures["offers left ringing"] = still_open
    out.check(still_open == 0, f"{still_open} offer(s) left ringing")

    # 3. Agent available -> agent rings. The moment an offer could first have been made: the
    # latest of the agent's becoming available, the caller's entering the queue and the end of
    # the previous offer of either; the offer's start (the decision) and its ring request.
    visits = {
        visit["id"]: visit
        for visit in QueueVisit.objects.filter(entered_at__gte=since).values("id", "entered_at")
    }
    identities = dict(Agent.objects.values_list("id", "identity"))
    leg_ends = defaultdict(list)
    for leg in report["calls"]:
        identity = client_identity(leg["to"])
        if identity is not None and leg["ended_at"]:
            leg_ends[identity].append(datetime.fromisoformat(leg["ended_at"]))
    intervals = defaultdict(list)
    for interval in AgentStatusInterval.objects.filter(
        started_at__gte=since - timedelta(minutes=5), status=AgentStatus.AVAILABLE
    ).values("agent_id", "started_at", "ended_at"):
        intervals[interval["agent_id"]].append(interval)
    previous_end_agent, previous_end_visit = {}, {}
    decide, ring = [], []
    for offer in sorted(offers, key=lambda offer: offer["started_at"]):
        started = offer["started_at"]
        available = max(
            (
                interval["started_at"]
                for interval in intervals[offer["agent_id"]]
                if interval["started_at"] <= started
                and (interval["ended_at"] is None or interval["ended_at"] >= started)
            ),
            default=None,
        )
        if available is not None:
            available = became_available(available, leg_ends[identities.get(offer["agent_id"], "")])
        candidates = [
            moment
            for moment in (
                available,
                visits.get(offer["visit_id"], {}).get("entered_at"),
                previous_end_agent.get(offer["agent_id"]),
                previous_end_visit.get(offer["visit_id"]),
            )
            if moment is not None
        ]
        if candidates:
            ready = max(candidates)
            decide.append(max(0.0, (started - ready).total_seconds()))
            if offer["rang_at"] is not None:
                ring.append(max(0.0, (offer["rang_at"] - ready).total_seconds()))
        if offer["ended_at"] is not None:
            previous_end_agent[offer["agent_id"]] = offer["ended_at"]
            previous_end_visit[offer["visit_id"]] = offer["ended_at"]
    for name, values in (("ready -> offer", decide), ("ready -> ring request", ring)):
        out.figures[f"{name} p50/p99/max (s)"] = tuple(
            round(value, 3)
            for value in (_percentile(values, 0.5), _percentile(values, 0.99), max(values or [0]))
        )
    # The invariant is the ACD's own decision; the ring request adds the worker picking the
    # task up and the calls-per-second pacer, shown beside it as a target.
    decide_p99, ring_p99 = _percentile(decide, 0.99), _percentile(ring, 0.99)
    out.check(
        decide_p99 < ring_p99_limit,
        f"agent available -> offer p99 {decide_p99:.3f} s (limit {ring_p99_limit} s)",
    )
    out.figures["ring request p99 under the limit too"] = ring_p99 < ring_p99_limit

    # 4. Reports (the real report functions, through the replica when one is configured) equal
    # the local Twilio's ground truth.
    truth_sids = {visit["call_sid"] for visit in report["visits"] if visit["queue"] == QUEUE}
    # The agent accepted while the caller still waited, and the caller hung up before the
    # bridge took them out of the queue: Twilio says the caller hung up in the queue. The app
    # counts that an abandon too (the visit's answer is undone), so none is expected here; a
    # visit still answered with result hangup would be named apart.
    raced = [
        (sid, identity)
        for sid, identity in QueueVisit.objects.filter(
            call__sid__in=truth_sids, answered_at__isnull=False, result="hangup"
        ).values_list("call__sid", "agent_identity")
    ]
    # The agent leg each answered caller was taken to, as the app recorded it (push routing:
    # the ring's CallSid); the ground truth says whose softphone that leg rang.
    agent_legs = dict(
        QueueVisit.objects.filter(call__sid__in=truth_sids, answered_at__isnull=False)
        .exclude(agent_call_sid="")
        .values_list("call__sid", "agent_call_sid")
    )
    truth = ground_truth(report, raced=raced, agent_legs=agent_legs)
    out.figures["ground truth queue results"] = dict(truth.results)
    out.figures["accepted, caller hung up before the bridge"] = len(truth.raced)
    out.figures["taken out of the queue, hung up by the drain before the conference"] = len(
        truth.cut_off
    )
    out.figures["taken out of the queue, join request failed (node killed), fell back"] = len(
        truth.join_failed
    )
    today = timezone.localdate()
    date_range = metrics.DateRange(start=today - timedelta(days=1), end=today)
    queues = list(Queue.objects.filter(slug=QUEUE))
    alias = REPORTS_ALIAS if replica_configured() else "default"
    with CaptureQueriesContext(connections[alias]) as read, reading_from_replica():
        rows = metrics.queue_report(date_range=date_range, interval="total", queues=queues)
        agent_rows = metrics.agent_report(date_range=date_range, now=timezone.now())
    out.figures["report queries on alias"] = (alias, len(read.captured_queries))
    out.check(len(read.captured_queries) > 0, f"the reports read nothing through {alias!r}")
    row = rows[0]
    got = {name: row[name] for name in truth.queue}  # short abandons are among the abandoned
    out.figures["queue report (offered/answered/abandoned/rejected)"] = tuple(got.values())
    out.check(got == truth.queue, f"queue report {got} != ground truth {truth.queue}")
    answered_by = truth.answered_by
    rings = Counter(
        leg["to"][len("client:") :]
        for leg in report["calls"]
        if leg["to"].startswith(f"client:{AGENT_PREFIX}")
    )
    # The rings the app asked Twilio for: offers with their agent's leg. An offer withdrawn
    # while calls.create ran keeps the leg but no rang_at (its ring is cancelled at once):
    # Twilio placed it all the same.
    rung = Counter(
        Offer.objects.filter(started_at__gte=since)
        .exclude(rang_at__isnull=True, agent_call_sid="")
        .values_list("agent__identity", flat=True)
    )
    mismatched = [
        f"{row['agent']}: answered {row['answered']} vs {answered_by.get(row['agent'], 0)}"
        for row in agent_rows
        if row["agent"].startswith(AGENT_PREFIX)
        and row["answered"] != answered_by.get(row["agent"], 0)
    ]
    mismatched += [
        f"{identity}: rang {rung.get(identity, 0)} times vs {rings.get(identity, 0)} at Twilio"
        for identity in sorted(set(rung) | set(rings))
        if rung.get(identity, 0) != rings.get(identity, 0)
    ]
    out.figures["agents whose answered calls or rings differ from the ground truth"] = len(
        mismatched
    )
    out.check(not mismatched, "agent report != ground truth: " + "; ".join(mismatched[:5]))

    # A task a killed worker had claimed is handed back to another worker once the lease is over
    # (TASK_LEASE_SECONDS, routing/leases.py); one still running here was not (or the run ended
    # less than the lease plus the reclaim period after the kill).
    # A live worker may be running a task at this very moment (the periodic sweep): it ends in
    # milliseconds, where a killed worker's task stays RUNNING; so only a task still running
    # two seconds later counts.
    running_ids = set(DBTaskResult.objects.filter(status="RUNNING").values_list("id", flat=True))
    if running_ids:
        time.sleep(2)
        running_ids = set(
            DBTaskResult.objects.filter(status="RUNNING", id__in=running_ids).values_list(
                "id", flat=True
            )
        )
    running = Counter(
        DBTaskResult.objects.filter(id__in=running_ids).values_list("task_path", flat=True)
    )
    out.figures["tasks left running (claimed by a killed worker)"] = dict(running)
    out.check(not running, f"tasks never finished: {dict(running)}")

    # 5. No caller and no webhook lost.
    inbound = [leg["sid"] for leg in report["calls"] if leg["direction"] == "inbound"]
    stored_calls = set(Call.objects.filter(sid__in=inbound).values_list("sid", flat=True))
    lost_callers = [sid for sid in inbound if sid not in stored_calls]
    visit_sids = set(
        QueueVisit.objects.filter(call__sid__in=truth_sids).values_list("call__sid", flat=True)
    )
    lost_visits = truth_sids - visit_sids
    out.figures["callers placed / stored"] = (len(inbound), len(stored_calls))
    out.check(not lost_callers, f"{len(lost_callers)} caller(s) with no call row")
    out.check(not lost_visits, f"{len(lost_visits)} queue visit(s) missing")
    answered = Counter()
    failed = Counter()
    for sid, _method, url, status in report["requests"]:
        key = (sid, urlsplit(url).path)
        if key[1] == FALLBACK_PATH:
            # Answers with the database down, so it stores nothing (docs/deploy.md).
            out.figures["fallback requests"] = out.figures.get("fallback requests", 0) + 1
        elif status is not None and 200 <= status < 300:
            answered[key] += 1
        else:
            failed[str(status)] += 1
    stored = Counter(
        (sid, path)
        for sid, path in WebhookEvent.objects.filter(received_at__gte=since).values_list(
            "call_sid", "path"
        )
    )
    lost = sum(max(0, count - stored.get(key, 0)) for key, count in answered.items())
    by_path = Counter(
        re.sub(r"/\d+", "/<n>", urlsplit(url).path) for _sid, _m, url, _s in report["requests"]
    )
    callers = max(1, len(inbound))
    out.figures["webhook requests per caller"] = round(len(report["requests"]) / callers, 2)
    out.figures["per caller, by path"] = {
        path: round(count / callers, 2) for path, count in by_path.most_common()
    }
    out.figures["webhook requests 2xx / not 2xx"] = (sum(answered.values()), dict(failed))
    out.figures["webhook requests answered 2xx but not stored"] = lost
    out.check(lost == 0, f"{lost} webhook request(s) answered 2xx but not stored")
    out.figures["local Twilio lateness p50/p99/max (s), samples"] = (
        *(round(report["lateness"][key], 3) for key in ("p50", "p99", "max")),
        report["lateness"]["samples"],
    )
    out.figures["emulator errors (Twilio codes)"] = dict(
        Counter(int(error["code"]) for error in report["errors"])
    )
    return out


def format_outcome(outcome: Outcome) -> str:
    lines = [f"  {name}: {value}" for name, value in outcome.figures.items()]
    lines.append("invariants: " + ("ALL HOLD" if not outcome.failures else "FAILED"))
    lines += [f"  FAILED: {failure}" for failure in outcome.failures]
    return "\n".join(lines)


# --- the machines: processes on this one -------------------------------------------------------


def run_as_postgres(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, **kwargs)


def ensure_debian_package(package: str, binary: str) -> str:
    """The binary's path; installs the package (as root, apt-get) when it is missing."""
    found = shutil.which(binary) or next(
        (path for path in (f"/usr/sbin/{binary}", f"/usr/bin/{binary}") if os.path.exists(path)),
        None,
    )
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(f"{binary} is missing: apt-get install {package} (as root)")
    print(f"installing {package} …", flush=True)
    policy = Path("/usr/sbin/policy-rc.d")  # no service may start during the install
    own_policy = not policy.exists()
    if own_policy:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", package],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            stdout=subprocess.DEVNULL,
        )
    finally:
        if own_policy:
            policy.unlink()
    return ensure_debian_package(package, binary)


def pg_bin(name: str) -> str:
    import psycopg

    with psycopg.connect(f"{PRIMARY}/postgres") as connection:
        version = connection.execute("SHOW server_version_num").fetchone()[0]
    path = Path(f"/usr/lib/postgresql/{int(version) // 10000}/bin/{name}")
    return str(path) if path.exists() else (shutil.which(name) or name)


class Stack:
    """Every process this run starts, stopped (and the replica's files removed) at the end."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.processes: dict[str, subprocess.Popen] = {}
        self.replica_dir: Path | None = None

    def start(self, name: str, command: list[str], env: dict, **kwargs) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed with all its children
            **kwargs,
        )
        self.processes[name] = process
        return process

    def cpu_seconds(self, name: str) -> float | None:
        """CPU time (user + system) the process has used so far, from /proc (Linux)."""
        try:
            fields = Path(f"/proc/{self.processes[name].pid}/stat").read_text().rsplit(")", 1)[1]
        except (OSError, KeyError):
            return None
        utime, stime = (int(value) for value in fields.split()[11:13])
        return (utime + stime) / os.sysconf("SC_CLK_TCK")

    def kill(self, name: str) -> None:
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for _name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        if self.replica_dir is not None and (self.replica_dir / "PG_VERSION").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                run_as_postgres(
                    [pg_bin("pg_ctl"), "-D", str(self.replica_dir), "-m", "fast", "stop"],
                    stdout=subprocess.DEVNULL,
                )
        if self.replica_dir is not None:
            drop_slot()

    def wait_http(self, name: str, url: str, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                log = (self.workdir / f"{name}.log").read_text(errors="replace")[-2000:]
                raise SystemExit(f"{name} exited:\n{log}")
            try:
                with OPENER.open(url, timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"{name} did not answer {url}")


def ensure_replication_allowed() -> None:
    """The primary must accept a replication connection from 127.0.0.1 without a password:
    pg_hba.conf needs `host replication all 127.0.0.1/32 trust` (added, and the configuration
    reloaded, when missing: it opens nothing beyond what `host all all 127.0.0.1/32 trust`
    already does for this machine)."""
    import psycopg

    with psycopg.connect(f"{PRIMARY}/postgres", autocommit=True) as connection:
        hba = Path(connection.execute("SHOW hba_file").fetchone()[0])
        rules = connection.execute(
            "SELECT count(*) FROM pg_hba_file_rules WHERE 'replication' = ANY(database)"
            " AND type = 'host' AND address = '127.0.0.1' AND auth_method = 'trust'"
        ).fetchone()[0]
        if rules:
            return
        print(f"adding 'host replication all 127.0.0.1/32 trust' to {hba}", flush=True)
        with hba.open("a") as file:
            file.write("\n# benchmarks/multinode.py: a streaming replica on this machine\n")
            file.write("host replication all 127.0.0.1/32 trust\n")
        connection.execute("SELECT pg_reload_conf()")


def drop_slot() -> None:
    """The replica's replication slot keeps WAL on the primary for as long as it exists: it goes
    with the replica (and a slot left by an interrupted run is dropped before a new one)."""
    import psycopg

    with psycopg.connect(f"{PRIMARY}/postgres", autocommit=True) as connection:
        connection.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            " WHERE slot_name = %s AND NOT active",
            [SLOT],
        )


def start_replica(stack: Stack) -> None:
    ensure_replication_allowed()
    drop_slot()
    replica = stack.workdir / "replica"
    stack.replica_dir = replica
    replica.mkdir(mode=0o700)
    if os.geteuid() == 0:
        shutil.chown(replica, "postgres", "postgres")
        shutil.chown(stack.workdir, "postgres", "postgres")
    print("pg_basebackup of the primary (the whole cluster) …", flush=True)
    run_as_postgres(
        [
            pg_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", "5432", "-U", "postgres",
            "-D", str(replica), "-X", "stream", "-R", "-c", "fast", "-C", "-S", SLOT,
        ]
    )  # fmt: skip
    # Debian keeps the configuration outside the data directory: the replica gets its own.
    # (Its first start syncs the whole copy to disk; on a busy machine that takes over the
    # minute pg_ctl waits by default, hence -t below.)
    for name, text in (
        (
            "postgresql.conf",
            f"listen_addresses = '127.0.0.1'\nport = {REPLICA_PORT}\n"
            f"unix_socket_directories = '{replica}'\nhot_standby = on\n",
        ),
        ("pg_hba.conf", "local all all trust\nhost all all 127.0.0.1/32 trust\n"),
        ("pg_ident.conf", ""),
    ):
        (replica / name).write_text(text)
        if os.geteuid() == 0:
            shutil.chown(replica / name, "postgres", "postgres")
    try:
        run_as_postgres(
            [pg_bin("pg_ctl"), "-D", str(replica), "-l", str(stack.workdir / "replica.log"),
             "-w", "-t", "300", "start"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
    except subprocess.CalledProcessError:
        raise SystemExit(
            "the replica did not open for reads within 5 minutes. A hot standby opens once it "
            "can take a snapshot of the primary's running transactions, for instance not while "
            "one of them has more than 64 subtransactions (savepoints); see its log, and the "
            "primary's oldest open transactions: "
            f"{oldest_transactions()}"
        ) from None


def oldest_transactions() -> list[tuple]:
    import psycopg

    with psycopg.connect(f"{PRIMARY}/postgres", autocommit=True) as primary:
        return primary.execute(
            "SELECT datname, pid, state, now() - xact_start FROM pg_stat_activity"
            " WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid()"
            " ORDER BY xact_start LIMIT 3"
        ).fetchall()


def replica_caught_up(seconds: float = 60) -> float:
    """Wait until the replica has replayed everything the primary had written; the wait."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(f"{PRIMARY}/postgres", autocommit=True) as primary:
        target = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    with psycopg.connect(
        f"postgres://postgres@127.0.0.1:{REPLICA_PORT}/postgres", autocommit=True
    ) as replica:
        while time.monotonic() - started < seconds:
            done = replica.execute(
                "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s) >= 0", [target]
            ).fetchone()[0]
            if done:
                return time.monotonic() - started
            time.sleep(0.1)
    raise SystemExit("the replica did not catch up within a minute")


def start_pgbouncer(stack: Stack) -> None:
    binary = ensure_debian_package("pgbouncer", "pgbouncer")
    folder = stack.workdir / "pgbouncer"
    folder.mkdir()
    (folder / "userlist.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(
        f"[databases]\n{DATABASE} = host=127.0.0.1 port=5432 dbname={DATABASE}\n\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {PGBOUNCER_PORT}\n"
        f"unix_socket_dir = {folder}\n"
        f"auth_type = trust\nauth_file = {folder / 'userlist.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 24\nmax_client_conn = 400\n"
        "server_reset_query =\n"
    )
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        for path in (folder, *folder.iterdir()):
            shutil.chown(path, "postgres", "postgres")
        command = ["runuser", "-u", "postgres", "--", binary, str(folder / "pgbouncer.ini")]
    else:
        command = [binary, str(folder / "pgbouncer.ini")]
    stack.start("pgbouncer", command, dict(os.environ))
    deadline = time.monotonic() + 20
    import psycopg

    while True:
        try:
            with psycopg.connect(
                f"postgres://postgres@127.0.0.1:{PGBOUNCER_PORT}/{DATABASE}",
                prepare_threshold=None,
                connect_timeout=2,
            ):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise SystemExit("PgBouncer did not accept a connection") from None
            time.sleep(0.3)


def start_nginx(stack: Stack, nodes: list[int]) -> None:
    folder = stack.workdir / "nginx"
    folder.mkdir()
    folder.chmod(0o755)
    upstream = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in nodes
    )
    http = f"""    upstream app {{
{upstream}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{PORTS["nginx"]};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            # As docs/deploy.md, *Several app nodes*: a request a node took and never
            # answered (killed mid-request) goes to the other node, POST included.
            proxy_next_upstream error timeout non_idempotent;
            proxy_next_upstream_tries 2;
            proxy_next_upstream_timeout 5s;
            proxy_connect_timeout 2s;
            proxy_read_timeout 15s;
        }}
    }}
"""
    (folder / "nginx.conf").write_text(nginx_conf(folder, http, connections=2048))
    binary = ensure_debian_package("nginx", "nginx")
    stack.start(
        "nginx",
        [binary, "-c", str(folder / "nginx.conf"), "-p", str(folder), "-g", "daemon off;"],
        dict(os.environ),
    )


def app_environment(args, *, single: bool) -> dict:
    secrets_env = {
        "TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
        "TWILIO_API_KEY_SID": "SK" + secrets.token_hex(16),
        "TWILIO_API_KEY_SECRET": secrets.token_hex(16),
        "TWILIO_TWIML_APP_SID": "AP" + secrets.token_hex(16),
    }
    public = f"http://127.0.0.1:{PORTS['node1'] if single else PORTS['nginx']}"
    env = {
        **os.environ,
        **secrets_env,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "False",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "TWILIO_API_URL": f"http://127.0.0.1:{PORTS['twilio']}",
        "TWILIO_REST_CALLS_PER_SECOND": str(args.cps),
        "PUBLIC_URL": public,
        "CONN_MAX_AGE": "60",
    }
    if single:
        env["DATABASE_URL"] = f"{PRIMARY}/{DATABASE}"
        env.pop("REPORTS_DATABASE_URL", None)
        env.pop("DATABASE_POOLER", None)
    else:
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{PGBOUNCER_PORT}/{DATABASE}"
        env["DATABASE_POOLER"] = "pgbouncer-transaction"
        env["REPORTS_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{REPLICA_PORT}/{DATABASE}"
    return env


def drop_database() -> None:
    import psycopg

    with psycopg.connect(f"{PRIMARY}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{PRIMARY}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
        # Behind PgBouncer the app sends no startup options: the timeout is the database's.
        connection.execute(f"ALTER DATABASE \"{DATABASE}\" SET statement_timeout = '8s'")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=20.0, help="callers per second (20)")
    parser.add_argument("--minutes", type=float, default=10.0, help="of arrivals (10)")
    parser.add_argument("--agents", type=int, default=200, help="agents answering (200)")
    parser.add_argument("--talk", type=float, default=0.0, help="talk seconds (Little's law)")
    parser.add_argument("--abandon", type=float, default=0.1, help="share who give up (0.1)")
    parser.add_argument("--quick", action="store_true", help="1 minute, 2 calls/s, 40 agents")
    parser.add_argument("--single", action="store_true", help="one node: no replica/PgBouncer")
    parser.add_argument("--kill", action="store_true", help="SIGKILL a node and a worker")
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn workers per node")
    parser.add_argument("--workers", type=int, default=1, help="workers per node (1)")
    parser.add_argument(
        "--worker-threads", type=int, default=1, help="tasks each worker runs at once (1)"
    )
    parser.add_argument("--cps", type=float, default=100.0, help="REST calls per second")
    parser.add_argument(
        "--http-threads", type=int, default=32, help="the local Twilio's webhook threads (32)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.rate, args.minutes, args.agents = min(args.rate, 2.0), 1.0, min(args.agents, 40)
    plan = Plan(
        rate=args.rate,
        seconds=args.minutes * 60,
        agents=args.agents,
        talk_seconds=args.talk,
        abandon_share=args.abandon,
        seed=args.seed,
    )
    single = args.single
    env = app_environment(args, single=single)
    workdir = Path(tempfile.mkdtemp(prefix="tsunagu-multinode-"))
    workdir.chmod(0o755)
    stack = Stack(workdir)
    print(f"load average before: {os.getloadavg()}; logs in {workdir}", flush=True)
    killing = ", killing a worker half-way" if single else ", killing a node and a worker half-way"
    print(
        f"plan: {plan.rate:g} calls/s for {plan.seconds:g} s, {plan.agents} agents, ring "
        f"{plan.answer_after:g} s, talk {plan.talk_time():g} s (agents ~{plan.occupancy():.0%} "
        f"busy), {plan.abandon_share:.0%} give up;"
        f" {'one node' if single else 'two nodes + replica + PgBouncer'}"
        f"{killing if args.kill else ''}",
        flush=True,
    )
    recreate_database()
    # This process: migrations and checks straight on the primary; reports through the replica.
    os.environ.update({key: env[key] for key in env if key.startswith("TWILIO_")})
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "False",
            "SECRET_KEY": env["SECRET_KEY"],
            "DATABASE_URL": f"{PRIMARY}/{DATABASE}",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("DATABASE_POOLER", None)
    if single:
        os.environ.pop("REPORTS_DATABASE_URL", None)
    else:
        os.environ["REPORTS_DATABASE_URL"] = env["REPORTS_DATABASE_URL"]
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    outcome = None
    try:
        call_command("migrate", verbosity=0)
        call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        agents = prepare_agents(plan.agents)
        connections.close_all()
        if not single:
            start_replica(stack)
            start_pgbouncer(stack)
        nodes = [PORTS["node1"]] if single else [PORTS["node1"], PORTS["node2"]]
        for n, port in enumerate(nodes, 1):
            stack.start(
                f"node{n}",
                [
                    sys.executable, "-m", "gunicorn", "config.wsgi", "--workers",
                    str(args.web_workers), "--bind", f"127.0.0.1:{port}",
                ],
                env,
            )  # fmt: skip
        worker = [sys.executable, "manage.py", "worker", "--threads", str(args.worker_threads)]
        for n in range(1, args.workers * len(nodes) + 1):
            stack.start(f"worker{n}", worker, env)
        app_url = f"http://127.0.0.1:{nodes[0]}" if single else f"http://127.0.0.1:{PORTS['nginx']}"
        if not single:
            start_nginx(stack, nodes)
        stack.start(
            "twilio",
            [
                sys.executable, "manage.py", "twilio_emulator", "--port", str(PORTS["twilio"]),
                "--app", app_url, "--number", NUMBER, "--cps", str(args.cps),
                "--http-threads", str(args.http_threads),
            ],
            env,
        )  # fmt: skip
        twilio_url = f"http://127.0.0.1:{PORTS['twilio']}"
        for n in range(1, len(nodes) + 1):
            stack.wait_http(f"node{n}", f"http://127.0.0.1:{nodes[n - 1]}/healthz")
        if not single:
            stack.wait_http("nginx", f"{app_url}/healthz")
        stack.wait_http("twilio", f"{twilio_url}/emulator/numbers")
        since = datetime.now(UTC) - timedelta(seconds=1)
        register_devices(twilio_url, agents, plan)
        heartbeat = DeskHeartbeat(agents)
        heartbeat.start()
        killed = []

        def kill_half_way():
            if not single:
                stack.kill("node2")
                killed.append("node2")
            stack.kill("worker1")
            killed.append("worker1")
            print(f"killed (SIGKILL): {', '.join(killed)}", flush=True)
            if single:
                # The only worker is gone: another starts at once, as a supervisor
                # (systemd's Restart=always) would start it.
                stack.start("worker1b", worker, env)

        print("load running …", flush=True)
        load_started = time.monotonic()
        placed = drive_arrivals(twilio_url, plan, on_half=kill_half_way if args.kill else None)
        arrivals_took = time.monotonic() - load_started
        print(f"{len(placed)} callers placed in {arrivals_took:.0f} s; draining …", flush=True)
        report = drain(twilio_url, seconds=max(120, plan.seconds / 2))
        twilio_cpu = stack.cpu_seconds("twilio")
        heartbeat.stopping.set()
        wait_until_settled()
        load_after = os.getloadavg()
        lag = None if single else replica_caught_up()
        outcome = check_invariants(report, since=since)
        outcome.figures = {
            "callers placed": len(placed),
            "arrivals took (s)": round(arrivals_took, 1),
            "replica caught up after (s)": None if lag is None else round(lag, 3),
            "killed": killed,
            "load average after": load_after,
            "requests the app had not answered at the check": report.get("pending_requests"),
            "local Twilio CPU (s), per request sent to the app (ms)": (
                None if twilio_cpu is None else round(twilio_cpu, 1),
                None
                if twilio_cpu is None
                else round(1000 * twilio_cpu / max(1, len(report["requests"])), 2),
            ),
            **outcome.figures,
        }
    finally:
        stack.stop_all()
        connections.close_all()
        if not args.keep:
            drop_database()
        if stack.replica_dir is not None:
            shutil.rmtree(stack.replica_dir, ignore_errors=True)
    if outcome is None:
        return 1
    print(format_outcome(outcome))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"figures": outcome.figures, "failures": outcome.failures}, indent=2, default=str
            )
        )
    return 0 if not outcome.failures else 1


if __name__ == "__main__":
    sys.exit(main())
