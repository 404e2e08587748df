"""The admin's queue list counts "today" in TIME_ZONE, like the wallboard and the reports,
whatever time zone is active for the request."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from queues import services
from queues.models import Queue
from queues.selectors import queues_with_live_figures
from reports.metrics import wallboard
from telephony.services import call_upsert_from_webhook
from tests.conftest import call_fields

pytestmark = pytest.mark.django_db
# 10:00 in Tokyo on 10 November; 15:00 on 9 November in Honolulu.
NOW = datetime(2026, 11, 10, 1, 0, tzinfo=UTC)


def enter(queue, sid, at):
    call = call_upsert_from_webhook(params=call_fields(sid, CallStatus="in-progress"), now=at)
    services.visit_record_exit(
        queue=queue, call=call, params={"QueueResult": "hangup", "QueueTime": "30"}, now=at
    )


@pytest.mark.parametrize("active_zone", ["Asia/Tokyo", "Pacific/Honolulu", "UTC"])
def test_today_is_the_day_in_time_zone_not_the_active_zone(settings, active_zone):
    settings.TIME_ZONE = "Asia/Tokyo"
    queue = Queue.objects.create(slug="support", name="Support")
    # 20:00 in Tokyo on 9 November (yesterday there) but 01:00 today in Honolulu.
    enter(queue, "CA" + "1" * 32, datetime(2026, 11, 9, 11, 0, tzinfo=UTC))
    # 09:00 in Tokyo today.
    enter(queue, "CA" + "2" * 32, datetime(2026, 11, 10, 0, 0, tzinfo=UTC))
    with timezone.override(active_zone):
        [row] = queues_with_live_figures(Queue.objects.all(), now=NOW)
        [board] = wallboard(now=NOW, queues=[queue])
    assert (row.offered_today, row.abandoned_today) == (1, 1)
    assert (row.offered_today, row.answered_today, row.abandoned_today) == (
        board["offered"],
        board["answered"],
        board["abandoned"],
    )
