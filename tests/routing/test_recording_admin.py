"""Recordings and quality reviews in the admin: the list (call, agent, queue, status, duration,
started) with filters and search, read-only, Twilio's media address never shown, the app's
player linked only for those who may play; the lists cost a fixed number of queries."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents.models import AgentStatus
from agents.services import agent_choose_status
from queues.models import Queue
from routing.models import QualityReview, Recording

from . import test_end_to_end
from .test_callback_recordings import _called_back
from .test_end_to_end import run
from .test_hold import _connected_call

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu


@pytest.fixture
def recordings(emu):
    """A queued call's recording and a callback's, both completed."""
    Queue.objects.filter(slug="support").update(
        record_answered_calls=True, callback_after_seconds=30, callback_max_attempts=1
    )
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=20)
    run(emu, 40)
    # Away, so the next caller waits and asks for a callback instead of being answered.
    agent_choose_status(agent=agent, status=AgentStatus.OFFLINE, now=timezone.now())
    _agent, callback = _called_back(emu, talk_seconds=20, run_for=80)
    queued = Recording.objects.get(bridge=bridge)
    of_callback = Recording.objects.get(callback=callback)
    assert queued.status == of_callback.status == "completed"
    return queued, of_callback


def _more(recording, n):
    """Copies of a recording (other SIDs, the same call): a longer list for the query guard."""
    for i in range(n):
        Recording.objects.create(
            bridge=recording.bridge,
            callback=recording.callback,
            call_sid=recording.call_sid,
            sid=f"RE{recording.pk:02d}{i:030d}",
            status="completed",
            duration_seconds=5,
            media_url=recording.media_url,
            started_at=recording.started_at,
            ended_at=recording.ended_at,
        )


def test_the_list_shows_call_agent_queue_status_and_the_apps_player_only(
    recordings, client, supervisor
):
    queued, of_callback = recordings
    client.force_login(supervisor)
    page = client.get("/admin/routing/recording/").content.decode()

    for recording in (queued, of_callback):
        assert f"/reports/calls/{recording.call_sid}/" in page
        assert f'href="/recordings/{recording.pk}/audio"' in page
        assert recording.media_url not in page
    assert "api.twilio.com" not in page and "/Recordings/RE" not in page
    assert "agent1" in page and queued.queue.name in page


def test_the_list_costs_the_same_queries_however_many_recordings(
    recordings, client, supervisor, django_assert_num_queries
):
    queued, of_callback = recordings
    client.force_login(supervisor)
    client.get("/admin/routing/recording/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/admin/routing/recording/").status_code == 200
    _more(queued, 6)
    _more(of_callback, 6)
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get("/admin/routing/recording/").content.decode()
    assert page.count('href="/recordings/') == 14
    assert len(few.captured_queries) <= 12


def test_filters_by_kind_queue_status_and_search_by_call(recordings, client, supervisor):
    queued, of_callback = recordings
    client.force_login(supervisor)

    def listed(**params):
        page = client.get("/admin/routing/recording/", params).content.decode()
        return {r.pk for r in (queued, of_callback) if f"/recordings/{r.pk}/audio" in page}

    assert listed(kind="callback") == {of_callback.pk}
    assert listed(kind="queued") == {queued.pk}
    assert listed(queue=str(queued.queue.pk)) == {queued.pk, of_callback.pk}
    assert listed(agent="agent1") == {queued.pk, of_callback.pk}
    assert listed(status="completed") == {queued.pk, of_callback.pk}
    assert listed(status="unfinished") == set()
    assert listed(q=of_callback.call_sid) == {of_callback.pk}


def test_a_recording_opens_read_only_without_twilios_address(recordings, client, supervisor):
    queued, _of_callback = recordings
    client.force_login(supervisor)
    response = client.get(f"/admin/routing/recording/{queued.pk}/change/")
    page = response.content.decode()

    assert response.status_code == 200
    assert queued.sid in page and f'href="/recordings/{queued.pk}/audio"' in page
    assert queued.media_url not in page and "api.twilio.com" not in page
    assert 'name="status"' not in page and "Save" not in page.split("submit-row")[-1][:200]
    assert client.post(f"/admin/routing/recording/{queued.pk}/delete/").status_code == 403


def test_staff_without_the_play_permission_see_no_player(recordings, client, django_user_model):
    queued, _of_callback = recordings
    staff = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_recording"))
    client.force_login(staff)
    page = client.get("/admin/routing/recording/").content.decode()

    assert queued.call_sid in page
    assert "/recordings/" not in page.replace("/admin/routing/recording/", "")
    assert client.get(f"/recordings/{queued.pk}/audio").status_code == 403


def test_quality_reviews_list_with_their_call_and_score(
    recordings, client, supervisor, django_assert_max_num_queries
):
    queued, of_callback = recordings
    client.force_login(supervisor)
    for recording in (queued, of_callback):
        client.post(f"/recordings/{recording.pk}/review", {"checks": ["greeting"], "comment": "ok"})
    assert QualityReview.objects.count() == 2
    assert QualityReview.objects.get(recording=of_callback).agent.identity == "agent1"

    with django_assert_max_num_queries(10):
        page = client.get("/admin/routing/qualityreview/").content.decode()
    assert f"/reports/calls/{of_callback.call_sid}/#call-recordings" in page
    assert "1 / 5" in page
    review = QualityReview.objects.get(recording=queued)
    detail = client.get(f"/admin/routing/qualityreview/{review.pk}/change/").content.decode()
    assert "Greeted the caller" in detail or "挨拶" in detail
