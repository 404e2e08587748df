"""Scripted people on the phone: callers and agents."""

from dataclasses import dataclass, field


def parse_digits(value) -> list[str]:
    """``"1,-,23"`` or ``"1 - 23"`` or a list -> one entry per prompt; ``-`` means silence."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    return [str(part) for part in value]


@dataclass
class Caller:
    """The person at the other end of a phone call.

    digits: one entry per prompt (each <Gather>): keys to press, ``"-"`` to stay silent until the
        timeout; prompts beyond the list get silence.
    patience: seconds the caller waits in a queue before hanging up (None: forever).
    talk_seconds: seconds the caller talks once connected before hanging up (None: until the
        other side hangs up).
    hangup_after: seconds after the call starts at which the caller hangs up, wherever it is.
    think_seconds: delay between the end of a prompt and the first key; key_gap between keys.
    barge_in: press the first key ``think_seconds`` after the <Gather> starts, interrupting its
        prompt (Twilio stops the prompt at the first key), instead of after the prompt.
    answer_after / answer: for calls made *to* this person (Dial Number, Calls create):
        seconds of ringing, and ``"answer"``, ``"busy"``, ``"no-answer"`` or ``"failed"``.
    message_seconds: how long the person speaks at a <Record> before falling silent.
    record_key: a key the person presses when done speaking at a <Record> (ends it at once if
        it is one of the Record's finishOnKey; None: they fall silent until the timeout).
    """

    digits: list[str] = field(default_factory=list)
    patience: float | None = None
    talk_seconds: float | None = None
    hangup_after: float | None = None
    think_seconds: float = 1.0
    key_gap: float = 1.0
    barge_in: bool = False
    answer_after: float = 5.0
    answer: str = "answer"
    message_seconds: float = 5.0
    record_key: str | None = None
    live: bool = False  # a person at the phone page: keys come as they press them

    def __post_init__(self):
        self.digits = parse_digits(self.digits)
        self._prompt = 0

    def keys_for_next_prompt(self) -> str | None:
        """Keys for the next <Gather>, or None to stay silent."""
        index = self._prompt
        self._prompt += 1
        if index >= len(self.digits):
            return None
        keys = self.digits[index].strip()
        return None if keys in ("", "-") else keys


@dataclass
class AgentActor:
    """A softphone user (a Twilio Client identity).

    answer_after: seconds the softphone rings before the agent accepts a pushed call.
    talk_seconds: seconds the agent talks once connected before hanging up (None: until the
        other side hangs up).
    online: a registered device; calls to an offline identity are not answered.
    live: the device is a person's (the local Twilio's emulated softphone): a call to it rings
        until they accept or reject it, or the dial times out.
    takes_queues: queue names ("*" for any) whose callers this agent takes by itself: whenever
        a caller waits there and the agent is free, the agent dials ``queue:<name>`` through
        the TwiML App ``answer_after`` seconds later.
    on_ring: what the agent does when a call rings (REST-created or <Dial><Client>):
        ``"answer"`` after ``answer_after`` seconds, ``"reject"`` after ``answer_after`` seconds
        (the call ends ``busy``), or ``"ignore"`` (it rings until the timeout: ``no-answer``).
    """

    identity: str
    answer_after: float = 5.0
    talk_seconds: float | None = 60.0
    online: bool = True
    takes_queues: tuple[str, ...] | str = ()
    busy_with: set = field(default_factory=set)  # CallSids of the agent's legs in progress
    dial_pending: bool = False
    live: bool = False  # a registered device (a person at the desk) answers, not a timer
    on_ring: str = "answer"  # "answer", "reject" or "ignore"

    def takes(self, queue_name: str) -> bool:
        if self.takes_queues == "*":
            return True
        if isinstance(self.takes_queues, str):
            return self.takes_queues == queue_name
        return queue_name in self.takes_queues or "*" in self.takes_queues

    @property
    def free(self) -> bool:
        return self.online and not self.busy_with and not self.dial_pending

    @property
    def client(self) -> str:
        return f"client:{self.identity}"

    # The interpreter asks every actor the same questions.
    patience = None
    hangup_after = None
    think_seconds = 1.0
    key_gap = 1.0
    message_seconds = 0.0

    @property
    def answer(self) -> str:
        if self.live:
            return "live" if self.online else "no-answer"
        if not self.online or self.busy_with:
            return "no-answer"
        return {"reject": "busy", "ignore": "no-answer"}.get(self.on_ring, "answer")

    def keys_for_next_prompt(self) -> str | None:
        return None
