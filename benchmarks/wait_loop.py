"""Waiting callers: how many callers in Twilio queues the app holds, with an open-loop load.

    .venv/bin/python benchmarks/wait_loop.py --ramp 5000,10000,15000,20000,25000
    .venv/bin/python benchmarks/wait_loop.py --callers 20000 --seconds 60 [--nginx]
    .venv/bin/python benchmarks/wait_loop.py --soak 600 --callers 5000
    .venv/bin/python benchmarks/wait_loop.py --overload 1.5 --nginx
    .venv/bin/python benchmarks/wait_loop.py --compare
    .venv/bin/python benchmarks/wait_loop.py --quick          # a short run of each (make bench)

(Re)creates the PostgreSQL database `tsunagu_waitbench` (`--database-url`; the name must start
with tsunagu_waitbench), migrates it, runs `seed_demo`, adds queues beside `support` until every
5,000 callers have a queue of their own (Twilio's largest queue), and stores the waiting callers
in bulk as if they had entered: a Call leg in progress and an open QueueVisit each. Then it starts
`gunicorn config.wsgi` (gunicorn.conf.py, throwaway SECRET_KEY and TWILIO_AUTH_TOKEN), optionally
behind nginx stamping X-Request-Start, and asks every caller's wait URL once per period as Twilio
does (Twilio requests it again when the previous document has been played), at a constant rate
that does not depend on the answers (open loop). See docs/benchmarks.md, "Waiting callers".
"""

import argparse
import asyncio
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from twilio.request_validator import RequestValidator  # noqa: E402

from benchmarks.nginx import nginx_conf  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tsunagu_waitbench"
DATABASE_PREFIX = "tsunagu_waitbench"
NUMBER = "+815012345678"  # the demo number (seed_demo)
FIRST_QUEUE = "support"  # seed_demo's queue; the others are copies of it
QUEUE_SIZE = 5000  # Twilio's largest queue
API_VERSION = "2010-04-01"
# One pass of the demo queue's wait loop: 3 s pause, the position (~5 s), 30 s of hold music.
PERIOD = 38.0
TWILIO_TIMEOUT = 15.0  # Twilio gives up on a webhook after 15 s (then the fallback URL)
HELD_P99_MS = 100.0
OVERLOAD_LIMIT = 2.0  # seconds: at overload every wait request should be answered within this
PORTS = range(8600, 8700)  # default --ports


# --- the callers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiter:
    """One caller waiting in a queue: what its wait-URL requests say."""

    call_sid: str
    from_number: str
    queue: str  # slug
    queue_sid: str
    position: int
    entered: float  # epoch seconds when it entered the queue


def call_sid(n: int) -> str:
    return f"CA{0xB0000000 + n:032x}"


def queue_slugs(count: int) -> list[str]:
    return [FIRST_QUEUE] + [f"waitbench-{n}" for n in range(2, count + 1)]


