"""Callers waiting in a queue hear their position move up as agents take the front."""

import re

import pytest

from .queue_urls import NUMBER, queue_emulator

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.e2e.queue_urls")]

POSITION = re.compile(r"現在、(\d+)番目にお待ちです")


@pytest.fixture
def support(support):
    """The demo queue, announcing the position every 20 s."""
    support.announce_every_seconds = 20
    support.save()
    return support


def positions_heard(call):
    heard = [int(m.group(1)) for text in call.heard() if (m := POSITION.search(text))]
    changes = [p for i, p in enumerate(heard) if i == 0 or heard[i - 1] != p]
    return heard, changes


def test_three_callers_hear_3_2_1_as_the_front_is_taken(settings, support):
    from emulator import Caller

    emu = queue_emulator(settings)
    calls = [
        emu.place_call(to=NUMBER, from_=f"+8190000000{n}", caller=Caller(talk_seconds=20), at=n)
        for n in range(3)
    ]
    emu.add_agent("agent1")
    for at in (60, 120, 180):
        emu.agent_dial("agent1", to="queue:support", at=at, talk_seconds=20)
    emu.run()

    assert [positions_heard(call)[1] for call in calls] == [[1], [2, 1], [3, 2, 1]]
    # Each caller heard the connect message once, last of all the queue's words.
    for call in calls:
        assert call.heard().count("オペレータにおつなぎします。") == 1


def test_announcements_come_no_more_often_than_configured(settings, support):
    from emulator import Caller

    support.hold_music_url = "https://music.example.com/hold.mp3"
    support.save()
    emu = queue_emulator(settings)
    emu.play_durations[support.hold_music_url] = 8  # the wait document loops every ~8 s
    call = emu.place_call(to=NUMBER, from_="+819000000001", caller=Caller(patience=130), at=0)
    emu.run()

    said_at = [entry.at for entry in call.entries("say") if POSITION.search(entry.text)]
    gaps = [b - a for a, b in zip(said_at, said_at[1:], strict=False)]
    assert len(said_at) >= 4
    assert min(gaps) >= support.announce_every_seconds
    # ...and they keep coming: at most one hold-music loop late.
    assert max(gaps) <= support.announce_every_seconds + 8 + 8
    wait_requests = [r for r in call.requests if r[2].endswith("/twilio/queues/support/wait")]
    assert len(wait_requests) >= 2 * len(said_at)
    assert call.heard().count("[play https://music.example.com/hold.mp3]") == len(wait_requests)
