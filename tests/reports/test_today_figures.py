"""Today's figures on the wallboard: the settled hours of today are read from the stored hours,
the last ones from the visits, and both give what a fully live count gives."""

from datetime import timedelta

import pytest
from django.utils import timezone

from queues.models import QueueResult, QueueVisit
from reports import metrics
from reports.models import QueueHourStats
from routing.control import holds_close
from routing.models import Bridge, Hold, Offer, OfferOutcome
from tests.factories import make_agent, make_visit, tokyo

pytestmark = pytest.mark.django_db

DAY = (2026, 11, 2)


@pytest.fixture
def busy_day(support):
    for hour in (0, 3, 9, 14, 21, 22, 23):
        at = tokyo(*DAY, hour, 10)
        make_visit(support, at, QueueResult.BRIDGED, 12, answered=True, agent="a1", talk=60)
        make_visit(support, at, QueueResult.HANGUP, 3)  # a short abandon
        make_visit(support, at, QueueResult.LEAVE, 40)  # overflowed
    return support


def figures(queue, now):
    names = (*metrics.WALLBOARD_FIGURES, "overflowed")
    return metrics.today_figures(now=now, queues=[queue], names=names)[queue.pk]


def test_stored_and_live_hours_of_today_add_up_to_the_live_count(busy_day, monkeypatch):
    late = tokyo(*DAY, 23, 30)
    with monkeypatch.context() as patched:
        patched.setattr(metrics, "SETTLED_AFTER", timedelta(days=2))
        live = figures(busy_day, late)
    assert not QueueHourStats.objects.exists()
    assert live == {
        "offered": 21,
        "answered": 7,
        "abandoned": 7,
        "short_abandoned": 7,
        "answered_in_sl": 7,
        "overflowed": 7,
    }
    # At 23:30 the hours up to 21:00 are settled: stored once, then read.
    assert figures(busy_day, late) == live
    assert QueueHourStats.objects.filter(queue=busy_day).count() == 21
    assert figures(busy_day, late) == live
    # Yesterday's visits are not today's.
    assert figures(busy_day, late + timedelta(days=1))["offered"] == 0


def test_a_visit_of_a_stored_hour_saved_again_is_counted_anew(busy_day):
    late = tokyo(*DAY, 23, 30)
    assert figures(busy_day, late)["answered"] == 7
    visit = QueueVisit.objects.get(entered_at=tokyo(*DAY, 9, 10), result=QueueResult.HANGUP)
    visit.result = QueueResult.BRIDGED
    visit.answered_at = visit.entered_at + timedelta(seconds=3)
    visit.save(update_fields=["result", "answered_at"])
    assert figures(busy_day, late)["answered"] == 8
    assert figures(busy_day, late)["abandoned"] == 6


def test_a_hold_ending_on_a_call_of_a_stored_hour_drops_that_hour(support, django_user_model):
    """A call longer than an hour: its hour is stored while the caller is on hold."""
    now = timezone.now()
    entered = now - timedelta(hours=4)
    make_visit(support, entered, QueueResult.BRIDGED, 5, answered=True, agent="a1", talk=9000)
    visit = QueueVisit.objects.get()
    agent = make_agent(django_user_model, "a1", support)
    offer = Offer.objects.create(
        agent=agent,
        visit=visit,
        queue=support,
        ring_timeout_seconds=15,
        started_at=entered,
        ended_at=entered,
        outcome=OfferOutcome.ACCEPTED,
    )
    bridge = Bridge.objects.create(
        visit=visit, offer=offer, friendly_name=f"visit-{visit.pk}", created_at=entered
    )
    Hold.objects.create(bridge=bridge, agent=agent, started_at=now - timedelta(minutes=10))
    hour = entered.replace(minute=0, second=0, microsecond=0)
    [stored] = metrics.settled_hours(queues=[support], start=hour, stop=hour + metrics.HOUR)
    assert stored["handle_sum"] == 9000
    assert QueueHourStats.objects.filter(hour_start=hour).exists()

    assert holds_close(bridge_id=bridge.pk, now=now) == 600

    assert not QueueHourStats.objects.filter(hour_start=hour).exists()
    [again] = metrics.settled_hours(queues=[support], start=hour, stop=hour + metrics.HOUR)
    assert again["handle_sum"] == 9000 + 600
