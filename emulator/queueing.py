"""<Enqueue>: a caller waits in a queue, runs its wait URL, and is bridged when dequeued."""

from .clock import Wait
from .legs import EmulatedCall, client_label
from .model import (
    END,
    LEAVE,
    Bridge,
    BridgeEnded,
    Dequeued,
    Hangup,
    Member,
    Next,
    Queue,
    QueueWaitError,
    Redirected,
    Visit,
)
from .twiml import method_attr

DEFAULT_HOLD_MUSIC = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"


class QueueingMixin:
    """The Emulator's queues (see engine.Emulator)."""

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

    def verb_enqueue(self, leg, verb, doc, ctx):
        name = (verb.text or "").strip()
        action = self.absolute(verb.get("action"), doc.url) if verb.get("action") else None
        method = method_attr(verb.get("method"))
        wait_url = self.absolute(verb.get("waitUrl"), doc.url) if verb.get("waitUrl") else None
        wait_method = method_attr(verb.get("waitUrlMethod"))
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
        visit.agent = client_label(bridge.a.from_)
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
