"""What one hot webhook costs the database, in round trips, on SQLite and PostgreSQL alike.

A round trip is one command sent to the database: a statement, or a transaction's BEGIN or
COMMIT. These tests run outside any transaction of their own (transaction=True), as a request
does in production, so CaptureQueriesContext sees exactly what production sends: Django logs a
transaction's BEGIN and COMMIT with the statements (and a nested atomic block would show as
SAVEPOINT … RELEASE SAVEPOINT). A webhook that runs in autocommit sends neither.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents.models import Agent, AgentStatus, AgentStatusInterval
from ivr.models import CallPathEntry, Step
from ivr.services import flow_touch
from queues.models import Queue, QueueVisit
from telephony import configcache
from telephony.models import Call, CallStatusEvent, ConfigVersion, WebhookEvent
from tests.conftest import call_fields
from tests.factories import (
    AGENT_SID,
    CALLER_SID,
    incoming,
    post_connect,
    post_dial_action,
    post_exit,
    post_wait,
    twiml,
    verbs,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _config_token(db):
    """A transactional test starts from emptied tables: the token row the migration writes."""
    configcache.config_changed()


# A bridged caller's exit, and a flow step or the wait loop
# when this process does not keep what they need for the current configuration: the leg's upsert
# with the raw event, and the view's one statement. On PostgreSQL the raw event is stored by the
# upsert's own statement (a data-modifying WITH); SQLite has no such WITH, so there it is one
# INSERT more, just after the upsert.
HOT_POSTGRESQL = 2
HOT_SQLITE = 3
# Incoming, gather, no-input with their answer kept for the current configuration, and the wait
# loop with the queue kept: the call path entries go with the upsert's statement (conditioned on
# the token), the wait loop's visit is read by it. SQLite: the upsert, the event, the path
# entries or the visit read, one statement each.
KEPT_POSTGRESQL = 1
KEPT_SQLITE = 3


def hot() -> int:
    return HOT_POSTGRESQL if connection.vendor == "postgresql" else HOT_SQLITE


def kept() -> int:
    return KEPT_POSTGRESQL if connection.vendor == "postgresql" else KEPT_SQLITE


def assert_leg_and_event_first(sql):
    """The raw event and the leg come first: one statement (PostgreSQL) or two (SQLite)."""
    if connection.vendor == "postgresql":
        assert sql[0].startswith("WITH webhook_event AS (INSERT INTO telephony_webhookevent")
        assert "INSERT INTO telephony_call" in sql[0] and "ON CONFLICT" in sql[0]
        first = 1
    else:
        assert "INSERT INTO telephony_call" in sql[0] and "ON CONFLICT" in sql[0]
        assert sql[1].startswith("INSERT INTO telephony_webhookevent")
        first = 2
    assert not any("telephony_webhookevent" in statement for statement in sql[first:])


def path_of(call_sid=CALLER_SID):
    return list(
        CallPathEntry.objects.filter(call__sid=call_sid)
        .order_by("id")
        .values_list("step_name", "kind", "outcome", "digits")
    )


# Connect and the agent's dial action run in one transaction with the agent's presence
# (agents' receivers); the raw event is written by the leg's upsert statement. On PostgreSQL the
# agent's move is one statement (a data-modifying WITH: the agent locked, its open interval
# closed, a new one, its status and call); SQLite has no such statement and sends them one by
# one, and the event on its own.
POSTGRES = connection.vendor == "postgresql"
CONNECT = 5 if POSTGRES else 9
DIAL_ACTION = 6 if POSTGRES else 11
# A completed status callback still runs in a transaction (the receivers of a final status may
# write): BEGIN, the leg with the raw event and the callback's CallStatusEvent in one statement,
# COMMIT. An inbound leg routing never put in a bridge (Call.bridged) needs no bridge lookup;
# the agent's leg also reads the agent (who the dial action already freed), on PostgreSQL in
# that same statement (telephony.signals.leg_ending). SQLite: the event and the
# CallStatusEvent are one INSERT each, and the agent one SELECT.
STATUS_CALLER_COMPLETED = 3 if POSTGRES else 5
STATUS_AGENT_COMPLETED = 3 if POSTGRES else 6


def round_trips(send):
    with CaptureQueriesContext(connection) as queries:
        response = send()
    return response, [query["sql"] for query in queries.captured_queries]


def _menu():
    return Step.objects.filter(kind=Step.Kind.MENU).first()


def _in_the_queue(twilio, queue):
    """A caller through the demo flow, waiting: the process has read everything once."""
    incoming(twilio)
    post_wait(twilio, queue, queue_time=0)
    post_wait(twilio, queue, queue_time=5)


def test_an_incoming_call_costs_one_round_trip_with_the_raw_event_and_its_path(twilio, demo):
    first = incoming(twilio, call_sid="CA" + "9" * 32)  # this process renders the answer once

    response, sql = round_trips(lambda: incoming(twilio))

    assert response.status_code == 200
    assert response.content == first.content  # the answer kept, byte for byte
    assert len(sql) == kept(), "\n".join(s[:160] for s in sql)
    assert_leg_and_event_first(sql)
    assert "ivr_callpathentry" in sql[-1]
    assert not any(statement in ("BEGIN", "COMMIT") for statement in sql)  # autocommit
    event = WebhookEvent.objects.get(call_sid=CALLER_SID)
    assert (event.outcome, event.response_status, event.error) == ("processed", 200, "")
    assert event.fields["To"] == "+815012345678"
    assert path_of() == path_of("CA" + "9" * 32) == [("main-menu", "menu", "entered", "")]


def test_an_answer_kept_for_an_old_configuration_is_rendered_again(twilio, demo):
    """Another process changed the flow: the answer this process kept is for the old token.
    Its path entries, conditioned on that token, are not stored; the view renders the new flow
    and stores its own."""
    incoming(twilio, call_sid="CA" + "9" * 32)
    old = incoming(twilio, call_sid="CA" + "8" * 32)
    menu = _menu()
    with connection.cursor() as cursor:  # no model save: no signal in this process
        cursor.execute("UPDATE ivr_step SET name = %s WHERE id = %s", ["welcome", menu.pk])
        cursor.execute("UPDATE ivr_flow SET version = version + 1 WHERE id = %s", [menu.flow_id])
        cursor.execute("UPDATE telephony_configversion SET token = %s WHERE id = 1", ["c" * 32])

    response, sql = round_trips(lambda: incoming(twilio))

    assert response.status_code == 200
    assert len(sql) > kept(), "\n".join(s[:160] for s in sql)  # rendered again
    assert path_of() == [("welcome", "menu", "entered", "")]  # once, the new flow's
    assert response.content == old.content  # the document does not show the step's name
    event = WebhookEvent.objects.get(call_sid=CALLER_SID)
    assert (event.outcome, event.response_status, event.error) == ("processed", 200, "")
    # The new answer is kept in turn.
    _, sql = round_trips(lambda: incoming(twilio, call_sid="CA" + "7" * 32))
    assert len(sql) == kept()
    assert path_of("CA" + "7" * 32) == [("welcome", "menu", "entered", "")]


def test_a_menu_key_and_a_silent_menu_cost_one_round_trip(twilio, demo):
    menu = _menu()
    gather = reverse("ivr:gather", kwargs={"flow_id": menu.flow_id, "step_id": menu.id})
    no_input = reverse("ivr:no-input", kwargs={"flow_id": menu.flow_id, "step_id": menu.id})
    earlier = "CA" + "9" * 32  # an earlier caller: this process has kept the answers
    incoming(twilio, call_sid=earlier)
    twilio.post(gather, call_fields(earlier, Digits="1", CallStatus="in-progress"))
    twilio.post(no_input, call_fields(earlier, CallStatus="in-progress"))
    incoming(twilio)

    response, sql = round_trips(
        lambda: twilio.post(gather, call_fields(CALLER_SID, Digits="1", CallStatus="in-progress"))
    )
    assert response.status_code == 200
    assert "Enqueue" in verbs(twiml(response))
    assert len(sql) == kept(), "\n".join(s[:160] for s in sql)
    assert_leg_and_event_first(sql)

    response, sql = round_trips(
        lambda: twilio.post(no_input, call_fields(CALLER_SID, CallStatus="in-progress"))
    )
    assert response.status_code == 200
    assert len(sql) == kept(), "\n".join(s[:160] for s in sql)
    assert_leg_and_event_first(sql)
    assert (
        path_of()
        == path_of(earlier)
        == [
            ("main-menu", "menu", "entered", ""),
            ("main-menu", "menu", "valid", "1"),
            ("to-operator", "say", "entered", ""),
            ("support-queue", "queue", "entered", ""),
            ("main-menu", "menu", "no-input", ""),
            ("support-queue", "queue", "entered", ""),
        ]
    )


def test_a_key_no_menu_offers_is_rendered_at_each_request(twilio, demo):
    """Keys a caller chooses could be anything: only the menu's own are kept."""
    menu = _menu()
    gather = reverse("ivr:gather", kwargs={"flow_id": menu.flow_id, "step_id": menu.id})
    incoming(twilio)
    fields = call_fields(CALLER_SID, Digits="7", CallStatus="in-progress")
    first = twilio.post(gather, fields)

    response, sql = round_trips(lambda: twilio.post(gather, fields))

    assert response.content == first.content
    assert "Gather" in verbs(twiml(response))
    assert len(sql) == hot()
    assert path_of()[-2:] == [("main-menu", "menu", "invalid", "7")] * 2