def ensure_waiting(total: int, *, now: float | None = None, seed: int = 1) -> list[Waiter]:
    """Callers 0…total-1 waiting, stored as if their wait URL had been asked once: a Call leg in
    progress and an open QueueVisit each, 5,000 to a queue (`support`, then copies of it). Callers
    already stored are kept as they are; Django must be set up on the benchmark's database."""
    from django.db import transaction

    from queues.models import Queue, QueueResult, QueueVisit
    from telephony.models import Call, CallStatus

    now = time.time() if now is None else now
    rng = random.Random(seed)
    slugs = queue_slugs(max(1, math.ceil(total / QUEUE_SIZE)))
    queues = {}
    template = Queue.objects.get(slug=FIRST_QUEUE)
    messages = list(template.messages.all())
    with transaction.atomic():
        if template.max_size < QUEUE_SIZE:
            template.max_size = QUEUE_SIZE
            template.save(update_fields=["max_size"])
        for index, slug in enumerate(slugs):
            queue = Queue.objects.filter(slug=slug).first()
            if queue is None:
                queue = Queue.objects.get(slug=FIRST_QUEUE)
                queue.pk = None
                queue.slug, queue.name = slug, f"Wait benchmark {index + 1}"
                queue.twilio_sid = ""
                queue.save(force_insert=True)
                for message in messages:
                    message.pk, message.queue = None, queue
                    message.save(force_insert=True)
            queues[slug] = queue
    waiters = []
    for n in range(total):
        slug = slugs[n // QUEUE_SIZE]
        waited = rng.uniform(30, 600)  # how long they had waited when the benchmark starts
        waiters.append(
            Waiter(
                call_sid=call_sid(n),
                from_number=f"+8190{n:08d}",
                queue=slug,
                queue_sid=f"QU{0xC0000000 + slugs.index(slug):032x}",
                position=n % QUEUE_SIZE + 1,
                entered=now - waited,
            )
        )
    stored = set(
        Call.objects.filter(sid__in=[w.call_sid for w in waiters]).values_list("sid", flat=True)
    )
    missing = [w for w in waiters if w.call_sid not in stored]
    for start in range(0, len(missing), 2000):
        batch = missing[start : start + 2000]
        with transaction.atomic():
            calls = Call.objects.bulk_create(
                Call(
                    sid=w.call_sid,
                    account_sid="",
                    from_number=w.from_number,
                    to_number=NUMBER,
                    direction="inbound",
                    status=CallStatus.IN_PROGRESS,
                    started_at=datetime.fromtimestamp(w.entered - 20, UTC),
                )
                for w in batch
            )
            QueueVisit.objects.bulk_create(
                QueueVisit(
                    queue=queues[w.queue],
                    call=call,
                    queue_sid=w.queue_sid,
                    entered_at=datetime.fromtimestamp(w.entered, UTC),
                    result=QueueResult.WAITING,
                    entry=1,
                )
                for w, call in zip(batch, calls, strict=True)
            )
    return waiters


def places_kept(waiters: list[Waiter]) -> tuple[int, int]:
    """(callers whose only visit is still waiting in their queue, callers asked about)."""
    from django.db.models import Count, Q

    from queues.models import QueueResult, QueueVisit

    sids = [w.call_sid for w in waiters]
    kept = 0
    for start in range(0, len(sids), 5000):
        rows = (
            QueueVisit.objects.filter(call__sid__in=sids[start : start + 5000])
            .values("call__sid")
            .annotate(
                visits=Count("id"),
                waiting=Count("id", filter=Q(result=QueueResult.WAITING, entry=1)),
            )
        )
        kept += sum(1 for row in rows if row["visits"] == 1 and row["waiting"] == 1)
    return kept, len(sids)


# --- requests, signed in advance ---------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where the load goes: the socket to connect to and the public URL the app validates."""

    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def http_request(target: Target, path: str, params: dict, *, token: str | None) -> bytes:
    """A complete HTTP/1.1 POST, signed as Twilio signs it (X-Twilio-Signature) when a token is
    given: the public URL is the target's, which is what the app rebuilds (directly, or from
    nginx's X-Forwarded-* headers)."""
    body = urlencode(params)
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {target.host}:{target.port}",
        "Content-Type: application/x-www-form-urlencoded",
        f"Content-Length: {len(body)}",
        "User-Agent: TwilioProxy/1.1",
        "Accept: */*",
    ]
    if token:
        signature = RequestValidator(token).compute_signature(target.base_url + path, params)
        lines.append(f"X-Twilio-Signature: {signature}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def wait_params(waiter: Waiter, *, at: float, queue_size: int) -> dict:
    """The fields of one wait-URL request at epoch `at` (Twilio's, as the emulator sends them)."""
    return {
        "AccountSid": "",
        "ApiVersion": API_VERSION,
        "CallSid": waiter.call_sid,
        "CallStatus": "in-progress",
        "Called": NUMBER,
        "Caller": waiter.from_number,
        "Direction": "inbound",
        "From": waiter.from_number,
        "To": NUMBER,
        "QueueSid": waiter.queue_sid,
        "QueuePosition": str(waiter.position),
        "QueueTime": str(max(0, int(at - waiter.entered))),
        "AvgQueueTime": "240",
        "CurrentQueueSize": str(queue_size),
        "MaxQueueSize": str(QUEUE_SIZE),
    }


def wait_path(waiter: Waiter) -> str:
    return f"/twilio/queues/{waiter.queue}/wait"


def schedule(
    waiters: list[Waiter],
    *,
    seconds: float,
    period: float,
    target: Target,
    token: str,
    starts_at: float,
) -> list[tuple[float, bytes]]:
    """Every wait request of `seconds` of load, signed, as (offset from the start, request),
    in order. Caller i asks at i·period/N + k·period: N/period requests a second, from the first
    second on; each caller's QueueTime grows by the period from one request to the next."""
    count = len(waiters)
    sizes: dict[str, int] = {}
    for waiter in waiters:
        sizes[waiter.queue] = sizes.get(waiter.queue, 0) + 1
    plan = []
    for index, waiter in enumerate(waiters):
        offset = (index + 0.5) * period / count
        while offset < seconds:
            params = wait_params(waiter, at=starts_at + offset, queue_size=sizes[waiter.queue])
            plan.append((offset, http_request(target, wait_path(waiter), params, token=token)))
            offset += period
    plan.sort(key=lambda item: item[0])
    return plan


def run_async(coroutine):
    """``asyncio.run``, or in a thread of its own when this thread already runs an event loop
    (e.g. the test process, where a browser test's Playwright keeps one)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# --- the open-loop client ----------------------------------------------------------------------


class HttpClient:
    """HTTP/1.1 over asyncio streams: a fresh connection, or an idle one the server kept open
    (keep-alive), for each request; no limit other than `max_in_flight` open at once."""

    def __init__(self, target: Target, max_in_flight: int):
        self.target = target
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(max_in_flight)

    async def _exchange(self, reader, writer, payload: bytes) -> tuple[int, bool]:
        writer.write(payload)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, keep, chunked = 0, lines[0].startswith("HTTP/1.1"), False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif name == "connection":
                keep = value.strip().lower() == "keep-alive" or (
                    keep and value.strip().lower() != "close"
                )
        if chunked:
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await reader.readexactly(size + 2)
            await reader.readuntil(b"\r\n")  # no trailers are sent: the last empty line
        elif length:
            await reader.readexactly(length)
        return status, keep

    async def send(self, payload: bytes) -> int:
        """The answer's status code; raises OSError / asyncio errors when there is none."""
        async with self.slots:
            while self.idle:
                reader, writer = self.idle.pop()
                try:
                    status, keep = await self._exchange(reader, writer, payload)
                except (OSError, asyncio.IncompleteReadError):
                    writer.close()  # the server closed it meanwhile: try another
                    continue
                return self._done(reader, writer, status, keep)
            reader, writer = await asyncio.open_connection(self.target.host, self.target.port)
            try:
                status, keep = await self._exchange(reader, writer, payload)
            except BaseException:
                writer.close()
                raise
            return self._done(reader, writer, status, keep)

    def _done(self, reader, writer, status: int, keep: bool) -> int:
        if keep:
            self.idle.append((reader, writer))
        else:
            writer.close()
        return status

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


@dataclass
class Records:
    latencies: list[float] = field(default_factory=list)  # seconds from the scheduled moment
    statuses: list[int] = field(default_factory=list)  # 0: no answer (refused, reset, timeout)
    lags: list[float] = field(default_factory=list)  # when sent, after the scheduled moment
    errors: dict[str, int] = field(default_factory=dict)


async def _one(client: HttpClient, payload: bytes, due: float, records: Records) -> None:
    loop = asyncio.get_running_loop()
    records.lags.append(loop.time() - due)
    try:
        async with asyncio.timeout(max(0.001, due + TWILIO_TIMEOUT - loop.time())):
            status = await client.send(payload)
    except TimeoutError:
        status, reason = 0, "no answer within 15 s"
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
        status, reason = 0, type(exc).__name__
    else:
        reason = "" if 200 <= status < 300 else f"HTTP {status}"
    records.latencies.append(loop.time() - due)
    records.statuses.append(status)
    if reason:
        records.errors[reason] = records.errors.get(reason, 0) + 1


async def open_loop(plan: list[tuple[float, bytes]], target: Target, max_in_flight: int) -> Records:
    """Send every request at its moment whether or not earlier ones were answered; a request's
    latency counts from its moment, so a late answer (or a late send) is never hidden."""
    client = HttpClient(target, max_in_flight)
    records = Records()
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    tasks = set()
    for offset, payload in plan:
        due = start + offset
        delay = due - loop.time()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        task = asyncio.create_task(_one(client, payload, due, records))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*list(tasks))
    client.close()
    return records


