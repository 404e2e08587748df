"""The screen-pop: what the agent sees about the call in hand, without a click."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from agents.models import Agent, ContactNote, Customer, Disposition
from agents.services import contact_note_create

from .conftest import AGENT_LEG, CALLER, answer_queued_caller, post_outgoing

pytestmark = pytest.mark.django_db


@pytest.fixture
def known_customer(agent):
    customer = Customer.objects.create(
        phone_number="+819011112222", name="山田 太郎", company="山田商店", email="taro@example.jp"
    )
    contact_note_create(
        agent=agent,
        now=datetime(2026, 10, 1, 3, 0, tzinfo=UTC),
        customer=customer,
        text="請求書の再送を希望",
        disposition=Disposition.objects.create(name="解決"),
    )
    return customer


def pop(client, **params):
    response = client.get(reverse("agents:current-call"), params)
    assert response.status_code == 200
    return response.json()["call"]


def test_a_known_caller_pops_up_with_queue_wait_and_past_notes(
    client, twilio, agent, queue, known_customer, django_assert_num_queries
):
    answer_queued_caller(twilio, queue, wait=42)
    client.force_login(agent.user)

    # session, user, roles, agent, visit + queue + caller leg, customer, notes + agent,
    # disposition and queue, the caller's menu path
    with django_assert_num_queries(8):
        call = pop(client, call_sid=AGENT_LEG)

    assert call["call_sid"] == CALLER
    assert call["phone_e164"] == "+819011112222"
    assert call["queue"] == {"slug": "support", "name": "サポート"}
    assert call["wait_seconds"] == 42
    assert call["customer"]["name"] == "山田 太郎"
    assert call["customer"]["company"] == "山田商店"
    notes = [(n["disposition"], n["text"]) for n in call["notes"]]
    assert notes == [("解決", "請求書の再送を希望")]


def test_a_caller_written_the_domestic_way_is_matched_in_e164(
    client, twilio, agent, queue, known_customer
):
    answer_queued_caller(twilio, queue, from_="09011112222")
    client.force_login(agent.user)

    call = pop(client, call_sid=AGENT_LEG)

    assert call["customer"]["id"] == known_customer.id


def test_an_unknown_caller_pops_up_without_a_customer(client, twilio, agent, queue):
    answer_queued_caller(twilio, queue, from_="+818099998888")
    client.force_login(agent.user)

    call = pop(client, call_sid=AGENT_LEG)

    assert call["customer"] is None
    assert call["phone_e164"] == "+818099998888"
    assert call["notes"] == []


def test_one_click_creates_the_customer_then_it_pops(client, twilio, agent, queue):
    answer_queued_caller(twilio, queue, from_="+818099998888")
    client.force_login(agent.user)

    response = client.post(
        reverse("agents:customer-new"), {"phone_number": "+818099998888", "name": "佐藤"}
    )

    assert response.status_code == 201
    assert pop(client, call_sid=AGENT_LEG)["customer"]["name"] == "佐藤"


def test_the_current_call_is_found_without_the_call_sid(client, twilio, agent, queue):
    # A pushed call reaches the browser as a leg the app may not know; the connect URL's
    # visit is the call in hand.
    answer_queued_caller(twilio, queue)
    client.force_login(agent.user)

    assert pop(client, call_sid="CA" + "f" * 32)["call_sid"] == CALLER


def test_there_is_nothing_to_pop_before_the_caller_is_bridged(client, twilio, agent, queue):
    post_outgoing(twilio, to="queue:support")
    client.force_login(agent.user)

    assert pop(client, call_sid=AGENT_LEG) is None


def test_an_outbound_call_pops_the_number_called(client, twilio, agent, settings, known_customer):
    settings.TWILIO_CALLER_ID = "+815012345678"
    post_outgoing(twilio, to="+819011112222")
    client.force_login(agent.user)

    call = pop(client, call_sid=AGENT_LEG)

    assert call["direction"] == "outbound"
    assert call["customer"]["id"] == known_customer.id
    assert call["queue"] is None


def test_an_agent_never_sees_another_agents_call(client, twilio, agent, queue, django_user_model):
    other = Agent.objects.create(user=django_user_model.objects.create_user("x"), identity="x")
    answer_queued_caller(twilio, queue, identity="x")
    client.force_login(agent.user)

    assert pop(client, call_sid=AGENT_LEG) is None
    assert other.identity == "x"


def test_the_number_the_softphone_was_told_is_used_when_the_app_knows_no_call(
    client, agent, known_customer
):
    client.force_login(agent.user)

    call = pop(client, call_sid="CA" + "e" * 32, **{"from": "+819011112222"})

    assert call["customer"]["id"] == known_customer.id
    assert call["queue"] is None


def test_notes_about_a_number_without_customer_still_show(client, twilio, agent, queue):
    ContactNote.objects.create(
        agent=agent,
        phone_number="+818099998888",
        text="無言電話",
        created_at=datetime(2026, 10, 1, tzinfo=UTC),
    )
    answer_queued_caller(twilio, queue, from_="+818099998888")
    client.force_login(agent.user)

    assert [n["text"] for n in pop(client, call_sid=AGENT_LEG)["notes"]] == ["無言電話"]