def test_the_wait_loop_costs_one_round_trip(twilio, demo):
    queue = Queue.objects.get(slug="support")
    _in_the_queue(twilio, queue)

    response, sql = round_trips(lambda: post_wait(twilio, queue, queue_time=10))

    assert response.status_code == 200
    assert len(sql) == kept(), "\n".join(s[:160] for s in sql)
    assert_leg_and_event_first(sql)
    assert "queues_queuevisit" in sql[-1]  # the visit read (by the upsert on PostgreSQL)
    assert not any(statement in ("BEGIN", "COMMIT") for statement in sql)


def test_the_wait_loop_reads_the_visit_again_when_the_configuration_changed(twilio, demo):
    queue = Queue.objects.get(slug="support")
    _in_the_queue(twilio, queue)
    due = queue.announce_every_seconds
    with connection.cursor() as cursor:  # another process saved something
        cursor.execute("UPDATE telephony_configversion SET token = %s WHERE id = 1", ["d" * 32])

    response, sql = round_trips(lambda: post_wait(twilio, queue, queue_time=due, position=2))

    assert "Say" in verbs(twiml(response))  # announced: the visit read again, as it is
    assert sum(s.startswith("SELECT") and "queues_queuevisit" in s for s in sql) == 1
    assert QueueVisit.objects.get().announced_at_queue_time == due
    again = twiml(post_wait(twilio, queue, queue_time=due, position=2))
    assert "Say" not in verbs(again)


