"""A customer's history page (agents, a lower layer) shows the customer's recorded calls — queued
calls from their number and callbacks to it — added by routing through the page's
``customer_history_sections`` signal: the app's player for those who may play, the quality
review for supervisors and the agent it scores; a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Agent, Customer
from routing.models import QualityReview

from . import test_end_to_end, test_recording_admin
from .test_recording_admin import _more

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu
recordings = test_recording_admin.recordings

NUMBER = "+819011112222"  # the emulated caller, called back on the same number


@pytest.fixture
def customer(recordings):
    return Customer.objects.get_or_create(phone_number=NUMBER, defaults={"name": "Sato"})[0]


@pytest.fixture
def reviewed(recordings, client, supervisor):
    queued, of_callback = recordings
    client.force_login(supervisor)
    client.post(
        f"/recordings/{of_callback.pk}/review",
        {"checks": ["greeting", "closing"], "comment": "Thank them for waiting."},
    )
    client.logout()
    return QualityReview.objects.get()


@pytest.fixture
def supervisor_agent(supervisor):
    """A supervisor with a softphone of their own (in the Agents group, an Agent row)."""
    from django.contrib.auth.models import Group

    from agents.roles import AGENTS

    supervisor.groups.add(Group.objects.get(name=AGENTS))
    Agent.objects.create(user=supervisor, identity="sup1")
    return supervisor


def _page(client, customer):
    response = client.get(f"/agent/customers/{customer.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_agent_sees_the_customers_recorded_calls_and_their_own_review_without_a_player(
    recordings, customer, reviewed, client
):
    queued, of_callback = recordings
    client.force_login(Agent.objects.get(identity="agent1").user)
    page = _page(client, customer)

    assert 'id="customer-recordings"' in page
    for recording in (queued, of_callback):
        assert f'data-recording="{recording.pk}"' in page
        assert f"/recordings/{recording.pk}/audio" not in page
    assert "Only supervisors may play recordings." in page
    assert "Thank them for waiting." in page and "2 / 5" in page
    assert "/reports/calls/" not in page  # agents do not open report pages
    assert client.get(f"/recordings/{queued.pk}/audio").status_code == 403


def test_another_agent_sees_the_calls_but_not_the_review(recordings, customer, reviewed, client):
    client.force_login(Agent.objects.get(identity="agent2").user)
    page = _page(client, customer)

    assert 'id="customer-recordings"' in page
    assert "Thank them for waiting." not in page and "Quality review" not in page


def test_a_supervisor_plays_and_reads_the_reviews_never_seeing_twilios_address(
    recordings, customer, reviewed, client, supervisor_agent
):
    queued, of_callback = recordings
    client.force_login(supervisor_agent)
    page = _page(client, customer)

    for recording in (queued, of_callback):
        assert f'src="/recordings/{recording.pk}/audio"' in page
        assert f"/reports/calls/{recording.call_sid}/#call-recordings" in page
        assert recording.media_url not in page
    assert "api.twilio.com" not in page
    assert "Thank them for waiting." in page


def test_another_customer_has_no_recorded_calls_section(recordings, client):
    other = Customer.objects.create(phone_number="+819099998888", name="Other")
    client.force_login(Agent.objects.get(identity="agent1").user)

    assert 'id="customer-recordings"' not in _page(client, other)


def test_the_page_costs_the_same_queries_however_many_recordings(
    recordings, customer, reviewed, client, supervisor_agent, django_assert_num_queries
):
    queued, of_callback = recordings
    client.force_login(supervisor_agent)
    _page(client, customer)
    with CaptureQueriesContext(connection) as few:
        _page(client, customer)
    _more(queued, 5)
    _more(of_callback, 5)

    with django_assert_num_queries(len(few.captured_queries)):
        page = _page(client, customer)
    assert page.count('class="customer-recording"') == 12
