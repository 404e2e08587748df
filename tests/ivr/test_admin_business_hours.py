"""Business hours in the admin: ranges and holidays inline; a saved change reaches the flows
that use the schedule at their next webhook."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from ivr.models import BusinessHours
from tests.conftest import call_fields
from tests.factories import office_hours_flow, twiml

pytestmark = pytest.mark.django_db

NUMBER = "+815066667777"
MONDAY_10_TOKYO = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


@pytest.fixture
def flow(db):
    return office_hours_flow(number=NUMBER, open_text="Open.", closed_text="Closed.")


def schedule_data(schedule, *, holidays=(), ranges=None):
    ranges = (
        ranges
        if ranges is not None
        else [(r.id, r.weekday, r.opens, r.closes) for r in schedule.ranges.all()]
    )
    data = {
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "ranges-TOTAL_FORMS": str(len(ranges)),
        "ranges-INITIAL_FORMS": str(sum(1 for r in ranges if r[0])),
        "ranges-MIN_NUM_FORMS": "0",
        "ranges-MAX_NUM_FORMS": "1000",
        "holidays-TOTAL_FORMS": str(len(holidays)),
        "holidays-INITIAL_FORMS": "0",
        "holidays-MIN_NUM_FORMS": "0",
        "holidays-MAX_NUM_FORMS": "1000",
    }
    for i, (pk, weekday, opens, closes) in enumerate(ranges):
        if pk:
            data[f"ranges-{i}-id"] = str(pk)
        data[f"ranges-{i}-schedule"] = str(schedule.pk)
        data[f"ranges-{i}-weekday"] = str(weekday)
        data[f"ranges-{i}-opens"] = str(opens)[:5]
        data[f"ranges-{i}-closes"] = str(closes)[:5]
    for i, (day, name) in enumerate(holidays):
        data[f"holidays-{i}-schedule"] = str(schedule.pk)
        data[f"holidays-{i}-date"] = day
        data[f"holidays-{i}-name"] = name
    return data


def test_a_holiday_added_in_the_admin_closes_the_line_at_once(
    client, supervisor, twilio, flow, monkeypatch
):
    schedule = BusinessHours.objects.get()
    url = reverse("admin:ivr_businesshours_change", args=[schedule.pk])
    client.force_login(supervisor)
    monkeypatch.setattr(timezone, "now", lambda: MONDAY_10_TOKYO)
    before = twiml(twilio.post("/twilio/voice/incoming", call_fields(To=NUMBER)))

    response = client.post(url, schedule_data(schedule, holidays=[("2026-11-30", "Closed")]))
    after = twiml(twilio.post("/twilio/voice/incoming", call_fields(To=NUMBER)))

    assert response.status_code == 302
    assert (before.find("Say").text, after.find("Say").text) == ("Open.", "Closed.")


def test_a_range_that_closes_before_it_opens_is_refused(client, supervisor, flow):
    schedule = BusinessHours.objects.get()
    url = reverse("admin:ivr_businesshours_change", args=[schedule.pk])
    client.force_login(supervisor)
    rng = schedule.ranges.get()

    response = client.post(url, schedule_data(schedule, ranges=[(rng.pk, 0, "18:00", "09:00")]))

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.forms[0].errors["closes"]


def test_an_unknown_time_zone_is_refused(client, supervisor, flow):
    schedule = BusinessHours.objects.get()
    client.force_login(supervisor)
    data = schedule_data(schedule)
    data["time_zone"] = "Mars/Olympus"

    response = client.post(reverse("admin:ivr_businesshours_change", args=[schedule.pk]), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["time_zone"]
