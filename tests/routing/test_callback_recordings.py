"""Callbacks (virtual hold) of a queue that records are recorded like its queued calls: the
customer hears the recording notice, then a dual-channel recording of their leg starts by REST
once they join the agent (a ``Recording`` row of the callback, never the conference's record
attribute); the desk pauses and resumes it; the call page lists it."""

import pytest

from emulator import Caller
from queues.models import Queue
from routing.models import Callback, CallbackStatus, Recording
from tests.factories import DEMO_NUMBER

from . import test_end_to_end
from .test_end_to_end import ready, run

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu

CUSTOMER = "+819011112222"


@pytest.fixture
def recording_callbacks(demo):
    Queue.objects.filter(slug="support").update(
        callback_after_seconds=30,
        callback_retry_seconds=30,
        callback_max_attempts=2,
        record_answered_calls=True,
    )


def _called_back(emu, *, talk_seconds, run_for):
    emu.add_callee(CUSTOMER, Caller(answer_after=4, talk_seconds=talk_seconds))
    emu.place_call(to=DEMO_NUMBER, from_=CUSTOMER, caller=Caller(digits=["1", "1", "1"]))
    run(emu, 120)
    agent = ready("agent1")
    emu.add_agent("agent1", answer_after=2)
    run(emu, run_for)
    return agent, Callback.objects.get()


def _notice_heard_at(emu, call_sid):
    """When the customer's leg heard the demo queue's recording notice (録音: "recorded")."""
    leg = emu.call_by_sid(call_sid)
    return next(e.at for e in leg.transcript if e.kind == "say" and "録音" in e.text)


def test_a_recording_queues_callback_records_the_customer_in_dual_channel_once_joined(
    emu, recording_callbacks
):
    agent, callback = _called_back(emu, talk_seconds=30, run_for=20)

    assert callback.status == CallbackStatus.CONNECTED
    [recording] = Recording.objects.all()
    assert recording.callback == callback and recording.bridge is None
    assert recording.call_sid == callback.customer_call_sid
    live = emu.recordings[recording.sid]
    assert live["call_sid"] == callback.customer_call_sid
    assert live["channels"] == 2 and live["source"] == "StartCallRecordingAPI"
    [conference] = [c for c in emu.conferences if c.friendly_name == callback.conference_name]
    assert conference.record is False  # one path: no conference recording as well
    assert recording.agent == agent and recording.queue.slug == "support"
    assert _notice_heard_at(emu, callback.customer_call_sid) < live["started_at"]

    run(emu, 60)
    recording.refresh_from_db()
    assert recording.status == "completed" and recording.ended_at is not None
    assert recording.duration_seconds == emu.recordings[recording.sid]["duration"]
    assert 0 < recording.duration_seconds <= 30
    assert len(emu.recordings) == 1


def test_the_desk_pauses_and_resumes_a_callbacks_recording(emu, recording_callbacks, client):
    agent, callback = _called_back(emu, talk_seconds=50, run_for=20)
    client.force_login(agent.user)
    [recording] = Recording.objects.all()
    assert client.get("/agent/call/recording").json() == {"recording": "recording"}

    assert client.post("/agent/call/recording/pause").json() == {"recording": "paused"}
    assert emu.recordings[recording.sid]["status"] == "paused"
    run(emu, 8)
    assert client.post("/agent/call/recording/resume").json() == {"recording": "recording"}
    run(emu, 80)

    recording.refresh_from_db()
    assert recording.status == "completed" and not recording.paused
    assert [p["status"] for p in recording.pauses] == ["paused", "in-progress"]
    assert emu.recordings[recording.sid]["skipped"] == pytest.approx(8, abs=0.6)
    assert client.get("/agent/call/recording").json() == {"recording": ""}


def test_a_callback_of_a_queue_that_does_not_record_is_not_recorded(emu, recording_callbacks):
    Queue.objects.update(record_answered_calls=False)
    _called_back(emu, talk_seconds=20, run_for=80)

    assert Callback.objects.get().status == CallbackStatus.CONNECTED
    assert not Recording.objects.exists() and not emu.recordings
    assert all(c.record is False for c in emu.conferences)


def test_the_call_page_lists_a_callbacks_recording_for_the_customer_and_agent_legs(
    emu, recording_callbacks, client, supervisor
):
    agent, callback = _called_back(emu, talk_seconds=20, run_for=80)
    recording = Recording.objects.get()
    client.force_login(supervisor)
    for sid in (callback.customer_call_sid, callback.agent_call_sid):
        page = client.get(f"/reports/calls/{sid}/").content.decode()
        assert f'src="/recordings/{recording.pk}/audio"' in page
        assert recording.media_url not in page and "api.twilio.com" not in page


def test_an_old_callback_recording_is_purged_at_twilio_and_here(emu, recording_callbacks, settings):
    from datetime import timedelta

    from routing.tasks import purge_recordings

    _called_back(emu, talk_seconds=20, run_for=80)
    recording = Recording.objects.get()
    Recording.objects.update(ended_at=emu.datetime_at() - timedelta(days=100))
    settings.RECORDING_RETENTION_DAYS = 90

    assert purge_recordings.call() == 1
    assert recording.sid not in emu.recordings and not Recording.objects.exists()
    assert Callback.objects.exists()  # the callback itself stays (reports count it)
