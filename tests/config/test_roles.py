import pytest
from django.contrib.auth.models import Group

from agents.roles import AGENTS, ANALYSTS, SUPERVISORS, user_has_role

pytestmark = pytest.mark.django_db


def test_the_three_groups_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {SUPERVISORS, AGENTS, ANALYSTS}


def test_supervisors_may_view_calls_but_not_change_them():
    perms = set(Group.objects.get(name=SUPERVISORS).permissions.values_list("codename", flat=True))

    assert "view_call" in perms
    assert "change_call" not in perms
    assert {"add_queue", "change_queue", "delete_queue"} <= perms


def test_analysts_may_view_queue_visits_only():
    perms = set(Group.objects.get(name=ANALYSTS).permissions.values_list("codename", flat=True))

    assert "view_queuevisit" in perms
    assert not {p for p in perms if p.startswith(("add_", "change_", "delete_"))}


def test_roles_are_checked_by_group(analyst, agent_user, outsider, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", password="x")

    assert user_has_role(analyst, ANALYSTS)
    assert not user_has_role(analyst, SUPERVISORS)
    assert user_has_role(agent_user, AGENTS, SUPERVISORS)
    assert not user_has_role(outsider, AGENTS, ANALYSTS, SUPERVISORS)
    assert user_has_role(superuser, SUPERVISORS)


def test_an_inactive_member_has_no_role(analyst):
    analyst.is_active = False

    assert not user_has_role(analyst, ANALYSTS)
