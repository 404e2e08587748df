"""The queue report and the wallboard in headless Chromium, with screenshots for docs/."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from agents.models import Agent, AgentStatus
from agents.roles import ANALYSTS, SUPERVISORS
from demo.traffic import traffic_generate
from queues.models import Queue, QueueResult, QueueVisit
from reports.metrics import local_today
from telephony.models import Call, CallStatus
from tests.conftest import browser_login, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _person(django_user_model, username, group):
    user = django_user_model.objects.create_user(username, password="pw-" + username)
    user.groups.add(Group.objects.get(name=group))
    return user


def test_an_analyst_reads_the_month_and_downloads_the_csv(
    page, live_server, settings, django_user_model
):
    settings.TIME_ZONE = "Asia/Tokyo"
    today = local_today(timezone.now())
    traffic_generate(days=14, calls_per_day=400, seed=11, end=today - timedelta(days=1))
    _person(django_user_model, "ana", ANALYSTS)
    browser_login(page, live_server, "ana", "pw-ana")
    # The home page sends an analyst to the queue report.
    assert page.url.rstrip("/").endswith("/reports")
    start = (today - timedelta(days=14)).isoformat()
    page.fill("#id_start", start)
    page.fill("#id_end", (today - timedelta(days=1)).isoformat())
    page.select_option("#id_queue", "support")
    page.click("#report-filters button[type=submit]")
    page.wait_for_selector("body[data-charts-ready=true]")
    rows = page.locator("#queue-report tbody tr")
    assert rows.count() == 14
    first_offered = int(rows.nth(0).locator("td").nth(2).inner_text())
    assert first_offered > 0
    save_screenshot(page, "report-queues.png", full_page=True)
    with page.expect_download() as download_info:
        page.click("#export-csv")
    csv_text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[1].split(",")[2] == str(first_offered)

    page.click("text=Agents")
    page.wait_for_selector("#agent-report")
    save_screenshot(page, "report-agents.png", full_page=True)
    page.click("text=Abandoned calls")
    page.wait_for_selector("#abandoned-calls")
    assert page.input_value("#id_end") == today.isoformat()  # the last 7 days by default
    save_screenshot(page, "report-abandoned.png")
    page.click("#abandoned-calls tbody tr:first-child a:text('Details')")
    page.wait_for_selector("#call-timeline")
    assert page.locator("#call-visits tbody tr").count() == 1
    save_screenshot(page, "report-call-detail.png", full_page=True)


def test_the_wallboard_follows_callers_without_reloading(
    page, live_server, settings, django_user_model
):
    settings.TIME_ZONE = "Asia/Tokyo"
    support = Queue.objects.create(slug="support", name="Support")
    user = django_user_model.objects.create_user("agent1")
    agent = Agent.objects.create(user=user, identity="agent1", status=AgentStatus.AVAILABLE)
    agent.memberships.create(queue=support)
    _person(django_user_model, "sup", SUPERVISORS)
    browser_login(page, live_server, "sup", "pw-sup")
    page.goto(f"{live_server.url}/reports/wallboard/")
    waiting = page.locator('[data-queue="support"] [data-field="waiting"] .wb-value')
    assert waiting.inner_text() == "0"
    page.evaluate("window.__sameDocument = true")

    call = Call.objects.create(
        sid="CA" + "5" * 32,
        from_number="+819000000009",
        to_number="+815012345678",
        status=CallStatus.IN_PROGRESS,
        started_at=timezone.now() - timedelta(seconds=70),
    )
    QueueVisit.objects.create(
        queue=support,
        call=call,
        result=QueueResult.WAITING,
        entered_at=timezone.now() - timedelta(seconds=65),
    )
    Agent.objects.filter(pk=agent.pk).update(status=AgentStatus.ON_CALL)
    # (Not wait_for_function: it evaluates with eval(), which the Content-Security-Policy forbids.)
    expect(waiting).to_have_text("1", timeout=8_000)
    on_call = page.locator('[data-queue="support"] [data-field="agents_on_call"] .wb-value')
    assert on_call.inner_text() == "1"
    longest = page.locator('[data-queue="support"] [data-field="longest_wait_seconds"] .wb-value')
    assert longest.inner_text().startswith("1:")
    assert page.evaluate("window.__sameDocument") is True  # updated in place, not reloaded
    page.set_viewport_size({"width": 1600, "height": 900})
    save_screenshot(page, "wallboard-live.png")
