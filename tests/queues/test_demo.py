"""The demo queue `support` speaks docs/api.md §8's wording and seeding twice changes nothing."""

import io
import xml.etree.ElementTree as ET

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from twilio.twiml.voice_response import VoiceResponse

from queues import demo, twiml
from queues.models import Queue, QueueMessages

pytestmark = pytest.mark.django_db


class _Command:
    stdout = io.StringIO()


def test_it_creates_the_support_queue_once(settings):
    settings.TWILIO_ACCOUNT_SID = ""
    demo.seed(_Command())
    demo.seed(_Command())
    queue = Queue.objects.get()
    assert (queue.slug, queue.name) == ("support", "サポート")
    messages = QueueMessages.objects.get()
    assert messages.language == "ja-JP"
    assert (
        messages.position_message.format(position=2)
        == "お待たせしております。現在、2番目にお待ちです。"
    )
    assert messages.connect_message == "オペレータにおつなぎします。"


def test_the_demo_wait_is_a_pause_the_position_and_the_hold(settings):
    settings.TWILIO_ACCOUNT_SID = ""
    call_command("seed_demo", stdout=io.StringIO())
    queue = Queue.objects.prefetch_related("messages").get(slug="support")
    root = ET.fromstring(
        str(
            twiml.wait_response(
                queue=queue,
                position=1,
                queue_time=0,
                announce=True,
                minutes=None,
                last_announced=None,
            )
        )
    )
    assert [(el.tag, el.text) for el in root] == [
        ("Pause", None),
        ("Say", "お待たせしております。現在、1番目にお待ちです。"),
        ("Play", queue.hold_music_url),
    ]
    assert queue.hold_music_url.endswith(".mp3")
    assert root[0].attrib["length"] == "3"
    response = VoiceResponse()
    twiml.add_dial_queue(response, request=RequestFactory().get("/"), queue=queue)
    assert ET.fromstring(str(response)).find("Dial/Queue").text == "support"