def test_an_announcement_in_the_wait_loop_is_one_compare_and_set_update(twilio, demo):
    queue = Queue.objects.get(slug="support")
    _in_the_queue(twilio, queue)
    due = queue.announce_every_seconds

    response, sql = round_trips(lambda: post_wait(twilio, queue, queue_time=due, position=2))

    assert "Say" in verbs(twiml(response))
    assert len(sql) == kept() + 1, sql
    assert QueueVisit.objects.get().announced_at_queue_time == due
    # A copy of the same request a moment later announces nothing again.
    again = twiml(post_wait(twilio, queue, queue_time=due, position=2))
    assert "Say" not in verbs(again)


def test_a_status_callback_that_ends_nothing_costs_one_round_trip(twilio, demo):
    incoming(twilio)
    fields = call_fields(CALLER_SID, CallStatus="in-progress", SequenceNumber="1")

    response, sql = round_trips(lambda: twilio.post("/twilio/voice/status", fields))

    assert response.status_code == 204
    # PostgreSQL: the leg, the raw event and the CallStatusEvent in one statement. SQLite: one
    # statement each.
    assert len(sql) == (1 if POSTGRES else 3), "\n".join(s[:160] for s in sql)
    assert_leg_and_event_first(sql)
    event = WebhookEvent.objects.get(path="/twilio/voice/status")
    assert (event.outcome, event.response_status) == ("processed", 204)
    assert Call.objects.get(sid=CALLER_SID).status == "in-progress"
    assert CallStatusEvent.objects.get().sequence_number == 1
    # A copy of it adds nothing and still answers.
    assert twilio.post("/twilio/voice/status", fields).status_code == 204
    assert CallStatusEvent.objects.count() == 1


