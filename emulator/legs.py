"""A call leg as Twilio sees it, and a number's configuration."""

from .model import API_VERSION, Bridge, Member, TranscriptEntry, Visit, new_sid

FINAL = ("completed", "busy", "failed", "no-answer", "canceled")


def client_label(address: str) -> str:
    return address[len("client:") :] if address.startswith("client:") else address


class NumberConfig:
    def __init__(
        self,
        number,
        voice_url,
        voice_method,
        status_callback,
        status_method,
        fallback_url,
        fallback_method,
    ):
        self.sid = new_sid("PN")
        self.number = number
        self.voice_url = voice_url
        self.voice_method = voice_method
        self.status_callback = status_callback
        self.status_method = status_method
        self.fallback_url = fallback_url
        self.fallback_method = fallback_method


class EmulatedCall:
    """One call leg as Twilio sees it, with everything that happened on it."""

    def __init__(self, emulator, *, direction, from_, to, actor, parent=None):
        self.emulator = emulator
        self.sid = new_sid("CA")
        self.direction = direction
        self.from_ = from_
        self.to = to
        self.actor = actor
        self.parent = parent
        self.status = "queued"
        self.transcript: list[TranscriptEntry] = []
        self.requests: list[tuple[float, str, str, dict]] = []
        self.errors: list[dict] = []
        self.visits: list[Visit] = []
        self.extra_fields: dict[str, str] = {}
        self.fallback_url: str | None = None
        self.fallback_method = "POST"
        self.status_callback: str | None = None
        self.status_method = "POST"
        self.status_events: set[str] = {"completed"}
        self.sequence = 0
        self.created_at = emulator.sim.now
        self.started_at: float | None = None
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.end_reason = ""
        self.process = None
        self.bridge: Bridge | None = None
        self.member: Member | None = None
        self.talk_seconds = getattr(actor, "talk_seconds", None)
        self.patience = getattr(actor, "patience", None)
        self.hangup_after = getattr(actor, "hangup_after", None)
        self.timers: list = []
        self.recording: dict | None = None  # the leg's latest recording
        self.live_recordings: list[dict] = []  # started through the REST API, not yet over
        self.cookies: dict[str, str] = {}
        self.gathering = False  # a live <Gather> listens: keys pressed now are delivered
        self.muted = False  # the device's own microphone mute
        self.participant = None  # its Participant while in a conference
        self.recording_keys = ""  # a <Record>'s finishOnKey while it records
        self.hangup_on_star = False  # in a <Dial hangupOnStar> conference: * leaves it

    # --- what the tests look at ---
    def heard(self) -> list[str]:
        heard = []
        for entry in self.transcript:
            if entry.kind == "say":
                heard.append(entry.text)
            elif entry.kind == "play":
                heard.append(f"[play {entry.url}]")
            elif entry.kind == "play-digits":
                heard.append(f"[digits {entry.text}]")
            elif entry.kind == "pause":
                seconds = entry.attrs["seconds"]
                heard.append(f"[pause {seconds:g}s]")
        return heard

    def entries(self, kind: str) -> list[TranscriptEntry]:
        return [entry for entry in self.transcript if entry.kind == kind]

    @property
    def ended(self) -> bool:
        return self.status in FINAL

    @property
    def duration(self) -> int:
        if self.answered_at is None or self.ended_at is None:
            return 0
        return int(self.ended_at - self.answered_at + 1e-9)

    def fields(self) -> dict[str, str]:
        fields = {
            "CallSid": self.sid,
            "AccountSid": self.emulator.account_sid,
            "From": self.from_,
            "To": self.to,
            "Caller": self.from_,
            "Called": self.to,
            "CallStatus": self.status,
            "ApiVersion": API_VERSION,
            "Direction": self.direction,
        }
        if self.parent is not None:
            fields["ParentCallSid"] = self.parent.sid
        fields.update(self.extra_fields)
        return fields

    def note(self, kind: str, text: str = "", url: str = "", **attrs) -> None:
        emulator = self.emulator
        emulator.note_seq += 1
        entry = TranscriptEntry(emulator.sim.now, kind, text, url, attrs, emulator.note_seq)
        self.transcript.append(entry)
        for observer in emulator.observers:
            observer(self, entry)

    def __repr__(self):
        return f"<EmulatedCall {self.sid} {self.from_}->{self.to} {self.status}>"
