"""Flows for the ivr tests, built through the same import the flow files and the demo use."""

from io import StringIO
from xml.etree import ElementTree

import pytest
from django.core.management.base import BaseCommand

from ivr import demo
from ivr.flowfile import FORMAT, flows_import
from ivr.models import Flow, Step
from queues.models import Queue, QueueMessages

NUMBER = "+815012345678"


def twiml(response) -> ElementTree.Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "Response"
    return root


def verbs(root) -> list[str]:
    return [child.tag for child in root]


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


def import_flow(
    steps, *, name="Test flow", start=None, language="en-US", voice="", number=None, schedules=()
):
    document = {
        "format": FORMAT,
        "schedules": list(schedules),
        "flows": [
            {
                "name": name,
                "language": language,
                "voice": voice,
                "start_step": start or steps[0]["name"],
                "steps": steps,
            }
        ],
        "numbers": [{"number": number, "name": "test", "flow": name, "twilio_sid": ""}]
        if number
        else [],
    }
    flows_import(document=document)
    return Flow.objects.get(name=name)
