"""/twilio/agent/outgoing as docs/api.md §1 states it, on the seed_demo data, with the fields the
Voice SDK makes Twilio send (docs/twilio.md §6)."""

import pytest
from django.contrib.auth.models import User

from agents.models import Agent, QueueMembership
from queues.models import Queue
from tests.factories import softphone_fields, twiml, verbs

pytestmark = pytest.mark.django_db

CALLER_ID = "+815012345678"


@pytest.fixture(autouse=True)
def _caller_id(settings):
    settings.TWILIO_CALLER_ID = CALLER_ID


def outgoing(twilio, identity="agent1", *, to, **custom):
    return twilio.post("/twilio/agent/outgoing", softphone_fields(identity, to=to, **custom))


def assert_refused(response):
    root = twiml(response)
    assert verbs(root)[-1] == "Hangup"
    assert "Say" in verbs(root)
    assert not root.findall(".//Dial")


def test_queue_destination_dials_the_queue_for_a_member(twilio, demo):
    root = twiml(outgoing(twilio, to="queue:support"))

    assert verbs(root) == ["Dial"]
    (queue,) = list(root.find("Dial"))
    assert (queue.tag, queue.text) == ("Queue", "support")
    assert queue.get("url").startswith("http://testserver/")
    assert root.find("Dial").get("action").startswith("http://testserver/")


def test_queue_destination_is_refused_to_a_non_member(twilio, demo):
    Queue.objects.create(slug="sales", name="Sales")

    assert_refused(outgoing(twilio, to="queue:sales"))
    assert_refused(outgoing(twilio, to="queue:nonexistent"))


def test_a_removed_member_is_refused(twilio, demo):
    QueueMembership.objects.filter(agent__identity="agent1").delete()

    assert_refused(outgoing(twilio, to="queue:support"))


def test_an_e164_destination_dials_with_the_caller_id(twilio, demo):
    root = twiml(outgoing(twilio, to="+81312345678"))

    dial = root.find("Dial")
    assert dial.get("callerId") == CALLER_ID
    assert [(el.tag, el.text) for el in dial] == [("Number", "+81312345678")]


def test_a_client_destination_rings_that_browser(twilio, demo):
    root = twiml(outgoing(twilio, to="client:agent2"))

    dial = root.find("Dial")
    assert [(el.tag, (el.text or "").strip() or el.findtext("Identity")) for el in dial] == [
        ("Client", "agent2")
    ]


@pytest.mark.parametrize(
    "from_",
    ["+819012345678", "client:nobody", "client:supervisor", "anonymous", "", "agent1"],
)
def test_a_caller_who_is_not_an_active_agent_is_refused(twilio, demo, from_):
    fields = softphone_fields(to="queue:support")
    fields["From"] = fields["Caller"] = from_
    assert_refused(twilio.post("/twilio/agent/outgoing", fields))


def test_an_inactive_agent_is_refused(twilio, demo):
    Agent.objects.filter(identity="agent1").update(is_active=False)
    assert_refused(outgoing(twilio, to="queue:support"))
    Agent.objects.filter(identity="agent1").update(is_active=True)
    User.objects.filter(username="agent1").update(is_active=False)
    assert_refused(outgoing(twilio, to="+81312345678"))


def test_custom_parameters_of_the_sdk_do_not_disturb_the_decision(twilio, demo):
    root = twiml(outgoing(twilio, to="queue:support", CustomerId="42", Topic="請求"))

    assert root.find("Dial/Queue").text == "support"
