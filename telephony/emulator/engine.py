"""The Twilio voice emulator: executes the app's TwiML verb by verb on a virtual clock."""

import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlencode, urljoin, urlsplit

from .actors import AgentActor, Caller
from .clock import Simulation, Wait
from .model import (
    END,
    LEAVE,
    REJECTED,
    Bridge,
    BridgeEnded,
    Dequeued,
    Hangup,
    KeyPressed,
    Member,
    Next,
    Queue,
    QueueWaitError,
    Redirected,
    TranscriptEntry,
    Visit,
)
from .signing import compute_signature, url_as_signed
from .speech import play_digits_seconds, say_seconds
from .transport import DjangoTransport, TransportFailure, TransportTimeout
from .twiml import (
    BAD_CONTENT_TYPE,
    BODY_TOO_LARGE,
    HTTP_ERROR_STATUS,
    HTTP_RETRIEVAL_FAILURE,
    HTTP_TIMEOUT,
    MAX_BODY_BYTES,
    QUEUE_URL_VERBS,
    STATUS_CALLBACK_ERROR,
    TWIML_MEDIA_TYPES,
    WAIT_VERBS,
    TwimlError,
    parse_document,
    say_text,
)

API_VERSION = "2010-04-01"
DEFAULT_HOLD_MUSIC = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."
DEFAULT_QUEUE_SIZE = 1000
MAX_QUEUE_SIZE = 5000
FINAL = ("completed", "busy", "failed", "no-answer", "canceled")


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def _int(value, default: int) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _bool(value, default: bool = False) -> bool:
    if value is None:
        return default
    return str(value).strip().lower() == "true"


def _method(value, default="POST") -> str:
    method = (value or default).strip().upper()
    return method if method in ("GET", "POST") else default


def _label(address: str) -> str:
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
        self.cookies: dict[str, str] = {}

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
        self.transcript.append(
            TranscriptEntry(emulator.sim.now, kind, text, url, attrs, emulator.note_seq)
        )

    def __repr__(self):
        return f"<EmulatedCall {self.sid} {self.from_}->{self.to} {self.status}>"


