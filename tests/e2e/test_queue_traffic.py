"""A day of mixed emulated traffic: the app's visits equal what the emulator saw happen."""

import random
from collections import Counter

import pytest

from .queue_urls import NUMBER, queue_emulator, sorted_truth, visits_as_ground_truth

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.e2e.queue_urls")]

HOURS = 9  # one business day
CALLS = 90
AGENTS = ("agent1", "agent2")
DIAL_EVERY = 150  # s; longer than a dial timeout plus the longest talk, so dials never overlap


def test_a_day_of_mixed_traffic_matches_the_ground_truth(settings, support):
    from emulator import Caller
    from queues.services import queue_save
    from telephony.client import set_http_client

    queue = support
    queue.max_wait_seconds = 150
    queue.max_size = 6
    emu = queue_emulator(settings)
    set_http_client(emu.rest_http_client())
    try:
        queue_save(queue=queue)
    finally:
        set_http_client(None)

    rng = random.Random(20261102)
    for n in range(CALLS):
        # Bursts make the queue fill up now and then; patience covers short abandons, normal
        # abandons and callers who wait until the max wait.
        at = rng.choice([rng.uniform(0, HOURS * 3600), 1800 + rng.uniform(0, 60)])
        patience = rng.choice([2, 3, 15, 40, 90, None, None, None])
        emu.place_call(
            to=NUMBER,
            from_=f"+8190{n:08d}",
            caller=Caller(patience=patience, talk_seconds=None),
            at=at,
        )
    for offset, identity in enumerate(AGENTS):
        emu.add_agent(identity)
        for at in range(60 + offset * 45, HOURS * 3600, DIAL_EVERY):
            emu.agent_dial(identity, to="queue:support", at=at, talk_seconds=rng.randint(20, 80))
    emu.run()

    truth = sorted_truth(emu.ground_truth())
    assert visits_as_ground_truth() == truth
    # The day really was mixed: every kind of ending happened.
    results = Counter(row["result"] for row in truth)
    assert {"bridged", "hangup", "leave", "queue-full"} <= set(results), results
    short = [r for r in truth if r["result"] == "hangup" and r["wait_seconds"] < 5]
    assert short, "no short abandon in the day"
