"""The emulator's state: call legs, queues, visits and what happened to them."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from .clock import Interrupt

API_VERSION = "2010-04-01"
DEFAULT_QUEUE_SIZE = 1000
MAX_QUEUE_SIZE = 5000


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


@dataclass
class TranscriptEntry:
    """One thing that happened on a call, at ``at`` virtual seconds since the clock started.

    kind: ``request`` (url, attrs method/fields/status), ``say`` (text, attrs language/voice),
    ``play`` (url), ``play-digits`` (text), ``pause`` (attrs seconds), ``gather``, ``keys``
    (text: keys pressed), ``no-input``, ``record``, ``enqueue``, ``queue-full``, ``dequeued``,
    ``leave``, ``queue-exit`` (attrs result), ``dial``, ``ringing``, ``connected``,
    ``disconnected``, ``redirect``, ``hangup``, ``reject``, ``error`` (attrs code), ``answered``,
    ``end`` (text: final status).
    """

    at: float
    kind: str
    text: str = ""
    url: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    seq: int = 0  # emulator-wide order of entries (several happen at the same virtual time)


@dataclass
class Next:
    """A document to fetch next: URL + method + extra fields (or inline TwiML)."""

    url: str
    method: str = "POST"
    fields: dict[str, str] = field(default_factory=dict)
    twiml: str | None = None
    is_fallback: bool = False


class Outcome:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<{self.name}>"


END = Outcome("end")  # <Hangup> (or the end of what must end the call)
LEAVE = Outcome("leave")  # <Leave> inside wait TwiML
REJECTED = Outcome("rejected")


# --- Interrupts thrown into a leg's process ---------------------------------------------------
class Hangup(Interrupt):
    def __init__(self, by: str):
        super().__init__(by)
        self.by = by


class Redirected(Interrupt):
    """A REST update moved the call to new TwiML (member=True: a Queue Member update)."""

    preempts_timer = True

    def __init__(self, next_: Next, *, member: bool = False):
        super().__init__(next_.url)
        self.next = next_
        self.member = member


class Dequeued(Interrupt):
    preempts_timer = True

    def __init__(self, bridge: "Bridge"):
        super().__init__("dequeued")
        self.bridge = bridge


class KeyPressed(Interrupt):
    """A barging-in caller pressed the first key while a <Gather>'s prompt was playing."""

    preempts_timer = True  # a key pressed as the prompt ends still stops the prompt


class DigitsPressed(Interrupt):
    """A live caller (the phone page) pressed keys while a <Gather> listens."""

    preempts_timer = True

    def __init__(self, digits: str):
        super().__init__(digits)
        self.digits = digits


class DeviceAnswered(Interrupt):
    """A live softphone accepted the ringing leg ``sid``."""

    preempts_timer = True

    def __init__(self, sid: str):
        super().__init__(sid)
        self.sid = sid


class DeviceRejected(Interrupt):
    """A live softphone rejected the ringing leg ``sid``."""

    preempts_timer = True

    def __init__(self, sid: str):
        super().__init__(sid)
        self.sid = sid


class BridgeEnded(Interrupt):
    def __init__(self, by: str):
        super().__init__(by)
        self.by = by


class QueueWaitError(Exception):
    """The wait or queue-url TwiML could not be fetched or executed."""


@dataclass(eq=False)
class Visit:
    """Ground truth about one caller's stay in one queue."""

    call_sid: str
    queue: str
    queue_sid: str
    entered_at: float
    result: str = "waiting"
    wait_seconds: int | None = None
    talk_seconds: int | None = None
    agent: str | None = None
    agent_call_sid: str | None = None
    left_queue_at: float | None = None  # stopped waiting (dequeued, left, hung up...)
    action_at: float | None = None  # the Enqueue action was requested

    def as_dict(self, start) -> dict:
        from datetime import timedelta

        return {
            "call_sid": self.call_sid,
            "queue": self.queue,
            "queue_sid": self.queue_sid,
            "result": self.result,
            "wait_seconds": self.wait_seconds,
            "talk_seconds": self.talk_seconds,
            "agent": self.agent,
            "agent_call_sid": self.agent_call_sid,
            "entered_at": start + timedelta(seconds=self.entered_at),
            "entered_at_seconds": self.entered_at,
            "action_at_seconds": self.action_at,
        }


