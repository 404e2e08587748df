"""The TwiML helpers ivr and agents build their flows with."""

import xml.etree.ElementTree as ET

import pytest
from django.test import RequestFactory
from twilio.twiml.voice_response import VoiceResponse

from queues import twiml
from queues.models import QueueResult


@pytest.fixture
def request_(settings):
    settings.ALLOWED_HOSTS = ["cc.example.com"]
    return RequestFactory().post("/twilio/ivr/x", HTTP_HOST="cc.example.com", secure=True)


def parsed(response):
    return ET.fromstring(str(response))


def test_add_enqueue_points_the_wait_url_at_the_queue(request_, queue):
    response = VoiceResponse()
    twiml.add_enqueue(
        response,
        request=request_,
        queue=queue,
        action_url="https://cc.example.com/twilio/ivr/step/7/queue-exit",
    )
    enqueue = parsed(response).find("Enqueue")
    assert enqueue.text == "support"
    assert enqueue.attrib == {
        "action": "https://cc.example.com/twilio/ivr/step/7/queue-exit",
        "method": "POST",
        "waitUrl": "https://cc.example.com/twilio/queues/support/wait",
        "waitUrlMethod": "POST",
    }


def test_add_dial_queue_defaults_to_the_queues_dial_action(request_, queue):
    response = VoiceResponse()
    twiml.add_dial_queue(response, request=request_, queue=queue)
    dial = parsed(response).find("Dial")
    assert dial.attrib == {
        "action": "https://cc.example.com/twilio/queues/support/dial-action",
        "method": "POST",
        "timeout": "30",
    }
    assert dial.find("Queue").text == "support"
    assert dial.find("Queue").attrib == {
        "url": "https://cc.example.com/twilio/queues/support/connect",
        "method": "POST",
    }


def test_add_dial_queue_records_when_the_queue_says_so(request_, queue):
    queue.record_answered_calls = True
    response = VoiceResponse()
    twiml.add_dial_queue(
        response, request=request_, queue=queue, action_url="https://a/b", timeout=20
    )
    dial = parsed(response).find("Dial")
    assert (dial.attrib["action"], dial.attrib["timeout"], dial.attrib["record"]) == (
        "https://a/b",
        "20",
        "record-from-answer-dual",
    )


def test_the_slug_is_escaped_in_urls(request_, queue):
    queue.slug = "sales#1"
    response = VoiceResponse()
    twiml.add_enqueue(response, request=request_, queue=queue, action_url="https://a/b")
    enqueue = parsed(response).find("Enqueue")
    assert enqueue.text == "sales#1"
    assert enqueue.attrib["waitUrl"] == "https://cc.example.com/twilio/queues/sales%231/wait"


@pytest.mark.parametrize("result", [r for r in QueueResult.values if r != "queue-full"])
def test_only_queue_full_has_an_exit_message(queue, result):
    response = VoiceResponse()
    twiml.add_exit_message(response, queue=queue, result=result)
    assert list(parsed(response)) == []


def test_every_language_speaks_in_turn(queue):
    from queues.models import QueueMessages

    QueueMessages.objects.create(
        queue=queue, order=2, language="en-US", queue_full_message="All our lines are busy."
    )
    response = VoiceResponse()
    twiml.add_exit_message(response, queue=queue, result="queue-full")
    assert [(el.text, el.attrib["language"]) for el in parsed(response)] == [
        ("ただいま大変混み合っております。", "ja-JP"),
        ("All our lines are busy.", "en-US"),
    ]
