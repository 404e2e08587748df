"""Twilio webhooks of a queue: wait URL, Enqueue action, connect URL, agent Dial action."""

import logging

from django.conf import settings
from django.urls import reverse
from twilio.twiml.voice_response import VoiceResponse

from telephony import configcache
from telephony.middleware import proxy_queue_ms
from telephony.phone import to_e164
from telephony.twiml import twiml_response
from telephony.webhooks import twilio_webhook

from . import services, signals, twiml
from .selectors import latest_visit_from_leg, latest_visit_read, queue_by_slug

logger = logging.getLogger("queues")


def _priority(value: str | None) -> int:
    """The caller priority the flow's queue step wrote on the wait URL (0–9; else 0)."""
    try:
        return min(9, max(0, int(value or 0)))
    except ValueError:
        return 0


def shed_when_behind(request):
    """The wait loop's answer when the reverse proxy got the request more than
    WEBHOOK_BEHIND_MS ago: the app is behind, so answer at once with the queue's hold music (as
    this process last read the queue; a pause when it has not); when it runs out Twilio asks
    the wait URL again. No query at all and nothing stored: the caller keeps their place in Twilio's
    queue, and the next pass, once the app has caught up, records as usual."""
    limit = settings.WEBHOOK_BEHIND_MS
    behind = proxy_queue_ms(request)
    if not limit or behind is None or behind <= limit:
        return None
    slug = request.resolver_match.kwargs.get("slug", "")
    queue = configcache.peek(("queues:queue", slug))
    logger.warning("wait loop of %s answered from memory: %.0f ms behind", slug, behind)
    return twiml_response(
        twiml.overload_wait_response(
            hold_music_url=queue.hold_music_url if queue is not None else "",
        )
    )


@twilio_webhook(
    required=("CallSid", "QueueTime"),
    atomic=False,
    check=services.wait_fields_check,
    shed=shed_when_behind,
    read=lambda request: latest_visit_read(request.resolver_match.kwargs["slug"]),
)
def wait(request, slug):
    token = configcache.request_config_token(request)
    queue = queue_by_slug(slug, token)
    # The visit, when the leg's upsert read it for this queue and configuration.
    visit, read = latest_visit_from_leg(request.twilio_call, queue, token)
    step = services.visit_record_wait(
        queue=queue,
        call=request.twilio_call,
        params=request.POST,
        now=request.twilio_received_at,
        caller_priority=_priority(request.GET.get("priority")),
        **({"latest": visit} if read else {}),
    )
    return twiml_response(
        twiml.wait_response(
            queue=queue,
            position=step.position,
            queue_time=step.queue_time,
            announce=step.announce,
            minutes=step.minutes,
            last_announced=step.last_announced,
            callback_action=_callback_url(request, "queues:callback-key", queue)
            if step.offer_callback
            else None,
        )
    )


def _callback_url(request, name: str, queue) -> str:
    return request.build_absolute_uri(reverse(name, kwargs={"slug": queue.slug}))


def _usable_number(raw: str) -> str | None:
    """``raw`` as E.164 when a callback may dial it (telephony's normalising, then the
    outgoing-number rules through ``callback_number_refused``), else None."""
    number = to_e164(raw)
    if number is None:
        return None
    refusals = signals.callback_number_refused.send(sender=None, number=number)
    return None if any(reason for _, reason in refusals) else number


def _number_confirmation(request, queue, *, invalid=False):
    number = _usable_number(request.twilio_call.from_number)
    return twiml_response(
        twiml.callback_number_response(
            queue=queue,
            number=number,
            action=_callback_url(request, "queues:callback-number", queue),
            invalid=invalid,
        )
    )


@twilio_webhook(required=("CallSid",))
def callback_key(request, slug):
    """The Gather action of a wait document that offered a callback: 1 leads to the number
    confirmation; any other key goes back to waiting (an empty document: Twilio asks the wait
    URL again, the place in the queue kept)."""
    queue = queue_by_slug(slug, configcache.request_config_token(request))
    if request.POST.get("Digits", "") != "1":
        return twiml_response(VoiceResponse())
    return _number_confirmation(request, queue)


@twilio_webhook(required=("CallSid",))
def callback_number(request, slug):
    """The number confirmation's Gather action: 1 keeps the caller's own number, other digits
    (ended by #) are the number to call. A usable number is recorded and the caller leaves the
    queue (<Leave/>); the Enqueue action then says the confirmation and ends the call."""
    queue = queue_by_slug(slug, configcache.request_config_token(request))
    digits = request.POST.get("Digits", "").strip().rstrip("#")
    raw = request.twilio_call.from_number if digits == "1" else digits
    number = _usable_number(raw) if raw else None
    if number is None:
        return _number_confirmation(request, queue, invalid=True)
    visit = services.visit_request_callback(
        queue=queue, call=request.twilio_call, number=number, now=request.twilio_received_at
    )
    if visit is None:
        return twiml_response(VoiceResponse())
    return twiml_response(twiml.leave_response())


@twilio_webhook(required=("CallSid", "QueueResult"), atomic=False, check=services.exit_fields_check)
def exit_action(request, slug):
    """The generic Enqueue action for enqueues outside a flow: nothing follows."""
    queue = queue_by_slug(slug, configcache.request_config_token(request))
    visit = services.visit_record_exit(
        queue=queue, call=request.twilio_call, params=request.POST, now=request.twilio_received_at
    )
    response = VoiceResponse()
    if visit.callback_requested_at is not None:
        twiml.add_callback_confirmed(response, queue=queue, number=visit.callback_number)
        return twiml_response(response)
    twiml.add_exit_message(response, queue=queue, result=visit.result)
    return twiml_response(response)


# The <Queue url> document allows only Say/Play/Pause/Redirect: on a failure, say nothing and
# let the caller be bridged rather than answer a <Hangup/> Twilio refuses there.
@twilio_webhook(required=("CallSid", "QueueTime"), on_error=VoiceResponse)
def connect(request, slug):
    queue = queue_by_slug(slug, configcache.request_config_token(request))
    services.visit_record_connect(
        queue=queue, call=request.twilio_call, params=request.POST, now=request.twilio_received_at
    )
    return twiml_response(twiml.connect_response(queue=queue))


@twilio_webhook
def dial_action(request, slug):
    queue = queue_by_slug(slug, configcache.request_config_token(request))
    services.visit_record_talk(
        queue=queue,
        agent_call=request.twilio_call,
        params=request.POST,
        now=request.twilio_received_at,
    )
    return twiml_response(VoiceResponse())
