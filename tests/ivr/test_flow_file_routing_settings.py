"""A flow file carries its queues' routing and callback settings (routing mode, queue
priority, ring timeout, missed policy, callback offer, retries) and the callback messages, so a
center moved to a fresh install rings and calls back as it did."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from ivr.models import Flow, PhoneNumber, Step
from queues.models import Queue, QueueMessages, RoutingMode

from .conftest import import_flow

pytestmark = pytest.mark.django_db


def test_routing_and_callback_settings_survive_an_export_and_import(tmp_path):
    queue = Queue.objects.create(
        slug="vip",
        name="VIP line",
        routing_mode=RoutingMode.PULL,
        priority=7,
        ring_timeout_seconds=25,
        missed_ready_after_seconds=30,
        callback_after_seconds=90,
        callback_retry_seconds=600,
        callback_max_attempts=2,
    )
    QueueMessages.objects.create(
        queue=queue,
        language="ja-JP",
        position_message="{position}番目です。",
        callback_offer_message="折り返しをご希望の方は1を押してください。",
    )
    import_flow(
        [{"name": "q", "kind": "queue", "queue": "vip"}], name="VIP", number="+815000000009"
    )
    path = tmp_path / "vip.json"
    call_command("export_flows", "--flow", "VIP", output=str(path), stderr=StringIO())
    PhoneNumber.objects.all().delete()
    Step.objects.all().delete()
    Flow.objects.all().delete()
    Queue.objects.all().delete()

    call_command("import_flows", str(path), stdout=StringIO())

    queue = Queue.objects.get(slug="vip")
    assert (queue.routing_mode, queue.priority, queue.ring_timeout_seconds) == ("pull", 7, 25)
    assert queue.missed_ready_after_seconds == 30
    assert (queue.callback_after_seconds, queue.callback_retry_seconds) == (90, 600)
    assert queue.callback_max_attempts == 2
    assert queue.messages.get().callback_offer_message.startswith("折り返し")
    assert json.loads(path.read_text(encoding="utf-8"))["queues"][0]["priority"] == 7
