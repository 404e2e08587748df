"""The wallboard on an ordinary 1366×768 screen, in headless Chromium."""

import pytest
from django.contrib.auth.models import Group

from agents.roles import SUPERVISORS
from queues.models import Queue
from tests.conftest import browser_login, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAMES = ["Support", "Sales", "Billing", "Technical help", "Returns", "Partners"]


def test_six_queues_fit_a_1366_by_768_screen(page, live_server, django_user_model):
    for name in NAMES:
        Queue.objects.create(slug=name.lower().replace(" ", "-"), name=name)
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
    save_screenshot(page, "wallboard-six-queues.png")
