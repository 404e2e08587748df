"""The daily purge also settles recordings whose ``completed`` status callback never came: a day
after they started it asks Twilio (here the local Twilio in process, through the app's REST
client). Completed there → the row is completed and kept until its retention ends; gone there
(404) → the row goes; absent, or past retention → deleted at Twilio and here; still recording →
stopped, and its completed callback then finishes the row."""

from datetime import timedelta

import pytest
from django.utils import timezone

from queues.models import Queue
from routing.models import Recording
from routing.tasks import purge_recordings

from . import test_end_to_end
from .test_end_to_end import run
from .test_hold import _connected_call

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu


@pytest.fixture
def retention(settings):
    settings.RECORDING_RETENTION_DAYS = 90


def _lost_completed_callback(recording, *, days_ago):
    """As if Twilio's completed callback never reached the app."""
    Recording.objects.filter(pk=recording.pk).update(
        status="in-progress",
        ended_at=None,
        duration_seconds=None,
        started_at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.fixture
def finished(emu):
    Queue.objects.update(record_answered_calls=True)
    _connected_call(emu, talk_seconds=20)
    run(emu, 40)
    recording = Recording.objects.get()
    assert emu.recordings[recording.sid]["status"] == "completed"
    return recording


def test_a_recording_completed_at_twilio_is_completed_here_and_kept(emu, finished, retention):
    _lost_completed_callback(finished, days_ago=2)

    assert purge_recordings.call() == 0

    finished.refresh_from_db()
    assert finished.status == "completed" and finished.ended_at is not None
    assert finished.duration_seconds == emu.recordings[finished.sid]["duration"]
    assert finished.sid in emu.recordings


def test_a_recording_twilio_no_longer_has_goes(emu, finished, retention):
    _lost_completed_callback(finished, days_ago=2)
    del emu.recordings[finished.sid]

    assert purge_recordings.call() == 1
    assert not Recording.objects.exists()


def test_an_unfinished_recording_past_retention_is_deleted_at_twilio_and_here(
    emu, finished, retention
):
    _lost_completed_callback(finished, days_ago=100)

    assert purge_recordings.call() == 1
    assert finished.sid not in emu.recordings
    assert not Recording.objects.exists()


def test_an_absent_recording_is_deleted_at_twilio_and_here(emu, finished, retention):
    _lost_completed_callback(finished, days_ago=2)
    emu.recordings[finished.sid]["status"] = "absent"

    assert purge_recordings.call() == 1
    assert finished.sid not in emu.recordings
    assert not Recording.objects.exists()


def test_a_recording_still_going_a_day_later_is_stopped_and_then_completed(emu, retention):
    Queue.objects.update(record_answered_calls=True)
    _connected_call(emu, talk_seconds=600)
    run(emu, 5)
    recording = Recording.objects.get()
    Recording.objects.filter(pk=recording.pk).update(started_at=timezone.now() - timedelta(days=2))

    assert purge_recordings.call() == 0
    run(emu, 1)

    assert emu.recordings[recording.sid]["status"] == "completed"
    recording.refresh_from_db()
    assert recording.status == "completed" and recording.ended_at is not None


def test_a_recent_unfinished_recording_is_left_alone(emu, finished, retention):
    _lost_completed_callback(finished, days_ago=0.5)
    emu.recordings[finished.sid]["status"] = "absent"

    assert purge_recordings.call() == 0
    finished.refresh_from_db()
    assert finished.status == "in-progress" and finished.ended_at is None
    assert finished.sid in emu.recordings


def test_a_recording_still_processing_at_twilio_waits_for_the_next_run(emu, finished, retention):
    _lost_completed_callback(finished, days_ago=2)
    emu.recordings[finished.sid]["status"] = "processing"

    assert purge_recordings.call() == 0
    finished.refresh_from_db()
    assert finished.status == "in-progress" and finished.sid in emu.recordings
