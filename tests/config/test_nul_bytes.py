"""A page asked with a NUL byte answers 400, on SQLite and on PostgreSQL (which refuses NUL)."""

import pytest

from agents.models import Agent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/agent/customers/?q=%00", "/agent/call?call_sid=%00"])
def test_an_agent_page_answers_400_to_a_nul_byte(client, agent_user, path):
    Agent.objects.create(user=agent_user, identity="agt")
    client.force_login(agent_user)

    assert client.get(path).status_code == 400


@pytest.mark.parametrize(
    "path",
    ["/reports/calls/%00/", "/admin/telephony/call/?q=%00"],
)
def test_a_supervisor_page_answers_400_to_a_nul_byte(client, supervisor, path):
    client.force_login(supervisor)

    assert client.get(path).status_code == 400


def test_a_nul_byte_in_a_query_name_is_a_400_too(client, supervisor):
    client.force_login(supervisor)

    assert client.get("/reports/calls/CA1/?a%00b=1").status_code == 400


def test_the_same_pages_without_a_nul_byte_still_answer(client, supervisor, agent_user):
    Agent.objects.create(user=agent_user, identity="agt")
    client.force_login(agent_user)
    assert client.get("/agent/customers/?q=abc").status_code == 200
    client.force_login(supervisor)
    assert client.get("/reports/calls/CA1/").status_code == 404
