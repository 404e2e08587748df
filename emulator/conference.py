"""<Dial><Conference>: named rooms per account, who hears whom, and the conference's callbacks."""

from dataclasses import dataclass, field
from email.utils import format_datetime

from .clock import Interrupt, Wait
from .model import DigitsPressed, Hangup, Next, QueueWaitError, Redirected, new_sid
from .queueing import DEFAULT_HOLD_MUSIC
from .twiml import TwimlError, bool_attr, int_attr, method_attr

MAX_PARTICIPANTS = 250
# statusCallbackEvent word -> the StatusCallbackEvent values it subscribes to.
EVENT_WORDS = {
    "start": ("conference-start",),
    "end": ("conference-end",),
    "join": ("participant-join",),
    "leave": ("participant-leave",),
    "mute": ("participant-mute", "participant-unmute"),
    "hold": ("participant-hold", "participant-unhold"),
    "modify": ("participant-modify",),
    "speaker": ("participant-speech-start", "participant-speech-stop"),
    "announcement": ("announcement-end", "announcement-fail"),
}


def conference_events(words) -> set[str]:
    events: set[str] = set()
    for word in words:
        events.update(EVENT_WORDS.get(word, (word,)))
    return events


class ConferenceChanged(Interrupt):
    """Something about the conference changed for this participant: look again (start, hold,
    wait URL...)."""

    preempts_timer = True


class ConferenceLeft(Interrupt):
    """The participant is out: removed through the API (``kicked``) or the conference ended."""

    preempts_timer = True

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(eq=False)
class Participant:
    leg: object
    conference: "Conference"
    label: str | None = None
    muted: bool = False
    hold: bool = False
    coaching: bool = False
    call_sid_to_coach: str | None = None
    start_conference_on_enter: bool = True
    end_conference_on_exit: bool = False
    beep: str = "true"  # true | false | onEnter | onExit
    wait_url: str | None = None  # None: Twilio's default music; "": silence
    wait_method: str = "POST"
    hold_url: str | None = None
    hold_method: str = "GET"
    joined_at: float = 0.0
    updated_at: float = 0.0
    left_at: float | None = None
    status: str = "connected"
    queue_time: str = "0"
    # Ground truth: [start, end] of each hold (end None while held), and how it left: left,
    # hangup, kicked (Participants delete, timeLimit), ended (the conference ended), redirected
    # (a REST update moved the call to new TwiML), star (hangupOnStar).
    holds: list = field(default_factory=list)
    left_how: str | None = None

    @property
    def call_sid(self) -> str:
        return self.leg.sid


@dataclass(eq=False)
class Conference:
    sid: str
    friendly_name: str
    created_at: float
    status: str = "init"  # init | in-progress | completed
    updated_at: float = 0.0
    started_at: float | None = None
    ended_at: float | None = None
    participants: dict = field(default_factory=dict)  # CallSid -> Participant, in join order
    max_participants: int = MAX_PARTICIPANTS
    status_callback: str | None = None
    status_method: str = "POST"
    status_events: set = field(default_factory=set)
    sequence: int = 0
    record: bool = False
    recording_status_callback: str | None = None
    recording_status_method: str = "POST"
    reason_ended: str | None = None
    call_sid_ending: str | None = None
    ending: bool = False
    events: list = field(default_factory=list)  # (StatusCallbackEvent, fields), in order
    pending: list = field(default_factory=list)  # Participants created by REST, still ringing
    last_leg: object = None
    history: list = field(default_factory=list)  # every participant that joined, in join order

    def participant(self, key: str) -> Participant | None:
        """By CallSid or label."""
        found = self.participants.get(key)
        if found is None:
            found = next((p for p in self.participants.values() if p.label == key), None)
        return found

    def hears(self, listener: Participant) -> list[str]:
        """CallSids of the participants ``listener`` hears right now."""
        if self.status != "in-progress" or listener.hold:
            return []
        heard = []
        for speaker in self.participants.values():
            if speaker is listener or speaker.hold or speaker.muted or speaker.leg.muted:
                continue
            if speaker.coaching and speaker.call_sid_to_coach != listener.call_sid:
                continue
            heard.append(speaker.call_sid)
        return heard

    def state(self) -> dict:
        """What the scripting API shows (GET /emulator/conferences/<sid-or-name>)."""
        return {
            "sid": self.sid,
            "friendly_name": self.friendly_name,
            "status": self.status,
            "reason_conference_ended": self.reason_ended,
            "call_sid_ending_conference": self.call_sid_ending,
            "participants": [
                {
                    "call_sid": p.call_sid,
                    "label": p.label,
                    "address": party_address(p.leg),
                    "muted": p.muted,
                    "hold": p.hold,
                    "coaching": p.coaching,
                    "call_sid_to_coach": p.call_sid_to_coach,
                    "start_conference_on_enter": p.start_conference_on_enter,
                    "end_conference_on_exit": p.end_conference_on_exit,
                    "hears": self.hears(p),
                }
                for p in self.participants.values()
            ],
        }