class Emulator:
    """Twilio's voice side, emulated. See docs/emulator.md."""

    def __init__(
        self,
        transport=None,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        base_url: str | None = None,
        start: datetime | None = None,
        play_seconds: float = 30.0,
        play_durations: dict[str, float] | None = None,
    ):
        if account_sid is None or auth_token is None:
            from django.conf import settings

            account_sid = account_sid if account_sid is not None else settings.TWILIO_ACCOUNT_SID
            auth_token = auth_token if auth_token is not None else settings.TWILIO_AUTH_TOKEN
        if not auth_token:
            raise ValueError("the emulator signs every request: give it an auth_token")
        self.transport = transport or DjangoTransport()
        self.account_sid = account_sid or ("AC" + "0" * 32)
        self.auth_token = auth_token
        self.base_url = base_url or getattr(self.transport, "base_url", "http://testserver")
        self.start = start or datetime.now(UTC).replace(microsecond=0)
        self.play_seconds = play_seconds
        self.play_durations = dict(play_durations or {})
        self.sim = Simulation()
        self.numbers: dict[str, NumberConfig] = {}
        self.client_app: dict | None = None
        self.agents: dict[str, AgentActor] = {}
        self.callees: dict[str, Caller] = {}
        self.queues: dict[str, Queue] = {}  # by name
        self.calls: list[EmulatedCall] = []
        self.visits: list[Visit] = []
        self.recordings: dict[str, dict] = {}
        self.errors: list[dict] = []
        self.note_seq = 0

    # --- clock ----------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.sim.now

    def datetime_at(self, seconds: float | None = None) -> datetime:
        return self.start + timedelta(seconds=self.sim.now if seconds is None else seconds)

    def run(self, until: float | None = None) -> "Emulator":
        self.sim.run(until)
        return self

    # --- configuration ---------------------------------------------------------------------
    def absolute(self, url: str, base: str | None = None) -> str:
        return urljoin(base or self.base_url + "/", url)

    def add_number(
        self,
        number: str,
        *,
        voice_url: str,
        voice_method: str = "POST",
        status_callback: str | None = None,
        status_callback_method: str = "POST",
        fallback_url: str | None = None,
        fallback_method: str = "POST",
    ) -> NumberConfig:
        config = NumberConfig(
            number,
            self.absolute(voice_url),
            _method(voice_method),
            self.absolute(status_callback) if status_callback else None,
            _method(status_callback_method),
            self.absolute(fallback_url) if fallback_url else None,
            _method(fallback_method),
        )
        self.numbers[number] = config
        return config

    def configure_client_app(
        self,
        *,
        voice_url: str,
        voice_method: str = "POST",
        status_callback: str | None = None,
        status_callback_method: str = "POST",
        fallback_url: str | None = None,
    ) -> str:
        self.client_app = {
            "sid": new_sid("AP"),
            "voice_url": self.absolute(voice_url),
            "voice_method": _method(voice_method),
            "status_callback": self.absolute(status_callback) if status_callback else None,
            "status_method": _method(status_callback_method),
            "fallback_url": self.absolute(fallback_url) if fallback_url else None,
        }
        return self.client_app["sid"]

    def add_agent(
        self,
        identity: str,
        *,
        answer_after: float = 5.0,
        talk_seconds: float | None = 60.0,
        online: bool = True,
        takes_queues: tuple[str, ...] | str = (),
    ) -> AgentActor:
        """A softphone user. With ``takes_queues`` it takes waiting callers by itself."""
        agent = AgentActor(
            identity,
            answer_after=answer_after,
            talk_seconds=talk_seconds,
            online=online,
            takes_queues=takes_queues,
        )
        self.agents[identity] = agent
        return agent

    def _agents_react(self, queue: Queue) -> None:
        """Free agents who take this queue's callers dial it ``answer_after`` seconds later."""
        if self.client_app is None:
            return
        waiting = len(queue.members) - len(queue.dialers)
        for agent in self.agents.values():
            if waiting <= 0:
                return
            if agent.takes_queues and agent.takes(queue.name) and agent.free:
                agent.dial_pending = True
                waiting -= 1
                self.sim.schedule(
                    self.sim.now + agent.answer_after, self._agent_takes, agent, queue.name
                )

    def _agent_takes(self, agent: AgentActor, queue_name: str) -> None:
        agent.dial_pending = False
        if agent.online and not agent.busy_with:
            self.agent_dial(agent.identity, to=f"queue:{queue_name}", at=self.sim.now)

    def add_callee(self, number: str, person: Caller | None = None) -> Caller:
        """Who answers when a number is dialled (<Dial><Number>, Calls create)."""
        person = person or Caller()
        self.callees[number] = person
        return person

    def add_queue(self, name: str, *, max_size: int = DEFAULT_QUEUE_SIZE) -> Queue:
        """Create a queue as the REST API would (Twilio creates them on <Enqueue> too)."""
        queue = self.queues.get(name)
        if queue is None:
            queue = Queue(new_sid("QU"), name, max_size, self.sim.now)
            self.queues[name] = queue
        else:
            queue.max_size = max_size
        return queue

    def queue_by_sid(self, sid: str) -> Queue | None:
        return next((queue for queue in self.queues.values() if queue.sid == sid), None)

    def call_by_sid(self, sid: str) -> EmulatedCall | None:
        return next((call for call in self.calls if call.sid == sid), None)

    # --- starting calls ----------------------------------------------------------------------
    def _new_leg(self, **kwargs) -> EmulatedCall:
        leg = EmulatedCall(self, **kwargs)
        self.calls.append(leg)
        return leg

    def place_call(
        self, *, to: str, from_: str, caller: Caller | None = None, at: float = 0.0
    ) -> EmulatedCall:
        """An inbound call from ``from_`` to one of the numbers added with add_number."""
        config = self.numbers.get(to)
        if config is None:
            raise ValueError(f"{to} is not a number of this account (add_number first)")
        caller = caller or Caller()
        leg = self._new_leg(direction="inbound", from_=from_, to=to, actor=caller)
        leg.fallback_url, leg.fallback_method = config.fallback_url, config.fallback_method
        leg.status_callback, leg.status_method = config.status_callback, config.status_method
        first = Next(config.voice_url, config.voice_method)
        leg.process = self.sim.spawn(self._inbound(leg, first), at=at, name=leg.sid)
        return leg

    def agent_dial(
        self,
        identity: str,
        *,
        to: str,
        at: float = 0.0,
        talk_seconds: float | None = None,
        params: dict[str, str] | None = None,
    ) -> EmulatedCall:
        """A softphone call: the TwiML App's voice URL with From=client:<identity>, To=to."""
        if self.client_app is None:
            raise ValueError("configure_client_app(voice_url=...) first")
        agent = self.agents.get(identity) or self.add_agent(identity)
        leg = self._new_leg(direction="inbound", from_=agent.client, to=to, actor=agent)
        agent.busy_with.add(leg.sid)  # from now on, not only once the call starts
        if talk_seconds is not None:
            leg.talk_seconds = talk_seconds
        leg.extra_fields = {"ApplicationSid": self.client_app["sid"], **(params or {})}
        leg.fallback_url = self.client_app["fallback_url"]
        leg.status_callback = self.client_app["status_callback"]
        leg.status_method = self.client_app["status_method"]
        first = Next(self.client_app["voice_url"], self.client_app["voice_method"])
        leg.process = self.sim.spawn(self._inbound(leg, first), at=at, name=leg.sid)
        return leg

    def create_call(
        self,
        *,
        to: str,
        from_: str,
        url: str | None = None,
        twiml: str | None = None,
        method: str = "POST",
        status_callback: str | None = None,
        status_callback_method: str = "POST",
        status_callback_event: list[str] | None = None,
        fallback_url: str | None = None,
        timeout: int = 60,
        at: float | None = None,
    ) -> EmulatedCall:
        """What POST /Calls.json does: an outbound-api leg that runs url/twiml once answered."""
        if url is None and twiml is None:
            raise ValueError("url or twiml is required")
        actor = self._party_for(to)
        leg = self._new_leg(direction="outbound-api", from_=from_, to=to, actor=actor)
        leg.status_callback = self.absolute(status_callback) if status_callback else None
        leg.status_method = _method(status_callback_method)
        leg.status_events = set(status_callback_event or ["completed"]) | {"completed"}
        leg.fallback_url = self.absolute(fallback_url) if fallback_url else None
        if twiml is not None:
            first = Next(self.base_url + "/", "POST", twiml=twiml)
        else:
            first = Next(self.absolute(url), _method(method))
        leg.process = self.sim.spawn(
            self._outbound(leg, first, timeout),
            at=self.sim.now if at is None else at,
            name=leg.sid,
        )
        return leg

    def _party_for(self, address: str):
        if address.startswith("client:"):
            identity = address[len("client:") :]
            return self.agents.get(identity) or AgentActor(identity, online=False)
        return self.callees.get(address) or Caller()

    # --- ground truth ----------------------------------------------------------------------
    def ground_truth(self) -> list[dict]:
        return [visit.as_dict(self.start) for visit in self.visits]

    def rest_http_client(self):
        from .rest import EmulatorHttpClient

        return EmulatorHttpClient(self)

    # --- HTTP --------------------------------------------------------------------------------
    def _request(self, leg: EmulatedCall, url: str, method: str, fields: dict, *, kind="twiml"):
        """Send one signed request; return the TransportResponse or raise TwimlError."""
        all_fields = {key: str(value) for key, value in fields.items()}
        leg.requests.append((self.sim.now, method, url, dict(all_fields)))
        leg.note("request", url=url, method=method, fields=dict(all_fields), purpose=kind)
        current_method, current_url = method, url
        for _ in range(11):
            if current_method == "GET":
                separator = "&" if urlsplit(current_url).query else "?"
                target = current_url + (separator + urlencode(all_fields) if all_fields else "")
                body, signed_fields = b"", None
            else:
                target = current_url
                body, signed_fields = urlencode(all_fields).encode("utf-8"), all_fields
            signature = compute_signature(url_as_signed(target), signed_fields, self.auth_token)
            headers = {
                "X-Twilio-Signature": signature,
                "User-Agent": "TwilioProxy/1.1",
                "Accept": "*/*",
                "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
            }
            if current_method == "POST":
                headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
            if leg.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in leg.cookies.items())
            try:
                response = self.transport.send(current_method, target, body=body, headers=headers)
            except TransportTimeout as error:
                raise TwimlError(HTTP_TIMEOUT, f"{url}: no answer within 15 s ({error})") from None
            except TransportFailure as error:
                raise TwimlError(HTTP_RETRIEVAL_FAILURE, f"{url}: {error}") from None
            for name, value in response.cookies.items():  # Twilio keeps cookies per call
                if value is None:
                    leg.cookies.pop(name, None)
                else:
                    leg.cookies[name] = value
            location = response.headers.get("location")
            if response.status in (301, 302, 303, 307, 308) and location:
                current_url = urljoin(current_url, location)
                if response.status in (301, 302, 303):
                    current_method = "GET"
                continue
            return response
        raise TwimlError(HTTP_RETRIEVAL_FAILURE, f"{url}: more than 10 redirects")

    def _record_error(self, leg: EmulatedCall, code: int, url: str, message: str) -> None:
        error = {
            "at": self.sim.now,
            "call_sid": leg.sid,
            "code": code,
            "url": url,
            "message": message,
        }
        leg.errors.append(error)
        self.errors.append(error)
        leg.note("error", text=message, url=url, code=code)

    def _status_callback(self, leg: EmulatedCall, event: str) -> None:
        if not leg.status_callback or event not in leg.status_events:
            return
        fields = leg.fields()
        fields.update(
            {
                "CallbackSource": "call-progress-events",
                "SequenceNumber": str(leg.sequence),
                "Timestamp": format_datetime(self.datetime_at(), usegmt=True),
            }
        )
        if event == "completed":
            fields["CallDuration"] = str(leg.duration)
            if leg.recording is not None:
                fields["RecordingUrl"] = leg.recording["url"]
                fields["RecordingSid"] = leg.recording["sid"]
                fields["RecordingDuration"] = str(leg.recording["duration"])
            fields["Duration"] = str((leg.duration + 59) // 60)
        leg.sequence += 1
        try:
            response = self._request(
                leg, leg.status_callback, leg.status_method, fields, kind="status"
            )
        except TwimlError as error:
            self._record_error(leg, STATUS_CALLBACK_ERROR, leg.status_callback, error.message)
            return
        if response.status >= 400:
            self._record_error(
                leg, STATUS_CALLBACK_ERROR, leg.status_callback, f"answered {response.status}"
            )

    def _fetch_text(self, leg, nxt: Next, ctx: str) -> tuple[str, str, str]:
        """(kind, text, url): kind 'twiml' or 'audio'. Raises TwimlError."""
        if nxt.twiml is not None:
            return "twiml", nxt.twiml, nxt.url
        fields = leg.fields()
        fields.update(nxt.fields)
        response = self._request(leg, nxt.url, nxt.method, fields)
        if not 200 <= response.status < 300:
            raise TwimlError(HTTP_ERROR_STATUS, f"{nxt.url} answered HTTP {response.status}")
        if len(response.body) > MAX_BODY_BYTES:
            raise TwimlError(BODY_TOO_LARGE, f"{nxt.url}: body over 64 kB")
        media_type = response.media_type
        if media_type.startswith("audio/"):
            return "audio", "", nxt.url
        if media_type not in TWIML_MEDIA_TYPES:
            raise TwimlError(
                BAD_CONTENT_TYPE, f"{nxt.url} answered Content-Type {media_type or '(none)'!r}"
            )
        return "twiml", response.text(), nxt.url

    def _load(self, leg, nxt: Next, ctx: str):
        """Fetch + parse. Returns a Document or ("audio", url). Raises TwimlError."""
        kind, text, url = self._fetch_text(leg, nxt, ctx)
        if kind == "audio":
            return ("audio", url)
        allowed = {"wait": WAIT_VERBS, "queue-url": QUEUE_URL_VERBS}.get(ctx)
        return parse_document(text, url, allowed_verbs=allowed)

    def _document(self, leg, nxt: Next, ctx: str):
        """Generator: the document to execute, after Twilio's fallback dance; None = give up."""
        try:
            return self._load(leg, nxt, ctx)
        except TwimlError as error:
            self._record_error(leg, error.code, nxt.url, error.message)
            if ctx != "main":
                raise QueueWaitError(error.message) from None
            if leg.fallback_url and not nxt.is_fallback:
                fallback = Next(
                    leg.fallback_url,
                    leg.fallback_method,
                    {"ErrorCode": str(error.code), "ErrorUrl": nxt.url},
                    is_fallback=True,
                )
                return (yield from self._document(leg, fallback, ctx))
        # Twilio's own last words.
        if leg.answered_at is None:
            self._answer(leg)
        seconds = say_seconds(APPLICATION_ERROR)
        leg.note("say", text=APPLICATION_ERROR, language="en-US", voice="", generic_error=True)
        yield Wait(seconds)
        return None

    # --- the life of a leg ---------------------------------------------------------------------
    def _begin(self, leg: EmulatedCall) -> None:
        leg.started_at = self.sim.now
        if leg.hangup_after is not None:
            leg.timers.append(
                self.sim.schedule(self.sim.now + leg.hangup_after, self.hangup, leg, "caller")
            )
        if isinstance(leg.actor, AgentActor):
            leg.actor.busy_with.add(leg.sid)

    def _answer(self, leg: EmulatedCall) -> None:
        if leg.answered_at is None:
            leg.answered_at = self.sim.now
            leg.status = "in-progress"
            leg.note("answered")
            self._status_callback(leg, "answered")

    def _inbound(self, leg: EmulatedCall, first: Next):
        self._begin(leg)
        leg.status = "ringing"
        self._status_callback(leg, "initiated")
        self._status_callback(leg, "ringing")
        yield from self._main(leg, first)

    def _outbound(self, leg: EmulatedCall, first: Next, timeout: int):
        # Asked before the leg counts as the agent's own call.
        answer = getattr(leg.actor, "answer", "answer")
        self._begin(leg)
        leg.status = "initiated"
        self._status_callback(leg, "initiated")
        leg.status = "ringing"
        leg.note("ringing")
        self._status_callback(leg, "ringing")
        after = getattr(leg.actor, "answer_after", 5.0)
        try:
            if answer == "answer" and after <= timeout:
                yield Wait(after)
            else:
                yield Wait(0 if answer in ("busy", "failed") else timeout)
                final = answer if answer in ("busy", "failed") else "no-answer"
                self._finish(leg, final)
                return
        except Hangup as hangup:
            leg.end_reason = hangup.by
            self._finish(leg, "canceled")
            return
        self._answer(leg)
        yield from self._main(leg, first)

    def _main(self, leg: EmulatedCall, first: Next):
        nxt = first
        final = "completed"
        try:
            while nxt is not None:
                try:
                    nxt = yield from self._run(leg, nxt)
                except Redirected as redirect:
                    leg.note("redirect", url=redirect.next.url, by="api")
                    nxt = redirect.next
                if nxt is REJECTED:
                    final = leg.reject_status
                if not isinstance(nxt, Next):
                    nxt = None  # <Hangup>, <Reject> or the end of the document
        except Hangup as hangup:
            leg.end_reason = hangup.by
            if leg.answered_at is None and hangup.by == "api":
                final = "canceled"
        self._finish(leg, final)

    def _finish(self, leg: EmulatedCall, final: str) -> None:
        if leg.ended:
            return
        for timer in leg.timers:
            self.sim.cancel(timer)
        leg.ended_at = self.sim.now
        if leg.answered_at is None and final == "completed":
            final = "canceled" if leg.end_reason in ("caller", "api") else "completed"
        leg.status = final
        leg.note("end", text=final, reason=leg.end_reason)
        self._status_callback(leg, "completed")
        if isinstance(leg.actor, AgentActor):
            leg.actor.busy_with.discard(leg.sid)
            if leg.actor.takes_queues:
                for queue in list(self.queues.values()):
                    if queue.members:
                        self._agents_react(queue)

    def hangup_all(self, by: str = "caller") -> int:
        """Hang up every call still going (e.g. at the end of a bounded run); returns how many."""
        live = [leg for leg in self.calls if not leg.ended and leg.process is not None]
        for leg in live:
            self.hangup(leg, by)
        return len(live)

    def hangup(self, leg: EmulatedCall, by: str = "caller") -> None:
        """The person on ``leg`` (or the API) hangs up, wherever the call is."""
        if leg.ended:
            return
        if leg.process is not None:
            if not leg.process.started:
                leg.status = "canceled"
                leg.ended_at = self.sim.now
                leg.process.done = True
                if isinstance(leg.actor, AgentActor):
                    leg.actor.busy_with.discard(leg.sid)
                return
            leg.process.interrupt(Hangup(by))
        elif leg.bridge is not None and leg.bridge.a.process is not None:
            # A dialled child leg lives inside its parent's <Dial>.
            leg.bridge.a.process.interrupt(BridgeEnded(by))

    def _run(self, leg: EmulatedCall, nxt: Next, ctx: str = "main"):
        doc = yield from self._document(leg, nxt, ctx)
        if doc is None:
            return None
        if isinstance(doc, tuple):  # an audio file answered the request: Twilio plays it
            if leg.answered_at is None:
                self._answer(leg)
            yield from self._play_url(leg, doc[1], 1)
            return None
        return (yield from self._execute(leg, doc, ctx))

    def _execute(self, leg: EmulatedCall, doc, ctx: str):
        for index, verb in enumerate(doc.root):
            if verb.tag == "Reject" and leg.answered_at is None and index == 0 and ctx == "main":
                reason = verb.get("reason", "rejected")
                leg.note("reject", text=reason)
                leg.reject_status = "busy" if reason == "busy" else "no-answer"
                return REJECTED
            if leg.answered_at is None:
                self._answer(leg)
            handler = getattr(self, "_verb_" + verb.tag.lower())
            result = yield from handler(leg, verb, doc, ctx)
            if result is not None:
                return result
        return None

    # --- verbs ---------------------------------------------------------------------------------
    def _verb_say(self, leg, verb, doc, ctx):
        text = say_text(verb)
        language = verb.get("language", "en-US")
        loop = _int(verb.get("loop"), 1)
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

    def _verb_play(self, leg, verb, doc, ctx):
        loop = _int(verb.get("loop"), 1)
        digits = verb.get("digits")
        if digits:
            for _ in range(max(loop, 1)):
                leg.note("play-digits", text=digits)
                yield Wait(play_digits_seconds(digits))
            return None
        url = self.absolute((verb.text or "").strip(), doc.url)
        yield from self._play_url(leg, url, loop)
        return None

    def _verb_pause(self, leg, verb, doc, ctx):
        seconds = max(0, _int(verb.get("length"), 1))
        leg.note("pause", seconds=seconds)
        yield Wait(seconds)
        return None

    def _verb_redirect(self, leg, verb, doc, ctx):
        url = self.absolute((verb.text or "").strip() or doc.url, doc.url)
        leg.note("redirect", url=url)
        return Next(url, _method(verb.get("method")))
        yield  # pragma: no cover - makes this a generator

    def _verb_hangup(self, leg, verb, doc, ctx):
        leg.note("hangup", text="app")
        leg.end_reason = "app"
        return END
        yield  # pragma: no cover

    def _verb_reject(self, leg, verb, doc, ctx):
        # Only meaningful as the first verb before answering; Twilio hangs up otherwise.
        leg.note("hangup", text="reject after answer")
        return END
        yield  # pragma: no cover

    def _verb_leave(self, leg, verb, doc, ctx):
        if ctx == "wait":
            leg.note("leave")
            return LEAVE
        leg.note("leave", ignored=True)  # outside a queue <Leave> does nothing
        return None
        yield  # pragma: no cover

    def _verb_gather(self, leg, verb, doc, ctx):
        action = self.absolute(verb.get("action") or doc.url, doc.url)
        method = _method(verb.get("method"))
        timeout = max(0, _int(verb.get("timeout"), 5))
        num_digits = _int(verb.get("numDigits"), 0)
        finish_on_key = verb.get("finishOnKey", "#")
        on_empty = _bool(verb.get("actionOnEmptyResult"))
        dtmf = "dtmf" in verb.get("input", "dtmf")
        leg.note("gather", url=action, numDigits=num_digits, timeout=timeout)
        keys = leg.actor.keys_for_next_prompt() if dtmf else None
        think = getattr(leg.actor, "think_seconds", 1.0)
        barge_in = None
        if keys is not None and getattr(leg.actor, "barge_in", False) and len(verb):
            # A caller who knows the menu presses during the prompt, which stops it.
            barge_in = self.sim.schedule(self.sim.now + think, leg.process.interrupt, KeyPressed())
        try:
            for child in verb:
                handler = getattr(self, "_verb_" + child.tag.lower())
                yield from handler(leg, child, doc, ctx)
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
                    yield Wait(getattr(leg.actor, "key_gap", 1.0))
            if not complete:
                yield Wait(timeout)
        if not digits:
            leg.note("no-input", text=finished_on)
            if on_empty:
                return Next(action, method, {"Digits": "", "FinishedOnKey": finished_on})
            return None
        return Next(action, method, {"Digits": digits, "FinishedOnKey": finished_on})

    def _verb_record(self, leg, verb, doc, ctx):
        action = self.absolute(verb.get("action") or doc.url, doc.url)
        method = _method(verb.get("method"))
        max_length = max(1, _int(verb.get("maxLength"), 3600))
        timeout = max(0, _int(verb.get("timeout"), 5))
        callback = verb.get("recordingStatusCallback")
        callback_method = _method(verb.get("recordingStatusCallbackMethod"))
        if _bool(verb.get("playBeep"), True):
            leg.note("beep")
            yield Wait(1)
        speaking = min(float(getattr(leg.actor, "message_seconds", 0.0) or 0.0), max_length)
        started = self.sim.now
        hung = None
        try:
            if speaking:
                yield Wait(speaking)
            yield Wait(min(timeout, max_length - speaking))
        except Hangup as hangup:
            hung = hangup
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
        if callback:
            self._recording_status(
                leg, recording, self.absolute(callback, doc.url), callback_method
            )
        if hung:
            self._request_ignoring(leg, Next(action, method, fields))
            raise hung
        return Next(action, method, fields)

    def _request_ignoring(self, leg, nxt: Next) -> None:
        """Request a URL whose TwiML can no longer run (the call is over or moved on)."""
        fields = leg.fields()
        fields.update(nxt.fields)
        try:
            response = self._request(leg, nxt.url, nxt.method, fields)
        except TwimlError as error:
            self._record_error(leg, error.code, nxt.url, error.message)
            return
        if not 200 <= response.status < 300:
            self._record_error(leg, HTTP_ERROR_STATUS, nxt.url, f"answered HTTP {response.status}")

    # --- queues ----------------------------------------------------------------------------
    def _queue_fields(self, queue: Queue, member: Member) -> dict[str, str]:
        now = self.sim.now
        return {
            "QueuePosition": str(queue.position_of(member)),
            "QueueSid": queue.sid,
            "QueueTime": str(int(now - member.entered_at + 1e-9)),
            "AvgQueueTime": str(queue.average_wait(now)),
            "CurrentQueueSize": str(len(queue.members)),
            "MaxQueueSize": str(queue.max_size),
        }

    def _wake_dialer(self, queue: Queue) -> None:
        while queue.dialers:
            dialer = queue.dialers.pop(0)
            if not dialer.ended and dialer.process is not None:
                dialer.process.wake("arrived")
                return

    def _patience_over(self, leg: EmulatedCall, member: Member) -> None:
        if leg.member is member and not leg.ended:
            self.hangup(leg, "caller")

    def _verb_enqueue(self, leg, verb, doc, ctx):
        name = (verb.text or "").strip()
        action = self.absolute(verb.get("action"), doc.url) if verb.get("action") else None
        method = _method(verb.get("method"))
        wait_url = self.absolute(verb.get("waitUrl"), doc.url) if verb.get("waitUrl") else None
        wait_method = _method(verb.get("waitUrlMethod"))
        queue = self.queues.get(name) or self.add_queue(name)
        visit = Visit(call_sid=leg.sid, queue=name, queue_sid=queue.sid, entered_at=self.sim.now)
        self.visits.append(visit)
        leg.visits.append(visit)
        if len(queue.members) >= queue.max_size:
            visit.result = "queue-full"
            visit.left_queue_at = visit.action_at = self.sim.now
            leg.note("queue-full", text=name, size=len(queue.members))
            if action:
                return Next(action, method, {"QueueResult": "queue-full"})
            return None
        member = Member(leg, visit, self.sim.now, self.datetime_at())
        queue.members.append(member)
        leg.member = member
        leg.note("enqueue", text=name, position=len(queue.members), queue_sid=queue.sid)
        self._wake_dialer(queue)
        self._agents_react(queue)
        patience = None
        if leg.patience is not None:
            patience = self.sim.schedule(
                self.sim.now + leg.patience, self._patience_over, leg, member
            )
        hung = redirect = bridge = None
        result = "leave"
        try:
            result = yield from self._wait_loop(leg, queue, member, wait_url, wait_method)
        except QueueWaitError:
            result = "error"
        except Hangup as hangup:
            hung, result = hangup, "hangup"
        except Redirected as redirected:
            redirect, result = redirected, "redirected"
        except Dequeued as dequeued:
            bridge = dequeued.bridge
        finally:
            self.sim.cancel(patience)
            if member in queue.members:
                queue.members.remove(member)
            leg.member = None
        if visit.wait_seconds is None:
            visit.wait_seconds = int(self.sim.now - member.entered_at + 1e-9)
            visit.left_queue_at = self.sim.now
        if bridge is not None:
            result, hung, redirect = yield from self._bridged_from_queue(leg, queue, member, bridge)
        if result == "hangup-verb":
            result = "hangup"
            hung = Hangup("app")
        visit.result = result
        visit.action_at = self.sim.now
        leg.note("queue-exit", text=name, result=result, wait=visit.wait_seconds)
        fields = {
            "QueueResult": result,
            "QueueSid": queue.sid,
            "QueueTime": str(visit.wait_seconds),
        }
        if hung is not None or redirect is not None:
            if action:
                self._request_ignoring(leg, Next(action, method, fields))
            raise hung if hung is not None else redirect
        if action:
            return Next(action, method, fields)
        return None

    def _wait_loop(self, leg, queue: Queue, member: Member, wait_url, wait_method):
        while True:
            if wait_url is None:
                yield from self._play_url(leg, DEFAULT_HOLD_MUSIC, 1)
                continue
            pass_started = self.sim.now
            nxt = Next(wait_url, wait_method)
            while nxt is not None:
                nxt.fields = {**self._queue_fields(queue, member), **nxt.fields}
                doc = yield from self._document(leg, nxt, "wait")
                if isinstance(doc, tuple):
                    yield from self._play_url(leg, doc[1], 1)
                    break
                outcome = yield from self._execute(leg, doc, "wait")
                if outcome is LEAVE:
                    return "leave"
                if outcome is END:
                    return "hangup-verb"
                nxt = outcome
            if self.sim.now == pass_started:
                # A wait document that takes no time would spin forever; Twilio's would too,
                # but at network speed. Idle a second between passes instead.
                yield Wait(1)

    def _bridged_from_queue(self, leg, queue: Queue, member: Member, bridge: Bridge):
        """The caller was dequeued by an agent: queue url, bridge, talk. -> (result, hung, redir)"""
        visit = member.visit
        visit.agent = _label(bridge.a.from_)
        visit.agent_call_sid = bridge.a.sid
        leg.note("dequeued", by=bridge.a.sid, agent=visit.agent)
        hung = redirect = None
        talk_timer = None
        try:
            if bridge.url:
                nxt = Next(
                    bridge.url,
                    bridge.method,
                    {
                        "QueueSid": queue.sid,
                        "QueueTime": str(visit.wait_seconds),
                        "DequeingCallSid": bridge.a.sid,
                    },
                )
                try:
                    while isinstance(nxt, Next):
                        doc = yield from self._document(leg, nxt, "queue-url")
                        if isinstance(doc, tuple):
                            yield from self._play_url(leg, doc[1], 1)
                            break
                        nxt = yield from self._execute(leg, doc, "queue-url")
                except QueueWaitError:
                    pass  # recorded on the leg; Twilio still bridges
            if bridge.ended:
                return "system-error", None, None
            bridge.connected_at = self.sim.now
            leg.bridge = bridge
            leg.note("connected", text=visit.agent, with_sid=bridge.a.sid)
            bridge.a.process.wake("connected")
            if leg.talk_seconds is not None:
                talk_timer = self.sim.schedule(
                    self.sim.now + leg.talk_seconds, self.hangup, leg, "caller"
                )
            yield Wait()
        except BridgeEnded:
            pass
        except Hangup as hangup:
            hung = hangup
            self._end_bridge(bridge, by=leg, reason="caller")
        except Redirected as redirected:
            redirect = redirected
            self._end_bridge(bridge, by=leg, reason="api")
        finally:
            self.sim.cancel(talk_timer)
            leg.bridge = None
        if bridge.connected:
            visit.talk_seconds = bridge.duration()
            leg.note("disconnected", seconds=visit.talk_seconds, by=bridge.ended_by)
            result = "redirected-from-bridged" if redirect is not None else "bridged"
        else:
            result = "hangup" if hung is not None else "system-error"
        return result, hung, redirect

    def _end_bridge(self, bridge: Bridge, *, by, reason: str) -> None:
        if bridge.ended:
            return
        bridge.ended_at = self.sim.now
        bridge.ended_by = reason
        other = bridge.b if by is bridge.a else bridge.a
        if other.process is not None and not other.ended:
            other.process.interrupt(BridgeEnded(reason))

    # --- dial ------------------------------------------------------------------------------
    def _verb_dial(self, leg, verb, doc, ctx):
        action = self.absolute(verb.get("action"), doc.url) if verb.get("action") else None
        method = _method(verb.get("method"))
        timeout = max(1, _int(verb.get("timeout"), 30))
        time_limit = max(1, _int(verb.get("timeLimit"), 14400))
        nouns = list(verb)
        if nouns and nouns[0].tag == "Queue":
            fields, hung = yield from self._dial_queue(leg, nouns[0], doc, timeout, time_limit)
        else:
            if not nouns:
                number = (verb.text or "").strip()
                targets = [("Number", number, None, "POST", None, "POST", {"completed"}, {})]
            else:
                targets = [self._target(noun, doc) for noun in nouns]
            caller_id = verb.get("callerId") or (
                leg.to if leg.direction == "inbound" else leg.from_
            )
            fields, hung = yield from self._dial_parties(
                leg, targets, timeout, time_limit, caller_id
            )
        record = verb.get("record", "do-not-record")
        if record.startswith("record-from-") and fields.get("DialBridged") == "true":
            seconds = int(fields.get("DialCallDuration", "0"))
            recording = self._recording(
                leg, seconds, source="DialVerb", channels=2 if record.endswith("-dual") else 1
            )
            fields.update(
                {
                    "RecordingUrl": recording["url"],
                    "RecordingSid": recording["sid"],
                    "RecordingDuration": str(seconds),
                }
            )
            callback = verb.get("recordingStatusCallback")
            if callback:
                self._recording_status(
                    leg,
                    recording,
                    self.absolute(callback, doc.url),
                    _method(verb.get("recordingStatusCallbackMethod")),
                )
        if hung is not None:
            if action:
                self._request_ignoring(leg, Next(action, method, fields))
            raise hung
        if action:
            return Next(action, method, fields)
        return None

    def _recording(self, leg, seconds: int, *, source: str, channels: int = 1) -> dict:
        sid = new_sid("RE")
        url = f"https://api.twilio.com/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}"
        recording = {
            "sid": sid,
            "call_sid": leg.sid,
            "url": url,
            "duration": seconds,
            "channels": channels,
            "source": source,
            "started_at": self.sim.now - seconds,
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

    def _target(self, noun, doc):
        if noun.tag == "Client":
            identity = noun.findtext("Identity") or (noun.text or "").strip()
            address = f"client:{identity}"
            params = {
                parameter.get("name", ""): parameter.get("value", "")
                for parameter in noun.findall("Parameter")
            }
        elif noun.tag == "Number":
            address = (noun.text or "").strip()
            params = {}
        else:  # parse_document lets only Number, Client and Queue through
            raise ValueError(noun.tag)
        url = self.absolute(noun.get("url"), doc.url) if noun.get("url") else None
        callback = (
            self.absolute(noun.get("statusCallback"), doc.url)
            if noun.get("statusCallback")
            else None
        )
        events = set((noun.get("statusCallbackEvent") or "completed").replace(",", " ").split())
        return (
            noun.tag,
            address,
            url,
            _method(noun.get("method")),
            callback,
            _method(noun.get("statusCallbackMethod")),
            events | {"completed"},
            params,
        )

    def _dial_queue(self, leg, noun, doc, timeout, time_limit):
        name = (noun.text or "").strip()
        url = self.absolute(noun.get("url"), doc.url) if noun.get("url") else None
        queue = self.queues.get(name)
        leg.note("dial", text=f"queue:{name}")
        if queue is None:
            leg.note("dial-failed", text=f"queue {name} does not exist")
            return {"DialCallStatus": "failed", "DialCallDuration": "0"}, None
        deadline = self.sim.now + timeout
        try:
            while not queue.members:
                remaining = deadline - self.sim.now
                if remaining <= 0:
                    break
                queue.dialers.append(leg)
                try:
                    yield Wait(remaining)
                finally:
                    if leg in queue.dialers:
                        queue.dialers.remove(leg)
        except Hangup as hangup:
            return {
                "DialCallStatus": "canceled",
                "DialCallDuration": "0",
                "QueueSid": queue.sid,
            }, hangup
        if not queue.members:
            leg.note("dial-timeout", text=name, seconds=timeout)
            return {
                "DialCallStatus": "no-answer",
                "DialCallDuration": "0",
                "QueueSid": queue.sid,
                "DialBridged": "false",
            }, None
        member = queue.members.pop(0)
        caller = member.leg
        bridge = Bridge(leg, caller, queue=queue, url=url, method=_method(noun.get("method")))
        leg.bridge = bridge
        member.visit.wait_seconds = int(self.sim.now - member.entered_at + 1e-9)
        member.visit.left_queue_at = self.sim.now
        caller.process.interrupt(Dequeued(bridge))
        hung = None
        talk_timer = None
        try:
            yield Wait()  # until the caller's queue url has run and it is connected
            leg.note("connected", text=caller.from_, with_sid=caller.sid)
            if leg.talk_seconds is not None:
                talk_timer = self.sim.schedule(
                    self.sim.now + leg.talk_seconds, self.hangup, leg, "agent"
                )
            yield Wait(time_limit)
            self._end_bridge(bridge, by=leg, reason="time-limit")
        except BridgeEnded:
            pass
        except Hangup as hangup:
            hung = hangup
            self._end_bridge(bridge, by=leg, reason="agent")
        except Redirected:
            self._end_bridge(bridge, by=leg, reason="api")
            raise
        finally:
            self.sim.cancel(talk_timer)
            leg.bridge = None
        if bridge.connected:
            leg.note("disconnected", seconds=bridge.duration(), by=bridge.ended_by)
        wait = member.visit.wait_seconds
        fields = {
            "DialCallStatus": "completed" if bridge.connected else "failed",
            "DialCallSid": caller.sid,
            "DialCallDuration": str(bridge.duration()),
            "DialBridged": "true" if bridge.connected else "false",
            "QueueSid": queue.sid,
            "QueueTime": str(wait),
            "DequeueResult": "bridged" if bridge.connected else "hangup",
            "DequeuedCallSid": caller.sid,
            "DequeuedCallQueueTime": str(wait),
            "DequeuedCallDuration": str(bridge.duration()),
        }
        return fields, hung

    def _dial_parties(self, leg, targets, timeout, time_limit, caller_id):
        children = []
        for kind, address, url, method, callback, cb_method, events, params in targets:
            person = self._party_for(address)
            child = self._new_leg(
                direction="outbound-dial",
                from_=caller_id if kind == "Number" else leg.from_,
                to=address,
                actor=person,
                parent=leg,
            )
            child.status_callback, child.status_method = callback, cb_method
            child.status_events = events
            child.extra_fields = dict(params)
            child.started_at = self.sim.now
            if isinstance(person, AgentActor):
                answer = person.answer
                person.busy_with.add(child.sid)
            else:
                answer = person.answer
            children.append((child, person, answer, url, method))
            child.status = "initiated"
            self._status_callback(child, "initiated")
            child.status = "ringing"
            child.note("ringing")
            self._status_callback(child, "ringing")
        leg.note("dial", text=", ".join(child.to for child, *_ in children))
        answering = [
            entry for entry in children if entry[2] == "answer" and entry[1].answer_after <= timeout
        ]
        winner = min(answering, key=lambda entry: entry[1].answer_after) if answering else None
        if winner is not None:
            ring = winner[1].answer_after
        elif all(entry[2] in ("busy", "failed") for entry in children):
            ring = 0
        else:
            ring = timeout
        try:
            yield Wait(ring)
        except (Hangup, Redirected) as stop:
            for child, *_ in children:
                self._finish_child(child, "canceled")
            if isinstance(stop, Redirected):
                raise
            return {
                "DialCallStatus": "canceled",
                "DialCallSid": children[0][0].sid,
                "DialCallDuration": "0",
                "DialBridged": "false",
            }, stop
        if winner is None:
            statuses = {entry[2] for entry in children}
            status = (
                "busy"
                if statuses == {"busy"}
                else ("failed" if statuses == {"failed"} else "no-answer")
            )
            for child, _person, answer, *_ in children:
                self._finish_child(child, answer if answer in ("busy", "failed") else "no-answer")
            leg.note("dial-result", text=status)
            return {
                "DialCallStatus": status,
                "DialCallSid": children[0][0].sid,
                "DialCallDuration": "0",
                "DialBridged": "false",
            }, None
        child, person, _, url, method = winner
        for other, *_ in children:
            if other is not child:
                self._finish_child(other, "canceled")
        self._answer(child)
        bridge = Bridge(leg, child)
        hung = None
        timers = []
        try:
            if url:
                nxt = Next(url, method)
                while isinstance(nxt, Next):
                    try:
                        doc = self._load(child, nxt, "main")
                    except TwimlError as error:
                        self._record_error(child, error.code, nxt.url, error.message)
                        break
                    if isinstance(doc, tuple):
                        break
                    nxt = yield from self._execute(child, doc, "whisper")
                if nxt is END:
                    self._finish_child(child, "completed")
                    return {
                        "DialCallStatus": "completed",
                        "DialCallSid": child.sid,
                        "DialCallDuration": "0",
                        "DialBridged": "false",
                    }, None
            bridge.connected_at = self.sim.now
            child.bridge = leg.bridge = bridge
            leg.note("connected", text=child.to, with_sid=child.sid)
            child.note("connected", text=leg.from_, with_sid=leg.sid)
            if leg.talk_seconds is not None:
                timers.append(
                    self.sim.schedule(self.sim.now + leg.talk_seconds, self.hangup, leg, "caller")
                )
            talk = getattr(person, "talk_seconds", None)
            if talk is not None:
                timers.append(self.sim.schedule(self.sim.now + talk, self.hangup, child, "callee"))
            yield Wait(time_limit)
            bridge.ended_by = "time-limit"
        except BridgeEnded as ended:
            bridge.ended_by = ended.by
        except Hangup as hangup:
            hung = hangup
            bridge.ended_by = hangup.by
        except Redirected:
            bridge.ended_at = self.sim.now
            self._finish_child(child, "completed")
            raise
        finally:
            for timer in timers:
                self.sim.cancel(timer)
            leg.bridge = None
        bridge.ended_at = self.sim.now
        leg.note("disconnected", seconds=bridge.duration(), by=bridge.ended_by)
        self._finish_child(child, "completed")
        return {
            "DialCallStatus": "completed",
            "DialCallSid": child.sid,
            "DialCallDuration": str(bridge.duration()),
            "DialBridged": "true",
        }, hung

    def _finish_child(self, child: EmulatedCall, final: str) -> None:
        child.bridge = None
        if isinstance(child.actor, AgentActor):
            child.actor.busy_with.discard(child.sid)
        self._finish(child, final)
