"""The demo flow of docs/api.md §8, seeded by seed_demo."""

from io import StringIO

import pytest
from django.core.management import call_command

from ivr import demo
from ivr.models import Flow, MenuOption, PhoneNumber, Step
from queues.models import Queue

pytestmark = pytest.mark.django_db


def test_seed_demo_binds_the_demo_flow_to_the_demo_number_and_is_idempotent():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())

    flow = Flow.objects.get()
    assert (flow.name, flow.language) == (demo.DEMO_FLOW, "ja-JP")
    assert PhoneNumber.objects.get().number == "+815012345678"
    assert flow.start_step.name == "main-menu"
    assert Step.objects.count() == 4
    assert sorted(MenuOption.objects.values_list("key", flat=True)) == ["1", "2"]
    assert Step.objects.get(kind="queue").queue.slug == "support"


def test_the_flow_creates_the_support_queue_when_the_queues_demo_did_not(db):
    demo.seed(type("Command", (), {"stdout": StringIO()})())

    assert Queue.objects.filter(slug="support").exists()


def test_the_demo_uses_the_original_wording():
    menu = demo.DEMO_DOCUMENT["flows"][0]["steps"][0]

    assert menu["text"] == (
        "こちらは、サンプルコールセンタです。"
        "お問い合わせは1を、最新の製品情報をお聞きになりたい場合は2を押してください。"
    )
    assert menu["invalid_message"].startswith("再度入力をお願いします。")
    assert menu["no_input_message"] == (
        "入力が確認できませんでした。オペレータにおつなぎします。しばらくお待ちください。"
    )
    assert (menu["num_digits"], menu["timeout"]) == (1, 10)
