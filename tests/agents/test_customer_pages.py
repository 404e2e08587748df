"""Agents create a customer and write a contact note from the customers pages, outside a call;
errors are shown next to the field."""

import pytest
from django.urls import reverse

from agents.models import ContactNote, Customer, Disposition

pytestmark = pytest.mark.django_db


def test_an_agent_creates_a_customer_with_a_number_written_the_domestic_way(client, agent):
    client.force_login(agent.user)

    response = client.post(
        reverse("agents:customer-add"),
        {"phone_number": "090-1234-5678", "name": "山田 花子", "company": "", "email": ""},
    )

    customer = Customer.objects.get()
    assert customer.phone_number == "+819012345678"
    assert response.status_code == 302
    assert response["Location"] == reverse("agents:customer", args=[customer.pk])


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"phone_number": "090-12"}, "phone_number"),
        ({"phone_number": "090-1234-5678", "email": "not-an-email"}, "email"),
    ],
)
def test_a_wrong_value_is_refused_next_to_its_field(client, agent, fields, field):
    client.force_login(agent.user)

    response = client.post(reverse("agents:customer-add"), fields)

    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert f'id="id_{field}-errors"' in response.content.decode()
    assert not Customer.objects.exists()


def test_a_number_that_already_has_a_customer_is_refused_at_the_number(client, agent):
    Customer.objects.create(phone_number="+819012345678", name="First")
    client.force_login(agent.user)

    response = client.post(reverse("agents:customer-add"), {"phone_number": "09012345678"})

    assert "already exists" in str(response.context["form"].errors["phone_number"])
    assert Customer.objects.count() == 1


def test_the_customers_page_links_to_a_new_customer_with_the_number_searched(client, agent):
    client.force_login(agent.user)

    html = client.get(reverse("agents:customers"), {"q": "0312345678"}).content.decode()
    form = client.get(reverse("agents:customer-add"), {"number": "0312345678"})

    assert reverse("agents:customer-add") + "?number=0312345678" in html
    assert 'value="0312345678"' in form.content.decode()


def test_an_agent_writes_a_note_on_a_customer_outside_a_call(client, agent):
    customer = Customer.objects.create(phone_number="+819012345678", name="山田")
    resolved = Disposition.objects.create(name="resolved")
    client.force_login(agent.user)

    response = client.post(
        reverse("agents:customer", args=[customer.pk]),
        {"disposition": str(resolved.pk), "text": "Called about the invoice."},
    )

    assert response.status_code == 302
    note = ContactNote.objects.get()
    assert (note.customer, note.agent, note.disposition) == (customer, agent, resolved)
    assert note.call_sid == "" and note.queue is None
    page = client.get(reverse("agents:customer", args=[customer.pk])).content.decode()
    assert "Called about the invoice." in page


def test_an_empty_note_is_refused_at_the_text(client, agent):
    customer = Customer.objects.create(phone_number="+819012345678")
    client.force_login(agent.user)

    response = client.post(reverse("agents:customer", args=[customer.pk]), {"text": "  "})

    assert response.status_code == 200
    assert response.context["form"].errors["text"]
    assert not ContactNote.objects.exists()


def test_the_customer_page_calls_the_customer_through_the_desk(client, agent):
    customer = Customer.objects.create(phone_number="+819012345678")
    client.force_login(agent.user)

    page = client.get(reverse("agents:customer", args=[customer.pk])).content.decode()
    desk = client.get(reverse("agents:desk"), {"dial": "+819012345678"}).content.decode()

    assert f"{reverse('agents:desk')}?dial=%2B819012345678" in page
    assert 'id="dial-to"' in desk and 'value="+819012345678"' in desk


def test_the_desk_prefills_only_a_phone_number(client, agent):
    client.force_login(agent.user)

    desk = client.get(reverse("agents:desk"), {"dial": '"><script>x</script>'}).content.decode()

    assert "<script>x" not in desk


def test_the_customer_admin_stores_national_numbers_in_e164_and_refuses_others(sup_client):
    url = reverse("admin:agents_customer_add")

    refused = sup_client.post(url, {"phone_number": "090-12", "name": "X"})
    accepted = sup_client.post(url, {"phone_number": "090-1234-5678", "name": "Y"})

    assert refused.status_code == 200
    assert "050-1234-5678" in str(refused.context["adminform"].form.errors["phone_number"])
    assert accepted.status_code == 302
    assert Customer.objects.get().phone_number == "+819012345678"
