"""Supervisors manage agents' and analysts' accounts, never superusers, staff, flags or tokens."""

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.authtoken.models import Token

from agents.roles import AGENTS, SUPERVISORS

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", password="root-pw-123456")


def change_form(user, **extra):
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "last_login_0": "",
        "last_login_1": "",
    }
    data.update(extra)
    return data


def test_a_supervisor_cannot_make_themselves_superuser(client, supervisor):
    client.force_login(supervisor)

    client.post(
        f"/admin/auth/user/{supervisor.pk}/change/",
        change_form(supervisor, is_staff="on", is_superuser="on"),
    )

    supervisor.refresh_from_db()
    assert not supervisor.is_superuser


def test_a_supervisor_sets_an_agents_password_but_not_the_superusers(
    client, supervisor, root, agent_user
):
    client.force_login(supervisor)
    client.post(
        f"/admin/auth/user/{agent_user.pk}/password/",
        {"password1": "New-Agent-Pw-2468", "password2": "New-Agent-Pw-2468"},
    )

    response = client.post(
        f"/admin/auth/user/{root.pk}/password/",
        {"password1": "Taken-Over-9876", "password2": "Taken-Over-9876"},
    )

    assert response.status_code in (302, 404)
    root.refresh_from_db()
    assert root.check_password("root-pw-123456")
    agent_user.refresh_from_db()
    assert agent_user.check_password("New-Agent-Pw-2468")


def test_a_supervisor_does_not_see_superusers_staff_or_supervisors(
    client, supervisor, root, analyst, django_user_model
):
    other = django_user_model.objects.create_user("sup2", password="x", is_staff=False)
    other.groups.add(Group.objects.get(name=SUPERVISORS))
    client.force_login(supervisor)

    response = client.get("/admin/auth/user/")

    names = {user.username for user in response.context["cl"].result_list}
    assert names == {analyst.username}
    assert client.get(f"/admin/auth/user/{root.pk}/change/").status_code == 302


def test_a_supervisor_edits_an_agent_but_grants_no_flag_permission_or_supervisor_role(
    client, supervisor, agent_user
):
    client.force_login(supervisor)
    perm = Permission.objects.get(codename="change_user")

    response = client.post(
        f"/admin/auth/user/{agent_user.pk}/change/",
        change_form(
            agent_user,
            first_name="Hanako",
            is_staff="on",
            is_superuser="on",
            user_permissions=[perm.pk],
            groups=[
                Group.objects.get(name=AGENTS).pk,
                Group.objects.get(name=SUPERVISORS).pk,
            ],
        ),
    )

    agent_user.refresh_from_db()
    assert not agent_user.is_superuser and not agent_user.is_staff
    assert not agent_user.user_permissions.exists()
    assert set(agent_user.groups.values_list("name", flat=True)) == {AGENTS}
    # The Supervisors choice does not exist for them: the form says so and saves nothing.
    assert response.status_code == 200
    assert agent_user.first_name == ""


def test_a_supervisor_sees_only_their_own_api_token(client, supervisor, analyst, root):
    theirs = Token.objects.create(user=analyst)
    own = Token.objects.create(user=supervisor)
    client.force_login(supervisor)

    response = client.get("/admin/authtoken/tokenproxy/")

    assert response.status_code == 200
    assert theirs.key not in response.content.decode()
    assert own.key in response.content.decode()
    assert client.get(f"/admin/authtoken/tokenproxy/{analyst.pk}/change/").status_code == 302
    client.force_login(root)
    assert theirs.key in client.get("/admin/authtoken/tokenproxy/").content.decode()


def test_a_supervisor_cannot_issue_a_token_for_someone_else(client, supervisor, analyst):
    client.force_login(supervisor)

    client.post("/admin/authtoken/tokenproxy/add/", {"user": analyst.pk})

    assert not Token.objects.filter(user=analyst).exists()
