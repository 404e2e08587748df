"""Flows for the ivr tests, built through the same import the flow files and the demo use."""

from io import StringIO

import pytest
from django.core.management.base import BaseCommand

from ivr import demo
from ivr.models import Flow, Step
from queues.models import Queue, QueueMessages
from tests.factories import import_flow, twiml, verbs

__all__ = ["import_flow", "twiml", "verbs"]  # still importable from here

NUMBER = "+815012345678"


@pytest.fixture
def support_queue(db):
    queue = Queue.objects.create(slug="support", name="Support")
    QueueMessages.objects.create(
        queue=queue,
        language="ja-JP",
        position_message="{position}番目",
        connect_message="オペレータにおつなぎします。",
        queue_full_message="混み合っております。",
    )
    return queue


@pytest.fixture
def demo_flow(support_queue):
    command = BaseCommand(stdout=StringIO())
    demo.seed(command)
    return Flow.objects.get(name=demo.DEMO_FLOW)


def step_of(flow, name) -> Step:
    return Step.objects.get(flow=flow, name=name)
