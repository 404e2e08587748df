"""The menu's Gather action and the no-input path, on the demo flow."""

import pytest
from django.urls import reverse

from ivr.models import CallPathEntry
from tests.conftest import call_fields
from tests.factories import twiml, verbs

from .conftest import step_of

pytestmark = pytest.mark.django_db


def gather_url(flow, attempt=0):
    menu = step_of(flow, "main-menu")
    url = reverse("ivr:gather", kwargs={"flow_id": flow.id, "step_id": menu.id})
    return f"{url}?attempt={attempt}"


def no_input_url(flow, attempt=0):
    menu = step_of(flow, "main-menu")
    url = reverse("ivr:no-input", kwargs={"flow_id": flow.id, "step_id": menu.id})
    return f"{url}?attempt={attempt}"


def path():
    return list(CallPathEntry.objects.values_list("step_name", "outcome", "digits"))


def test_key_1_says_the_operator_message_then_enqueues_in_support(twilio, demo_flow):
    root = twiml(twilio.post(gather_url(demo_flow), call_fields(Digits="1")))

    assert verbs(root) == ["Say", "Enqueue"]
    assert root.find("Say").text == "オペレータにおつなぎします。しばらくお待ちください。"
    enqueue = root.find("Enqueue")
    assert enqueue.text == "support"
    assert enqueue.get("action").endswith("/queue-exit")
    assert enqueue.get("waitUrl") == "http://testserver/twilio/queues/support/wait"
    assert path() == [
        ("main-menu", "valid", "1"),
        ("to-operator", "entered", ""),
        ("support-queue", "entered", ""),
    ]


def test_key_2_plays_the_product_information_then_hangs_up(twilio, demo_flow):
    root = twiml(twilio.post(gather_url(demo_flow), call_fields(Digits="2")))

    assert verbs(root) == ["Say", "Hangup"]
    assert root.find("Say").text.startswith("お電話ありがとうございました。")
    assert path() == [("main-menu", "valid", "2"), ("product-info", "entered", "")]


def test_an_invalid_key_repeats_the_menu_with_the_invalid_key_message(twilio, demo_flow):
    root = twiml(twilio.post(gather_url(demo_flow), call_fields(Digits="7")))

    assert verbs(root) == ["Gather", "Say", "Redirect"]
    says = root.find("Gather").findall("Say")
    assert [s.text for s in says] == [
        "再度入力をお願いします。お問い合わせは1を、最新の製品情報をお聞きになりたい場合は2を押してください。"
    ]
    assert root.find("Gather").get("action").endswith("?attempt=1")
    assert path() == [("main-menu", "invalid", "7")]


def test_after_the_last_retry_an_invalid_key_goes_where_silence_leads(twilio, demo_flow):
    root = twiml(twilio.post(gather_url(demo_flow, attempt=5), call_fields(Digits="9")))

    assert verbs(root) == ["Enqueue"]
    assert path() == [("main-menu", "invalid", "9"), ("support-queue", "entered", "")]


def test_silence_goes_to_the_support_queue(twilio, demo_flow):
    root = twiml(twilio.post(no_input_url(demo_flow), call_fields()))

    assert verbs(root) == ["Enqueue"]
    assert root.find("Enqueue").text == "support"
    assert path() == [("main-menu", "no-input", ""), ("support-queue", "entered", "")]


def test_it_rejects_a_forged_gather(twilio, demo_flow):
    response = twilio.post(gather_url(demo_flow), call_fields(Digits="1"), signature="x")

    assert response.status_code == 403
    assert not CallPathEntry.objects.exists()
