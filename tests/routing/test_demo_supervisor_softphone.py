"""The demo supervisor (seed_demo) has a softphone to listen to calls with, and is still no
routed agent: available with the softphone registered, they are never offered a caller of the
demo queue, until an administrator makes them a member. Seeding again keeps it so."""

import io

import pytest
from django.core.management import call_command

from agents.models import Agent, QueueMembership
from emulator import Caller
from queues.models import Queue
from routing.models import Offer
from routing.supervision import supervisor_softphone
from tests.factories import DEMO_NUMBER

from . import test_end_to_end
from .test_end_to_end import ready, run

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu  # the local Twilio in process, the demo seeded


def _supervisor(django_user_model):
    return django_user_model.objects.get(username="supervisor")


def test_the_demo_supervisor_has_a_softphone_in_no_queue(demo, django_user_model):
    softphone = supervisor_softphone(_supervisor(django_user_model))

    assert softphone is not None and softphone.identity == "supervisor"
    assert not QueueMembership.objects.filter(agent=softphone).exists()


def test_seeding_again_keeps_one_softphone_and_the_memberships_an_administrator_gave(
    demo, django_user_model
):
    softphone = Agent.objects.get(identity="supervisor")
    QueueMembership.objects.create(agent=softphone, queue=Queue.objects.get(slug="support"))

    call_command("seed_demo", stdout=io.StringIO())

    assert list(Agent.objects.filter(user=_supervisor(django_user_model))) == [softphone]
    assert QueueMembership.objects.filter(agent=softphone).count() == 1


def test_the_available_demo_supervisor_is_never_offered_a_caller(emu):
    ready("supervisor")
    emu.add_agent("supervisor", answer_after=1, talk_seconds=10)
    caller = emu.place_call(to=DEMO_NUMBER, from_="+819011112222", caller=Caller(digits=["1"]))

    run(emu, 40)

    assert not Offer.objects.exists()
    assert caller.status == "in-progress"  # still waiting in the queue

    ready("agent1")
    emu.add_agent("agent1", answer_after=1, talk_seconds=10)
    run(emu, 20)

    assert [offer.agent.identity for offer in Offer.objects.all()] == ["agent1"]


def test_the_demo_supervisor_lands_on_the_admin_and_sees_the_team_view_buttons(
    client, demo, django_user_model
):
    from config.views import role_home

    supervisor = _supervisor(django_user_model)
    assert role_home(supervisor) == "/admin/"
    client.force_login(supervisor)

    home = client.get("/")
    assert home.status_code == 200  # the home page, not the desk
    assert 'href="/supervisor/team/"' in home.content.decode()
    assert 'href="/agent/"' in home.content.decode()
    team = client.get("/supervisor/team/").content.decode()
    assert 'id="team-no-softphone"' not in team
