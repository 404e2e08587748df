"""The emulator on the real clock: one thread owns it; everyone else hands it commands.

The engine is single-threaded (a discrete-event simulation). ``RealTimeRunner`` runs it in its
own thread, moving virtual time along with the wall clock, and executes commands (REST requests,
the scripting API, webhooks' answers) on that thread between events.

A webhook that blocks a call (Voice URL, action, wait URL…) goes to ``WebhookPool``: a pool
thread sends it while the leg waits and the engine goes on with the other calls; the answer
comes back as a command and resumes that leg. The few requests still sent in line (conference
and recording callbacks, announcements) use ``PumpingTransport``: the runner keeps executing
commands meanwhile, since the app often calls the REST API from inside a webhook, and that
request must be served before the webhook can answer.
"""

import logging
import queue
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

logger = logging.getLogger("emulator.realtime")

IDLE_SECONDS = 0.5  # how often the loop looks again when nothing is due


class RealTimeRunner:
    def __init__(self, emulator):
        self.emulator = emulator
        self.commands: queue.Queue = queue.Queue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at = time.monotonic()
        # How late the loop found due events (wall-clock seconds past their virtual time):
        # near 0 while the local Twilio keeps up, growing when the engine's thread cannot
        # keep up with the calls (or the webhook pool is too small for the app's answer time).
        self.lateness: deque[float] = deque(maxlen=200_000)

    # --- for other threads ----------------------------------------------------------------
    def call(self, fn, *args, timeout: float = 30.0, **kwargs):
        """Run ``fn(*args, **kwargs)`` on the emulator's thread and return its result."""
        if threading.current_thread() is self._thread:
            return fn(*args, **kwargs)
        future: Future = Future()
        self.commands.put((fn, args, kwargs, future))
        return future.result(timeout)

    def post(self, fn, *args) -> None:
        """Have ``fn(*args)`` run on the emulator's thread, soon; nobody waits for it."""
        self.commands.put((fn, args, {}, Future()))

    def start(self) -> None:
        self._started_at = time.monotonic() - self.emulator.sim.now
        self._thread = threading.Thread(target=self._loop, name="twilio-emulator", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self.commands.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    # --- on the emulator's thread -------------------------------------------------------------
    def elapsed(self) -> float:
        return time.monotonic() - self._started_at

    def _loop(self) -> None:
        sim = self.emulator.sim
        while not self._stopping.is_set():
            due = sim.next_due()
            if due is not None and due <= self.elapsed():
                self.lateness.append(self.elapsed() - due)
            try:
                sim.run(until=self.elapsed())
            except Exception:  # one broken call must not stop the local Twilio
                logger.exception("a call failed in the emulator")
            due = sim.next_due()
            delay = IDLE_SECONDS if due is None else min(IDLE_SECONDS, due - self.elapsed())
            try:
                item = self.commands.get(timeout=max(0.0, delay))
            except queue.Empty:
                continue
            if item is None:
                break
            if sim.now < self.elapsed():
                try:
                    sim.run(until=self.elapsed())
                except Exception:
                    logger.exception("a call failed in the emulator")
            self._execute(item)

    def pump(self, wait: float) -> None:
        """Execute the commands waiting (up to ``wait`` seconds for the first one)."""
        try:
            item = self.commands.get(timeout=wait)
        except queue.Empty:
            return
        if item is None:
            self.commands.put(None)  # stopping: leave it for the loop
            return
        self._execute(item)
        while True:
            try:
                item = self.commands.get_nowait()
            except queue.Empty:
                return
            if item is None:
                self.commands.put(None)
                return
            self._execute(item)

    @staticmethod
    def _execute(item) -> None:
        fn, args, kwargs, future = item
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # handed to the caller's thread
            future.set_exception(error)


class PumpingTransport:
    """Wraps a transport: the request runs on a helper thread while the runner keeps serving
    commands (the app's REST calls made while it answers this very webhook)."""

    def __init__(self, inner, runner: RealTimeRunner):
        self.inner = inner
        self.runner = runner
        self.base_url = getattr(inner, "base_url", None)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="twilio-emulator-http")

    def send(self, method: str, url: str, *, body: bytes, headers: dict[str, str]):
        future = self._pool.submit(self.inner.send, method, url, body=body, headers=headers)
        while not future.done():
            self.runner.pump(0.01)
        return future.result()


