"""Contact notes written from the softphone."""

import pytest
from django.urls import reverse

from agents.models import ContactNote, Customer, Disposition

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(db):
    return Disposition.objects.create(name="Resolved")


def test_an_agent_saves_a_note_with_a_disposition(client, agent, queue, resolved):
    customer = Customer.objects.create(phone_number="+819011112222", name="Taro")
    client.force_login(agent.user)

    response = client.post(
        reverse("agents:note-new"),
        {
            "disposition": resolved.pk,
            "text": "Wants a callback",
            "customer": customer.pk,
            "phone_number": "+819011112222",
            "call_sid": "CA" + "c" * 32,
            "queue": "support",
        },
    )

    assert response.status_code == 201
    assert response.json()["note"]["disposition"] == "Resolved"
    note = ContactNote.objects.get()
    assert (note.agent, note.customer, note.queue, note.text) == (
        agent,
        customer,
        queue,
        "Wants a callback",
    )
    assert note.phone_number == "+819011112222"


def test_a_note_about_an_unknown_number_keeps_the_number(client, agent, resolved):
    client.force_login(agent.user)

    client.post(
        reverse("agents:note-new"), {"disposition": resolved.pk, "phone_number": "090-1111-2222"}
    )

    note = ContactNote.objects.get()
    assert note.customer is None
    assert note.phone_number == "+819011112222"


def test_an_empty_note_is_refused(client, agent):
    client.force_login(agent.user)

    response = client.post(reverse("agents:note-new"), {"text": "   "})

    assert response.status_code == 400
    assert response.json()["error"]
    assert not ContactNote.objects.exists()


def test_a_retired_disposition_cannot_be_chosen(client, agent, resolved):
    resolved.is_active = False
    resolved.save(update_fields=["is_active"])
    client.force_login(agent.user)

    response = client.post(reverse("agents:note-new"), {"disposition": resolved.pk, "text": "x"})

    assert response.status_code == 400
    assert not ContactNote.objects.exists()


def test_a_note_names_only_a_queue_of_the_agents_own(client, agent, queue):
    from queues.models import Queue

    Queue.objects.create(slug="vip", name="VIP")
    client.force_login(agent.user)

    client.post(reverse("agents:note-new"), {"text": "x", "queue": "vip"})

    assert ContactNote.objects.get().queue is None
