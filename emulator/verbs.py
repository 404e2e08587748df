"""The verbs a leg executes (Say, Play, Pause, Redirect, Hangup, Reject, Leave, Gather, Record)."""

from email.utils import format_datetime
from urllib.parse import urlsplit

from .clock import Wait
from .model import END, LEAVE, DigitsPressed, Hangup, KeyPressed, Next, new_sid
from .speech import play_digits_seconds, say_seconds
from .twiml import bool_attr, int_attr, method_attr, say_text


class VerbsMixin:
    """Verb handlers of the Emulator, dispatched through ``Emulator.VERBS``."""

    def verb_say(self, leg, verb, doc, ctx):
        text = say_text(verb)
        language = verb.get("language", "en-US")
        loop = int_attr(verb.get("loop"), 1)
        seconds = say_seconds(text, language)
        count = 0
        while loop <= 0 or count < loop:
            leg.note("say", text=text, language=language, voice=verb.get("voice", ""))
            yield Wait(seconds)
            count += 1
            if seconds == 0:
                break
        return None

    def play_seconds_for(self, url: str) -> float:
        if url in self.play_durations:
            return float(self.play_durations[url])
        path = urlsplit(url).path
        for key, seconds in self.play_durations.items():
            if key == path:
                return float(seconds)
        return float(self.play_seconds)

    def _play_url(self, leg, url, loop):
        seconds = self.play_seconds_for(url)
        count = 0
        while loop <= 0 or count < loop:
            leg.note("play", url=url)
            yield Wait(seconds)
            count += 1
            if seconds == 0:
                break

    def verb_play(self, leg, verb, doc, ctx):
        loop = int_attr(verb.get("loop"), 1)
        digits = verb.get("digits")
        if digits:
            count = 0
            while loop <= 0 or count < loop:  # loop="0": until the call moves on
                leg.note("play-digits", text=digits)
                yield Wait(play_digits_seconds(digits))
                count += 1
            return None
        url = self.absolute((verb.text or "").strip(), doc.url)
        yield from self._play_url(leg, url, loop)
        return None

    def verb_pause(self, leg, verb, doc, ctx):
        seconds = max(0, int_attr(verb.get("length"), 1))
        leg.note("pause", seconds=seconds)
        yield Wait(seconds)
        return None

    def verb_redirect(self, leg, verb, doc, ctx):
        url = self.absolute((verb.text or "").strip() or doc.url, doc.url)
        leg.note("redirect", url=url)
        return Next(url, method_attr(verb.get("method")))
        yield  # pragma: no cover - makes this a generator

    def verb_hangup(self, leg, verb, doc, ctx):
        leg.note("hangup", text="app")
        leg.end_reason = "app"
        return END
        yield  # pragma: no cover

    def verb_reject(self, leg, verb, doc, ctx):
        # Only meaningful as the first verb before answering; Twilio hangs up otherwise.
        leg.note("hangup", text="reject after answer")
        return END
        yield  # pragma: no cover

    def verb_leave(self, leg, verb, doc, ctx):
        if ctx == "wait":
            leg.note("leave")
            return LEAVE
        leg.note("leave", ignored=True)  # outside a queue <Leave> does nothing
        return None
        yield  # pragma: no cover

    def verb_gather(self, leg, verb, doc, ctx):
        action = self.absolute(verb.get("action") or doc.url, doc.url)
        method = method_attr(verb.get("method"))
        timeout = max(0, int_attr(verb.get("timeout"), 5))
        num_digits = int_attr(verb.get("numDigits"), 0)
        finish_on_key = verb.get("finishOnKey", "#")
        on_empty = bool_attr(verb.get("actionOnEmptyResult"))
        dtmf = "dtmf" in verb.get("input", "dtmf")
        leg.note("gather", url=action, numDigits=num_digits, timeout=timeout)
        if dtmf and getattr(leg.actor, "live", False):
            digits, finished_on = yield from self._gather_live(
                leg, verb, doc, ctx, timeout, num_digits, finish_on_key
            )
        else:
            keys = leg.actor.keys_for_next_prompt() if dtmf else None
            digits, finished_on = yield from self._gather_scripted(
                leg, verb, doc, ctx, keys, timeout, num_digits, finish_on_key
            )
        if not digits:
            leg.note("no-input", text=finished_on)
            if on_empty:
                return Next(action, method, {"Digits": "", "FinishedOnKey": finished_on})
            return None
        return Next(action, method, {"Digits": digits, "FinishedOnKey": finished_on})

    def _gather_live(self, leg, verb, doc, ctx, timeout, num_digits, finish_on_key):
        """A person presses keys when they like: during the prompt (which stops it) or after;
        ``timeout`` of silence after the prompt or after a key ends the gather."""
        digits, finished_on, pressed = "", "", ""
        leg.gathering = True
        try:
            try:
                for child in verb:
                    yield from self.VERBS[child.tag](self, leg, child, doc, ctx)
            except DigitsPressed as press:
                leg.note("barge-in")
                pressed = press.digits
            while True:
                for key in pressed:
                    leg.note("keys", text=key)
                    if finish_on_key and key in finish_on_key:
                        return digits, key
                    digits += key
                    if num_digits and len(digits) >= num_digits:
                        return digits, finished_on
                try:
                    yield Wait(timeout)
                except DigitsPressed as press:
                    pressed = press.digits
                    continue
                return digits, finished_on
        finally:
            leg.gathering = False

    def _gather_scripted(self, leg, verb, doc, ctx, keys, timeout, num_digits, finish_on_key):
        """A scripted caller's keys for this prompt (None: silence), at its own pace."""
        think = getattr(leg.actor, "think_seconds", 1.0)
        barge_in = None
        if keys is not None and getattr(leg.actor, "barge_in", False) and len(verb):
            # A caller who knows the menu presses during the prompt, which stops it.
            barge_in = self.sim.schedule(self.sim.now + think, leg.process.interrupt, KeyPressed())
        try:
            for child in verb:
                yield from self.VERBS[child.tag](self, leg, child, doc, ctx)
        except KeyPressed:
            leg.note("barge-in")
            think = 0.0
        finally:
            self.sim.cancel(barge_in)
        digits, finished_on = "", ""
        if keys is None:
            yield Wait(timeout)
        else:
            if barge_in is not None and think:
                think = max(0.0, barge_in[0] - self.sim.now)  # the prompt ended before the key
            yield Wait(think)
            complete = False
            for index, key in enumerate(keys):
                leg.note("keys", text=key)
                if finish_on_key and key in finish_on_key:
                    finished_on, complete = key, True
                    break
                digits += key
                if num_digits and len(digits) >= num_digits:
                    complete = True
                    break
                if index < len(keys) - 1:
                    gap = getattr(leg.actor, "key_gap", 1.0)
                    if gap > timeout:  # Twilio's timeout also runs between key presses
                        yield Wait(timeout)
                        complete = True
                        break
                    yield Wait(gap)
            if not complete:
                yield Wait(timeout)
        return digits, finished_on

    def verb_record(self, leg, verb, doc, ctx):
        action = self.absolute(verb.get("action") or doc.url, doc.url)
        method = method_attr(verb.get("method"))
        max_length = max(1, int_attr(verb.get("maxLength"), 3600))
        timeout = max(0, int_attr(verb.get("timeout"), 5))
        finish_on_key = verb.get("finishOnKey", "1234567890*#")
        callback = verb.get("recordingStatusCallback")
        callback_method = method_attr(verb.get("recordingStatusCallbackMethod"))
        if bool_attr(verb.get("playBeep"), True):
            leg.note("beep")
            yield Wait(1)
        speaking = min(float(getattr(leg.actor, "message_seconds", 0.0) or 0.0), max_length)
        key = getattr(leg.actor, "record_key", None)  # a scripted caller's key after speaking
        started = self.sim.now
        hung = None
        finished_on = None
        leg.recording_keys = finish_on_key  # a live caller's key ends it (see press_keys)
        try:
            if speaking:
                yield Wait(speaking)
            if key and finish_on_key and key in finish_on_key:
                leg.note("keys", text=key)
                finished_on = key
            else:
                yield Wait(min(timeout, max_length - speaking))
        except Hangup as hangup:
            hung = hangup
        except DigitsPressed as pressed:
            finished_on = next((k for k in pressed.digits if k in finish_on_key), None)
            leg.note("keys", text=pressed.digits)
        finally:
            leg.recording_keys = ""
        duration = int(min(self.sim.now - started, speaking) + 1e-9)
        if duration <= 0:
            leg.note("record", seconds=0)
            if hung:
                raise hung
            return None  # nothing recorded: Twilio skips the action and falls through
        recording = self._recording(leg, duration, source="RecordVerb")
        recording["started_at"] = started
        fields = {
            "RecordingUrl": recording["url"],
            "RecordingSid": recording["sid"],
            "RecordingDuration": str(duration),
        }
        if hung:
            fields["Digits"] = "hangup"
        elif finished_on:
            fields["Digits"] = finished_on
        if callback:
            self._recording_status(
                leg, recording, self.absolute(callback, doc.url), callback_method
            )
        if hung:
            self._request_ignoring(leg, Next(action, method, fields))
            raise hung
        return Next(action, method, fields)

    def _recording(
        self, leg, seconds: int, *, source: str, channels: int = 1, conference_sid=None
    ) -> dict:
        sid = new_sid("RE")
        url = self.recording_url(sid)
        recording = {
            "sid": sid,
            "call_sid": leg.sid,
            "url": url,
            "duration": seconds,
            "channels": channels,
            "source": source,
            "started_at": self.sim.now - seconds,
            "conference_sid": conference_sid,
            "status": "completed",
            "created_at": self.sim.now,
            "updated_at": self.sim.now,
        }
        self.recordings[sid] = recording
        leg.recording = recording
        leg.note("record", url=url, seconds=seconds, source=source)
        return recording

    def _recording_status(self, leg, recording: dict, url: str, method: str) -> None:
        self._request(
            leg,
            url,
            method,
            {
                "AccountSid": self.account_sid,
                "CallSid": leg.sid,
                "RecordingSid": recording["sid"],
                "RecordingUrl": recording["url"],
                "RecordingStatus": "completed",
                "RecordingDuration": str(recording["duration"]),
                "RecordingChannels": str(recording["channels"]),
                "RecordingSource": recording["source"],
                "RecordingStartTime": format_datetime(
                    self.datetime_at(recording["started_at"]), usegmt=True
                ),
            },
            kind="recording-status",
        )
