"""Recordings of answered calls through the local Twilio in process: a queue that records
starts a dual-channel recording of the caller's leg once caller and agent are bridged (after
the recording notice), its status callback keeps the duration; other queues record nothing."""

import pytest

from queues.models import Queue
from routing.models import Recording

from . import test_end_to_end
from .test_end_to_end import run
from .test_hold import _connected_call

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu


def _record(slug="support"):
    Queue.objects.filter(slug=slug).update(record_answered_calls=True)


def test_a_recording_queue_records_the_callers_leg_in_dual_channel_once_bridged(emu):
    _record()
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=30)
    run(emu, 2)

    [recording] = Recording.objects.all()
    assert recording.bridge == bridge and recording.call_sid == leg.sid
    [live] = [r for r in emu.recordings.values() if r["sid"] == recording.sid]
    assert live["call_sid"] == leg.sid
    assert live["channels"] == 2
    assert live["status"] == "in-progress"
    assert live["source"] == "StartCallRecordingAPI"
    assert conference.record is False  # one path: no conference recording as well


def test_the_status_callback_keeps_the_duration_when_the_call_ends(emu):
    _record()
    _connected_call(emu, talk_seconds=30)
    run(emu, 60)

    [recording] = Recording.objects.all()
    assert recording.status == "completed"
    assert recording.ended_at is not None
    assert recording.duration_seconds == emu.recordings[recording.sid]["duration"]
    assert 0 < recording.duration_seconds < 30  # from the bridge, not the notice
    assert recording.media_url.endswith(f"/Recordings/{recording.sid}")


def test_a_queue_that_does_not_record_starts_no_recording(emu):
    Queue.objects.update(record_answered_calls=False)
    _connected_call(emu, talk_seconds=20)
    run(emu, 40)

    assert not Recording.objects.exists()
    assert not emu.recordings


def test_the_desk_pauses_and_resumes_the_recording_and_the_pause_is_left_out(emu, client):
    _record()
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=40)
    run(emu, 2)
    client.force_login(agent.user)
    assert client.get("/agent/call/recording").json() == {"recording": "recording"}
    [recording] = Recording.objects.all()

    assert client.post("/agent/call/recording/pause").json() == {"recording": "paused"}
    assert emu.recordings[recording.sid]["status"] == "paused"
    assert emu.recordings[recording.sid]["pause_behavior"] == "skip"
    run(emu, 10)
    assert client.post("/agent/call/recording/resume").json() == {"recording": "recording"}
    assert emu.recordings[recording.sid]["status"] == "in-progress"
    run(emu, 60)

    recording.refresh_from_db()
    assert recording.status == "completed" and recording.paused is False
    assert [p["status"] for p in recording.pauses] == ["paused", "in-progress"]
    live = emu.recordings[recording.sid]
    assert live["skipped"] == pytest.approx(10, abs=0.6)
    assert recording.duration_seconds == live["duration"]


def test_the_desk_cannot_pause_a_call_that_is_not_recorded(emu, client):
    Queue.objects.update(record_answered_calls=False)
    agent, *_ = _connected_call(emu, talk_seconds=30)
    client.force_login(agent.user)

    assert client.get("/agent/call/recording").json() == {"recording": ""}
    response = client.post("/agent/call/recording/pause")
    assert response.status_code == 409 and response.json()["error"]
    assert not emu.recordings


def test_the_purge_deletes_old_recordings_at_twilio_and_here_and_keeps_recent_ones(emu, settings):
    from datetime import timedelta

    from routing.tasks import purge_recordings

    _record()
    _connected_call(emu, talk_seconds=20)
    run(emu, 40)
    old, new = Recording.objects.get(), None
    Recording.objects.filter(pk=old.pk).update(ended_at=emu.datetime_at() - timedelta(days=100))
    _connected_call(emu, talk_seconds=20)
    run(emu, 40)
    new = Recording.objects.exclude(pk=old.pk).get()
    assert set(emu.recordings) >= {old.sid, new.sid}

    settings.RECORDING_RETENTION_DAYS = 90
    assert purge_recordings.call() == 1

    assert old.sid not in emu.recordings and new.sid in emu.recordings
    assert list(Recording.objects.values_list("sid", flat=True)) == [new.sid]


def test_retention_zero_keeps_recordings_forever(emu, settings):
    from datetime import timedelta

    from routing.tasks import purge_recordings

    _record()
    _connected_call(emu, talk_seconds=20)
    run(emu, 40)
    Recording.objects.update(ended_at=emu.datetime_at() - timedelta(days=1000))

    settings.RECORDING_RETENTION_DAYS = 0
    assert purge_recordings.call() == 0
    assert Recording.objects.count() == 1 and len(emu.recordings) == 1


def test_a_start_begun_by_a_lost_worker_keeps_twilios_recording_instead_of_a_second(emu):
    from routing.clocks import clock_mark
    from routing.models import Clock
    from routing.recordings import RECORD_MARK
    from routing.tasks import start_recording

    _record()
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=40)
    run(emu, 2)
    [first] = Recording.objects.all()
    # The worker died after Twilio answered and before the row was stored: its mark stays.
    Recording.objects.all().delete()
    clock_mark(name=RECORD_MARK + leg.sid, now=emu.datetime_at())

    assert start_recording.call(bridge_id=bridge.pk) == first.sid

    assert [r["sid"] for r in emu.recordings.values()] == [first.sid]
    [kept] = Recording.objects.all()
    assert kept.bridge == bridge and kept.call_sid == leg.sid
    assert not Clock.objects.filter(name__startswith=RECORD_MARK).exists()


def test_a_start_whose_lost_worker_never_reached_twilio_records_once(emu):
    from routing.clocks import clock_mark
    from routing.recordings import RECORD_MARK
    from routing.tasks import start_recording

    Queue.objects.update(record_answered_calls=False)
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=40)
    run(emu, 2)
    assert not emu.recordings
    _record()
    clock_mark(name=RECORD_MARK + leg.sid, now=emu.datetime_at())  # died before calls.create

    sid = start_recording.call(bridge_id=bridge.pk)

    assert [r["sid"] for r in emu.recordings.values()] == [sid]
    assert emu.recordings[sid]["status"] == "in-progress"
    assert list(Recording.objects.values_list("sid", flat=True)) == [sid]
