"""What supervisors manage in the admin: agents, memberships, customers (CSV), lists."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agents.models import Agent, AgentStatus, AgentStatusInterval, Customer, QueueMembership

pytestmark = pytest.mark.django_db


def test_a_supervisor_adds_an_agent_with_a_membership_and_priority(
    client, supervisor, queue, agent_user
):
    client.force_login(supervisor)

    response = client.post(
        "/admin/agents/agent/add/",
        {
            "user": agent_user.pk,
            "identity": "agt-9",
            "phone_number": "",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-queue": queue.pk,
            "memberships-0-priority": "2",
        },
    )

    assert response.status_code == 302, response.content
    agent = Agent.objects.get(identity="agt-9")
    assert QueueMembership.objects.get(agent=agent).priority == 2


def test_an_identity_with_other_characters_is_refused(client, supervisor, agent_user):
    client.force_login(supervisor)

    response = client.post(
        "/admin/agents/agent/add/",
        {
            "user": agent_user.pk,
            "identity": "agt 9",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert not Agent.objects.exists()


def test_a_user_outside_the_agents_group_cannot_become_an_agent(client, supervisor, analyst):
    client.force_login(supervisor)

    response = client.post(
        "/admin/agents/agent/add/",
        {
            "user": analyst.pk,
            "identity": "ana",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "Agents group" in response.content.decode()
    assert not Agent.objects.exists()


def test_the_agent_list_shows_identities(client, supervisor, agent, django_assert_num_queries):
    client.force_login(supervisor)

    # session, user, permissions (user, groups), counts, agents + users, queue filter,
    # the supervisor's roles (navigation)
    with django_assert_num_queries(9):
        response = client.get("/admin/agents/agent/")

    assert response.status_code == 200
    assert b"agt" in response.content


def test_set_offline_goes_through_the_status_history(client, supervisor, agent):
    client.force_login(supervisor)
    Agent.objects.filter(pk=agent.pk).update(status=AgentStatus.AVAILABLE)

    client.post("/admin/agents/agent/", {"action": "set_offline", "_selected_action": agent.pk})

    agent.refresh_from_db()
    assert agent.status == AgentStatus.OFFLINE
    assert AgentStatusInterval.objects.get(agent=agent).status == AgentStatus.OFFLINE


def test_customers_are_imported_from_csv(client, supervisor):
    Customer.objects.create(phone_number="+819011112222", name="Old name")
    client.force_login(supervisor)
    data = (
        "\ufeffphone_number,name,company,email,notes\n"
        "090-1111-2222,山田 太郎,山田商店,taro@example.jp,\n"
        "+81312345678,Acme,,,VIP\n"
        "nonsense,Bad,,,\n"
        "0120-000-000,Bad mail,,not-an-email,\n"
    ).encode()

    response = client.post(
        "/admin/agents/customer/import/",
        {"file": SimpleUploadedFile("c.csv", data, "text/csv")},
        follow=True,
    )

    assert response.status_code == 200
    text = response.content.decode()
    assert "1 created, 1 updated." in text
    assert "Line 4" in text and "Line 5" in text
    assert Customer.objects.get(phone_number="+819011112222").name == "山田 太郎"
    assert Customer.objects.get(phone_number="+81312345678").notes == "VIP"
    assert Customer.objects.count() == 2


def test_customers_are_exported_as_csv_that_imports_back(client, supervisor):
    Customer.objects.create(phone_number="+819011112222", name="山田, 太郎", notes="a\nb")
    client.force_login(supervisor)

    response = client.get("/admin/agents/customer/export/")

    assert response["Content-Type"].startswith("text/csv")
    body = response.content
    Customer.objects.all().delete()
    client.post(
        "/admin/agents/customer/import/", {"file": SimpleUploadedFile("c.csv", body, "text/csv")}
    )
    customer = Customer.objects.get()
    assert (customer.name, customer.notes) == ("山田, 太郎", "a\nb")


def test_the_customer_search_finds_a_domestic_number(client, supervisor):
    Customer.objects.create(phone_number="+819011112222", name="Taro")
    client.force_login(supervisor)

    response = client.get("/admin/agents/customer/", {"q": "090-1111-2222"})

    assert b"Taro" in response.content


@pytest.mark.parametrize("persona", ["agent_user", "analyst", "outsider"])
def test_only_staff_reach_the_agent_admin(client, request, persona):
    client.force_login(request.getfixturevalue(persona))

    assert client.get("/admin/agents/agent/").status_code == 302
    assert client.get("/admin/agents/customer/import/").status_code == 302