@dataclass(eq=False)
class Member:
    leg: Any
    visit: Visit
    entered_at: float
    date_enqueued: Any = None
    ticket: int = 0  # order of arrival in its queue


class _Counts:
    """A Fenwick tree over arrival tickets: how many members are still waiting up to a ticket.

    Keeps QueuePosition O(log n) with thousands of callers in one queue.
    """

    def __init__(self):
        self.tree = [0] * 1025

    def add(self, ticket: int, delta: int) -> None:
        if ticket >= len(self.tree):
            size = len(self.tree)
            while size <= ticket:
                size *= 2
            values = [self.prefix(i) - self.prefix(i - 1) for i in range(1, len(self.tree))]
            self.tree = [0] * size
            for index, value in enumerate(values, start=1):
                if value:
                    self._add(index, value)
        self._add(ticket, delta)

    def _add(self, index: int, delta: int) -> None:
        while index < len(self.tree):
            self.tree[index] += delta
            index += index & -index

    def prefix(self, index: int) -> int:
        total = 0
        index = min(index, len(self.tree) - 1)
        while index > 0:
            total += self.tree[index]
            index -= index & -index
        return total


class MemberList(list):
    """The FIFO of a queue, with O(log n) positions and an O(1) average wait."""

    def __init__(self):
        super().__init__()
        self.counts = _Counts()
        self.next_ticket = 1
        self.sum_entered = 0.0
        self.present: set[int] = set()

    def append(self, member: Member) -> None:
        member.ticket = self.next_ticket
        self.next_ticket += 1
        self.counts.add(member.ticket, 1)
        self.sum_entered += member.entered_at
        self.present.add(id(member))
        super().append(member)

    def _gone(self, member: Member) -> None:
        self.counts.add(member.ticket, -1)
        self.sum_entered -= member.entered_at
        self.present.discard(id(member))

    def remove(self, member: Member) -> None:
        super().remove(member)
        self._gone(member)

    def pop(self, index: int = -1) -> Member:
        member = super().pop(index)
        self._gone(member)
        return member

    def __contains__(self, member) -> bool:
        return id(member) in self.present

    def position(self, member: Member) -> int:
        if id(member) not in self.present:
            return 0
        return self.counts.prefix(member.ticket)


@dataclass(eq=False)
class Queue:
    sid: str
    name: str
    max_size: int
    created_at: float
    members: MemberList = field(default_factory=MemberList)
    dialers: list = field(default_factory=list)  # agent legs waiting on an empty queue

    def position_of(self, member: Member) -> int:
        """1 = front; 0 once the member has been taken out (a request already under way)."""
        return self.members.position(member)

    def average_wait(self, now: float) -> int:
        if not self.members:
            return 0
        return int(now - self.members.sum_entered / len(self.members) + 1e-9)


class Bridge:
    """Two legs talking: ``a`` dialled (agent / parent), ``b`` was dialled or dequeued."""

    def __init__(self, a, b, *, queue: Queue | None = None, url=None, method="POST"):
        self.a = a
        self.b = b
        self.queue = queue
        self.url = url
        self.method = method
        self.connected_at: float | None = None
        self.ended_at: float | None = None
        self.ended_by: str | None = None

    @property
    def connected(self) -> bool:
        return self.connected_at is not None

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    def duration(self) -> int:
        if self.connected_at is None or self.ended_at is None:
            return 0
        return int(self.ended_at - self.connected_at + 1e-9)
