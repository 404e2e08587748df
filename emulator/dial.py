"""<Dial>: ring clients and numbers (first to answer wins) or take a queue's front caller."""

from typing import NamedTuple

from .actors import AgentActor
from .clock import Wait
from .legs import EmulatedCall
from .model import (
    END,
    Bridge,
    BridgeEnded,
    Dequeued,
    DeviceAnswered,
    DeviceRejected,
    Hangup,
    Next,
    Redirected,
)
from .twiml import TwimlError, bool_attr, int_attr, method_attr


class DialTarget(NamedTuple):
    """One <Number> or <Client> of a <Dial>."""

    kind: str  # "Number" or "Client"
    address: str  # +E164 or client:<identity>
    url: str | None = None  # whisper TwiML run on the callee's leg before bridging
    method: str = "POST"
    status_callback: str | None = None
    status_method: str = "POST"
    status_events: frozenset[str] = frozenset({"completed"})
    params: dict | None = None  # <Client><Parameter>s, sent as fields of the child leg


class RingingChild(NamedTuple):
    """A child leg being rung by a <Dial>, with what its person will do."""

    leg: EmulatedCall
    person: object  # a Caller or an AgentActor
    answer: str  # "answer", "busy", "failed" or "no-answer"
    target: DialTarget


def dial_result(
    status: str,
    *,
    call_sid: str | None = None,
    duration: float = 0,
    bridged: bool | None = None,
    **extra: str,
) -> dict[str, str]:
    """The Dial* fields Twilio posts to a <Dial action> (plus ``extra`` ones)."""
    fields = {"DialCallStatus": status}
    if call_sid is not None:
        fields["DialCallSid"] = call_sid
    fields["DialCallDuration"] = str(duration)
    if bridged is not None:
        fields["DialBridged"] = "true" if bridged else "false"
    fields.update(extra)
    return fields


