"""The project's own URLs plus a test-only entry that puts the caller in a queue.

Until a call flow is bound to a number, this is how the emulator's tests reach the real queue
and agent webhooks.
"""

from django.urls import path, reverse
from twilio.twiml.voice_response import VoiceResponse

from config.urls import urlpatterns as project_urlpatterns
from queues.selectors import queue_by_slug
from queues.twiml import add_enqueue
from telephony.twiml import twiml_response
from telephony.webhooks import twilio_webhook


@twilio_webhook
def enqueue(request, slug):
    queue = queue_by_slug(slug)
    response = VoiceResponse()
    response.say("オペレータにおつなぎします。しばらくお待ちください。", language="ja-JP")
    action_url = request.build_absolute_uri(reverse("queues:exit", args=[queue.slug]))
    add_enqueue(response, request=request, queue=queue, action_url=action_url)
    return twiml_response(response)


urlpatterns = [
    path("t/enqueue/<slug:slug>", enqueue, name="t-enqueue"),
    *project_urlpatterns,
]
