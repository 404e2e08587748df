"""The wallboard page: big numbers, refreshed from /api/wallboard/."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
URL = reverse("reports:wallboard")


def test_it_shows_each_queue_and_polls_the_api(client, supervisor, support, sales):
    client.force_login(supervisor)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-queue="support"' in html and 'data-queue="sales"' in html
    assert f'data-url="{reverse("api-wallboard")}"' in html
    assert "reports/wallboard.js" in html


@pytest.mark.parametrize("persona", ["agent_user", "outsider"])
def test_it_refuses_people_without_a_report_role(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403


def test_it_runs_a_fixed_number_of_queries(client, analyst, support, django_assert_num_queries):
    client.force_login(analyst)
    client.get(URL)  # today's settled hours are added up and stored by the first request
    # session, user, groups; queues; waiting visits; queue ids and agents by status
    # (agents.selectors.agent_status_counts); agents ringing (routing); today's stored hours
    # and today's visits since (the overflow among them); callbacks
    with django_assert_num_queries(11):
        client.get(URL)
