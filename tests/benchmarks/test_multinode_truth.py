"""The routing-at-load benchmark's ground truth (benchmarks/multinode.py, ``ground_truth``): what
the queue and agent reports must say, from the local Twilio's load report; and when an agent
became available (``became_available``). Pure: no server."""

from datetime import UTC, datetime, timedelta

from benchmarks import multinode
from benchmarks.multinode import QUEUE, ground_truth

NUMBER = "+815012345678"


def _visit(sid: str, result: str, queue: str = QUEUE) -> dict:
    return {"call_sid": sid, "queue": queue, "result": result}


def _caller(sid: str) -> dict:
    return {"sid": sid, "direction": "inbound", "to": NUMBER}


def _agent_leg(sid: str, identity: str) -> dict:
    return {"sid": sid, "direction": "outbound-api", "to": f"client:{identity}"}


def _request(sid: str, path: str, status: int | None) -> list:
    return [sid, "POST", f"http://127.0.0.1:8700{path}", status]


def _report(*, hung_up_by_drain=("CAcut",), cut_joined_alone=False, requests=()) -> dict:
    conferences = [
        # The caller met the agent: counted for the agent by the conference alone.
        {"friendly_name": "visit-1", "started": True, "joined": ["CAagent1", "CAmet"]},
        # The agent waited alone for a caller who never came.
        {"friendly_name": "visit-4", "started": False, "joined": ["CAagent2"]},
    ]
    if cut_joined_alone:
        # The caller came after the agent had left: a new conference of the same name.
        conferences.append({"friendly_name": "visit-4", "started": False, "joined": ["CAcut"]})
    return {
        "visits": [
            _visit("CAmet", "redirected"),
            _visit("CAfull", "queue-full"),
            _visit("CAgaveup", "hangup"),
            _visit("CAcut", "redirected"),
            _visit("CAraced", "hangup"),
            _visit("CAsales", "queue-full", queue="sales"),
        ],
        "calls": [
            *(_caller(sid) for sid in ("CAmet", "CAfull", "CAgaveup", "CAcut", "CAraced")),
            _caller("CAsales"),
            _agent_leg("CAagent1", "mn-agent1"),
            _agent_leg("CAagent2", "mn-agent2"),
            _agent_leg("CAagent3", "mn-agent3"),
        ],
        "conferences": conferences,
        "hung_up_by_drain": list(hung_up_by_drain),
        "requests": list(requests),
    }


AGENT_LEGS = {"CAmet": "CAagent1", "CAcut": "CAagent2", "CAraced": "CAagent3"}
RACED = [("CAraced", "mn-agent3")]


def test_a_caller_refused_by_a_full_queue_is_rejected_not_offered():
    truth = ground_truth(_report(), raced=RACED, agent_legs=AGENT_LEGS)

    # Five visits of the queue (the other queue's aside), one refused: four offered.
    assert truth.results["queue-full"] == 1
    assert truth.queue == {"offered": 4, "answered": 3, "abandoned": 1, "rejected": 1}


def test_a_caller_the_drain_hung_up_between_the_queue_and_the_conference_was_answered():
    truth = ground_truth(_report(), raced=RACED, agent_legs=AGENT_LEGS)

    # Twilio says redirected (answered, in the queue report too); the agent who accepted sat
    # alone in the conference: it counts for them, named apart.
    assert truth.cut_off == [("CAcut", "mn-agent2")]
    assert truth.raced == RACED
    assert truth.answered_by == {"mn-agent1": 1, "mn-agent2": 1, "mn-agent3": 1}


def test_only_the_drain_cuts_a_caller_off():
    # The same caller gone before the conference for another reason is not explained away.
    truth = ground_truth(_report(hung_up_by_drain=()), raced=RACED, agent_legs=AGENT_LEGS)

    assert truth.cut_off == []
    assert truth.answered_by == {"mn-agent1": 1, "mn-agent3": 1}


def test_a_caller_who_reached_a_conference_is_not_cut_off():
    truth = ground_truth(_report(cut_joined_alone=True), raced=RACED, agent_legs=AGENT_LEGS)

    assert truth.cut_off == []
    assert "mn-agent2" not in truth.answered_by


def test_a_caller_whose_join_request_failed_was_answered_by_the_agent():
    # The node serving the caller's join request was killed: nginx answered 502, Twilio fell
    # back and its apology hung the caller up; the agent sat alone in the conference.
    failed = [
        _request("CAcut", "/twilio/routing/bridges/4/join", 502),
        _request("CAcut", "/twilio/voice/fallback", 200),
    ]
    truth = ground_truth(
        _report(hung_up_by_drain=(), requests=failed), raced=RACED, agent_legs=AGENT_LEGS
    )

    assert truth.cut_off == []
    assert truth.join_failed == [("CAcut", "mn-agent2")]
    assert truth.queue["answered"] == 3
    assert truth.answered_by == {"mn-agent1": 1, "mn-agent2": 1, "mn-agent3": 1}


def test_a_join_request_that_timed_out_failed_too():
    timed_out = [_request("CAcut", "/twilio/routing/bridges/4/join", None)]
    truth = ground_truth(
        _report(hung_up_by_drain=(), requests=timed_out), raced=RACED, agent_legs=AGENT_LEGS
    )

    assert truth.join_failed == [("CAcut", "mn-agent2")]


def test_a_join_request_answered_or_another_request_failing_explains_nothing():
    requests = [
        _request("CAcut", "/twilio/routing/bridges/4/join", 200),
        _request("CAcut", "/twilio/routing/bridges/4/caller-done", 502),
        _request("CAcut", "/twilio/routing/bridges/4/conference-event", 502),
    ]
    truth = ground_truth(
        _report(hung_up_by_drain=(), requests=requests), raced=RACED, agent_legs=AGENT_LEGS
    )

    assert truth.join_failed == []
    assert "mn-agent2" not in truth.answered_by


def test_a_caller_whose_join_failed_but_who_reached_a_conference_is_not_counted_twice():
    failed = [_request("CAcut", "/twilio/routing/bridges/4/join", 502)]
    truth = ground_truth(
        _report(hung_up_by_drain=(), cut_joined_alone=True, requests=failed),
        raced=RACED,
        agent_legs=AGENT_LEGS,
    )

    assert truth.join_failed == []
    assert "mn-agent2" not in truth.answered_by


def test_the_drain_is_named_first():
    failed = [_request("CAcut", "/twilio/routing/bridges/4/join", 502)]
    truth = ground_truth(_report(requests=failed), raced=RACED, agent_legs=AGENT_LEGS)

    assert truth.cut_off == [("CAcut", "mn-agent2")]
    assert truth.join_failed == []
    assert truth.answered_by["mn-agent2"] == 1


# --- When an agent became available ----------------------------------------------------------

SECOND = datetime(2026, 11, 30, 20, 48, 13, tzinfo=UTC)


def test_an_interval_dated_by_twilios_whole_second_began_when_the_agents_leg_ended():
    ends = [SECOND - timedelta(seconds=30), SECOND + timedelta(milliseconds=870)]

    assert multinode.became_available(SECOND, ends) == SECOND + timedelta(milliseconds=870)


def test_an_interval_dated_to_the_microsecond_stands():
    start = SECOND + timedelta(microseconds=250)

    assert multinode.became_available(start, [SECOND + timedelta(milliseconds=900)]) == start


def test_without_a_leg_ending_in_that_second_the_whole_second_stands():
    ends = [SECOND - timedelta(milliseconds=1), SECOND + timedelta(seconds=1)]

    assert multinode.became_available(SECOND, ends) == SECOND
