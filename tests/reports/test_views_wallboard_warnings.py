"""The wallboard warns per queue — colour and a line of text — when today's service level is under
the queue's target or a caller has waited past its alert time, and shows today's overflow."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from queues.models import QueueResult

from .conftest import make_visit

pytestmark = pytest.mark.django_db
URL = reverse("reports:wallboard")


def section(html, slug):
    start = html.index(f'data-queue="{slug}"')
    end = html.find("</section>", start)
    return html[html.rfind("<section", 0, start) : end]


def test_a_queue_below_its_service_level_target_warns_in_words(client, analyst, support, sales):
    now = timezone.now()
    support.service_level_target = 90
    support.save()
    make_visit(support, now - timedelta(minutes=10), QueueResult.BRIDGED, 60, answered=True)
    make_visit(sales, now - timedelta(minutes=10), QueueResult.BRIDGED, 5, answered=True)
    client.force_login(analyst)

    html = client.get(URL).content.decode()

    low = section(html, "support")
    assert "wb-warning" in low.split(">", 1)[0]
    assert "Service level below 90 %" in low
    assert 'data-flag="sl_low">' in low  # shown, not hidden
    fine = section(html, "sales")
    assert "wb-warning" not in fine.split(">", 1)[0]
    assert 'data-flag="sl_low" hidden' in fine


def test_a_caller_waiting_past_the_alert_time_warns(client, analyst, support):
    support.longest_wait_alert_seconds = 60
    support.save()
    make_visit(support, timezone.now() - timedelta(seconds=150), QueueResult.WAITING)
    client.force_login(analyst)

    html = section(client.get(URL).content.decode(), "support")

    assert "wb-warning" in html.split(">", 1)[0]
    assert "Waiting over 1:00" in html
    assert 'data-flag="wait_long">' in html


def test_todays_overflow_is_on_the_page_and_refreshed_from_its_own_address(
    client, analyst, support, sales
):
    now = timezone.now()
    make_visit(support, now - timedelta(minutes=20), QueueResult.LEAVE, 300)
    make_visit(support, now - timedelta(minutes=10), QueueResult.LEAVE, 300)
    make_visit(sales, now - timedelta(minutes=10), QueueResult.HANGUP, 30)
    client.force_login(analyst)

    html = client.get(URL).content.decode()
    data = client.get(reverse("reports:wallboard-today")).json()

    assert 'data-field="overflowed"' in section(html, "support")
    assert f'data-today-url="{reverse("reports:wallboard-today")}"' in html
    assert {row["queue"]: row["overflowed"] for row in data["rows"]} == {"sales": 0, "support": 2}


@pytest.mark.parametrize("persona", ["agent_user", "outsider"])
def test_the_today_figures_need_a_report_role(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("reports:wallboard-today")).status_code == 403


def test_the_queue_admin_edits_the_wallboard_targets(client, supervisor, support):
    client.force_login(supervisor)

    html = client.get(reverse("admin:queues_queue_change", args=[support.pk])).content.decode()

    assert 'name="service_level_target"' in html
    assert 'name="longest_wait_alert_seconds"' in html
