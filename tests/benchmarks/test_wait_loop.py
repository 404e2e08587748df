"""Smoke test of the waiting-callers benchmark (benchmarks/wait_loop.py): its core stores a few
waiting callers, sends their signed wait-URL requests open-loop to the live server and checks
their places, so the script cannot rot unnoticed. A few seconds of load."""

import io
import os
import shutil
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.db import connection

from benchmarks import floor_app
from benchmarks.wait_loop import (
    QUEUE_SIZE,
    MemorySampler,
    Target,
    ensure_waiting,
    nginx_config,
    places_kept,
    run_async,
    run_step,
    schedule,
)
from queues.models import Queue, QueueResult, QueueVisit
from telephony.models import WebhookEvent
from tests.conftest import AUTH_TOKEN

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def waiting(settings):
    settings.TWILIO_ACCOUNT_SID = ""  # as in the benchmark: no REST calls to Twilio
    call_command("seed_demo", stdout=io.StringIO())
    return ensure_waiting(12)


def _target(live_server) -> Target:
    parts = urlsplit(live_server.url)
    return Target(parts.hostname, parts.port)


def test_waiting_callers_are_answered_open_loop_and_keep_their_places(live_server, waiting):
    result = run_step(
        waiting,
        seconds=3,
        period=1,
        target=_target(live_server),
        token=AUTH_TOKEN,
        # The live server shares the test's in-memory SQLite connection between its threads,
        # which cannot take two writes at once.
        max_in_flight=1 if connection.vendor == "sqlite" else 4,
    )

    assert result.records.errors == {}
    assert result.records.statuses == [200] * 36  # 12 callers, once a second for 3 s
    assert result.held == (result.ms(0.99) < 100)
    # The app did the real work of each request: the event stored, the position announced.
    assert WebhookEvent.objects.filter(path__endswith="/wait", outcome="processed").count() == 36
    assert QueueVisit.objects.filter(announced_at_queue_time__isnull=False).count() == 12
    assert places_kept(waiting) == (12, 12)
    assert "12 callers" in result.line()


def test_a_request_the_app_refuses_is_an_error_and_a_caller_who_left_has_lost_the_place(
    live_server, waiting
):
    result = run_step(
        waiting[:2],
        seconds=1,
        period=1,
        target=_target(live_server),
        token="not-the-apps-token",
        max_in_flight=1,
    )
    assert result.records.errors == {"HTTP 403": 2}
    assert not result.held

    QueueVisit.objects.filter(call__sid=waiting[0].call_sid).update(result=QueueResult.HANGUP)
    assert places_kept(waiting) == (11, 12)


def test_callers_fill_queues_of_five_thousand_like_twilio(waiting):
    assert {w.queue for w in waiting} == {"support"}
    assert Queue.objects.get(slug="support").max_size == QUEUE_SIZE
    assert QueueVisit.objects.filter(result=QueueResult.WAITING).count() == 12
    # Asking again keeps what is stored.
    assert ensure_waiting(12) and QueueVisit.objects.count() == 12


def test_the_schedule_asks_every_caller_once_a_period_at_a_constant_rate(waiting):
    plan = schedule(
        waiting[:4],
        seconds=8,
        period=2,
        target=Target("127.0.0.1", 8600),
        token=AUTH_TOKEN,
        starts_at=waiting[0].entered + 100,
    )
    offsets = [offset for offset, _ in plan]
    assert offsets == sorted(offsets)
    assert offsets == [0.25 + 0.5 * n for n in range(16)]  # 4 callers / 2 s, evenly spread
    first = [parse_qs(payload.split(b"\r\n\r\n")[1].decode()) for _, payload in plan[::4]]
    assert [fields["CallSid"][0] for fields in first] == [waiting[0].call_sid] * 4
    assert [int(fields["QueueTime"][0]) for fields in first] == [100, 102, 104, 106]
    assert b"X-Twilio-Signature: " in plan[0][1]


def test_the_nginx_configuration_stamps_x_request_start_and_is_valid(tmp_path):
    text = nginx_config(tmp_path, [(8601, 8600)], connections=64)
    assert "proxy_set_header X-Request-Start $request_start;" in text
    assert "proxy_pass http://127.0.0.1:8600;" in text
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    assert os.path.exists(binary), "nginx is missing: scripts/test_packages.sh installs it"
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    checked = subprocess.run(
        [binary, "-t", "-p", tmp_path, "-e", tmp_path / "error.log", "-c", conf],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr


def test_the_memory_sampler_reads_each_child_process_rss():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        sampler = MemorySampler(os.getpid(), every=0.05)
        sampler.start()
        sampler.stop()
    finally:
        child.kill()
        child.wait()
    assert all(sizes.get(child.pid, 0) > 0 for _, sizes in sampler.samples)
    assert str(child.pid) in sampler.report()


def test_the_floor_app_answers_constant_twiml():
    seen = []
    body = b"".join(floor_app.application({}, lambda status, headers: seen.append(status)))
    assert seen == ["200 OK"]
    assert body.startswith(b'<?xml version="1.0"') and b"<Gather" in body


def test_the_load_runs_where_an_event_loop_is_already_running():
    """As in the test process once a browser test's Playwright keeps a loop in this thread."""
    import asyncio

    async def answer():
        return 42

    async def inside_a_running_loop():
        return run_async(answer())

    assert run_async(answer()) == 42
    assert asyncio.run(inside_a_running_loop()) == 42
