"""An emulated stretch of a day with holds and transfers, through the local Twilio in process:
push routing to several agents (one rejects every ring, one lets a ring run out), callers who
are answered, held once or twice, transferred cold to a colleague, to another queue and to an
outside number, transferred warm (consultation completed, and cancelled), who hang up on hold
or abandon. Each scripted caller's agent acts at the desk (the real desk URLs, as the
softphone page posts them) when the caller has been so long in the agent's conference.

The queue and agent reports, read through the report API, equal what the emulator says
happened, computed here from its ground truth alone: the queue visits it emulated
(``emu.ground_truth()``), its conferences (``emu.conference_truth()``: who was in each room
from when to when, the caller's holds on its virtual clock, who left how and where a caller
moved out went next) and the calls it placed. The desk's requests are dated by the server's
clock while the emulator's clock runs ahead; hold times are the conference's hold events'
Timestamps (docs/routing.md §8), so they match. Runs on SQLite, and on PostgreSQL when
DATABASE_URL points there."""

from collections import Counter, defaultdict
from statistics import fmean

import pytest
from django.test import Client
from django.utils import timezone

from agents.models import Agent, QueueMembership
from emulator import Caller
from queues.models import Queue
from reports.metrics import RATIO_DIGITS, local_today
from tests.factories import DEMO_NUMBER

from . import test_end_to_end
from .helpers import ready_agent
from .test_end_to_end import ready, run

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu

OUTSIDE = "+81312345678"  # an outside number the softphone's rules allow (03-1234-5678)

# Per caller: patience in a queue, seconds talked in a conference (from joining it), and what
# their agent does at the desk: (seconds after the previous step, or after the caller joined
# the first conference, action, argument). "hangup" is the caller hanging up. Whoever is with
# the caller does the step: after a transfer to agent3, agent3 does the next ones.
NUMBER = {"number": "03-1234-5678"}
BILLING = {"queue": "billing"}
AGENT3 = {"agent": "agent3"}
SCRIPTS = [
    (None, 40, []),
    (None, 60, [(10, "hold", None), (15, "resume", None)]),
    (None, 80, [(12, "transfer", AGENT3), (10, "hold", None), (6, "resume", None)]),
    (None, 45, [(20, "transfer", BILLING)]),
    (None, 90, [(15, "transfer", NUMBER)]),
    (3, 40, []),  # hangs up about when an agent accepts: an abandon all the same
    (None, 80, [(8, "hold", None), (6, "resume", None), (16, "hold", None), (15, "resume", None)]),
    (
        None,
        90,
        [(10, "consult", AGENT3), (15, "consult/complete", None), (10, "transfer", NUMBER)],
    ),
    (None, 90, [(10, "hold", None), (8, "hangup", None)]),
    (None, 50, [(5, "hold", None), (7, "resume", None), (8, "transfer", BILLING)]),
    (12, 40, []),
    (None, 40, []),
    (None, 70, [(10, "consult", AGENT3), (12, "consult/cancel", None)]),
    (None, 80, [(10, "hold", None), (10, "transfer", BILLING)]),
    (None, 35, [(12, "hold", None), (9, "resume", None)]),
    (None, 55, [(9, "transfer", NUMBER)]),
    (10, 40, []),
]
SPACING = 20  # seconds between callers: more than two agents' worth of calls
RUN_SECONDS = len(SCRIPTS) * SPACING + 8 * 60


class Script:
    """A caller's script, played by whichever agent is with them in their first conference."""

    def __init__(self, leg, steps):
        self.leg = leg
        self.steps = list(steps)
        self.conference = None  # the emulated conference of the first answer
        self.last = None  # virtual time of the last step done

    def due(self, emu):
        participant = self.leg.participant
        if not self.steps or self.leg.ended or participant is None:
            return None
        if self.conference is None:
            self.conference = participant.conference
            self.last = participant.joined_at
        if participant.conference is not self.conference:
            return None
        delay, action, argument = self.steps[0]
        return (action, argument) if emu.now >= self.last + delay else None


def _agent_with(conference):
    """The agent talking with the caller: the first of the softphones still in the room."""
    for participant in conference.participants.values():
        if participant.leg.to.startswith("client:"):
            return participant.leg.to.removeprefix("client:")
    return None


def _play(emu, scripts, desks):
    for script in scripts:
        due = script.due(emu)
        if due is None:
            continue
        action, argument = due
        if action == "hangup":
            emu.hangup(script.leg)
        else:
            identity = _agent_with(script.conference)
            response = desks[identity].post(f"/agent/call/{action}", argument or {})
            if response.status_code == 409:
                continue  # e.g. the colleague is on another call: the agent tries again
            assert response.status_code == 200, response.content
        script.steps.pop(0)
        script.last = emu.now