class DialMixin:
    """The Emulator's <Dial> (see engine.Emulator)."""

    def verb_dial(self, leg, verb, doc, ctx):
        action = self.absolute(verb.get("action"), doc.url) if verb.get("action") else None
        method = method_attr(verb.get("method"))
        timeout = max(1, int_attr(verb.get("timeout"), 30))
        time_limit = max(1, int_attr(verb.get("timeLimit"), 14400))
        nouns = list(verb)
        if nouns and nouns[0].tag == "Queue":
            fields, hung = yield from self._dial_queue(leg, nouns[0], doc, timeout, time_limit)
        elif nouns and nouns[0].tag == "Conference":
            fields, hung = yield from self._dial_conference(
                leg, nouns[0], doc, time_limit, bool_attr(verb.get("hangupOnStar"))
            )
        else:
            if not nouns:
                number = (verb.text or "").strip()
                targets = [DialTarget("Number", number)]
            else:
                targets = [self._target(noun, doc) for noun in nouns]
            # Without callerId the callee sees who is calling: the original caller's number.
            caller_id = verb.get("callerId") or leg.from_
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
                    method_attr(verb.get("recordingStatusCallbackMethod")),
                )
        if hung is not None:
            if action:
                self._request_ignoring(leg, Next(action, method, fields))
            raise hung
        if action:
            return Next(action, method, fields)
        return None

    def _target(self, noun, doc) -> DialTarget:
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
        return DialTarget(
            noun.tag,
            address,
            url,
            method_attr(noun.get("method")),
            callback,
            method_attr(noun.get("statusCallbackMethod")),
            frozenset(events),
            params,
        )

    def _dial_queue(self, leg, noun, doc, timeout, time_limit):
        name = (noun.text or "").strip()
        url = self.absolute(noun.get("url"), doc.url) if noun.get("url") else None
        queue = self.queues.get(name)
        leg.note("dial", text=f"queue:{name}")
        if queue is None:
            leg.note("dial-failed", text=f"queue {name} does not exist")
            return dial_result("failed"), None
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
            return dial_result("canceled", QueueSid=queue.sid), hangup
        if not queue.members:
            leg.note("dial-timeout", text=name, seconds=timeout)
            return dial_result("no-answer", bridged=False, QueueSid=queue.sid), None
        member = queue.members.pop(0)
        caller = member.leg
        bridge = Bridge(leg, caller, queue=queue, url=url, method=method_attr(noun.get("method")))
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
        fields = dial_result(
            "completed" if bridge.connected else "failed",
            call_sid=caller.sid,
            duration=bridge.duration(),
            bridged=bridge.connected,
            QueueSid=queue.sid,
            QueueTime=str(wait),
            DequeueResult="bridged" if bridge.connected else "hangup",
            DequeuedCallSid=caller.sid,
            DequeuedCallQueueTime=str(wait),
            DequeuedCallDuration=str(bridge.duration()),
        )
        return fields, hung

    def _dial_parties(self, leg, targets: list[DialTarget], timeout, time_limit, caller_id):
        children: list[RingingChild] = []
        for target in targets:
            person = self._party_for(target.address)
            child = self._new_leg(
                direction="outbound-dial",
                from_=caller_id if target.kind == "Number" else leg.from_,
                to=target.address,
                actor=person,
                parent=leg,
            )
            child.status_callback = target.status_callback
            child.status_method = target.status_method
            child.status_events = set(target.status_events)
            child.extra_fields = dict(target.params or {})
            child.started_at = self.sim.now
            answer = person.answer
            if isinstance(person, AgentActor):
                person.busy_with.add(child.sid)
            children.append(RingingChild(child, person, answer, target))
            child.status = "initiated"
            self._status_callback(child, "initiated")
            child.status = "ringing"
            child.note("ringing")
            self._status_callback(child, "ringing")
        leg.note("dial", text=", ".join(ringing.leg.to for ringing in children))
        answering = [
            ringing
            for ringing in children
            if ringing.answer == "answer" and ringing.person.answer_after <= timeout
        ]
        winner = min(answering, key=lambda ringing: ringing.person.answer_after, default=None)
        if winner is not None:
            ring = winner.person.answer_after
        elif all(ringing.answer in ("busy", "failed") for ringing in children):
            ring = 0
        else:
            ring = timeout
        first_sid = children[0].leg.sid
        rejected: set[str] = set()
        try:
            deadline = self.sim.now + ring
            while True:
                try:
                    yield Wait(max(0.0, deadline - self.sim.now))
                    break
                except DeviceAnswered as answered:  # a person's device (see _ringing_live)
                    picked = self._ringing_live(children, answered.sid)
                    if picked is not None:
                        winner = picked
                        break
                except DeviceRejected as declined:
                    picked = self._ringing_live(children, declined.sid)
                    if picked is not None:
                        rejected.add(picked.leg.sid)
                        self._finish_child(picked.leg, "busy")
                    if all(ringing.leg.ended for ringing in children):
                        break
        except (Hangup, Redirected) as stop:
            for ringing in children:
                self._finish_child(ringing.leg, "canceled")
            if isinstance(stop, Redirected):
                raise
            return dial_result("canceled", call_sid=first_sid, bridged=False), stop
        if winner is None:
            statuses = {
                ("busy" if ringing.leg.sid in rejected else "no-answer")
                if ringing.answer == "live"
                else ringing.answer
                for ringing in children
            }
            status = (
                "busy"
                if statuses == {"busy"}
                else ("failed" if statuses == {"failed"} else "no-answer")
            )
            for ringing in children:
                answer = ringing.answer
                self._finish_child(
                    ringing.leg, answer if answer in ("busy", "failed") else "no-answer"
                )
            leg.note("dial-result", text=status)
            return dial_result(status, call_sid=first_sid, bridged=False), None
        child, person = winner.leg, winner.person
        for ringing in children:
            if ringing is not winner:
                self._finish_child(ringing.leg, "canceled")
        self._answer(child)
        bridge = Bridge(leg, child)
        hung = None
        timers = []
        try:
            if winner.target.url:
                nxt = Next(winner.target.url, winner.target.method)
                while isinstance(nxt, Next):
                    try:
                        doc = yield from self._loading(child, nxt, "whisper", self._pooled)
                    except TwimlError as error:
                        self._record_error(child, error.code, nxt.url, error.message)
                        break
                    if isinstance(doc, tuple):
                        break
                    nxt = yield from self._execute(child, doc, "whisper")
                if nxt is END:
                    self._finish_child(child, "completed")
                    return dial_result("completed", call_sid=child.sid, bridged=False), None
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
        return (
            dial_result("completed", call_sid=child.sid, duration=bridge.duration(), bridged=True),
            hung,
        )

    @staticmethod
    def _ringing_live(children: list[RingingChild], sid: str) -> RingingChild | None:
        """The live (device) child ``sid`` if it is still ringing."""
        return next(
            (
                ringing
                for ringing in children
                if ringing.leg.sid == sid and ringing.answer == "live" and not ringing.leg.ended
            ),
            None,
        )

    def _finish_child(self, child: EmulatedCall, final: str) -> None:
        child.bridge = None
        if isinstance(child.actor, AgentActor):
            child.actor.busy_with.discard(child.sid)
        self._finish(child, final)
