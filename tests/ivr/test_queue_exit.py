"""The Enqueue action of a queue step."""

import pytest
from django.urls import reverse

from ivr.models import CallPathEntry
from queues.models import QueueResult, QueueVisit
from tests.conftest import call_fields
from tests.factories import twiml, verbs

from .conftest import import_flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def flow(support_queue):
    return import_flow(
        [
            {"name": "queue", "kind": "queue", "queue": "support", "next_step": "sorry"},
            {"name": "sorry", "kind": "hangup", "text": "Sorry, nobody is free."},
        ]
    )


def exit_url(flow):
    step = flow.steps.get(name="queue")
    return reverse("ivr:queue-exit", kwargs={"flow_id": flow.id, "step_id": step.id})


@pytest.mark.parametrize("result", ["bridged", "hangup"])
def test_it_answers_an_empty_response_when_the_caller_was_connected_or_hung_up(
    twilio, flow, result
):
    root = twiml(twilio.post(exit_url(flow), call_fields(QueueResult=result, QueueTime="12")))

    assert verbs(root) == []
    assert QueueVisit.objects.get().result == result


@pytest.mark.parametrize("result", ["leave", "redirected", "error"])
def test_it_continues_at_the_next_step_when_the_system_took_the_caller_out(twilio, flow, result):
    root = twiml(twilio.post(exit_url(flow), call_fields(QueueResult=result, QueueTime="60")))

    assert verbs(root) == ["Say", "Hangup"]
    assert root.find("Say").text == "Sorry, nobody is free."
    assert root.find("Say").get("language") == "en-US"
    assert QueueVisit.objects.get().wait_seconds == 60
    assert list(CallPathEntry.objects.values_list("step_name", flat=True)) == ["sorry"]


def test_a_full_queue_says_the_queue_full_message_before_the_next_step(twilio, flow):
    root = twiml(twilio.post(exit_url(flow), call_fields(QueueResult="queue-full")))

    heard = [say.text for say in root.findall("Say")]
    assert heard == ["混み合っております。", "Sorry, nobody is free."]
    assert QueueVisit.objects.get().result == QueueResult.QUEUE_FULL


def test_it_rejects_a_missing_queue_result(twilio, flow):
    response = twilio.post(exit_url(flow), call_fields())

    assert response.status_code == 400
    assert not QueueVisit.objects.exists()


def test_it_rejects_an_unknown_queue_result(twilio, flow):
    response = twilio.post(exit_url(flow), call_fields(QueueResult="exploded"))

    assert response.status_code == 400
