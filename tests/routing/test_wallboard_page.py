"""The wallboard page shows how many agents of a queue are ringing now, beside the other
agent counts, and the page's poller updates it from the API's field of the same name."""

import pytest

from tests.factories import new_sid

from .helpers import caller_waits, ready_agent, work

pytestmark = pytest.mark.django_db


def test_the_wallboard_page_shows_agents_ringing(
    twilio, rest, support, client, analyst, django_user_model
):
    ready_agent(django_user_model, "agent1", support)
    caller_waits(twilio, support, new_sid())
    work()
    client.force_login(analyst)

    body = client.get("/reports/wallboard/").content.decode()

    cell = body.split('data-field="agents_ringing"', 1)[1].split("</div></div>", 1)[0]
    assert cell.rsplit(">", 1)[1] == "1"


def test_the_wallboard_page_has_a_callbacks_waiting_cell(client, analyst, support):
    client.force_login(analyst)

    body = client.get("/reports/wallboard/").content.decode()

    cell = body.split('data-field="callbacks_waiting"', 1)[1].split("</div></div>", 1)[0]
    assert cell.rsplit(">", 1)[1] == "0"
