""" "Try this flow": the emulator calls the flow through the real webhooks, nothing is kept."""

import pytest
from django.urls import reverse

from ivr.models import CallPathEntry
from queues.models import QueueVisit
from telephony.models import Call, WebhookEvent

pytestmark = pytest.mark.django_db

GREETING = "こちらは、サンプルコールセンタです。"


def try_url(flow):
    return reverse("admin:ivr_flow_try", args=[flow.pk])


def heard(response):
    return [line.text for line in response.context["result"].lines if line.kind == "say"]


def test_it_plays_the_greeting_and_waits_for_a_key(sup_client, demo_flow):
    response = sup_client.get(try_url(demo_flow))

    assert response.status_code == 200
    assert heard(response)[0].startswith(GREETING)
    assert response.context["result"].waiting_for_keys
    assert 'name="press"' in response.content.decode()


def test_pressing_2_plays_the_product_information_and_ends(sup_client, demo_flow):
    response = sup_client.get(try_url(demo_flow), {"keys": "", "press": "2"})

    assert heard(response)[-1].startswith("お電話ありがとうございました。")
    result = response.context["result"]
    assert not result.waiting_for_keys
    assert [line.kind for line in result.lines][-1] == "end"


def test_an_invalid_key_then_waiting_leads_to_the_queue(sup_client, demo_flow):
    response = sup_client.get(try_url(demo_flow), {"keys": "7", "wait": "1"})

    says = heard(response)
    assert says[1].startswith("再度入力をお願いします。")
    assert says[2].startswith("入力が確認できませんでした。")
    kinds = [line.kind for line in response.context["result"].lines]
    assert "enqueue" in kinds
    assert response.context["keys"] == ["7", "-"]


def test_a_try_leaves_nothing_behind(sup_client, demo_flow):
    sup_client.get(try_url(demo_flow), {"keys": "1"})

    assert not Call.objects.exists()
    assert not WebhookEvent.objects.exists()
    assert not QueueVisit.objects.exists()
    assert not CallPathEntry.objects.exists()


def test_an_analyst_may_not_try_a_flow(client, analyst, demo_flow):
    client.force_login(analyst)

    assert client.get(try_url(demo_flow)).status_code == 302


def test_a_staff_user_without_change_permission_may_not_try(client, django_user_model, demo_flow):
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    client.force_login(user)

    assert client.get(try_url(demo_flow)).status_code == 403


def test_it_works_behind_a_trusted_https_proxy(sup_client, demo_flow, settings):
    settings.TRUSTED_PROXY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["tsunagu.example.com"]

    response = sup_client.get(
        try_url(demo_flow),
        {"press": "2"},
        HTTP_HOST="tsunagu.example.com",
        HTTP_X_FORWARDED_PROTO="https",
    )

    assert response.status_code == 200
    assert heard(response)[-1].startswith("お電話ありがとうございました。")


def test_a_multi_key_menu_takes_keys_from_the_keypad_or_the_field(sup_client, db):
    from .conftest import import_flow

    flow = import_flow(
        [
            {
                "name": "pin",
                "kind": "menu",
                "text": "Enter your two-digit code.",
                "num_digits": 2,
                "options": [{"key": "42", "target": "ok"}],
            },
            {"name": "ok", "kind": "say", "text": "Code accepted."},
        ]
    )

    first = sup_client.get(try_url(flow))
    typed = sup_client.get(try_url(flow), {"keys": "", "press": ["", "42"]})

    assert 'inputmode="numeric"' in first.content.decode()
    assert heard(typed)[-1] == "Code accepted."
