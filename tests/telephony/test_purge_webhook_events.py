"""Old webhook events go after the retention period; recent ones stay."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from telephony.models import WebhookEvent

pytestmark = pytest.mark.django_db


def event(age_days: float) -> WebhookEvent:
    return WebhookEvent.objects.create(
        received_at=timezone.now() - timedelta(days=age_days),
        path="/twilio/voice/incoming",
        url="http://testserver/twilio/voice/incoming",
        method="POST",
        outcome=WebhookEvent.Outcome.FORGED,
        response_status=403,
    )


def purge(*args) -> str:
    out = StringIO()
    call_command("purge_webhook_events", *args, stdout=out)
    return out.getvalue()


def remaining_ages():
    now = timezone.now()
    return sorted(
        round((now - e.received_at) / timedelta(days=1)) for e in WebhookEvent.objects.all()
    )


def test_it_deletes_the_events_older_than_the_retention_setting(settings):
    settings.WEBHOOK_EVENT_RETENTION_DAYS = 30
    for age in (1, 29, 31, 400):
        event(age)

    output = purge()

    assert remaining_ages() == [1, 29]
    assert output.startswith("Deleted 2 webhook event(s) received before ")


def test_the_days_option_overrides_the_setting(settings):
    settings.WEBHOOK_EVENT_RETENTION_DAYS = 30
    for age in (1, 5, 29):
        event(age)

    purge("--days", "3")

    assert remaining_ages() == [1]


def test_it_deletes_in_batches_until_nothing_old_is_left():
    from telephony.services import webhook_events_purge

    for age in range(10, 17):
        event(age)
    event(1)

    assert webhook_events_purge(before=timezone.now() - timedelta(days=2), batch_size=3) == 7
    assert remaining_ages() == [1]


def test_zero_days_keeps_everything(settings):
    settings.WEBHOOK_EVENT_RETENTION_DAYS = 0
    event(4000)

    assert "kept forever" in purge()
    assert WebhookEvent.objects.count() == 1


def test_a_negative_number_of_days_is_refused():
    with pytest.raises(CommandError):
        purge("--days", "-1")


def test_the_default_retention_is_90_days():
    from config import settings as project_settings

    assert project_settings.WEBHOOK_EVENT_RETENTION_DAYS == 90
