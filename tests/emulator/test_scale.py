"""Thousands of concurrent calls on the virtual clock, and an hour of traffic through the app."""

import random
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from emulator import Caller, Emulator
from emulator.transport import TransportResponse
from tests.emulator.conftest import NUMBER

# The longest module of the suite; `-m "not slow"` leaves it out while working (CI runs it).
pytestmark = pytest.mark.slow


class StaticTwiml:
    """A transport answering from Python: measures the emulator alone, without Django."""

    def __init__(self):
        self.count = 0

    def send(self, method, url, *, body, headers):
        self.count += 1
        path = urlsplit(url).path
        fields = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        documents = {
            "/in": '<Response><Say>Hello</Say><Enqueue waitUrl="/wait" action="/exit">'
            "big</Enqueue></Response>",
            "/wait": f"<Response><Say>Number {fields.get('QueuePosition')}</Say>"
            "<Play>/music.mp3</Play></Response>",
            "/agent": '<Response><Dial timeout="600"><Queue>big</Queue></Dial></Response>',
            "/exit": "<Response/>",
        }
        if path == "/status":
            return TransportResponse(204)
        return TransportResponse(200, {"content-type": "text/xml"}, documents[path].encode(), 0.0)


def test_three_thousand_concurrent_callers_and_150_agents_run_in_seconds():
    transport = StaticTwiml()
    emu = Emulator(transport, account_sid="AC" + "1" * 32, auth_token="t", base_url="http://x")
    emu.add_number(NUMBER, voice_url="/in", status_callback="/status")
    emu.configure_client_app(voice_url="/agent")
    emu.add_queue("big", max_size=5000)  # Twilio's default of 1000 would turn callers away
    rng = random.Random(3)
    calls = [
        emu.place_call(
            to=NUMBER,
            from_=f"+8190{i:08d}",
            caller=Caller(patience=rng.choice([None, 600, 1800])),
            at=rng.uniform(0, 300),
        )
        for i in range(3000)
    ]
    for n in range(150):
        emu.add_agent(f"a{n}", answer_after=2, talk_seconds=60, takes_queues=("big",))

    # CPU seconds of this process: what the emulator costs, whatever else the machine runs.
    started = time.process_time()
    emu.run()
    elapsed = time.process_time() - started

    assert elapsed < 60
    assert all(call.ended for call in calls)
    results = [visit["result"] for visit in emu.ground_truth()]
    assert len(results) == 3000
    assert set(results) <= {"bridged", "hangup"}
    assert results.count("bridged") > 500
    # No agent ever talked to two callers at once.
    by_agent = {}
    for visit in emu.ground_truth():
        if visit["result"] == "bridged":
            start = visit["entered_at_seconds"] + visit["wait_seconds"]
            by_agent.setdefault(visit["agent"], []).append((start, visit["talk_seconds"]))
    for spans in by_agent.values():
        spans.sort()
        for (start, talk), (next_start, _) in zip(spans, spans[1:], strict=False):
            assert start + talk <= next_start + 1


@pytest.mark.urls("tests.emulator.urls_app")
def test_an_hour_of_traffic_through_the_app_takes_seconds(emu):
    import io

    from django.core.management import call_command

    from queues.models import QueueVisit

    call_command("seed_demo", stdout=io.StringIO())
    emu.add_number(NUMBER, voice_url="/t/enqueue/support", status_callback="/twilio/voice/status")
    emu.configure_client_app(voice_url="/twilio/agent/outgoing")
    for identity in ("agent1", "agent2"):
        emu.add_agent(identity, answer_after=3, talk_seconds=150, takes_queues=("support",))
    rng = random.Random(11)
    for i in range(60):  # one call a minute for an hour
        patience = rng.choice([20, 120, None])
        emu.place_call(
            to=NUMBER, from_=f"+8190{i:08d}", caller=Caller(patience=patience), at=i * 60
        )

    started = time.process_time()
    emu.run()
    assert time.process_time() - started < 60
    assert emu.now > 3600
    assert not emu.errors
    truth = {visit["call_sid"]: visit for visit in emu.ground_truth()}
    stored = {v.call.sid: v for v in QueueVisit.objects.select_related("call")}
    assert len(truth) == len(stored) == 60
    for sid, visit in truth.items():
        assert (stored[sid].result, stored[sid].wait_seconds, stored[sid].talk_seconds) == (
            visit["result"],
            visit["wait_seconds"],
            visit["talk_seconds"],
        )
