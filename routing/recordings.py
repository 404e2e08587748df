"""Recordings of answered calls (queues that record them): started by REST on the caller's leg
once caller and agent are bridged (the caller heard the queue's recording notice before joining),
dual-channel; paused and resumed by the agent at the desk; their status callback keeps the
duration; the audio is fetched from Twilio by the app (never linked)."""

import logging
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from agents.models import Agent
from telephony.client import get_client

from .control import CallControlError, bridge_of_agent
from .models import Bridge, Recording
from .rest import with_retry
from .services import _url, public_base_url

logger = logging.getLogger("routing")


def recording_caller_joined(*, bridge: Bridge, call_sid: str) -> bool:
    """The conference says a participant joined: when it is the caller of a recording queue's
    bridge, start recording (a task: one REST request). True when a start was enqueued."""
    from .tasks import start_recording

    if not bridge.visit.queue.record_answered_calls or call_sid != bridge.visit.call.sid:
        return False
    if bridge.ended_at is not None or bridge.recordings.filter(call_sid=call_sid).exists():
        return False
    start_recording.enqueue(bridge_id=bridge.pk)
    return True


def recording_start(*, bridge_id: int, now: datetime) -> Recording | None:
    """calls(<caller>).recordings.create(dual), its completed status to our webhook."""
    bridge = Bridge.objects.select_related("visit__call").get(pk=bridge_id)
    call_sid = bridge.visit.call.sid
    if bridge.ended_at is not None or bridge.recordings.filter(call_sid=call_sid).exists():
        return None
    callback = _url(public_base_url(bridge.visit.call), "routing:recording-status")
    client = get_client()
    made = with_retry(
        lambda: client.calls(call_sid).recordings.create(
            recording_channels="dual",
            recording_status_callback=callback,
            recording_status_callback_event=["completed"],
        )
    )
    return Recording.objects.create(
        bridge=bridge,
        call_sid=call_sid,
        sid=made.sid,
        status=made.status or "in-progress",
        channels=int(made.channels or 2),
        media_url=_media_url(made.uri),
        started_at=now,
    )


def _media_url(uri: str | None) -> str:
    """The recording's address without an extension (``uri`` ends in .json)."""
    if not uri:
        return ""
    return "https://api.twilio.com" + uri.removesuffix(".json")


def recording_status_record(*, params, now: datetime) -> Recording | None:
    """The recording status callback: status, duration, channels and media URL."""
    recording = Recording.objects.filter(sid=params.get("RecordingSid", "")).first()
    if recording is None:
        return None
    recording.status = params.get("RecordingStatus", recording.status)
    if params.get("RecordingDuration", "").isdigit():
        recording.duration_seconds = int(params["RecordingDuration"])
    if params.get("RecordingChannels", "").isdigit():
        recording.channels = int(params["RecordingChannels"])
    if params.get("RecordingUrl"):
        recording.media_url = params["RecordingUrl"]
    if recording.status in ("completed", "absent", "failed"):
        recording.ended_at = now
        recording.paused = False
    recording.save()
    return recording


def _live_recording(agent: Agent) -> Recording:
    bridge = bridge_of_agent(agent)
    recording = (
        bridge.recordings.filter(ended_at__isnull=True).order_by("-started_at").first()
        if bridge is not None
        else None
    )
    if recording is None:
        raise CallControlError(_("This call is not being recorded."))
    return recording


def recording_pause(*, agent: Agent, now: datetime, paused: bool = True) -> Recording:
    """Pause (or resume) the recording of the agent's call: the pause is skipped in the audio
    (payment details are never recorded, not even as silence)."""
    recording = _live_recording(agent)
    status = "paused" if paused else "in-progress"
    client = get_client()
    with_retry(
        lambda: (
            client.calls(recording.call_sid)
            .recordings("Twilio.CURRENT")
            .update(status=status, pause_behavior="skip")
        )
    )
    with transaction.atomic():
        recording = Recording.objects.select_for_update().get(pk=recording.pk)
        recording.paused = paused
        recording.status = status
        recording.pauses = [*recording.pauses, {"status": status, "at": now.isoformat()}]
        recording.save(update_fields=["paused", "status", "pauses"])
    return recording


def recording_resume(*, agent: Agent, now: datetime) -> Recording:
    return recording_pause(agent=agent, now=now, paused=False)


def recording_state(*, agent: Agent) -> str:
    """ "" (not recorded), "recording" or "paused" — for the desk."""
    bridge = bridge_of_agent(agent)
    if bridge is None:
        return ""
    recording = bridge.recordings.filter(ended_at__isnull=True).order_by("-started_at").first()
    if recording is None:
        return ""
    return "paused" if recording.paused else "recording"


def recordings_purge(*, before: datetime, limit: int = 500) -> int:
    """Delete recordings that ended before ``before``: at Twilio first (recordings(RE).delete()),
    then their row. One Twilio already lost (404) goes too; one Twilio refused stays for the
    next run. Returns how many were deleted."""
    from twilio.base.exceptions import TwilioRestException

    old = Recording.objects.filter(ended_at__lt=before).order_by("ended_at")[:limit]
    client = get_client()
    deleted = 0
    for recording in old:
        try:
            with_retry(lambda sid=recording.sid: client.recordings(sid).delete())
        except TwilioRestException as exc:
            if exc.status != 404:
                logger.warning("recording %s not deleted at Twilio: %s", recording.sid, exc)
                continue
        recording.delete()
        deleted += 1
    return deleted


def quality_review_save(*, recording: Recording, reviewer, checked: set[str], comment: str, now):
    """Score a recorded call (one review per recording; saving again replaces it). The agent is
    the one who answered the bridge."""
    from .models import REVIEW_CHECKLIST, QualityReview

    checks = {key: key in checked for key, _label in REVIEW_CHECKLIST}
    agent = recording.bridge.offer.agent
    review, _created = QualityReview.objects.update_or_create(
        recording=recording,
        defaults={
            "agent": agent,
            "reviewer": reviewer,
            "checks": checks,
            "comment": comment.strip()[:2000],
            "reviewed_at": now,
        },
    )
    return review
