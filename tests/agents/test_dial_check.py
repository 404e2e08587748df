"""The outbound dial box asks first, so a refused destination is explained in plain words."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def check(client, to):
    response = client.get(reverse("agents:dial-check"), {"to": to})
    assert response.status_code == 200
    return response.json()


def test_a_domestic_number_is_allowed_in_e164(client, agent):
    client.force_login(agent.user)

    assert check(client, "03-1234-5678") == {"allowed": True, "to": "+81312345678"}


def test_an_international_number_is_refused_with_a_reason(client, agent):
    client.force_login(agent.user)

    body = check(client, "+1 415 555 0100")

    assert body["allowed"] is False
    assert body["to"] == "+14155550100"
    assert "+14155550100" in body["error"]


def test_text_that_is_not_a_number_is_refused(client, agent):
    client.force_login(agent.user)

    body = check(client, "pizza")

    assert body["allowed"] is False
    assert body["error"]