def test_connect_dial_action_and_completed_status_callbacks_cost_a_few_round_trips(twilio, demo):
    queue = Queue.objects.get(slug="support")
    _in_the_queue(twilio, queue)
    twilio.post(
        "/twilio/agent/outgoing",
        call_fields(AGENT_SID, From="client:agent1", To="queue:support", CallStatus="ringing"),
    )

    response, sql = round_trips(lambda: post_connect(twilio, queue, queue_time=30))
    assert response.status_code == 200
    assert len(sql) == CONNECT, "\n".join(s[:160] for s in sql)
    assert Agent.objects.get(identity="agent1").status == AgentStatus.ON_CALL

    response, sql = round_trips(lambda: post_dial_action(twilio, queue, duration=60))
    assert response.status_code == 200
    assert len(sql) == DIAL_ACTION, "\n".join(s[:160] for s in sql)
    assert (QueueVisit.objects.get().talk_seconds, QueueVisit.objects.get().wrap_up_seconds) == (
        60,
        0,
    )
    assert Agent.objects.get(identity="agent1").status == AgentStatus.AVAILABLE
    intervals = AgentStatusInterval.objects.filter(agent__identity="agent1").order_by("pk")
    assert [(i.status, i.ended_at is None) for i in intervals][-2:] == [
        (AgentStatus.ON_CALL, False),
        (AgentStatus.AVAILABLE, True),
    ]

    for call_sid, expected, sequence in (
        (CALLER_SID, STATUS_CALLER_COMPLETED, "3"),
        (AGENT_SID, STATUS_AGENT_COMPLETED, "2"),
    ):
        fields = call_fields(call_sid, CallStatus="completed", SequenceNumber=sequence)
        if call_sid == AGENT_SID:
            fields.update(From="client:agent1", To="queue:support")
        response, sql = round_trips(lambda f=fields: twilio.post("/twilio/voice/status", f))
        assert response.status_code == 204
        assert len(sql) == expected, "\n".join(s[:160] for s in sql)
        assert Call.objects.get(sid=call_sid).status == "completed"


def test_a_bridged_callers_enqueue_action_costs_two_round_trips(twilio, demo):
    queue = Queue.objects.get(slug="support")
    _in_the_queue(twilio, queue)
    post_connect(twilio, queue, queue_time=30)

    response, sql = round_trips(lambda: post_exit(twilio, queue, result="bridged", queue_time=30))

    assert response.status_code == 200
    assert len(sql) == hot(), "\n".join(s[:160] for s in sql)
    assert_leg_and_event_first(sql)
    visit = QueueVisit.objects.get()
    assert (visit.result, visit.wait_seconds) == ("bridged", 30)
    assert visit.left_at is not None
    # A copy of it changes nothing and still answers.
    assert post_exit(twilio, queue, result="bridged", queue_time=30).status_code == 200
    assert QueueVisit.objects.get().left_at == visit.left_at


