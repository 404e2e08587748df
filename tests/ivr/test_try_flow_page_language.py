"""The Try page stays in the supervisor's language: the try's webhooks run in the same thread
and each activates the language of its own request (the site's default)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_japanese_supervisor_reads_the_try_page_in_japanese(sup_client, demo_flow, settings):
    settings.LANGUAGE_CODE = "en"  # the site's default differs from the supervisor's

    response = sup_client.get(
        reverse("admin:ivr_flow_try", args=[demo_flow.pk]),
        {"keys": "", "press": "2"},
        HTTP_ACCEPT_LANGUAGE="ja",
    )

    body = response.content.decode()
    assert "テストは終了しました。" in body  # "End of the try."
    assert "End of the try." not in body
