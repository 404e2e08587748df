"""Recordings of answered calls (queues that record them): started by REST on the customer's leg
once customer and agent are together — a queued caller in the bridge, or a callback's customer
in its conference (the customer heard the queue's recording notice before joining) —
dual-channel; paused and resumed by the agent at the desk; their status callback keeps the
duration; the audio is fetched from Twilio by the app (never linked)."""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from agents.models import Agent
from telephony.client import get_client

from .clocks import clock_mark, clock_unmark
from .control import CallControlError, bridge_of_agent
from .models import Bridge, Callback, CallbackStatus, Recording
from .rest import with_retry
from .services import _url, public_base_url

logger = logging.getLogger("routing")

# A start begun: a worker lost between Twilio's answer and the Recording row leaves this mark,
# and the next run asks Twilio for the recording instead of starting a second one.
RECORD_MARK = "record:"


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


def recording_callback_customer_joined(*, callback: Callback, call_sid: str) -> bool:
    """The callback's conference says a participant joined: when it is the customer (who heard
    the queue's recording notice before joining) of a recording queue's connected callback,
    start recording like a queued caller's. True when a start was enqueued."""
    from .tasks import start_recording

    if not callback.queue.record_answered_calls or not call_sid:
        return False
    if callback.status != CallbackStatus.CONNECTED or call_sid != callback.customer_call_sid:
        return False
    if callback.recordings.filter(call_sid=call_sid).exists():
        return False
    start_recording.enqueue(callback_id=callback.pk)
    return True


def recording_start(
    *, now: datetime, bridge_id: int | None = None, callback_id: int | None = None
) -> Recording | None:
    """calls(<customer>).recordings.create(dual), its completed status to our webhook: the
    caller's leg of a bridge, or the customer's leg of a connected callback."""
    if bridge_id is not None:
        bridge = Bridge.objects.select_related("visit__call").get(pk=bridge_id)
        if bridge.ended_at is not None:
            return None
        owner, call = {"bridge": bridge}, bridge.visit.call
        call_sid = call.sid
    else:
        callback = Callback.objects.select_related("visit__call").get(pk=callback_id)
        if callback.status != CallbackStatus.CONNECTED or not callback.customer_call_sid:
            return None
        owner, call = {"callback": callback}, callback.visit.call
        call_sid = callback.customer_call_sid
    if Recording.objects.filter(call_sid=call_sid, **owner).exists():
        return None
    client = get_client()
    marker = RECORD_MARK + call_sid
    made = None
    if not clock_mark(name=marker, now=now):
        # Begun by a worker that died: Twilio may be recording already. Adopt that recording.
        live = with_retry(lambda: client.calls(call_sid).recordings.list())
        made = next((r for r in live if r.status in ("in-progress", "paused")), None)
        if made is not None:
            logger.warning("recording %s of %s begun by a lost worker: kept", made.sid, call_sid)
    if made is None:
        callback_url = _url(public_base_url(call), "routing:recording-status")
        made = with_retry(
            lambda: client.calls(call_sid).recordings.create(
                recording_channels="dual",
                recording_status_callback=callback_url,
                recording_status_callback_event=["completed"],
            )
        )
    recording = Recording.objects.create(
        **owner,
        call_sid=call_sid,
        sid=made.sid,
        status=made.status or "in-progress",
        channels=int(made.channels or 2),
        media_url=_media_url(made.uri),
        started_at=now,
    )
    clock_unmark(name=marker)
    return recording


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


def _open_recordings(agent: Agent):
    """The unfinished recordings of the agent's call: of the bridge they answered, or of the
    callback they placed (connected, on the agent's current leg)."""
    bridge = bridge_of_agent(agent)
    if bridge is not None:
        return bridge.recordings.filter(ended_at__isnull=True)
    if not agent.current_call_sid:
        return Recording.objects.none()
    return Recording.objects.filter(
        ended_at__isnull=True,
        callback__agent=agent,
        callback__agent_call_sid=agent.current_call_sid,
        callback__status=CallbackStatus.CONNECTED,
    )


