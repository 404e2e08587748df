"""The queue report's charts keep their size in a real browser (Chromium)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from agents.roles import ANALYSTS
from demo.traffic import traffic_generate
from reports.metrics import local_today
from tests.conftest import browser_login, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = ("#chart-volume", "#chart-asa", "#chart-sl")


def _heights(page):
    return [round(page.locator(selector).bounding_box()["height"]) for selector in CHARTS]


@pytest.mark.parametrize("width", [1280, 800])
def test_the_queue_report_charts_keep_their_height_over_time(
    page, live_server, settings, django_user_model, width
):
    settings.TIME_ZONE = "Asia/Tokyo"
    today = local_today(timezone.now())
    traffic_generate(days=3, calls_per_day=60, seed=5, end=today - timedelta(days=1))
    user = django_user_model.objects.create_user("ana", password="pw-ana")
    user.groups.add(Group.objects.get(name=ANALYSTS))
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(page, live_server, "ana", "pw-ana")
    page.goto(
        f"{live_server.url}/reports/?start={(today - timedelta(days=3)).isoformat()}"
        f"&end={(today - timedelta(days=1)).isoformat()}"
    )
    page.wait_for_selector("body[data-charts-ready=true]")
    first = _heights(page)
    assert all(0 < height <= 300 for height in first), first
    page.wait_for_timeout(2500)
    assert _heights(page) == first
    save_screenshot(page, f"report-queues-{width}.png", full_page=True)
