"""Saving or deleting a queue while Twilio cannot be reached: a message next to the form, and
nothing changed (no 500)."""

import logging

import pytest
import requests
from twilio.http import HttpClient

from queues.models import Queue
from telephony.client import set_http_client

from .test_admin import ADD, change_data, form_data

pytestmark = pytest.mark.django_db


class NoNetwork(HttpClient):
    """What twilio's own HTTP client raises on a machine with no route to Twilio."""

    def __init__(self):
        super().__init__(logging.getLogger("tests.twilio"), is_async=False)
        self.attempts = 0

    def request(self, method, uri, **kwargs):
        self.attempts += 1
        raise requests.exceptions.ConnectionError(
            f"HTTPSConnectionPool(host='api.twilio.com', port=443): Max retries exceeded: {uri}"
        )


@pytest.fixture
def offline():
    fake = NoNetwork()
    set_http_client(fake)
    yield fake
    set_http_client(None)


def test_adding_a_queue_without_network_shows_the_error_and_saves_nothing(
    client, supervisor, offline
):
    client.force_login(supervisor)

    response = client.post(ADD, form_data())

    assert response.status_code == 200
    assert offline.attempts == 1
    assert "could not be reached" in response.content.decode()
    assert response.context["adminform"].form.non_field_errors()
    assert not Queue.objects.exists()


def test_renaming_a_queue_without_network_keeps_the_old_name(client, supervisor, queue, offline):
    client.force_login(supervisor)

    response = client.post(
        f"/admin/queues/queue/{queue.pk}/change/", change_data(queue, slug="renamed")
    )

    assert response.status_code == 200
    assert "could not be reached" in response.content.decode()
    queue.refresh_from_db()
    assert queue.slug != "renamed"


def test_deleting_a_synced_queue_without_network_keeps_it(client, supervisor, queue, offline):
    Queue.objects.filter(pk=queue.pk).update(twilio_sid="QU" + "1" * 32)
    client.force_login(supervisor)

    response = client.post(f"/admin/queues/queue/{queue.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert Queue.objects.filter(pk=queue.pk).exists()
