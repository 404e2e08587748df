"""/twilio/agent/outgoing: what a softphone call may reach (docs/api.md §1), and every refusal."""

import logging

import pytest
from django.contrib.auth.models import Group

from agents.models import Agent, AgentStatus, DialPrefix
from agents.roles import AGENTS
from queues.models import Queue
from telephony.models import WebhookEvent
from tests.factories import OWN_INSERT, twiml, verbs

from .conftest import AGENT_LEG, post_outgoing

pytestmark = pytest.mark.django_db

CALLER_ID = "+815012345678"


@pytest.fixture(autouse=True)
def _caller_id(settings):
    settings.TWILIO_CALLER_ID = CALLER_ID


def assert_refused(response):
    root = twiml(response)
    assert verbs(root) == ["Say", "Say", "Hangup"]
    assert "Dial" not in {el.tag for el in root.iter()}


def test_a_member_takes_the_front_caller_of_a_queue(
    twilio, agent, queue, django_assert_num_queries
):
    # savepoint, call upsert (one statement), agent + user by identity, user's groups, queue +
    # its messages, membership, release savepoint; the webhook event (with the upsert on
    # PostgreSQL)
    with django_assert_num_queries(8 + OWN_INSERT):
        response = post_outgoing(twilio, to="queue:support")

    root = twiml(response)
    assert verbs(root) == ["Dial"]
    dial = root.find("Dial")
    assert dial.get("action") == "http://testserver/twilio/queues/support/dial-action"
    queue_el = dial.find("Queue")
    assert queue_el.text == "support"
    assert queue_el.get("url") == "http://testserver/twilio/queues/support/connect"


def test_a_queue_call_leaves_the_status_to_the_connect_url(twilio, agent):
    post_outgoing(twilio, to="queue:support")

    agent.refresh_from_db()
    assert agent.status == AgentStatus.OFFLINE


def test_an_allowed_number_is_dialled_with_the_company_caller_id(twilio, agent):
    response = post_outgoing(twilio, to="+81312345678")

    root = twiml(response)
    dial = root.find("Dial")
    assert dial.get("callerId") == CALLER_ID
    assert dial.get("action") == "http://testserver/agent/twilio/dial-action"
    assert [(el.tag, el.text) for el in dial] == [("Number", "+81312345678")]
    agent.refresh_from_db()
    assert agent.status == AgentStatus.ON_CALL
    assert agent.current_call_sid == AGENT_LEG


def test_another_agent_is_rung_in_the_browser(twilio, agent, django_user_model):
    other_user = django_user_model.objects.create_user(username="agent2")
    other_user.groups.add(Group.objects.get(name=AGENTS))
    Agent.objects.create(user=other_user, identity="agent2")

    response = post_outgoing(twilio, to="client:agent2")

    dial = twiml(response).find("Dial")
    assert [(el.tag, el.text) for el in dial] == [("Client", "agent2")]
    assert dial.get("callerId") is None


def test_a_supervisor_can_allow_another_country(twilio, agent):
    DialPrefix.objects.create(prefix="+1", description="USA and Canada")

    response = post_outgoing(twilio, to="+14155550100")

    assert twiml(response).find("Dial/Number").text == "+14155550100"


@pytest.mark.parametrize(
    "to",
    [
        "+14155550100",  # not in the default allow-list (Japan only)
        "+881612345678",  # a satellite / premium range
        "+81 3 1234 5678",  # not E.164
        "0312345678",  # domestic form is not E.164 on the wire
        "queue:nowhere",  # no such queue
        "client:nobody",  # no such agent
        "client:agt",  # oneself
        "sip:someone@example.com",
        "",
    ],
)
def test_it_refuses_destinations_outside_the_rules(twilio, agent, to, caplog):
    with caplog.at_level(logging.WARNING, logger="agents.outgoing"):
        response = post_outgoing(twilio, to=to)

    assert_refused(response)
    assert "refused softphone call" in caplog.text
    agent.refresh_from_db()
    assert agent.status == AgentStatus.OFFLINE


def test_it_refuses_a_queue_the_agent_is_not_a_member_of(twilio, agent):
    Queue.objects.create(slug="billing", name="Billing")

    assert_refused(post_outgoing(twilio, to="queue:billing"))


def test_it_refuses_a_disabled_prefix(twilio, agent):
    DialPrefix.objects.filter(prefix="+81").update(is_active=False)

    assert_refused(post_outgoing(twilio, to="+81312345678"))


def test_it_refuses_numbers_when_no_caller_id_is_set(twilio, agent, settings):
    settings.TWILIO_CALLER_ID = ""

    assert_refused(post_outgoing(twilio, to="+81312345678"))


@pytest.mark.parametrize(
    "from_",
    [
        "+819011112222",  # a phone number calling the TwiML App
        "client:nobody",  # unknown identity
        "",
    ],
)
def test_it_refuses_callers_that_are_not_agents(twilio, agent, from_):
    assert_refused(post_outgoing(twilio, to="queue:support", from_=from_))


def test_it_refuses_an_inactive_agent(twilio, agent):
    Agent.objects.filter(pk=agent.pk).update(is_active=False)

    assert_refused(post_outgoing(twilio, to="queue:support"))


def test_it_refuses_an_agent_whose_user_left_the_agents_group(twilio, agent):
    agent.user.groups.clear()

    assert_refused(post_outgoing(twilio, to="queue:support"))


def test_it_refuses_an_agent_whose_user_is_disabled(twilio, agent):
    agent.user.is_active = False
    agent.user.save(update_fields=["is_active"])

    assert_refused(post_outgoing(twilio, to="+81312345678"))


def test_a_refusal_is_stored_as_a_processed_webhook(twilio, agent):
    post_outgoing(twilio, to="+14155550100")

    event = WebhookEvent.objects.get(path="/twilio/agent/outgoing")
    assert event.outcome == WebhookEvent.Outcome.PROCESSED
    assert event.fields["To"] == "+14155550100"


def test_a_forged_request_is_rejected_before_anything_runs(twilio, agent):
    response = twilio.post(
        "/twilio/agent/outgoing",
        {"From": "client:agt", "To": "+81312345678", "CallSid": AGENT_LEG},
        signature="forged",
    )

    assert response.status_code == 403
    agent.refresh_from_db()
    assert agent.status == AgentStatus.OFFLINE
