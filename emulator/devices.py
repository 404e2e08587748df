"""Emulated softphones: devices registered with an access token, and the events they receive."""

import itertools
import threading
import uuid
from dataclasses import dataclass, field

from .model import DeviceAnswered, DeviceRejected, DigitsPressed


@dataclass(eq=False)
class Device:
    id: str
    identity: str
    events: list = field(default_factory=list)
    calls: dict = field(default_factory=dict)  # CallSid -> "incoming" | "outgoing" | "accepted"
    rejected: set = field(default_factory=set)
    # A scripted device (load tests, training): accepts every incoming call after answer_after
    # seconds of ringing and hangs up talk_seconds after accepting (None: never by itself) or,
    # with talk_from "connected", talk_seconds after the call is first connected to somebody
    # (a bridge, or a conference with another participant): a person talks with whoever the
    # app connects them to, however long the connecting takes. Nobody within
    # GIVE_UP_SECONDS of accepting: it hangs up then.
    answer_after: float | None = None
    talk_seconds: float | None = None
    talk_from: str = "accept"  # accept | connected


TALK_FROM = ("accept", "connected")
GIVE_UP_SECONDS = 60.0


class Devices:
    """The registry. Events are appended on the emulator's thread and long-polled from others."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.devices: dict[str, Device] = {}
        self._changed = threading.Condition()
        self._seq = itertools.count(1)
        # Accepted calls of scripted devices waiting to be connected before their talk starts:
        # CallSid -> (device, give-up timer).
        self.waiting: dict[str, tuple] = {}
        emulator.observers.append(self._observe)

    # --- registry (emulator thread) -------------------------------------------------------------
    def register(
        self,
        identity: str,
        *,
        answer_after: float | None = None,
        talk_seconds: float | None = None,
        talk_from: str = "accept",
    ) -> Device:
        device = Device(
            id="DE" + uuid.uuid4().hex,
            identity=identity,
            answer_after=answer_after,
            talk_seconds=talk_seconds,
            talk_from=talk_from,
        )
        self.devices[device.id] = device
        agent = self.emulator.agents.get(identity) or self.emulator.add_agent(
            identity, talk_seconds=None
        )
        agent.live, agent.online, agent.talk_seconds = True, True, None
        return device

    def unregister(self, device: Device) -> None:
        self.devices.pop(device.id, None)
        if not self.for_identity(device.identity):
            agent = self.emulator.agents.get(device.identity)
            if agent is not None:
                agent.online = False
        with self._changed:
            self._changed.notify_all()

    def for_identity(self, identity: str) -> list[Device]:
        return [device for device in self.devices.values() if device.identity == identity]

    def emit(self, device: Device, type_: str, leg, **extra) -> None:
        event = {
            "id": next(self._seq),
            "type": type_,
            "call": leg.sid,
            "params": {
                "CallSid": leg.sid,
                "From": leg.from_,
                "To": leg.to,
                "AccountSid": self.emulator.account_sid,
            },
            "custom": {
                key: value
                for key, value in leg.extra_fields.items()
                if key not in ("ApplicationSid", "To", "From")
            },
            **extra,
        }
        with self._changed:
            device.events.append(event)
            self._changed.notify_all()

    def _observe(self, leg, entry) -> None:
        kind = entry.kind
        if kind == "ringing" and leg.to.startswith("client:"):
            identity = leg.to[len("client:") :]
            for device in self.for_identity(identity):
                device.calls[leg.sid] = "incoming"
                self.emit(device, "incoming", leg)
                if device.answer_after is not None:
                    self.emulator.sim.schedule(
                        self.emulator.now + device.answer_after, self._auto_accept, device, leg.sid
                    )
            return
        if kind == "connected":
            self._connected([leg.sid])
            return
        if kind == "conference-join" and self.waiting:
            # The joiner and everyone already in its conference (the joiner's own participant
            # is not attached to its leg yet, but it is in the conference's list).
            sid = entry.attrs.get("conference_sid")
            for waiting in [leg.sid, *self.waiting]:
                other = self.emulator.call_by_sid(waiting)
                room = getattr(getattr(other, "participant", None), "conference", None)
                if room is not None and room.sid == sid and len(room.participants) >= 2:
                    self._connected(list(room.participants))
                    return
            if leg.sid in self.waiting:
                room = next((c for c in reversed(self.emulator.conferences) if c.sid == sid), None)
                if room is not None and len(room.participants) >= 2:
                    self._connected(list(room.participants))
            return
        if kind not in ("answered", "end"):
            return
        for device in list(self.devices.values()):
            state = device.calls.get(leg.sid)
            if state is None:
                continue
            if kind == "answered" and state == "outgoing":
                device.calls[leg.sid] = "accepted"
                self.emit(device, "accept", leg)
            elif kind == "end":
                del device.calls[leg.sid]
                waiting = self.waiting.pop(leg.sid, None)
                if waiting is not None:
                    self.emulator.sim.cancel(waiting[1])
                if state == "accepted":
                    self.emit(device, "disconnect", leg)
                elif leg.sid not in device.rejected:
                    self.emit(device, "cancel", leg)

    # --- a scripted device (emulator thread) ----------------------------------------------------
    def _auto_accept(self, device: Device, sid: str) -> None:
        if device.id not in self.devices or not self.accept(device, sid):
            return  # unregistered, or the call stopped ringing (cancelled, taken elsewhere)
        if device.talk_seconds is None:
            return
        sim = self.emulator.sim
        leg = self.emulator.call_by_sid(sid)
        bridged = leg is not None and leg.bridge is not None and leg.bridge.connected_at is not None
        if device.talk_from == "accept" or bridged:
            sim.schedule(self.emulator.now + device.talk_seconds, self._auto_hangup, device, sid)
        else:
            self.waiting[sid] = (
                device,
                sim.schedule(self.emulator.now + GIVE_UP_SECONDS, self._auto_hangup, device, sid),
            )

    def _connected(self, sids) -> None:
        """These calls now talk with somebody: a scripted device waiting for that starts its
        talk."""
        for sid in sids:
            waiting = self.waiting.pop(sid, None)
            if waiting is not None:
                device, give_up = waiting
                self.emulator.sim.cancel(give_up)
                self.emulator.sim.schedule(
                    self.emulator.now + device.talk_seconds, self._auto_hangup, device, sid
                )

    def _auto_hangup(self, device: Device, sid: str) -> None:
        self.waiting.pop(sid, None)
        if device.calls.get(sid) == "accepted":
            self.hangup(device, sid)

    # --- what a device does (emulator thread) ---------------------------------------------------
    def _ringing(self, device: Device, sid: str):
        leg = self.emulator.call_by_sid(sid)
        if leg is None or device.calls.get(sid) != "incoming" or leg.status != "ringing":
            return None
        return leg

    def accept(self, device: Device, sid: str) -> bool:
        leg = self._ringing(device, sid)
        if leg is None:
            return False
        process = leg.parent.process if leg.parent is not None else leg.process
        if process is None or process.done:
            return False
        device.calls[sid] = "accepted"
        if leg.parent is not None:
            # <Dial><Client>: the dial is answered, the other devices stop ringing. A call
            # created through the REST API keeps ringing the identity's other devices (they get
            # `cancel` when the call ends).
            for other in self.for_identity(device.identity):
                if other is not device and sid in other.calls:
                    del other.calls[sid]
                    self.emit(other, "cancel", leg)
        process.interrupt(DeviceAnswered(sid))
        self.emit(device, "accept", leg)
        return True

    def reject(self, device: Device, sid: str) -> bool:
        leg = self._ringing(device, sid)
        if leg is None:
            return False
        device.rejected.add(sid)
        del device.calls[sid]
        if any(sid in other.calls for other in self.for_identity(device.identity)):
            return True  # another of this identity's devices still rings
        process = leg.parent.process if leg.parent is not None else leg.process
        if process is not None and not process.done:
            process.interrupt(DeviceRejected(sid))
        return True

    def hangup(self, device: Device, sid: str) -> bool:
        leg = self.emulator.call_by_sid(sid)
        if leg is None or sid not in device.calls:
            return False
        if device.calls[sid] == "incoming":
            return self.reject(device, sid)
        self.emulator.hangup(leg, "agent")
        return True

    def mute(self, device: Device, sid: str, muted: bool) -> bool:
        leg = self.emulator.call_by_sid(sid)
        if leg is None or sid not in device.calls:
            return False
        leg.muted = muted
        return True

    def digits(self, device: Device, sid: str, digits: str) -> bool:
        leg = self.emulator.call_by_sid(sid)
        if leg is None or device.calls.get(sid) != "accepted":
            return False
        press_keys(leg, digits)
        return True

    def connect(self, device: Device, params: dict) -> str:
        params = {str(key): str(value) for key, value in (params or {}).items()}
        to = params.get("To", "")
        leg = self.emulator.agent_dial(device.identity, to=to, at=self.emulator.now, params=params)
        device.calls[leg.sid] = "outgoing"
        return leg.sid

    # --- long poll (any thread) -----------------------------------------------------------------
    def wait_events(self, device: Device, wait: float) -> list[dict]:
        """The events not yet delivered, waiting up to ``wait`` seconds for one."""
        with self._changed:
            self._changed.wait_for(
                lambda: device.id not in self.devices or bool(device.events), timeout=wait
            )
            events, device.events = device.events, []
            return events


def press_keys(leg, digits: str) -> None:
    """Keys pressed on a live leg: heard by a listening <Gather>, else lost (as on Twilio)."""
    listening = (
        leg.gathering
        or (leg.hangup_on_star and "*" in digits)
        or any(key in leg.recording_keys for key in digits)
    )
    if listening and leg.process is not None and not leg.process.done:
        leg.process.interrupt(DigitsPressed(digits))
    else:
        leg.note("keys", text=digits, ignored=True)
