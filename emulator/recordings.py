"""Recordings started on a live call through the REST API, and the audio the emulator makes up.

A recording is a dict in ``Emulator.recordings`` (shared with <Record>, <Dial record> and
conference recordings): ``sid``, ``call_sid``, ``conference_sid``, ``url``, ``status``
(``in-progress``, ``paused``, ``stopped``, ``completed``), ``duration`` (seconds, final once
completed), ``channels``, ``source``, ``started_at``.
"""

import io
import math
import wave
from array import array
from email.utils import format_datetime

from .model import API_VERSION, new_sid
from .twiml import TwimlError

SAMPLE_RATE = 8000
TONE_SECONDS = 0.25  # a short 440 Hz tone opens each recording; the rest is silence


def recording_wav(recording: dict) -> bytes:
    """A valid 8 kHz 16-bit PCM WAV as long as the recording (stereo when dual-channel)."""
    channels = 2 if int(recording.get("channels") or 1) == 2 else 1
    frames = int(max(0, int(recording.get("duration") or 0)) * SAMPLE_RATE)
    tone = min(frames, int(TONE_SECONDS * SAMPLE_RATE))
    samples = array("h", bytes(2 * frames * channels))
    for index in range(tone):
        value = int(8000 * math.sin(2 * math.pi * 440 * index / SAMPLE_RATE))
        for channel in range(channels):
            samples[index * channels + channel] = value
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


class RecordingsMixin:
    """The Emulator's recordings of live calls (see engine.Emulator)."""

    api_base = "https://api.twilio.com"  # the local Twilio sets its own address

    def recording_url(self, sid: str) -> str:
        return f"{self.api_base}/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}"

    def start_recording(
        self,
        leg,
        *,
        channels: int = 1,
        status_callback: str | None = None,
        status_method: str = "POST",
        status_events=("completed",),
        trim: str = "do-not-trim",
        source: str = "StartCallRecordingAPI",
    ) -> dict:
        sid = new_sid("RE")
        recording = {
            "sid": sid,
            "call_sid": leg.sid,
            "conference_sid": None,
            "url": self.recording_url(sid),
            "duration": 0,
            "channels": channels,
            "source": source,
            "started_at": self.sim.now,
            "created_at": self.sim.now,
            "updated_at": self.sim.now,
            "status": "in-progress",
            "pause_behavior": "silence",
            "paused_at": None,
            "skipped": 0.0,  # seconds left out by pauses with pause_behavior=skip
            "callback": status_callback,
            "callback_method": status_method,
            "callback_events": set(status_events or ("completed",)),
            "trim": trim,
        }
        self.recordings[sid] = recording
        leg.live_recordings.append(recording)
        leg.note("record", url=recording["url"], source=source, status="in-progress")
        self._live_recording_status(leg, recording, "in-progress")
        return recording

    def update_recording(self, leg, recording: dict, status: str, pause_behavior=None) -> None:
        now = self.sim.now
        recording["updated_at"] = now
        if status == "paused" and recording["status"] == "in-progress":
            recording["status"] = "paused"
            recording["paused_at"] = now
            recording["pause_behavior"] = pause_behavior or "silence"
        elif status == "in-progress" and recording["status"] == "paused":
            if recording["pause_behavior"] == "skip":
                recording["skipped"] += now - recording["paused_at"]
            recording["status"] = "in-progress"
            recording["paused_at"] = None
        elif status == "stopped" and recording["status"] in ("in-progress", "paused"):
            self.complete_recording(leg, recording)

    def complete_recording(self, leg, recording: dict) -> None:
        if recording["status"] in ("completed", "stopped"):
            return
        now = self.sim.now
        if recording["status"] == "paused" and recording["pause_behavior"] == "skip":
            recording["skipped"] += now - recording["paused_at"]
        recording["duration"] = int(now - recording["started_at"] - recording["skipped"] + 1e-9)
        recording["status"] = "completed"
        recording["updated_at"] = now
        if recording in leg.live_recordings:
            leg.live_recordings.remove(recording)
        leg.recording = recording
        leg.note("record", url=recording["url"], seconds=recording["duration"], status="completed")
        self._live_recording_status(leg, recording, "completed")

    def _live_recording_status(self, leg, recording: dict, event: str) -> None:
        if not recording["callback"] or event not in recording["callback_events"]:
            return
        fields = {
            "AccountSid": self.account_sid,
            "CallSid": leg.sid,
            "RecordingSid": recording["sid"],
            "RecordingUrl": recording["url"],
            "RecordingStatus": event,
            "RecordingDuration": str(recording["duration"]) if event == "completed" else "0",
            "RecordingChannels": str(recording["channels"]),
            "RecordingSource": recording["source"],
            "RecordingStartTime": format_datetime(
                self.datetime_at(recording["started_at"]), usegmt=True
            ),
            "RecordingTrack": "both",
        }
        try:
            self._request(
                leg, recording["callback"], recording["callback_method"], fields, kind="recording"
            )
        except TwimlError as error:
            self._record_error(leg, 15003, recording["callback"], error.message)