def test_an_abandoned_callers_enqueue_action_is_recorded_under_the_lock(twilio, demo):
    queue = Queue.objects.get(slug="support")
    _in_the_queue(twilio, queue)

    response = post_exit(twilio, queue, result="hangup", queue_time=12)

    assert response.status_code == 200
    visit = QueueVisit.objects.get()
    assert (visit.result, visit.wait_seconds) == ("hangup", 12)


# --- The configuration each process keeps ---------------------------------------------------


def test_a_saved_queue_change_is_heard_at_the_next_request(twilio, demo):
    queue = Queue.objects.get(slug="support")
    _in_the_queue(twilio, queue)
    _, sql = round_trips(lambda: post_wait(twilio, queue, queue_time=6))
    assert not any('"queues_queue"' in statement for statement in sql)  # kept in memory

    queue.hold_music_url = "https://example.com/new-hold.mp3"
    queue.save()

    root = twiml(post_wait(twilio, queue, queue_time=7))
    assert any(
        verb.tag == "Play" and verb.text == "https://example.com/new-hold.mp3" for verb in root
    )


def test_a_change_written_by_another_process_is_seen_through_the_token_alone(twilio, demo):
    """Another process shares nothing with this one but the database: it writes the change and
    a new token. This process learns of it from the token its next upsert reads."""
    queue = Queue.objects.get(slug="support")
    _in_the_queue(twilio, queue)
    with connection.cursor() as cursor:  # no model save here, so no signal in this process
        cursor.execute(
            "UPDATE queues_queue SET hold_music_url = %s WHERE id = %s",
            ["https://example.com/other-process.mp3", queue.pk],
        )
    stale = twiml(post_wait(twilio, queue, queue_time=6))
    assert not any(verb.tag == "Play" and "other-process" in verb.text for verb in stale)

    with connection.cursor() as cursor:
        cursor.execute("UPDATE telephony_configversion SET token = %s WHERE id = 1", ["b" * 32])

    fresh = twiml(post_wait(twilio, queue, queue_time=7))
    assert any(verb.tag == "Play" and "other-process" in verb.text for verb in fresh)


def test_a_flow_edit_is_rendered_at_the_next_call(twilio, demo):
    incoming(twilio, call_sid="CA" + "8" * 32)
    menu = _menu()
    menu.text = "A brand new greeting."
    menu.save()
    flow_touch(flow=menu.flow)  # what the flow admin does after saving a step

    root = twiml(incoming(twilio))

    assert "A brand new greeting." in ElementText(root)


def ElementText(root):  # noqa: N802
    return " ".join(element.text or "" for element in root.iter())


def test_without_the_token_row_nothing_is_kept(twilio, demo):
    ConfigVersion.objects.all().delete()
    configcache.clear()
    incoming(twilio, call_sid="CA" + "8" * 32)

    _, sql = round_trips(lambda: incoming(twilio))

    assert any("ivr_phonenumber" in statement for statement in sql)


def test_a_callback_offer_in_the_wait_loop_reads_the_callback_hours_from_memory(twilio, demo):
    from datetime import time

    from ivr.models import BusinessHours, OpeningRange
    from routing.models import CallbackHours

    queue = Queue.objects.get(slug="support")
    assert queue.offers_callbacks and queue.callback_after_seconds is not None
    hours = BusinessHours.objects.create(name="Always", time_zone="Asia/Tokyo")
    for weekday in range(7):
        OpeningRange.objects.create(schedule=hours, weekday=weekday, opens=time(0), closes=time(0))
    CallbackHours.objects.create(queue=queue, hours=hours)
    _in_the_queue(twilio, queue)
    due = queue.callback_after_seconds
    first = post_wait(twilio, queue, queue_time=due, position=2)  # the hours are read once
    assert "Gather" in verbs(twiml(first))
    later = due + queue.announce_every_seconds

    response, sql = round_trips(lambda: post_wait(twilio, queue, queue_time=later, position=2))

    assert "Gather" in verbs(twiml(response))  # the callback offer
    assert len(sql) == kept() + 1, "\n".join(s[:160] for s in sql)
