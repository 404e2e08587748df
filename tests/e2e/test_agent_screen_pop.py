"""The whole demo: a caller goes through the menu into `support`, agent1 takes them from the
softphone, and the screen-pop shows the caller, the wait, the menu path and the customer."""

import pytest
from django.urls import reverse

from agents.models import Agent, AgentStatus, Customer
from telephony.models import Call
from tests.factories import emulator

pytestmark = pytest.mark.django_db


DEMO_NUMBER = "+815012345678"
CALLER_NUMBER = "+819011112222"


@pytest.fixture
def demo(demo):
    """The demo data, and the emulator with the demo number and the softphones' TwiML App."""
    return emulator(number=DEMO_NUMBER)


def screen_pop(client, agent_leg):
    client.force_login(Agent.objects.get(identity="agent1").user)
    response = client.get(reverse("agents:current-call"), {"call_sid": agent_leg})
    assert response.status_code == 200
    return response.json()["call"]


def test_the_screen_pop_shows_the_menu_path_and_the_known_customer(demo, client):
    from emulator import Caller

    Customer.objects.create(phone_number=CALLER_NUMBER, name="山田 太郎")
    call = demo.place_call(
        to=DEMO_NUMBER, from_=CALLER_NUMBER, caller=Caller(digits=["1"], talk_seconds=120), at=0
    )
    demo.agent_dial("agent1", to="queue:support", at=40)

    demo.run(until=60)

    agent_leg = Call.objects.get(from_number="client:agent1").sid
    pop = screen_pop(client, agent_leg)
    assert pop["call_sid"] == call.sid
    assert pop["queue"]["slug"] == "support"
    assert 20 <= pop["wait_seconds"] <= 40
    assert pop["customer"]["name"] == "山田 太郎"
    path = [(step["step"], step["digits"], step["outcome"]) for step in pop["ivr_path"]]
    assert ("main-menu", "1", "valid") in path
    assert path[0][0] == "main-menu"
    assert Agent.objects.get(identity="agent1").status == AgentStatus.ON_CALL

    demo.run()
    assert Agent.objects.get(identity="agent1").status == AgentStatus.AVAILABLE


def test_a_silent_unknown_caller_pops_with_the_no_input_path(demo, client):
    from emulator import Caller

    demo.place_call(
        to=DEMO_NUMBER, from_="+818099998888", caller=Caller(digits=["-"], talk_seconds=30), at=0
    )
    demo.agent_dial("agent1", to="queue:support", at=40)

    demo.run(until=60)

    pop = screen_pop(client, Call.objects.get(from_number="client:agent1").sid)
    assert pop["customer"] is None
    assert pop["phone_e164"] == "+818099998888"
    assert ("main-menu", "no-input") in [(s["step"], s["outcome"]) for s in pop["ivr_path"]]