@pytest.fixture
def day(emu, django_user_model, settings):
    settings.TWILIO_CALLER_ID = DEMO_NUMBER
    support = Queue.objects.get(slug="support")
    support.callback_after_seconds = None  # no virtual hold here (test_emulated_day has them)
    support.ring_timeout_seconds = 10
    support.save()
    billing = Queue.objects.create(
        slug="billing", name="Billing", routing_mode="push", service_level_seconds=10
    )
    ready("agent1")
    ready("agent2")
    ready_agent(django_user_model, "agent3")  # a specialist: in no queue, reached by transfer
    ready_agent(django_user_model, "agent4", billing)
    ready_agent(django_user_model, "agent5", support)
    ready_agent(django_user_model, "agent6", support)
    QueueMembership.objects.get_or_create(
        agent=Agent.objects.get(identity="agent2"), queue=billing, defaults={"priority": 2}
    )
    emu.add_agent("agent1", answer_after=2, talk_seconds=None)
    emu.add_agent("agent2", answer_after=3, talk_seconds=None)
    emu.add_agent("agent3", answer_after=2, talk_seconds=None)
    emu.add_agent("agent4", answer_after=2, talk_seconds=None)
    emu.add_agent("agent5", answer_after=1, on_ring="reject")
    emu.add_agent("agent6", on_ring="ignore")  # rings out once, then is "missed"
    emu.add_callee(OUTSIDE, Caller(answer_after=3, talk_seconds=25))
    desks = {}
    for agent in Agent.objects.select_related("user"):
        desks[agent.identity] = Client()
        desks[agent.identity].force_login(agent.user)
    scripts = []
    for n, (patience, talk, steps) in enumerate(SCRIPTS):
        leg = emu.place_call(
            to=DEMO_NUMBER,
            from_=f"+81901235{n:04d}",
            at=float(n * SPACING),
            caller=Caller(digits=["1"], patience=patience, talk_seconds=talk),
        )
        scripts.append(Script(leg, steps))
    last_arrival = (len(SCRIPTS) - 1) * SPACING
    while emu.now < RUN_SECONDS:
        run(emu, 1, step=1.0)
        _play(emu, scripts, desks)
        if emu.now > last_arrival and all(leg.ended for leg in emu.calls):
            run(emu, 5)  # the last callbacks and tasks
            break
    assert not [leg for leg in emu.calls if not leg.ended], "every call ended within the run"
    return emu


# --- The ground truth, from the emulator alone -------------------------------------------------


def _answered_conferences(emu):
    """Each answer: the conference a caller joined out of a queue visit, with that visit."""
    visits = defaultdict(list)
    for row in emu.ground_truth():
        visits[row["call_sid"]].append(row)
    answers = []
    for conference in emu.conference_truth():
        people = conference["participants"]
        callers = [p for p in people if not p["party"].startswith("client:")]
        if not callers:
            continue  # an agent's room the caller never reached
        [caller] = callers
        agents = [p for p in people if p["party"].startswith("client:")]
        before = [v for v in visits[caller["call_sid"]] if v["action_at_seconds"] is not None]
        visit = max(
            (v for v in before if v["action_at_seconds"] <= caller["joined_at"]),
            key=lambda v: v["action_at_seconds"],
        )
        answers.append({"visit": visit, "caller": caller, "agents": agents})
    return answers


def _present(agents, moment):
    return [a for a in agents if a["joined_at"] <= moment and (a["left_at"] or 1e12) > moment]


def _identity(participant):
    return participant["party"].removeprefix("client:")


def _transfers(answer):
    """Who passed the caller on, and where: the caller moved out of the room by a redirect
    into a queue or a dial; or an agent taken out while a colleague who came in after them
    stays with the caller (a consultation cancelled takes the colleague out: no transfer)."""
    caller, agents = answer["caller"], answer["agents"]
    found = []
    if caller["left_how"] == "redirected" and caller["then"] is not None:
        [by, *_] = _present(agents, caller["left_at"] - 1e-6)
        found.append((_identity(by), caller["then"]))
    for leaving in agents:
        if leaving["left_how"] != "kicked":
            continue
        staying = [
            a
            for a in _present(agents, leaving["left_at"])
            if a is not leaving and a["joined_at"] > leaving["joined_at"]
        ]
        if staying and (caller["left_at"] or 1e12) > leaving["left_at"]:
            found.append((_identity(leaving), ("agent", _identity(staying[0]))))
    return found


def _hold_seconds_by_agent(answer) -> Counter:
    """Each hold of the caller belongs to the agent with them when it began."""
    held = Counter()
    for start, end in answer["caller"]["holds"]:
        [by, *_] = _present(answer["agents"], start)
        held[_identity(by)] += round(end - start)
    return held


def _handle(answer) -> int:
    talk = answer["agents"][0]["seconds"]  # DialCallDuration of the answering agent's leg
    return talk + round(answer["caller"]["hold_seconds"])  # wrap-up: none in these queues


def _mean(values):
    return round(fmean(values), RATIO_DIGITS) if values else None