async def closed_loop(
    payloads: list[bytes], target: Target, concurrency: int, seconds: float
) -> tuple[int, int, float]:
    """`concurrency` requests in flight at all times for `seconds`: (answered 2xx, others,
    seconds). The server's throughput when it is never idle: its capacity for this request."""
    client = HttpClient(target, concurrency)
    loop = asyncio.get_running_loop()
    stop = loop.time() + seconds
    counts = [0, 0]
    started = loop.time()

    async def worker(offset: int) -> None:
        n = offset
        while loop.time() < stop:
            try:
                async with asyncio.timeout(TWILIO_TIMEOUT):
                    status = await client.send(payloads[n % len(payloads)])
                counts[0 if 200 <= status < 300 else 1] += 1
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                counts[1] += 1
            n += concurrency

    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    client.close()
    return counts[0], counts[1], loop.time() - started


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return float("nan")
    index = max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))
    return ordered[index]


def _cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine (/proc/stat)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return float(sum(fields) - idle), float(sum(fields))


@dataclass
class Step:
    callers: int
    seconds: float
    period: float
    records: Records
    wall_seconds: float
    generator_cpu: float  # share of one core the load generator used while sending
    machine_cpu: float  # share of all cores busy (everything on the machine)
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    places: tuple[int, int] | None = None

    @property
    def rate(self) -> float:
        return self.callers / self.period

    @property
    def errors(self) -> int:
        return sum(self.records.errors.values())

    def ms(self, share: float) -> float:
        return percentile(sorted(self.records.latencies), share) * 1000

    @property
    def max_ms(self) -> float:
        return max(self.records.latencies, default=float("nan")) * 1000

    def within(self, seconds: float) -> float:
        values = self.records.latencies
        return sum(1 for v in values if v <= seconds) / len(values) if values else 0.0

    @property
    def held(self) -> bool:
        return bool(self.records.latencies) and self.errors == 0 and self.ms(0.99) < HELD_P99_MS

    def line(self) -> str:
        answered = sum(1 for s in self.records.statuses if 200 <= s < 300)
        lag = percentile(sorted(self.records.lags), 0.99) * 1000
        return (
            f"{self.callers:>6} callers {self.rate:6.1f} req/s planned, "
            f"{answered / self.wall_seconds:6.1f} answered/s: p50 {self.ms(0.5):7.1f} "
            f"p90 {self.ms(0.9):7.1f} p99 {self.ms(0.99):8.1f} max {self.max_ms:8.1f} ms; "
            f"errors {self.errors} {self.records.errors or ''}; "
            f"{'HELD' if self.held else 'not held'}\n"
            f"       ({len(self.records.latencies)} requests in {self.wall_seconds:.0f} s; "
            f"generator {self.generator_cpu:.0%} of a core, send lag p99 {lag:.1f} ms; "
            f"machine CPU {self.machine_cpu:.0%}; load {self.load_before[0]:.2f} -> "
            f"{self.load_after[0]:.2f})"
        )


