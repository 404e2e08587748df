"""Test-only TwiML that enqueues and dequeues through queues.twiml, so the queue end-to-end
tests depend on neither the ivr nor the agents app. Used with @pytest.mark.urls."""

from django.urls import path, reverse
from twilio.twiml.voice_response import VoiceResponse

from config.urls import urlpatterns as project_urlpatterns
from queues import services, twiml
from queues.models import QueueResult
from queues.selectors import queue_by_slug
from telephony.twiml import twiml_response
from telephony.webhooks import twilio_webhook

OVERFLOW_MESSAGE = "overflow: please leave a message"


@twilio_webhook
def incoming(request, slug):
    """A one-step flow: straight into the queue."""
    response = VoiceResponse()
    action = request.build_absolute_uri(reverse("e2e-queue-exit", kwargs={"slug": slug}))
    twiml.add_enqueue(response, request=request, queue=queue_by_slug(slug), action_url=action)
    return twiml_response(response)


@twilio_webhook(required=("CallSid", "QueueResult"))
def queue_exit(request, slug):
    """The flow's Enqueue action: after leave / queue-full it continues at an overflow step."""
    queue = queue_by_slug(slug)
    visit = services.visit_record_exit(
        queue=queue, call=request.twilio_call, params=request.POST, now=request.twilio_received_at
    )
    response = VoiceResponse()
    if visit.result in (QueueResult.BRIDGED, QueueResult.HANGUP):
        return twiml_response(response)
    twiml.add_exit_message(response, queue=queue, result=visit.result)
    response.say(OVERFLOW_MESSAGE, language="en-US")  # the document ends: so does the call
    return twiml_response(response)


@twilio_webhook
def agent_outgoing(request):
    """The softphone's TwiML App: To=queue:<slug> takes the front caller of that queue."""
    slug = request.POST.get("To", "").removeprefix("queue:")
    response = VoiceResponse()
    twiml.add_dial_queue(response, request=request, queue=queue_by_slug(slug))
    return twiml_response(response)


urlpatterns = [
    path("e2e/queue/<str:slug>/incoming", incoming, name="e2e-queue-incoming"),
    path("e2e/queue/<str:slug>/exit", queue_exit, name="e2e-queue-exit"),
    path("e2e/agent/outgoing", agent_outgoing, name="e2e-agent-outgoing"),
    *project_urlpatterns,
]


# --- The emulator wired to these URLs -----------------------------------------------------------
NUMBER = "+815012345678"


def queue_emulator(settings, *, slug="support", start=None):
    """An emulator whose number enqueues straight into ``slug`` and whose softphones dial
    ``queue:<slug>`` through agent_outgoing above."""
    from tests.factories import START, emulator

    return emulator(
        number=NUMBER,
        voice_url=f"/e2e/queue/{slug}/incoming",
        agent_url="/e2e/agent/outgoing",
        agent_status_callback=None,
        start=start or START,
    )


TRUTH_KEYS = (
    "call_sid",
    "queue",
    "result",
    "wait_seconds",
    "talk_seconds",
    "agent",
    "agent_call_sid",
)


def visits_as_ground_truth():
    """The app's visits in the shape of Emulator.ground_truth(), sorted like sorted_truth."""
    from queues.models import QueueVisit

    rows = [
        {
            "call_sid": visit.call.sid,
            "queue": visit.queue.slug,
            "result": visit.result,
            "wait_seconds": visit.wait_seconds,
            "talk_seconds": visit.talk_seconds,
            "agent": visit.agent_identity or None,
            "agent_call_sid": visit.agent_call_sid or None,
        }
        for visit in QueueVisit.objects.select_related("call", "queue")
    ]
    return sorted(rows, key=_truth_key)


def _truth_key(row):
    return (row["call_sid"], row["queue"])


def sorted_truth(rows):
    """The emulator's ground truth, reduced to what the app records."""
    return sorted(({key: row[key] for key in TRUTH_KEYS} for row in rows), key=_truth_key)
