"""Customers for agents: search page, record page, one-click creation."""

import pytest
from django.urls import reverse

from agents.models import ContactNote, Customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(db):
    return [
        Customer.objects.create(phone_number="+819011112222", name="山田 太郎", company="山田商店"),
        Customer.objects.create(
            phone_number="+81312345678", name="Acme Support", email="help@acme.example"
        ),
    ]


def names(response):
    return [c.name for c in response.context["page"].object_list]


def test_an_agent_searches_by_name(client, agent, customers, django_assert_num_queries):
    client.force_login(agent.user)

    # session, user, roles, agent, count, the page of customers
    with django_assert_num_queries(6):
        response = client.get(reverse("agents:customers"), {"q": "山田"})

    assert response.status_code == 200
    assert names(response) == ["山田 太郎"]


def test_an_agent_searches_by_a_number_written_the_domestic_way(client, agent, customers):
    client.force_login(agent.user)

    response = client.get(reverse("agents:customers"), {"q": "03-1234-5678"})

    assert names(response) == ["Acme Support"]


def test_an_agent_searches_by_part_of_a_number(client, agent, customers):
    client.force_login(agent.user)

    assert names(client.get(reverse("agents:customers"), {"q": "1111"})) == ["山田 太郎"]


def test_the_customer_page_lists_contacts(client, agent, customers):
    ContactNote.objects.create(
        agent=agent,
        customer=customers[0],
        text="折り返し希望",
        phone_number=customers[0].phone_number,
        created_at="2026-11-01T00:00:00Z",
    )
    client.force_login(agent.user)

    response = client.get(reverse("agents:customer", args=[customers[0].pk]))

    assert response.status_code == 200
    assert "折り返し希望" in response.content.decode()


def test_creating_a_customer_stores_the_number_in_e164(client, agent):
    client.force_login(agent.user)

    response = client.post(
        reverse("agents:customer-new"), {"phone_number": "080-9999-8888", "name": "佐藤"}
    )

    assert response.status_code == 201
    assert Customer.objects.get().phone_number == "+818099998888"


def test_a_number_that_is_already_a_customer_is_refused(client, agent, customers):
    client.force_login(agent.user)

    response = client.post(reverse("agents:customer-new"), {"phone_number": "090-1111-2222"})

    assert response.status_code == 400
    assert Customer.objects.count() == 2


def test_a_non_number_is_refused(client, agent):
    client.force_login(agent.user)

    response = client.post(reverse("agents:customer-new"), {"phone_number": "hello"})

    assert response.status_code == 400
    assert not Customer.objects.exists()


@pytest.mark.parametrize("persona", ["supervisor", "analyst", "outsider"])
def test_other_personas_cannot_open_the_customer_pages(client, request, persona, customers):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(reverse("agents:customers")).status_code == 403
    assert client.get(reverse("agents:customer", args=[customers[0].pk])).status_code == 403
