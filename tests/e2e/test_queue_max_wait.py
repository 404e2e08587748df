"""The max wait is kept to the second when the caller hears silence between announcements."""

import io

import pytest

from queues.demo import seed
from queues.models import Queue, QueueVisit

from .queue_urls import NUMBER, OVERFLOW_MESSAGE, queue_emulator

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.e2e.queue_urls")]


class _Quiet:
    stdout = io.StringIO()


@pytest.fixture
def support():
    seed(_Quiet())
    return Queue.objects.get(slug="support")


@pytest.mark.parametrize(
    ("max_wait", "announce_every", "pause"),
    [(60, 30, 3), (40, 30, 3), (45, 10, 0), (33, 30, 3), (8, 30, 3), (61, 20, 5)],
)
def test_with_silence_the_caller_leaves_at_the_max_wait(
    settings, support, max_wait, announce_every, pause
):
    from emulator import Caller

    support.max_wait_seconds = max_wait
    support.announce_every_seconds = announce_every
    support.announce_pause_seconds = pause
    support.hold_music_url = ""
    support.save()
    emu = queue_emulator(settings)
    call = emu.place_call(to=NUMBER, from_="+819011112222", caller=Caller(), at=0)

    emu.run()

    visit = QueueVisit.objects.get()
    assert visit.result == "leave"
    assert abs(visit.wait_seconds - max_wait) <= 1, visit.wait_seconds
    assert call.heard()[-1] == OVERFLOW_MESSAGE
