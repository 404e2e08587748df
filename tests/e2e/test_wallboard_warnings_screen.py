"""The wallboard at 1366×768 with six queues, two of them warning: the cards still fit, the
warnings read as text as well as colour, and today's overflow is shown."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from agents.roles import SUPERVISORS
from queues.models import Queue, QueueResult
from tests.conftest import browser_login, save_screenshot
from tests.factories import make_visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAMES = ["Support", "Sales", "Billing", "Technical help", "Returns", "Partners"]


def test_six_queues_with_warnings_fit_a_1366_by_768_screen(page, live_server, django_user_model):
    queues = {
        name: Queue.objects.create(slug=name.lower().replace(" ", "-"), name=name) for name in NAMES
    }
    now = timezone.now()
    # Support: a caller waiting 5 minutes (alert after 2). Sales: answered after 60 s, over the
    # 20 s threshold, so today's service level is 0 % (target 80 %); one caller overflowed.
    # (The services lock rows: in a transactional test that needs a transaction of its own.)
    with transaction.atomic():
        make_visit(queues["Support"], now - timedelta(minutes=5), QueueResult.WAITING)
        make_visit(
            queues["Sales"], now - timedelta(minutes=9), QueueResult.BRIDGED, 60, answered=True
        )
        make_visit(queues["Sales"], now - timedelta(minutes=8), QueueResult.LEAVE, 300)
        make_visit(
            queues["Billing"], now - timedelta(minutes=7), QueueResult.BRIDGED, 5, answered=True
        )
    user = django_user_model.objects.create_user("sup", password="pw-sup")
    user.groups.add(Group.objects.get(name=SUPERVISORS))
    page.set_viewport_size({"width": 1366, "height": 768})
    browser_login(page, live_server, "sup", "pw-sup")

    page.goto(f"{live_server.url}/reports/wallboard/")

    cards = page.locator(".wb-queue")
    assert cards.count() == 6
    for i in range(6):
        box = cards.nth(i).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 768, (NAMES[i], box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1366, (NAMES[i], box)
    assert page.evaluate("document.documentElement.scrollHeight") <= 768
    support, sales, billing = (page.locator(f".wb-queue[data-queue='{s}']") for s in
                               ("support", "sales", "billing"))  # fmt: skip
    expect(support).to_have_class("wb-queue card wb-warning")
    expect(support.locator("[data-flag='wait_long']")).to_be_visible()
    expect(support.locator("[data-flag='wait_long']")).to_contain_text("Waiting over 2:00")
    expect(sales.locator("[data-flag='sl_low']")).to_contain_text("Service level below 80 %")
    expect(sales.locator("[data-field='overflowed'] .wb-value")).to_have_text("1")
    expect(billing.locator(".wb-flag:visible")).to_have_count(0)
    # After a poll the page still says the same (the script computes the same warnings).
    page.wait_for_timeout(3500)
    expect(support.locator("[data-flag='wait_long']")).to_be_visible()
    expect(sales.locator("[data-field='overflowed'] .wb-value")).to_have_text("1")
    expect(billing).to_have_class("wb-queue card")
    save_screenshot(page, "wallboard-warnings.png")
