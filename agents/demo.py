"""Demo people: one per role, and two agents (their client identities are their usernames)."""

import os

from django.contrib.auth import get_user_model

from .roles import AGENTS, ANALYSTS, SUPERVISORS, sync_role_permissions

DEMO_USERS = [
    ("supervisor", SUPERVISORS, True),
    ("analyst", ANALYSTS, False),
    ("agent1", AGENTS, False),
    ("agent2", AGENTS, False),
]


def seed_users(password: str):
    from django.contrib.auth.models import Group

    User = get_user_model()
    sync_role_permissions()
    users = {}
    for username, group_name, is_staff in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.is_staff = is_staff
        user.is_active = True
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name=group_name))
        users[username] = user
    return users


def seed(command):
    password = os.environ.get("DEMO_PASSWORD", "tsunagu-demo")
    users = seed_users(password)
    for username in users:
        command.stdout.write(f"  user {username:<11} password {password}")