def _live_recording(agent: Agent) -> Recording:
    recording = _open_recordings(agent).order_by("-started_at").first()
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
    recording = _open_recordings(agent).order_by("-started_at").first()
    if recording is None:
        return ""
    return "paused" if recording.paused else "recording"


# A recording whose ``completed`` callback has not come this long after it started is asked
# about at Twilio (no contact-center call lasts a day; Twilio ends a call at its maximum
# duration, warning 32015).
UNFINISHED_AFTER = timedelta(days=1)


def _delete_at_twilio(client, recording: Recording) -> bool:
    """Delete the recording at Twilio; True when it is gone there (a 404 counts as gone)."""
    from twilio.base.exceptions import TwilioRestException

    try:
        with_retry(lambda: client.recordings(recording.sid).delete())
    except TwilioRestException as exc:
        if exc.status != 404:
            logger.warning("recording %s not deleted at Twilio: %s", recording.sid, exc)
            return False
    return True


def _settle_unfinished(client, recording: Recording, *, before: datetime, now: datetime) -> bool:
    """A recording whose completed callback never came: ask Twilio. Gone there → the row goes;
    completed there and within retention → the row is completed (kept until its retention
    ends); past retention, absent or deleted there → deleted at Twilio and here; still
    recording a day later → stopped (its completed callback then finishes it); stopped or
    processing → left for the next run. True when the row was deleted."""
    from twilio.base.exceptions import TwilioRestException

    try:
        found = with_retry(lambda: client.recordings(recording.sid).fetch())
    except TwilioRestException as exc:
        if exc.status == 404:
            recording.delete()
            return True
        logger.warning("recording %s not fetched at Twilio: %s", recording.sid, exc)
        return False
    status = found.status or ""
    if status in ("stopped", "processing"):
        return False  # finishing at Twilio: its completed callback, or the next run
    if status in ("in-progress", "paused"):
        try:
            with_retry(
                lambda: (
                    client.calls(recording.call_sid)
                    .recordings(recording.sid)
                    .update(status="stopped")
                )
            )
        except TwilioRestException as exc:
            logger.warning("recording %s not stopped at Twilio: %s", recording.sid, exc)
        return False
    if status == "completed" and recording.started_at >= before:
        recording.status = status
        if str(found.duration or "").isdigit():
            recording.duration_seconds = int(found.duration)
        recording.media_url = recording.media_url or _media_url(found.uri)
        recording.ended_at = now
        recording.paused = False
        recording.save()
        return False
    if status not in ("completed", "absent", "deleted"):
        logger.warning("recording %s: unexpected status at Twilio %r", recording.sid, status)
        return False
    if _delete_at_twilio(client, recording):
        recording.delete()
        return True
    return False


def recordings_purge(*, before: datetime, now: datetime, limit: int = 500) -> int:
    """Delete recordings that ended before ``before``: at Twilio first (recordings(RE).delete()),
    then their row. One Twilio already lost (404) goes too; one Twilio refused stays for the
    next run. Recordings whose completed callback never came are settled with Twilio once a
    day old (``_settle_unfinished``). Returns how many were deleted."""
    client = get_client()
    deleted = 0
    old = Recording.objects.filter(ended_at__lt=before).order_by("ended_at")[:limit]
    for recording in old:
        if _delete_at_twilio(client, recording):
            recording.delete()
            deleted += 1
    unfinished = Recording.objects.filter(
        ended_at__isnull=True, started_at__lt=now - UNFINISHED_AFTER
    ).order_by("started_at")[:limit]
    for recording in unfinished:
        deleted += _settle_unfinished(client, recording, before=before, now=now)
    return deleted


def quality_review_save(*, recording: Recording, reviewer, checked: set[str], comment: str, now):
    """Score a recorded call (one review per recording; saving again replaces it). The agent is
    the one who answered the bridge."""
    from .models import REVIEW_CHECKLIST, QualityReview

    checks = {key: key in checked for key, _label in REVIEW_CHECKLIST}
    agent = recording.agent
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
