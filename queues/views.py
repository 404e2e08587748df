"""Twilio webhooks of a queue: wait URL, Enqueue action, connect URL, agent Dial action."""

from twilio.twiml.voice_response import VoiceResponse

from telephony.twiml import twiml_response
from telephony.webhooks import twilio_webhook

from . import services, twiml
from .selectors import queue_by_slug


def _priority(value: str | None) -> int:
    """The caller priority the flow's queue step wrote on the wait URL (0–9; else 0)."""
    try:
        return min(9, max(0, int(value or 0)))
    except ValueError:
        return 0


@twilio_webhook(required=("CallSid", "QueueTime"))
def wait(request, slug):
    queue = queue_by_slug(slug)
    step = services.visit_record_wait(
        queue=queue,
        call=request.twilio_call,
        params=request.POST,
        now=request.twilio_received_at,
        caller_priority=_priority(request.GET.get("priority")),
    )
    return twiml_response(
        twiml.wait_response(
            queue=queue,
            position=step.position,
            queue_time=step.queue_time,
            announce=step.announce,
            minutes=step.minutes,
            last_announced=step.last_announced,
        )
    )


@twilio_webhook(required=("CallSid", "QueueResult"))
def exit_action(request, slug):
    """The generic Enqueue action for enqueues outside a flow: nothing follows."""
    queue = queue_by_slug(slug)
    visit = services.visit_record_exit(
        queue=queue, call=request.twilio_call, params=request.POST, now=request.twilio_received_at
    )
    response = VoiceResponse()
    twiml.add_exit_message(response, queue=queue, result=visit.result)
    return twiml_response(response)


# The <Queue url> document allows only Say/Play/Pause/Redirect: on a failure, say nothing and
# let the caller be bridged rather than answer a <Hangup/> Twilio refuses there.
@twilio_webhook(required=("CallSid", "QueueTime"), on_error=VoiceResponse)
def connect(request, slug):
    queue = queue_by_slug(slug)
    services.visit_record_connect(
        queue=queue, call=request.twilio_call, params=request.POST, now=request.twilio_received_at
    )
    return twiml_response(twiml.connect_response(queue=queue))


@twilio_webhook
def dial_action(request, slug):
    queue = queue_by_slug(slug)
    services.visit_record_talk(
        queue=queue,
        agent_call=request.twilio_call,
        params=request.POST,
        now=request.twilio_received_at,
    )
    return twiml_response(VoiceResponse())
