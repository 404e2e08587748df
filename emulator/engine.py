"""The Twilio voice emulator: executes the app's TwiML verb by verb on a virtual clock."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

from .actors import AgentActor, Caller
from .clock import Simulation, Wait
from .conference import ConferenceMixin
from .dial import DialMixin
from .fetching import APPLICATION_ERROR, HttpMixin
from .legs import EmulatedCall, NumberConfig
from .model import (
    DEFAULT_QUEUE_SIZE,
    REJECTED,
    BridgeEnded,
    DeviceAnswered,
    DeviceRejected,
    Hangup,
    Next,
    Queue,
    Redirected,
    Visit,
    new_sid,
)
from .queueing import QueueingMixin
from .recordings import RecordingsMixin
from .rest import EmulatorHttpClient
from .transport import DjangoTransport
from .twiml import method_attr
from .verbs import VerbsMixin

__all__ = ["APPLICATION_ERROR", "EmulatedCall", "Emulator"]


class Emulator(HttpMixin, VerbsMixin, QueueingMixin, DialMixin, ConferenceMixin, RecordingsMixin):
    """Twilio's voice side, emulated. See docs/emulator.md.

    This module holds the clock, the account's configuration and the life of a leg; requests to
    the app are in fetching.py, verbs in verbs.py, <Enqueue> in queueing.py, <Dial> in dial.py.
    """

    # TwiML verb -> handler(emulator, leg, verb, doc, ctx), a generator returning what comes next.
    VERBS = {
        "Say": VerbsMixin.verb_say,
        "Play": VerbsMixin.verb_play,
        "Pause": VerbsMixin.verb_pause,
        "Redirect": VerbsMixin.verb_redirect,
        "Hangup": VerbsMixin.verb_hangup,
        "Reject": VerbsMixin.verb_reject,
        "Leave": VerbsMixin.verb_leave,
        "Gather": VerbsMixin.verb_gather,
        "Record": VerbsMixin.verb_record,
        "Enqueue": QueueingMixin.verb_enqueue,
        "Dial": DialMixin.verb_dial,
    }

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
        self._calls_by_sid: dict[str, EmulatedCall] = {}
        # Every request sent to the app and how it was answered: (CallSid, method, URL, HTTP
        # status or None when unreachable). The local Twilio's load report reads it.
        self.request_log: list[tuple[str, str, str, int | None]] = []
        # None: status callbacks are sent in line, one after the other with everything else
        # (in process, the discrete-event clock). The local Twilio sets a sender that posts
        # them from threads of their own (realtime.StatusCallbackSender).
        self.status_callback_sender = None
        # None: webhooks that block a call are sent in line too (the virtual clock stands
        # still meanwhile). The local Twilio sets a pool (realtime.WebhookPool) that sends them
        # from threads of their own while the leg waits and the engine goes on with the others.
        self.webhook_pool = None
        self.visits: list[Visit] = []
        self.recordings: dict[str, dict] = {}
        self.conferences: list = []  # every conference, in order of creation
        self.errors: list[dict] = []
        self.note_seq = 0
        # Called with (leg, TranscriptEntry) for everything that happens (the local Twilio's
        # scripting API and devices follow calls this way).
        self.observers: list = []
        # Calls create per second (Twilio's CPS); None: unlimited. Later calls wait their turn.
        self.calls_per_second: float | None = None
        self._next_create_at = 0.0

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
            method_attr(voice_method),
            self.absolute(status_callback) if status_callback else None,
            method_attr(status_callback_method),
            self.absolute(fallback_url) if fallback_url else None,
            method_attr(fallback_method),
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
            "voice_method": method_attr(voice_method),
            "status_callback": self.absolute(status_callback) if status_callback else None,
            "status_method": method_attr(status_callback_method),
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
        on_ring: str = "answer",
    ) -> AgentActor:
        """A softphone user. With ``takes_queues`` it takes waiting callers by itself;
        ``on_ring`` says what it does with calls that ring it: answer, reject or ignore."""
        if on_ring not in ("answer", "reject", "ignore"):
            raise ValueError(f"on_ring must be answer, reject or ignore, not {on_ring!r}")
        agent = AgentActor(
            identity,
            answer_after=answer_after,
            talk_seconds=talk_seconds,
            online=online,
            takes_queues=takes_queues,
            on_ring=on_ring,
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
        return self._calls_by_sid.get(sid)

    # --- starting calls ----------------------------------------------------------------------
    def _new_leg(self, **kwargs) -> EmulatedCall:
        leg = EmulatedCall(self, **kwargs)
        self.calls.append(leg)
        self._calls_by_sid[leg.sid] = leg
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
        leg.status_method = method_attr(status_callback_method)
        leg.status_events = set(status_callback_event or ["completed"])  # only those asked for
        leg.fallback_url = self.absolute(fallback_url) if fallback_url else None
        if twiml is not None:
            first = Next(self.base_url + "/", "POST", twiml=twiml)
        else:
            first = Next(self.absolute(url), method_attr(method))
        start = self.sim.now if at is None else at
        if self.calls_per_second:
            start = max(start, self._next_create_at)
            self._next_create_at = start + 1.0 / self.calls_per_second
        leg.process = self.sim.spawn(self._outbound(leg, first, timeout), at=start, name=leg.sid)
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
        """Twilio's REST API over this emulator's state, as a ``twilio.http.HttpClient``."""
        return EmulatorHttpClient(self)

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
            if answer == "live":  # a person's device rings until accepted, rejected or timeout
                try:
                    yield Wait(timeout)
                except DeviceAnswered:
                    pass
                except DeviceRejected:
                    self._finish(leg, "busy")
                    return
                else:
                    self._finish(leg, "no-answer")
                    return
            elif answer == "answer" and after <= timeout:
                yield Wait(after)
            else:
                if answer == "busy" and isinstance(leg.actor, AgentActor):
                    yield Wait(min(after, timeout))  # the agent declines after a look
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
        for recording in list(leg.live_recordings):
            self.complete_recording(leg, recording)
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
            result = yield from self.VERBS[verb.tag](self, leg, verb, doc, ctx)
            if result is not None:
                return result
        return None
