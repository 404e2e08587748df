"""Demo people: one per role, two agents (their client identities are their usernames), and a
softphone for the supervisor so that they can listen to calls from the team view."""

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


DEMO_AGENTS = ("agent1", "agent2")
DEMO_QUEUE = "support"
DEMO_DISPOSITIONS = ["解決", "折り返し連絡", "担当部署へ転送", "苦情", "間違い電話"]


def seed_agents(users):
    """agent1 and agent2 answer the demo queue; their client identities are their usernames."""
    from queues.models import Queue

    from .models import Agent, Disposition, QueueMembership

    # The queues app's demo normally made it already; this keeps the agents' demo standalone.
    queue, _ = Queue.objects.get_or_create(slug=DEMO_QUEUE, defaults={"name": "サポート"})
    agents = []
    for username in DEMO_AGENTS:
        agent, _ = Agent.objects.get_or_create(
            user=users[username], defaults={"identity": username}
        )
        QueueMembership.objects.get_or_create(agent=agent, queue=queue)
        agents.append(agent)
    for position, name in enumerate(DEMO_DISPOSITIONS):
        Disposition.objects.get_or_create(name=name, defaults={"position": position})
    return agents


DEMO_SUPERVISOR = "supervisor"


def seed_supervisor_softphone(users):
    """The demo supervisor's own softphone (Agents group, an Agent row whose client identity is
    the username): the team view rings it into an agent's call to listen, whisper or barge. No
    queue membership is added, so routing never offers them callers; memberships an
    administrator gave them later are left alone."""
    from django.contrib.auth.models import Group

    from .models import Agent

    user = users[DEMO_SUPERVISOR]
    user.groups.add(Group.objects.get(name=AGENTS))
    agent, _ = Agent.objects.get_or_create(user=user, defaults={"identity": DEMO_SUPERVISOR})
    return agent


def seed(command):
    password = os.environ.get("DEMO_PASSWORD", "tsunagu-demo")
    users = seed_users(password)
    for username in users:
        command.stdout.write(f"  user {username:<11} password {password}")
    for agent in seed_agents(users):
        command.stdout.write(f"  agent {agent.identity:<10} member of {DEMO_QUEUE}")
    softphone = seed_supervisor_softphone(users)
    command.stdout.write(f"  agent {softphone.identity:<10} softphone to listen to calls, no queue")