def run_step(
    waiters: list[Waiter],
    *,
    seconds: float,
    period: float,
    target: Target,
    token: str,
    max_in_flight: int,
) -> Step:
    plan = schedule(
        waiters,
        seconds=seconds,
        period=period,
        target=target,
        token=token,
        starts_at=time.time() + 0.5,
    )
    load_before = os.getloadavg()
    busy0, total0 = _cpu_times()
    cpu0, wall0 = time.process_time(), time.monotonic()
    records = run_async(open_loop(plan, target, max_in_flight))
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    busy1, total1 = _cpu_times()
    return Step(
        callers=len(waiters),
        seconds=seconds,
        period=period,
        records=records,
        wall_seconds=wall,
        generator_cpu=cpu / wall if wall else 0.0,
        machine_cpu=(busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0,
        load_before=load_before,
        load_after=os.getloadavg(),
    )


# --- worker memory -----------------------------------------------------------------------------


def worker_pids(master: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        return []


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class MemorySampler(threading.Thread):
    """Every `every` seconds: (seconds since start, {worker pid: RSS KiB}) of gunicorn's workers."""

    def __init__(self, master: int, every: float):
        super().__init__(daemon=True)
        self.master, self.every = master, every
        self.samples: list[tuple[float, dict[int, int]]] = []
        self.stopped = threading.Event()

    def sample(self) -> None:
        pids = worker_pids(self.master)
        sizes = {pid: size for pid in pids if (size := rss_kib(pid)) is not None}
        self.samples.append((time.monotonic() - self.started, sizes))

    def run(self) -> None:
        self.started = time.monotonic()
        self.sample()
        while not self.stopped.wait(self.every):
            self.sample()

    def stop(self) -> None:
        self.stopped.set()
        self.join()
        self.sample()

    def report(self) -> str:
        pids = sorted({pid for _, sizes in self.samples for pid in sizes})
        lines = ["  s   " + " ".join(f"{pid:>8}" for pid in pids) + "   (worker RSS, MiB)"]
        for moment, sizes in self.samples:
            cells = " ".join(
                f"{sizes[pid] / 1024:8.1f}" if pid in sizes else f"{'-':>8}" for pid in pids
            )
            lines.append(f"{moment:4.0f}   {cells}")
        # Growth after the warm-up (the first minute, or the first tenth of a shorter run):
        # a worker's first requests import and cache what every later request uses.
        warm = min(60.0, self.samples[-1][0] / 10)
        start_at, first = next((m, sizes) for m, sizes in self.samples if m >= warm)
        end_at, last = self.samples[-1]
        growth = [last[pid] - first[pid] for pid in pids if pid in first and pid in last]
        if growth and end_at > start_at:
            lines.append(
                f"growth from {start_at:.0f} s to {end_at:.0f} s: {min(growth) / 1024:+.1f} to "
                f"{max(growth) / 1024:+.1f} MiB per worker"
            )
        return "\n".join(lines)


# --- servers -----------------------------------------------------------------------------------


def free_port(exclude: set[int] = frozenset(), ports: range = PORTS) -> int:
    for port in ports:
        if port in exclude:
            continue
        with socket.socket() as probe:
            # As gunicorn and nginx bind: a port left in TIME_WAIT by the last run is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {ports.start}-{ports.stop - 1}")


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args[0]} exited with {process.returncode}")
        try:
            with opener.open(url, timeout=2) as response:
                if response.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def gunicorn_command(app: str, port: int, args) -> list[str]:
    """gunicorn as deployed (gunicorn.conf.py is read from the project's folder), with the
    benchmark's bind, workers, worker class and, for the soak, no worker recycling."""
    command = [
        sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers), "--log-level", "warning",
    ]  # fmt: skip
    if args.threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(args.threads)]
    if args.max_requests is not None:
        command += ["--max-requests", str(args.max_requests)]
    return command