def expected_queue_rows(emu, queues):
    answers = _answered_conferences(emu)
    rows = {}
    for queue in queues:
        visits = [v for v in emu.ground_truth() if v["queue"] == queue.slug]
        offered = [v for v in visits if v["result"] != "queue-full"]
        answered = [v for v in offered if v["result"] == "redirected"]  # into an agent's room
        abandoned = [v for v in offered if v["result"] == "hangup"]
        short = [v for v in abandoned if v["wait_seconds"] < queue.short_abandon_seconds]
        in_sl = [v for v in answered if v["wait_seconds"] <= queue.service_level_seconds]
        handled = [_handle(a) for a in answers if a["visit"]["queue"] == queue.slug]
        moves = [
            (answer["visit"]["queue"], where)
            for answer in answers
            for _by, where in _transfers(answer)
        ]
        rows[queue.slug] = {
            "offered": len(offered),
            "answered": len(answered),
            "abandoned": len(abandoned),
            "short_abandoned": len(short),
            "overflowed": sum(v["result"] == "leave" for v in offered),
            "rejected": len(visits) - len(offered),
            "abandon_rate": _ratio(len(abandoned) - len(short), len(offered) - len(short)),
            "asa_seconds": _mean([v["wait_seconds"] for v in answered]),
            "service_level": _ratio(len(in_sl), len(offered) - len(short)),
            "aht_seconds": _mean(handled),
            "longest_wait_seconds": max((v["wait_seconds"] for v in offered), default=None),
            "transferred_out": sum(origin == queue.slug for origin, _where in moves),
            "transferred_in": sum(where == ("enqueue", queue.slug) for _o, where in moves),
        }
    return rows


def _ratio(numerator, denominator):
    return round(numerator / denominator, RATIO_DIGITS) if denominator else None


def expected_agent_rows(emu, identities):
    answers = _answered_conferences(emu)
    rows = {}
    for identity in identities:
        mine = [a for a in answers if _identity(a["agents"][0]) == identity]
        rings = [leg for leg in emu.calls if leg.to == f"client:{identity}"]
        rows[identity] = {
            "answered": len(mine),
            "talk_seconds": sum(a["agents"][0]["seconds"] for a in mine),
            "aht_seconds": _mean([_handle(a) for a in mine]),
            "hold_seconds": sum(_hold_seconds_by_agent(a)[identity] for a in answers),
            "transfers_out": sum(by == identity for a in answers for by, _w in _transfers(a)),
            "offers": len(rings),  # every ring of the softphone: queue callers and transfers
            "missed": sum(leg.status == "no-answer" for leg in rings),
            "rejected": sum(leg.status == "busy" for leg in rings),
        }
    return rows


# --- The test ----------------------------------------------------------------------------------


def test_queue_and_agent_reports_equal_the_ground_truth_of_holds_and_transfers(
    client, analyst, day
):
    emu = day
    today = local_today(timezone.now()).isoformat()
    client.force_login(analyst)
    queues = list(Queue.objects.filter(slug__in=["support", "billing"]).order_by("slug"))

    rows = client.get(
        "/api/reports/queues/", {"start": today, "end": today, "interval": "total"}
    ).json()["rows"]
    expected = expected_queue_rows(emu, queues)
    for queue in queues:
        [row] = [r for r in rows if r["queue"] == queue.slug]
        assert {key: row[key] for key in expected[queue.slug]} == expected[queue.slug], queue.slug

    identities = ["agent1", "agent2", "agent3", "agent4", "agent5", "agent6"]
    rows = client.get("/api/reports/agents/", {"start": today, "end": today}).json()["rows"]
    by_agent = {row["agent"]: row for row in rows}
    expected_agents = expected_agent_rows(emu, identities)
    for identity in identities:
        wanted = expected_agents[identity]
        assert {key: by_agent[identity][key] for key in wanted} == wanted, identity

    # The stretch had every case it is meant to prove.
    answers = _answered_conferences(emu)
    kinds = Counter(where[0] for a in answers for _by, where in _transfers(a))
    assert kinds["enqueue"] >= 2 and kinds["dial"] >= 1 and kinds["agent"] >= 2, kinds
    holds = [len(a["caller"]["holds"]) for a in answers]
    assert holds.count(1) >= 2 and holds.count(2) >= 1, holds
    assert any(a["caller"]["left_how"] == "hangup" and a["caller"]["holds"] for a in answers)
    cancelled = [
        a
        for a in answers
        if any(p["left_how"] == "kicked" for p in a["agents"][1:]) and not _transfers(a)
    ]
    assert cancelled, "a consultation cancelled"
    support = expected["support"]
    assert support["abandoned"] > support["short_abandoned"] > 0
    assert 0 < support["service_level"] < 1
    assert expected_agents["agent3"]["hold_seconds"] and expected_agents["agent3"]["transfers_out"]
    assert expected_agents["agent5"]["rejected"] and expected_agents["agent6"]["missed"]
