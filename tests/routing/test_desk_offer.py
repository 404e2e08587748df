"""The desk asks which caller rings it (GET /agent/offer?call_sid=…): number, customer and VIP,
queue, wait so far, the menu path; only about its own ring."""

import pytest

from agents.models import Customer
from routing.models import Offer
from tests.factories import new_sid

from .helpers import caller_hangs_up, caller_waits, ready_agent, work

pytestmark = pytest.mark.django_db


@pytest.fixture
def ringing(twilio, rest, support, django_user_model):
    Customer.objects.create(phone_number="+819011112222", name="Sato Hanako", is_vip=True)
    agent = ready_agent(django_user_model, "agent1", support)
    caller = new_sid()
    caller_waits(twilio, support, caller, queue_time=7)
    work()
    return agent, Offer.objects.get(), caller


def test_the_ringing_agent_sees_the_caller_before_answering(client, ringing):
    agent, offer, _ = ringing
    client.force_login(agent.user)

    body = client.get("/agent/offer", {"call_sid": offer.agent_call_sid}).json()

    details = body["offer"]
    assert details["phone_number"] == "+819011112222"
    assert details["customer"]["name"] == "Sato Hanako"
    assert details["vip"] is True
    assert details["queue"] == {"slug": "support", "name": "サポート"}
    assert details["wait_seconds"] >= 7
    assert details["outcome"] == "ringing"
    assert details["auto_answer"] is False


def test_the_desk_learns_the_offer_was_withdrawn(client, twilio, ringing, support):
    agent, offer, caller = ringing
    caller_hangs_up(twilio, support, caller, queue_time=9)
    work()
    client.force_login(agent.user)

    body = client.get("/agent/offer", {"call_sid": offer.agent_call_sid}).json()

    assert body["offer"]["outcome"] == "withdrawn"


def test_another_agent_learns_nothing_about_the_ring(client, ringing, django_user_model):
    _, offer, _ = ringing
    other = ready_agent(django_user_model, "agent2")
    client.force_login(other.user)

    assert client.get("/agent/offer", {"call_sid": offer.agent_call_sid}).json() == {"offer": None}


def test_the_offer_endpoint_wants_a_logged_in_agent(client, ringing):
    assert client.get("/agent/offer", {"call_sid": "CA" + "0" * 32}).status_code == 401


def test_supervisors_see_the_offers_ringing_now_in_the_admin(sup_client, ringing):
    _, offer, _ = ringing

    response = sup_client.get("/admin/routing/offer/", {"ringing": "yes"})

    assert response.status_code == 200
    assert offer.agent_call_sid not in response.content.decode()  # the list, not the leg
    assert list(response.context["cl"].result_list) == [offer]
