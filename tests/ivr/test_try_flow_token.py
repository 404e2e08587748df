""" "Try this flow" on an installation without an auth token: the throwaway token travels with
the try's own requests, never through the process-wide settings."""

import pytest
from django.test.signals import setting_changed
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_try_without_an_auth_token_works_and_never_changes_the_settings(
    client, supervisor, demo_flow, settings
):
    settings.TWILIO_AUTH_TOKEN = ""
    changed = []

    def record(setting, **kwargs):
        changed.append(setting)

    setting_changed.connect(record)
    client.force_login(supervisor)
    try:
        response = client.get(reverse("admin:ivr_flow_try", args=[demo_flow.pk]), {"press": "2"})
    finally:
        setting_changed.disconnect(record)

    heard = [line.text for line in response.context["result"].lines if line.kind == "say"]
    assert heard[-1].startswith("お電話ありがとうございました。")
    assert changed == []