class WebhookPool:
    """Sends the webhooks legs wait for from ``threads`` threads, as Twilio does: many calls'
    requests at the same time, one leg's one after the other (a lane per leg, in order).

    ``send`` is called on the emulator's thread; only ``transport.send`` runs on a pool
    thread, and ``answered(response, error)`` is run back on the emulator's thread (a runner
    command), where everything that changes the emulator's state happens."""

    def __init__(self, runner: RealTimeRunner, transport, threads: int = 32):
        self.runner = runner
        self.transport = transport
        self.threads = threads
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="twilio-webhook")
        self._in_flight: dict[str, tuple] = {}  # lane -> its request being sent
        self._waiting: dict[str, deque] = {}  # lane -> its requests waiting for that one

    def send(self, lane: str, method, url, body, headers, answered) -> tuple:
        job = (lane, method, url, body, headers, answered)
        if lane in self._in_flight:
            self._waiting.setdefault(lane, deque()).append(job)
        else:
            self._start(job)
        return job

    def release(self, job: tuple) -> None:
        """Its leg moved on (interrupted while waiting): the lane's next request need not
        wait for this one's answer, which will be logged and ignored."""
        if self._in_flight.get(job[0]) is job:
            self._next(job[0])

    def _start(self, job) -> None:
        self._in_flight[job[0]] = job
        self._executor.submit(self._run, job)

    def _next(self, lane) -> None:
        waiting = self._waiting.get(lane)
        if waiting:
            self._start(waiting.popleft())
        else:
            self._in_flight.pop(lane, None)
            self._waiting.pop(lane, None)

    def _run(self, job) -> None:  # on a pool thread
        _lane, method, url, body, headers, _answered = job
        response = error = None
        try:
            response = self.transport.send(method, url, body=body, headers=headers)
        except Exception as exc:  # handed to the leg, as a sent-in-line request would raise it
            error = exc
        self.runner.post(self._done, job, response, error)

    def _done(self, job, response, error) -> None:
        if self._in_flight.get(job[0]) is job:
            self._next(job[0])
        job[5](response, error)

    def pending(self) -> int:
        """Requests handed to the pool and not answered yet (sent or waiting for their lane)."""
        return len(self._in_flight) + sum(len(waiting) for waiting in self._waiting.values())

    def stop(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class StatusCallbackSender:
    """Without the webhook pool (``--http-threads 0``; with it they go to the pool, a lane per
    leg): status callbacks on the real clock, sent from `threads` threads of their own so that a
    slow app delays no call: Twilio sends them asynchronously too, and the calls do not wait
    for their answer. One leg's callbacks always go through the same thread, so they arrive in
    the order they happened (SequenceNumber order); callbacks of different legs may arrive in
    any order, as on Twilio. A failure is recorded on the emulator's thread (error 15003)."""

    def __init__(self, emulator, runner: RealTimeRunner, transport, threads: int = 4):
        self.emulator = emulator
        self.runner = runner
        self.transport = transport
        self._queues = [queue.Queue() for _ in range(threads)]
        self._threads = [
            threading.Thread(
                target=self._send_from, args=(q,), name=f"twilio-status-{n}", daemon=True
            )
            for n, q in enumerate(self._queues)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, leg, url: str, method: str, fields: dict) -> None:
        self._queues[hash(leg.sid) % len(self._queues)].put((leg, url, method, fields))

    def stop(self) -> None:
        for q in self._queues:
            q.put(None)

    def _report(self, leg, code, url, message) -> None:
        future: Future = Future()
        self.runner.commands.put(
            (self.emulator._record_error, (leg, code, url, message), {}, future)
        )

    def _send_from(self, q: queue.Queue) -> None:
        while True:
            item = q.get()
            if item is None:
                return
            leg, url, method, fields = item
            try:
                self.emulator._send_status_callback(
                    leg, url, method, fields, transport=self.transport, report=self._report
                )
            except Exception:  # a broken callback must not stop the others
                logger.exception("a status callback failed in the emulator")
            finally:
                q.task_done()

    def pending(self) -> int:
        """Status callbacks submitted and not yet answered."""
        return sum(q.unfinished_tasks for q in self._queues)
