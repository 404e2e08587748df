"""A supervisor scores a recorded call on the call detail page (checklist + comment); the agent
who took it reads the review on their own page; nobody else may score."""

import pytest

from queues.models import Queue
from routing.models import QualityReview, Recording

from . import test_end_to_end
from .test_end_to_end import run
from .test_hold import _connected_call

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu


@pytest.fixture
def recorded(emu):
    Queue.objects.update(record_answered_calls=True)
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=20)
    run(emu, 40)
    return agent, leg, Recording.objects.get()


def test_a_supervisor_scores_a_recorded_call_and_the_agent_reads_it(
    emu, recorded, client, supervisor
):
    agent, leg, recording = recorded
    client.force_login(supervisor)
    page = client.get(f"/reports/calls/{leg.sid}/").content.decode()
    assert f'action="/recordings/{recording.pk}/review"' in page

    response = client.post(
        f"/recordings/{recording.pk}/review",
        {"checks": ["greeting", "resolved"], "comment": "Good, but confirm the address."},
    )
    assert response.status_code == 302
    review = QualityReview.objects.get()
    assert review.agent == agent and review.reviewer == supervisor
    assert review.score == 2 and review.checks["greeting"] and not review.checks["closing"]

    client.force_login(agent.user)
    mine = client.get("/agent/reviews/")
    assert mine.status_code == 200
    assert "Good, but confirm the address." in mine.content.decode()


def test_an_agent_or_analyst_cannot_score(emu, recorded, client, agent_user, analyst):
    agent, leg, recording = recorded
    for user in (agent.user, analyst):
        client.force_login(user)
        response = client.post(f"/recordings/{recording.pk}/review", {"checks": ["greeting"]})
        assert response.status_code == 403
    assert not QualityReview.objects.exists()


def test_another_agent_does_not_see_the_review(emu, recorded, client, supervisor):
    from agents.models import Agent

    agent, leg, recording = recorded
    client.force_login(supervisor)
    client.post(f"/recordings/{recording.pk}/review", {"comment": "Private to agent1."})
    other = Agent.objects.exclude(pk=agent.pk).exclude(user=None).first()
    client.force_login(other.user)
    assert "Private to agent1." not in client.get("/agent/reviews/").content.decode()