def party_address(leg) -> str:
    """How a party is named in the scripting API: client:<identity> for softphones, else CallSid."""
    address = leg.from_ if leg.direction == "inbound" else leg.to
    return address if address.startswith("client:") else leg.sid


class ConferenceMixin:
    """The Emulator's conferences (see engine.Emulator)."""

    # --- lookup ------------------------------------------------------------------------------
    def conference_named(self, name: str) -> "Conference | None":
        """The account's live conference of that friendly name (not a completed one)."""
        return next(
            (c for c in self.conferences if c.friendly_name == name and c.status != "completed"),
            None,
        )

    def conference_by_sid(self, sid: str) -> "Conference | None":
        return next((c for c in self.conferences if c.sid == sid), None)

    def conference_for(self, key: str) -> "Conference | None":
        """By CF sid or friendly name (the live one, else the latest of that name)."""
        if key.startswith("CF"):
            found = self.conference_by_sid(key)
            if found is not None:
                return found
        live = self.conference_named(key)
        if live is not None:
            return live
        return next((c for c in reversed(self.conferences) if c.friendly_name == key), None)

    def _new_conference(self, name: str) -> Conference:
        conference = Conference(new_sid("CF"), name, self.sim.now, updated_at=self.sim.now)
        self.conferences.append(conference)
        return conference

    # --- ground truth ------------------------------------------------------------------------
    def conference_truth(self) -> list[dict]:
        """What happened in every conference, in virtual seconds since the clock started: each
        participant (``party``: client:<identity> for softphones, else the CallSid) with when it
        joined and left, how it left (``left_how``), its seconds in the room (the Dial action's
        ``DialCallDuration``), its holds and their seconds, and for one moved out by a REST
        redirect where it went next (``then``: ``("enqueue", queue)`` or ``("dial", number)``)."""
        return [
            {
                "sid": conference.sid,
                "friendly_name": conference.friendly_name,
                "started_at": conference.started_at,
                "ended_at": conference.ended_at,
                "participants": [_participant_truth(p) for p in conference.history],
            }
            for conference in self.conferences
        ]

    # --- the noun ----------------------------------------------------------------------------
    def _dial_conference(self, leg, noun, doc, time_limit: int, hangup_on_star: bool):
        """Generator -> (Dial action fields, Hangup or None). Redirected propagates."""
        name = (noun.text or "").strip()
        conference = self.conference_named(name) or self._new_conference(name)
        leg.note("dial", text=f"conference:{name}", conference_sid=conference.sid)
        max_participants = max(2, min(MAX_PARTICIPANTS, int_attr(noun.get("maxParticipants"), 250)))
        if not conference.participants:
            conference.max_participants = max_participants
        if len(conference.participants) >= conference.max_participants:
            leg.note("conference-full", text=name, size=len(conference.participants))
            if not conference.participants and conference.status == "init":
                self.conferences.remove(conference)
            return {"DialCallStatus": "failed", "DialCallDuration": "0"}, None
        callback = noun.get("statusCallback")
        if callback and conference.status_callback is None:
            # The first participant who names a statusCallback sets the conference's.
            conference.status_callback = self.absolute(callback, doc.url)
            conference.status_method = method_attr(noun.get("statusCallbackMethod"))
            words = (noun.get("statusCallbackEvent") or "start end").replace(",", " ").split()
            conference.status_events = conference_events(words)
        record = noun.get("record", "do-not-record")
        if record.startswith("record-from-start") and not conference.record:
            conference.record = True
            if noun.get("recordingStatusCallback"):
                conference.recording_status_callback = self.absolute(
                    noun.get("recordingStatusCallback"), doc.url
                )
                conference.recording_status_method = method_attr(
                    noun.get("recordingStatusCallbackMethod")
                )
        wait_url = noun.get("waitUrl")
        coach = noun.get("coach") or None
        participant = Participant(
            leg,
            conference,
            label=noun.get("participantLabel") or None,
            muted=bool_attr(noun.get("muted")),
            coaching=coach is not None,
            call_sid_to_coach=coach,
            start_conference_on_enter=bool_attr(noun.get("startConferenceOnEnter"), True),
            end_conference_on_exit=bool_attr(noun.get("endConferenceOnExit")),
            beep=(noun.get("beep") or "true"),
            wait_url=self.absolute(wait_url, doc.url) if wait_url else wait_url,
            wait_method=method_attr(noun.get("waitMethod")),
            joined_at=self.sim.now,
            updated_at=self.sim.now,
        )
        self._conference_join(conference, participant)
        leg.participant = participant
        leg.hangup_on_star = hangup_on_star
        timers = []
        if leg.talk_seconds is not None:
            timers.append(self.sim.schedule(self.sim.now + leg.talk_seconds, self.hangup, leg))
        timers.append(self.sim.schedule(self.sim.now + time_limit, self._kick, participant))
        hung = None
        reason = "left"
        try:
            while True:
                try:
                    if conference.status == "init":
                        yield from self._conference_music(
                            leg, participant.wait_url, participant.wait_method
                        )
                    elif participant.hold:
                        yield from self._conference_music(
                            leg, participant.hold_url, participant.hold_method
                        )
                    else:
                        yield Wait()
                except ConferenceChanged:
                    continue
                except DigitsPressed as pressed:
                    if "*" in pressed.digits:
                        leg.note("keys", text="*")
                        reason = "star"
                        break
        except ConferenceLeft as left:
            reason = left.reason
        except Hangup as hangup:
            hung = hangup
        except Redirected:
            reason = "redirected"
            raise
        except GeneratorExit:
            reason = "discarded"  # the emulator itself is being thrown away: no callbacks
            raise
        finally:
            for timer in timers:
                self.sim.cancel(timer)
            leg.participant = None
            leg.hangup_on_star = False
            # Redirected leaves as well (the call moves on to new TwiML).
            if reason != "discarded":
                participant.left_how = "hangup" if hung is not None else reason
                self._conference_leave(participant, kicked=reason == "kicked")
        seconds = int(self.sim.now - participant.joined_at + 1e-9)
        leg.note("conference-exit", text=name, seconds=seconds, reason=reason)
        return {"DialCallStatus": "completed", "DialCallDuration": str(seconds)}, hung

    def _kick(self, participant: Participant) -> None:
        leg = participant.leg
        if leg.process is not None and not leg.process.done:
            leg.process.interrupt(ConferenceLeft("kicked"))

    def _conference_music(self, leg, url, method):
        """One pass of wait/hold music: default music, silence ("") or TwiML played once."""
        if url is None:
            yield from self._play_url(leg, DEFAULT_HOLD_MUSIC, 1)
            return
        if url == "":
            yield Wait()
            return
        started = self.sim.now
        nxt = Next(url, method)
        try:
            while isinstance(nxt, Next):
                doc = yield from self._document(leg, nxt, "conference-wait")
                if isinstance(doc, tuple):
                    yield from self._play_url(leg, doc[1], 1)
                    break
                nxt = yield from self._execute(leg, doc, "conference-wait")
        except QueueWaitError:
            yield Wait()  # Twilio keeps the participant waiting, in silence
        if self.sim.now == started:
            yield Wait(1)

    # --- joining and leaving ------------------------------------------------------------------
    def _conference_join(self, conference: Conference, participant: Participant) -> None:
        others = list(conference.participants.values())
        conference.participants[participant.call_sid] = participant
        conference.history.append(participant)
        conference.last_leg = participant.leg
        conference.updated_at = self.sim.now
        participant.leg.note(
            "conference-join",
            text=conference.friendly_name,
            conference_sid=conference.sid,
            label=participant.label,
        )
        self._conference_event(conference, "participant-join", participant)
        if participant.beep in ("true", "onEnter"):
            for other in others:
                other.leg.note("beep", text="enter")
        if (
            conference.status == "init"
            and len(conference.participants) >= 2
            and any(p.start_conference_on_enter for p in conference.participants.values())
        ):
            self._conference_start(conference)

    def _conference_start(self, conference: Conference) -> None:
        conference.status = "in-progress"
        conference.started_at = conference.updated_at = self.sim.now
        self._conference_event(conference, "conference-start")
        self._conference_changed(conference)

    def _conference_changed(self, conference: Conference, only=None) -> None:
        for participant in list(conference.participants.values()):
            if only is not None and participant is not only:
                continue
            process = participant.leg.process
            if process is not None and not process.done:
                process.interrupt(ConferenceChanged())

    def _conference_leave(self, participant: Participant, *, kicked: bool = False) -> None:
        conference = participant.conference
        if conference.participants.get(participant.call_sid) is not participant:
            return
        del conference.participants[participant.call_sid]
        participant.status = "complete"
        participant.left_at = conference.updated_at = self.sim.now
        if participant.holds and participant.holds[-1][1] is None:
            participant.holds[-1][1] = self.sim.now  # left on hold
        conference.last_leg = participant.leg
        self._conference_event(conference, "participant-leave", participant)
        if conference.ending:
            if not conference.participants:
                self._conference_end(conference)
            return
        if participant.beep in ("true", "onExit"):
            for other in conference.participants.values():
                other.leg.note("beep", text="exit")
        if participant.end_conference_on_exit:
            reason = "participant-with-end-conference-on-exit-" + ("kicked" if kicked else "left")
            self.end_conference(conference, reason=reason, by=participant.call_sid)
        elif not conference.participants:
            conference.reason_ended = "last-participant-" + ("kicked" if kicked else "left")
            conference.call_sid_ending = participant.call_sid
            self._conference_end(conference)

    def end_conference(self, conference: Conference, *, reason: str, by: str | None = None):
        """End it: every participant leaves and continues with its own next TwiML."""
        if conference.status == "completed" or conference.ending:
            return
        conference.ending = True
        conference.reason_ended = reason
        conference.call_sid_ending = by
        live = [p for p in conference.participants.values() if not p.leg.ended]
        if not live:
            conference.participants.clear()
            self._conference_end(conference)
            return
        for participant in live:
            participant.leg.process.interrupt(ConferenceLeft("ended"))

    def _conference_end(self, conference: Conference) -> None:
        if conference.status == "completed":
            return
        started = conference.started_at
        conference.ending = False
        conference.status = "completed"
        conference.ended_at = conference.updated_at = self.sim.now
        if started is None:
            return  # never started: no conference-end (nor recording)
        extra = {"ReasonConferenceEnded": conference.reason_ended or ""}
        if conference.call_sid_ending:
            extra["CallSidEndingConference"] = conference.call_sid_ending
        self._conference_event(conference, "conference-end", extra=extra)
        if conference.record and conference.last_leg is not None:
            seconds = int(self.sim.now - started + 1e-9)
            recording = self._recording(
                conference.last_leg, seconds, source="Conference", conference_sid=conference.sid
            )
            recording["call_sid"] = None
            if conference.recording_status_callback:
                self._recording_status(
                    conference.last_leg,
                    recording,
                    conference.recording_status_callback,
                    conference.recording_status_method,
                )

    # --- changes (REST) ------------------------------------------------------------------------
    def update_participant(self, participant: Participant, **changes) -> None:
        """Apply a Participants update: muted, hold, hold_url/method, wait_url/method,
        coaching, call_sid_to_coach, end_conference_on_exit, beep_on_exit, announce_url."""
        conference = participant.conference
        participant.updated_at = conference.updated_at = self.sim.now
        modified = False
        for name in ("hold_url", "wait_url"):
            if name in changes:
                url = changes[name]
                setattr(participant, name, self.absolute(url) if url else url)
        for name in ("hold_method", "wait_method"):
            if name in changes:
                setattr(participant, name, method_attr(changes[name]))
        if "end_conference_on_exit" in changes:
            participant.end_conference_on_exit = bool(changes["end_conference_on_exit"])
            modified = True
        if "beep_on_exit" in changes:
            on_exit = bool(changes["beep_on_exit"])
            entering = participant.beep in ("true", "onEnter")
            participant.beep = {
                (True, True): "true",
                (True, False): "onEnter",
                (False, True): "onExit",
                (False, False): "false",
            }[(entering, on_exit)]
        if "coaching" in changes or "call_sid_to_coach" in changes:
            coaching = changes.get("coaching", participant.coaching)
            participant.coaching = bool(coaching)
            participant.call_sid_to_coach = (
                changes.get("call_sid_to_coach", participant.call_sid_to_coach)
                if participant.coaching
                else None
            )
            modified = True
        if "muted" in changes and bool(changes["muted"]) != participant.muted:
            participant.muted = bool(changes["muted"])
            event = "participant-mute" if participant.muted else "participant-unmute"
            self._conference_event(conference, event, participant)
        if "hold" in changes and bool(changes["hold"]) != participant.hold:
            participant.hold = bool(changes["hold"])
            if participant.hold:
                participant.holds.append([self.sim.now, None])
            elif participant.holds:
                participant.holds[-1][1] = self.sim.now
            event = "participant-hold" if participant.hold else "participant-unhold"
            self._conference_event(conference, event, participant)
            self._conference_changed(conference, only=participant)
        elif "hold_url" in changes and participant.hold:
            self._conference_changed(conference, only=participant)
        if "wait_url" in changes and conference.status == "init":
            self._conference_changed(conference, only=participant)
        if modified:
            self._conference_event(conference, "participant-modify", participant)
        if changes.get("announce_url"):
            self._announce(conference, participant, self.absolute(changes["announce_url"]))

    def _announce(self, conference: Conference, participant: Participant | None, url: str):
        """An announcement: what its TwiML says is noted on the listeners' transcripts."""
        leg = (participant.leg if participant else None) or conference.last_leg
        try:
            doc = self._load(leg, Next(url, "POST"), "conference-wait")
        except TwimlError as error:
            self._record_error(leg, error.code, url, error.message)
            self._conference_event(conference, "announcement-fail", participant)
            return
        listeners = [participant] if participant else list(conference.participants.values())
        if not isinstance(doc, tuple):
            for verb in doc.root:
                text = "".join(verb.itertext()).strip()
                for listener in listeners:
                    kind = "say" if verb.tag == "Say" else "play"
                    if kind == "say":
                        listener.leg.note(
                            "say", text=text, language=verb.get("language", "en-US"), voice=""
                        )
                    else:
                        listener.leg.note("play", url=self.absolute(text, doc.url))
        self._conference_event(conference, "announcement-end", participant)

    def remove_participant(self, participant: Participant) -> None:
        """Participants delete: out of the conference; the call continues with its next TwiML."""
        self._kick(participant)

    # --- callbacks -----------------------------------------------------------------------------
    def _conference_event(self, conference: Conference, event: str, participant=None, extra=None):
        conference.sequence += 1
        fields = {
            "AccountSid": self.account_sid,
            "ConferenceSid": conference.sid,
            "FriendlyName": conference.friendly_name,
            "StatusCallbackEvent": event,
            "SequenceNumber": str(conference.sequence),
            "Timestamp": format_datetime(self.datetime_at(), usegmt=True),
        }
        if participant is not None:
            fields.update(
                {
                    "CallSid": participant.call_sid,
                    "Muted": _bool(participant.muted),
                    "Hold": _bool(participant.hold),
                    "Coaching": _bool(participant.coaching),
                    "EndConferenceOnExit": _bool(participant.end_conference_on_exit),
                    "StartConferenceOnEnter": _bool(participant.start_conference_on_enter),
                }
            )
            if participant.label:
                fields["ParticipantLabel"] = participant.label
            if participant.coaching and participant.call_sid_to_coach:
                fields["CallSidToCoach"] = participant.call_sid_to_coach
        fields.update(extra or {})
        conference.events.append((event, fields))
        if not conference.status_callback or event not in conference.status_events:
            return
        leg = participant.leg if participant is not None else conference.last_leg
        self._notify(
            leg,
            conference.status_callback,
            conference.status_method,
            fields,
            kind="conference",
            lane=conference.sid,  # one conference's events in order (SequenceNumber)
        )


def _participant_truth(participant: Participant) -> dict:
    holds = [(start, end) for start, end in participant.holds]
    seconds = None
    if participant.left_at is not None:
        seconds = int(participant.left_at - participant.joined_at + 1e-9)
    then = None
    if participant.left_how == "redirected":
        after = [
            entry
            for entry in participant.leg.transcript
            if entry.at >= participant.left_at and entry.kind in ("enqueue", "dial")
        ]
        then = (after[0].kind, after[0].text) if after else None
    return {
        "call_sid": participant.call_sid,
        "party": party_address(participant.leg),
        "joined_at": participant.joined_at,
        "left_at": participant.left_at,
        "left_how": participant.left_how,
        "seconds": seconds,
        "holds": holds,
        "hold_seconds": sum(end - start for start, end in holds if end is not None),
        "then": then,
    }


def _bool(value: bool) -> str:
    return "true" if value else "false"
