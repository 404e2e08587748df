"""A discrete-event simulation: a heap of timed events and generator-based processes.

Each call leg runs as a generator that yields :class:`Wait`; the scheduler resumes it when the
wait times out or someone wakes it, and throws :class:`Interrupt` subclasses into it when the
outside world intervenes (the caller hangs up, an agent dequeues it, a REST redirect...).
Virtual time only moves when the next event is due, so an hour of traffic runs in seconds.
"""

import heapq
import itertools
from collections.abc import Callable, Generator
from typing import Any


class Interrupt(Exception):  # noqa: N818 - an event, not an error
    """Thrown into a process at its current Wait.

    At a tie with the process's own timer, the timer normally runs first (the interrupt is
    delivered right after, at the same virtual time); ``preempts_timer`` interrupts win the tie.
    """

    preempts_timer = False


class Wait:
    """Yielded by a process: resume after ``seconds`` (None: only when woken or interrupted).

    With a ``ticket``, the process waits for one answer (a webhook's response, see
    Process.answer): only that answer or an interrupt resumes it; plain wakes stay pending
    until its next ordinary Wait, and an answer with any other ticket is dropped.
    """

    __slots__ = ("seconds", "ticket")

    def __init__(self, seconds: float | None = None, *, ticket: object = None):
        if seconds is not None and seconds < 0:
            seconds = 0.0
        self.seconds = seconds
        self.ticket = ticket


class SimulationLimit(RuntimeError):
    """run() processed more events than allowed: a TwiML loop that never ends."""


class Simulation:
    def __init__(self):
        self.now = 0.0
        self._heap: list = []
        self._seq = itertools.count()
        self.events_processed = 0
        self.current: Process | None = None  # the process whose step is running

    def schedule(self, at: float, fn: Callable, *args) -> list:
        """Call ``fn(*args)`` at virtual time ``at`` (never in the past). Returns a handle."""
        entry = [max(at, self.now), next(self._seq), fn, args, False]
        heapq.heappush(self._heap, entry)
        return entry

    @staticmethod
    def cancel(handle: list | None) -> None:
        if handle is not None:
            handle[4] = True

    def spawn(self, generator: Generator, *, at: float, name: str = "") -> "Process":
        process = Process(self, generator, name)
        self.schedule(at, process.start)
        return process

    def pending(self) -> bool:
        return any(not entry[4] for entry in self._heap)

    def next_due(self) -> float | None:
        """When the next event not cancelled is due (None: nothing scheduled). Cancelled entries
        at the top of the heap are dropped on the way, as `run` would."""
        heap = self._heap
        while heap and heap[0][4]:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def run(self, until: float | None = None, *, max_events: int = 20_000_000) -> None:
        heap = self._heap
        while heap:
            at, _, fn, args, cancelled = heap[0]
            if until is not None and at > until:
                break
            heapq.heappop(heap)
            if cancelled:
                continue
            self.now = at
            self.events_processed += 1
            if self.events_processed > max_events:
                raise SimulationLimit(f"more than {max_events} events: does some TwiML loop?")
            fn(*args)
        if until is not None and until > self.now:
            self.now = until


class Process:
    """A generator driven by the simulation."""

    def __init__(self, sim: Simulation, generator: Generator, name: str = ""):
        self.sim = sim
        self.generator = generator
        self.name = name
        self.token = 0
        self.running = False
        self.started = False
        self.done = False
        self.waiting = False
        self.awaiting: object = None  # the ticket of the Wait it is at, if any
        self._timer: list | None = None
        self._pending: list[tuple[str, Any]] = []
        self._delivery_scheduled = False
        self.on_done: list[Callable[[], None]] = []

    def start(self) -> None:
        if not self.started and not self.done:
            self.started = True
            self._step("send", None)

    def _step(self, how: str, value: Any) -> None:
        self.token += 1
        self.waiting = False
        self.sim.cancel(self._timer)
        self._timer = None
        self.awaiting = None
        self.running = True
        outer, self.sim.current = self.sim.current, self
        try:
            request = self.generator.throw(value) if how == "throw" else self.generator.send(value)
        except StopIteration:
            self.running = False
            self._finish()
            return
        except BaseException:
            self.running = False
            self.done = True
            raise
        finally:
            self.sim.current = outer
        self.running = False
        if not isinstance(request, Wait):
            raise TypeError(f"process {self.name} yielded {request!r}, not a Wait")
        self.waiting = True
        self.awaiting = request.ticket
        if self._pending:  # answers to an earlier Wait came too late: dropped
            self._pending = [entry for entry in self._pending if entry[0] != "answer"]
        if self._pending:
            self._schedule_delivery()
        elif request.seconds is not None:
            self._timer = self.sim.schedule(
                self.sim.now + request.seconds, self._timeout, self.token
            )

    def _finish(self) -> None:
        self.done = True
        self.waiting = False
        self._pending.clear()
        for callback in self.on_done:
            callback()

    def _timeout(self, token: int) -> None:
        if token == self.token and self.waiting and not self.done:
            if any(getattr(value, "preempts_timer", False) for _, value in self._pending):
                # The process was moved elsewhere at the very moment its wait ran out: that
                # comes first (a caller dequeued as its music ends does not fetch more music).
                how, value = self._pending.pop(0)
                self._step(how, value)
            else:
                self._step("send", None)

    def _schedule_delivery(self) -> None:
        if not self._delivery_scheduled:
            self._delivery_scheduled = True
            self.sim.schedule(self.sim.now, self._deliver)

    def _deliver(self) -> None:
        self._delivery_scheduled = False
        if self.done or self.running or not self._pending:
            return
        if not self.started:
            self._schedule_delivery()
            return
        entry = self._take_pending()
        if entry is not None:
            self._step(*entry)

    def _take_pending(self) -> tuple[str, Any] | None:
        """The first pending event this Wait takes (at a ticket's Wait: its answer or an
        interrupt; plain wakes stay pending until the next ordinary Wait)."""
        for index, (how, value) in enumerate(self._pending):
            if how == "answer":
                del self._pending[index]
                ticket, answer = value
                if ticket is self.awaiting:
                    return "send", answer
                return self._take_pending()
            if self.awaiting is None or how == "throw":
                del self._pending[index]
                return how, value
        return None

    def answer(self, ticket: object, value: Any) -> None:
        """Resume the process with ``value`` if it still waits at the Wait with ``ticket`` (a
        late answer, for a Wait the process was moved away from, is dropped)."""
        if not self.done and self.waiting and ticket is self.awaiting:
            self._pending.append(("answer", (ticket, value)))
            if not self.running:
                self._schedule_delivery()

    def wake(self, value: Any = True) -> None:
        """Resume the process at its current Wait with ``value`` (at the current time)."""
        if not self.done:
            self._pending.append(("send", value))
            if not self.running:
                self._schedule_delivery()

    def interrupt(self, exc: Interrupt) -> None:
        """Throw ``exc`` into the process at its current Wait (at the current time)."""
        if not self.done:
            self._pending.append(("throw", exc))
            if not self.running:
                self._schedule_delivery()
