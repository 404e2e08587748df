"""Outbound numbers must exist in their country's numbering plan and be of a kind the prefix
allows: no +81 0…, no premium-rate (0990), no shared-cost or universal access (0570, 0180)."""

import pytest

from agents.models import DialPrefix

from .conftest import post_outgoing, twiml

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _caller_id(settings):
    settings.TWILIO_CALLER_ID = "+815012345678"


def dialled(response) -> bool:
    return twiml(response).find("Dial/Number") is not None


@pytest.mark.parametrize(
    "to",
    [
        "+8100144123456",  # +81 then the trunk 0: never a Japanese number (international via 001)
        "+81990123456",  # 0990: premium rate (dial Q2)
        "+81570123456",  # 0570: Navi Dial, universal access at the caller's cost
        "+81180123456",  # 0180: telephone-vote and information services
        "+819000000001",  # a mobile range with a number that cannot exist
    ],
)
def test_numbers_outside_the_plan_or_of_a_costly_kind_are_refused(twilio, agent, to):
    assert not dialled(post_outgoing(twilio, to=to))


def test_the_dial_box_explains_a_premium_number_is_refused(client, agent):
    client.force_login(agent.user)

    body = client.get("/agent/dial-check", {"to": "0990-123-456"}).json()

    assert body["allowed"] is False


def test_a_supervisor_may_allow_premium_numbers_under_a_prefix(twilio, agent, client, supervisor):
    prefix = DialPrefix.objects.get(prefix="+81")
    assert not dialled(post_outgoing(twilio, to="+81990123456"))
    client.force_login(supervisor)

    response = client.post(
        f"/admin/agents/dialprefix/{prefix.pk}/change/",
        {
            "prefix": "+81",
            "description": "Japan",
            "number_types": ["fixed_line", "mobile", "premium_rate"],
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.content
    assert dialled(post_outgoing(twilio, to="+81990123456", call_sid="CA" + "e" * 32))
    assert dialled(post_outgoing(twilio, to="+819012345678", call_sid="CA" + "f" * 32))