# When nginx received the request, in milliseconds since the epoch ($msec is s.mmm).
REQUEST_START_MAP = """    map $msec $request_start {
        "~^(?<seconds>[0-9]+)\\.(?<millis>[0-9]+)$" "t=$seconds$millis";
    }
"""

NGINX_SERVER = """
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        client_max_body_size 1m;
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Port $server_port;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Request-Start $request_start;
            proxy_connect_timeout 5s;
            proxy_read_timeout 15s;
            proxy_max_temp_file_size 0;
        }}
    }}
"""


def nginx_config(folder: Path, routes: list[tuple[int, int]], connections: int) -> str:
    """docs/deploy.md's server block without TLS, one per (listen port, upstream port), plus
    X-Request-Start: t=<epoch ms> stamped when nginx received the request."""
    servers = "".join(NGINX_SERVER.format(port=port, upstream=up) for port, up in routes)
    return nginx_conf(
        folder,
        REQUEST_START_MAP + servers,
        connections=connections,
        error_level="error",
        files=connections * 2 + 100,
    )


class Servers:
    """The app under gunicorn (and the floor app for --compare), maybe behind nginx."""

    def __init__(self, args, env: dict, *, floor: bool):
        self.args, self.env, self.floor = args, env, floor
        self.processes: list[subprocess.Popen] = []
        # nginx's configuration and temporary files, and gunicorn's log (kept if it has errors).
        self.folder = Path(tempfile.mkdtemp(prefix="waitbench-"))
        self.folder.chmod(0o755)  # nginx's workers (nobody) reach their temporary folders
        self.log = open(self.folder / "gunicorn.log", "wb")  # noqa: SIM115
        self.app_master: int | None = None

    def __enter__(self):
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        taken: set[int] = set()

        def port() -> int:
            chosen = free_port(taken, self.args.ports)
            taken.add(chosen)
            return chosen

        app_port = port()
        app = subprocess.Popen(
            gunicorn_command("config.wsgi", app_port, self.args),
            cwd=ROOT,
            env=self.env,
            stderr=self.log,
        )
        self.processes.append(app)
        self.app_master = app.pid
        self.app = Target("127.0.0.1", app_port)
        self.floor_target = None
        if self.floor:
            floor_port = port()
            floor = subprocess.Popen(
                gunicorn_command("benchmarks.floor_app:application", floor_port, self.args),
                cwd=ROOT,
                env=self.env,
                stderr=self.log,
            )
            self.processes.append(floor)
            self.floor_target = Target("127.0.0.1", floor_port)
            wait_until_up(self.floor_target.base_url + "/", floor)
        wait_until_up(self.app.base_url + "/healthz", app)
        if self.args.nginx:
            binary = shutil.which("nginx") or "/usr/sbin/nginx"
            if not os.path.exists(binary):
                raise SystemExit("nginx is missing: scripts/test_packages.sh installs it (root)")
            routes = [(port(), app_port)]
            if self.floor_target is not None:
                routes.append((port(), self.floor_target.port))
            conf = self.folder / "nginx.conf"
            conf.write_text(nginx_config(self.folder, routes, self.args.max_in_flight + 512))
            nginx = subprocess.Popen(
                [binary, "-p", self.folder, "-e", self.folder / "error.log", "-c", conf,
                 "-g", "daemon off;"],
            )  # fmt: skip
            self.processes.append(nginx)
            self.app = Target("127.0.0.1", routes[0][0])
            wait_until_up(self.app.base_url + "/healthz", nginx)
            if self.floor_target is not None:
                self.floor_target = Target("127.0.0.1", routes[1][0])

    def __exit__(self, *exc):
        for process in reversed(self.processes):
            stop(process)
        self.log.close()
        print(self.log_summary())
        if not self.unexpected:
            shutil.rmtree(self.folder, ignore_errors=True)

    def log_summary(self) -> str:
        """What gunicorn logged at ERROR or above, the fallback's own line for each request
        apart (it logs every call that fell back, which is what --compare asks of it)."""
        lines = (self.folder / "gunicorn.log").read_text(errors="replace").splitlines()
        errors = [line for line in lines if re.search(r"[\[ ](ERROR|CRITICAL)[\] ]", line)]
        fell_back = sum(1 for line in errors if "Twilio fell back for call" in line)
        self.unexpected = len(errors) - fell_back
        text = f"gunicorn logged {self.unexpected} errors ({fell_back} fallback requests apart)"
        if self.unexpected:
            text += f"; its log is kept: {self.folder / 'gunicorn.log'}"
        return text


# --- the modes ---------------------------------------------------------------------------------


def capacity(
    waiters: list[Waiter], target: Target, token: str, *, concurrency: int, seconds: float
):
    """Wait requests answered per second with `concurrency` always in flight (closed loop)."""
    now = time.time()
    sizes = {w.queue: QUEUE_SIZE for w in waiters}
    payloads = [
        http_request(
            target, wait_path(w), wait_params(w, at=now, queue_size=sizes[w.queue]), token=token
        )
        for w in waiters[:5000]
    ]
    ok, bad, wall = run_async(closed_loop(payloads, target, concurrency, seconds))
    return ok / wall, bad


def compare(
    servers: Servers, token: str, rounds: int, peer_url: str | None
) -> dict[str, list[float]]:
    """Median latency of a new call's first webhook: Tsunagu's incoming (flow, signature,
    call leg and event stored), its static fallback (signature only), the constant-TwiML floor,
    and a peer app if given; one request at a time, the kinds taking turns."""
    target = servers.app
    kinds: list[tuple[str, Target, str, bool]] = [
        ("incoming", target, "/twilio/voice/incoming", True),
        ("fallback", target, "/twilio/voice/fallback", True),
        ("floor", servers.floor_target, "/", False),
    ]
    if peer_url:
        parts = urlsplit(peer_url)
        peer = Target(parts.hostname or "127.0.0.1", parts.port or 80)
        kinds.append(("peer", peer, parts.path or "/", False))
    samples: dict[str, list[float]] = {name: [] for name, *_ in kinds}
    statuses: dict[str, set[int]] = {name: set() for name, *_ in kinds}

    async def run() -> None:
        clients = {name: HttpClient(where, 1) for name, where, *_ in kinds}
        loop = asyncio.get_running_loop()
        for n in range(rounds):
            sid = f"CA{0xD0000000 + n:032x}"
            params = {
                "AccountSid": "",
                "ApiVersion": API_VERSION,
                "CallSid": sid,
                "CallStatus": "ringing",
                "Called": NUMBER,
                "Caller": f"+8180{n:08d}",
                "Direction": "inbound",
                "From": f"+8180{n:08d}",
                "To": NUMBER,
            }
            for name, where, path, signed in kinds:
                fields = dict(params)
                if name == "fallback":
                    fields.update(
                        ErrorCode="11200", ErrorUrl=f"{target.base_url}/twilio/voice/incoming"
                    )
                payload = http_request(where, path, fields, token=token if signed else None)
                started = loop.time()
                status = await clients[name].send(payload)
                samples[name].append(loop.time() - started)
                statuses[name].add(status)
        for client in clients.values():
            client.close()

    run_async(run())
    for name, seen in statuses.items():
        if seen != {200}:
            raise SystemExit(f"--compare: {name} answered {sorted(seen)}, not only 200")
    return samples


def _database_name(database_url: str) -> tuple[str, str]:
    base, name = database_url.rsplit("/", 1)
    if not re.fullmatch(rf"{DATABASE_PREFIX}\w*", name):
        raise SystemExit(f"refusing to drop {name!r}: the name must start {DATABASE_PREFIX}")
    return base, name


def recreate_database(database_url: str) -> None:
    import psycopg

    base, name = _database_name(database_url)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(database_url: str) -> None:
    import psycopg

    base, name = _database_name(database_url)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _steps(text: str) -> list[int]:
    try:
        steps = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of caller counts") from None
    if not steps or min(steps) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of caller counts")
    return steps


def _ports(text: str) -> range:
    match = re.fullmatch(r"(\d+)-(\d+)", text)
    if not match or not 1024 <= int(match[1]) <= int(match[2]) <= 65535:
        raise argparse.ArgumentTypeError("a range of ports such as 8600-8699")
    return range(int(match[1]), int(match[2]) + 1)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    modes = parser.add_argument_group("modes (one or more; default: --callers for --seconds)")
    modes.add_argument("--ramp", type=_steps, help="steps of callers, e.g. 5000,10000,20000")
    modes.add_argument("--soak", type=float, metavar="SECONDS", help="hold --callers this long")
    modes.add_argument("--overload", type=float, metavar="FACTOR", help="e.g. 1.5× capacity")
    modes.add_argument("--compare", action="store_true", help="incoming vs fallback vs floor")
    modes.add_argument("--quick", action="store_true", help="a short run of each (~2 minutes)")
    parser.add_argument("--callers", type=int, default=5000, help="waiting callers (default 5000)")
    parser.add_argument("--seconds", type=float, default=60, help="length of a step (default 60)")
    parser.add_argument("--period", type=float, default=PERIOD, help="wait loop, s (default 38)")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn workers (default 5)")
    parser.add_argument("--threads", type=int, default=1, help=">1: gthread workers")
    parser.add_argument("--max-requests", type=int, help="gunicorn max_requests (soak: 0)")
    parser.add_argument("--nginx", action="store_true", help="nginx in front (X-Request-Start)")
    parser.add_argument("--capacity", type=float, help="--overload: req/s, else measured")
    parser.add_argument("--rounds", type=int, default=300, help="--compare: requests per kind")
    parser.add_argument("--peer-url", help="--compare: also POST to this app (e.g. the Flask IVR)")
    parser.add_argument("--max-in-flight", type=int, default=6000, help="open connections cap")
    parser.add_argument("--sample-every", type=float, default=10, help="--soak: RSS sampling, s")
    parser.add_argument("--ports", type=_ports, default=PORTS, help="default 8600-8699")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--keep-database", action="store_true", help="do not drop it at the end")
    args = parser.parse_args(argv)
    if not 1 <= args.workers <= 32 or not 1 <= args.threads <= 64:
        parser.error("--workers 1-32, --threads 1-64")
    if args.callers < 1 or args.seconds <= 0 or args.period <= 0:
        parser.error("--callers, --seconds and --period must be positive")
    return args


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
    args = parse_args(argv)
    # Ctrl-C and SIGTERM stop the load and still stop the servers and drop the database (a
    # shell starts background jobs with SIGINT ignored: it is taken back here).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    if args.quick:
        args.ramp, args.soak, args.overload, args.compare = [1000, 3000], 20.0, 1.5, True
        args.seconds, args.rounds, args.sample_every = min(args.seconds, 12), 40, 5
        args.callers = 1000
    single = not (args.ramp or args.soak or args.overload or args.compare)
    if args.soak and args.max_requests is None:
        args.max_requests = 0  # the same worker processes all along: their memory is the figure

    token = secrets.token_hex(16)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": args.database_url,
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "TWILIO_ACCOUNT_SID": "",  # no REST calls to api.twilio.com
        "TWILIO_AUTH_TOKEN": token,
        "SECURE_SSL_REDIRECT": "False",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "TRUSTED_PROXY": "True" if args.nginx else "False",
        "WEB_CONCURRENCY": str(args.workers),
    }
    os.environ.update(env)
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()}", flush=True)  # fmt: skip
    largest = max([args.callers, *(args.ramp or [])])
    print(f"preparing {args.database_url.rsplit('/', 1)[1]} …", flush=True)
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    verdicts: list[tuple[str, bool]] = []
    quick_ok = False
    step = dict(period=args.period, token=token, max_in_flight=args.max_in_flight)
    recreate_database(args.database_url)
    try:
        call_command("migrate", verbosity=0)
        call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        started = time.monotonic()
        waiters = ensure_waiting(largest)
        print(f"{largest} waiting callers stored in {time.monotonic() - started:.1f} s", flush=True)
        connections.close_all()
        with Servers(args, env, floor=args.compare) as servers:
            kind = f"gthread {args.threads} threads" if args.threads > 1 else "sync"
            front = f"nginx :{servers.app.port} -> " if args.nginx else ""
            print(f"{front}gunicorn {args.workers} {kind} workers; period {args.period:g} s",
                  flush=True)  # fmt: skip
            target = servers.app
            # Warm-up, not counted: every worker opens its database connection and runs the
            # wait view's code once before the first step.
            capacity(waiters, target, token, concurrency=args.workers * args.threads, seconds=3)
            if single:
                result = run_step(
                    waiters[: args.callers], seconds=args.seconds, target=target, **step
                )
                result.places = places_kept(waiters[: args.callers])
                connections.close_all()
                print(result.line())
                print(f"       places kept: {result.places[0]} of {result.places[1]}")
                verdicts.append((f"{args.callers} callers held", result.held))
            if args.ramp:
                print(f"ramp, {args.seconds:g} s a step (held: p99 < {HELD_P99_MS:g} ms, 0 errors)")
                best = 0
                for callers in args.ramp:
                    result = run_step(
                        waiters[:callers], seconds=args.seconds, target=target, **step
                    )
                    print(result.line(), flush=True)
                    # --quick checks the benchmark works: every request of its first (light)
                    # step answered with a 2xx within 15 s, however busy the machine is.
                    quick_ok = quick_ok or (callers == args.ramp[0] and result.errors == 0)
                    if not result.held:
                        break
                    best = callers
                    time.sleep(2)
                print(f"largest number of callers held: {best}")
                verdicts.append((f"largest held {best} (target 20000)", best >= 20000))
            if args.compare:
                samples = compare(servers, token, args.rounds, args.peer_url)
                medians = {name: percentile(sorted(v), 0.5) * 1000 for name, v in samples.items()}
                figures = ", ".join(f"{name} {value:.2f}" for name, value in medians.items())
                print(f"compare, {args.rounds} requests each, one at a time (median ms): {figures}")
                ratio = medians["incoming"] / medians["fallback"]
                print(f"incoming / fallback {ratio:.2f} (target <= 2.0); incoming / floor "
                      f"{medians['incoming'] / medians['floor']:.2f}")  # fmt: skip
                verdicts.append(("incoming within 2.0x the fallback", ratio <= 2.0))
                if "peer" in medians:
                    peer = medians["incoming"] / medians["peer"]
                    print(f"incoming / peer {peer:.2f} (target <= 3.0)")
                    verdicts.append(("incoming within 3x the peer", peer <= 3.0))
            if args.soak:
                callers = waiters[: args.callers]
                sampler = MemorySampler(servers.app_master, args.sample_every)
                sampler.start()
                try:
                    result = run_step(callers, seconds=args.soak, target=target, **step)
                finally:
                    sampler.stop()
                print(f"soak, {args.soak:g} s, max_requests {args.max_requests}:")
                print(result.line())
                print(sampler.report(), flush=True)
                verdicts.append((f"soak of {args.callers} callers held", result.held))
            if args.overload:
                cap = args.capacity
                if cap is None:
                    concurrency = 2 * args.workers * args.threads
                    cap, bad = capacity(
                        waiters,
                        target,
                        token,
                        concurrency=concurrency,
                        seconds=8 if args.quick else 20,
                    )
                    print(f"capacity: {cap:.1f} wait requests/s answered with {concurrency} "
                          f"in flight ({bad} not 2xx)", flush=True)  # fmt: skip
                callers = max(1, round(args.overload * cap * args.period))
                if callers > len(waiters):
                    connections.close_all()
                    waiters = ensure_waiting(callers)
                    connections.close_all()
                result = run_step(waiters[:callers], seconds=args.seconds, target=target, **step)
                result.places = places_kept(waiters[:callers])
                connections.close_all()
                share = result.within(OVERLOAD_LIMIT)
                print(f"overload {args.overload:g}x capacity:")
                print(result.line())
                print(f"       answered within {OVERLOAD_LIMIT:g} s: {share:.2%}; places kept: "
                      f"{result.places[0]} of {result.places[1]}")  # fmt: skip
                verdicts.append(("overload answered within 2 s", share == 1.0))
                verdicts.append(("overload kept every place", result.places[0] == result.places[1]))
    finally:
        connections.close_all()
        if not args.keep_database:
            drop_database(args.database_url)
    print(f"load average after: {os.getloadavg()}")
    for text, ok in verdicts:
        print(f"{'MET    ' if ok else 'NOT MET'} {text}")
    if args.quick:  # a smoke run: it must work; the targets are for the full runs
        return 0 if quick_ok else 1
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
