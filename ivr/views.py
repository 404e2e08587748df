"""Twilio webhooks of call flows, and the voicemail list (mounted at /voicemails/)."""

from twilio.twiml.voice_response import VoiceResponse

from queues import selectors as queue_selectors
from queues import services as queue_services
from queues import twiml as queue_twiml
from queues.models import Queue, QueueResult
from telephony import configcache
from telephony.twiml import apology, twiml_response
from telephony.webhooks import twilio_webhook

from . import selectors, services
from .models import Step
from .twiml import FlowRenderer

# After these the caller is still on the line and the flow goes on (docs/twilio.md §4).
CONTINUE_AFTER_QUEUE = {
    QueueResult.LEAVE,
    QueueResult.REDIRECTED,
    QueueResult.QUEUE_FULL,
    QueueResult.ERROR,
}
DIAL_CONNECTED = {"completed", "answered"}


def _respond(request, renderer: FlowRenderer, response: VoiceResponse):
    services.path_record(
        call=request.twilio_call, marks=renderer.marks, now=request.twilio_received_at
    )
    return twiml_response(response)


def _renderer(request, flow_id: int):
    flow = selectors.flow_snapshot_current(flow_id, configcache.request_config_token(request))
    if flow is None:
        return None
    return FlowRenderer(request=request, flow=flow, now=request.twilio_received_at)


def _step_of(renderer: FlowRenderer | None, step_id: int, kind: str | None = None):
    if renderer is None:
        return None
    step = renderer.flow.step(step_id)
    if step is None or (kind is not None and step.kind != kind):
        return None
    return step


def _attempt(request) -> int:
    try:
        return max(0, int(request.GET.get("attempt", "0")))
    except ValueError:
        return 0


@twilio_webhook(required=("CallSid", "To"), atomic=False)
def voice_incoming(request):
    """Each number's Voice URL: the flow bound to the called number, else the apology."""
    token = configcache.request_config_token(request)
    flow = selectors.flow_for_number(request.POST.get("To", ""), token)
    if flow is None or flow.step(flow.start_id) is None:
        return twiml_response(apology())
    renderer = FlowRenderer(request=request, flow=flow, now=request.twilio_received_at)
    return _respond(request, renderer, renderer.run(flow.start_id))


@twilio_webhook(atomic=False)
def flow_start(request, flow_id):
    """A flow's start step (goto from another flow, "Try this flow")."""
    renderer = _renderer(request, flow_id)
    if renderer is None or renderer.flow.step(renderer.flow.start_id) is None:
        return twiml_response(apology())
    return _respond(request, renderer, renderer.run(renderer.flow.start_id))


@twilio_webhook(atomic=False)
def step(request, flow_id, step_id):
    renderer = _renderer(request, flow_id)
    current = _step_of(renderer, step_id)
    if current is None:
        return twiml_response(apology())
    return _respond(request, renderer, renderer.run(current.id))


@twilio_webhook(atomic=False)
def gather(request, flow_id, step_id):
    """A menu's Gather action: the keys pressed."""
    renderer = _renderer(request, flow_id)
    menu = _step_of(renderer, step_id, Step.Kind.MENU)
    if menu is None:
        return twiml_response(apology())
    digits = request.POST.get("Digits", "")
    return _respond(request, renderer, renderer.menu_answer(menu, digits, _attempt(request)))


@twilio_webhook(atomic=False)
def no_input(request, flow_id, step_id):
    """Reached by the <Redirect> after a menu's Gather: the caller pressed nothing."""
    renderer = _renderer(request, flow_id)
    menu = _step_of(renderer, step_id, Step.Kind.MENU)
    if menu is None:
        return twiml_response(apology())
    return _respond(request, renderer, renderer.menu_silence(menu, _attempt(request)))


@twilio_webhook(
    required=("CallSid", "QueueResult"),
    atomic=False,
    check=queue_services.exit_fields_check,
)
def queue_exit(request, flow_id, step_id):
    """The Enqueue action of a queue step: record the exit; the flow goes on if the caller is
    still there and not connected."""
    renderer = _renderer(request, flow_id)
    current = _step_of(renderer, step_id, Step.Kind.QUEUE)
    if current is None:
        # The flow was edited while the caller waited: the visit still ends, nothing follows
        # (an Enqueue action must always answer TwiML).
        queue = queue_selectors.queue_waited_in(call=request.twilio_call)
        if queue is not None:
            queue_services.visit_record_exit(
                queue=queue,
                call=request.twilio_call,
                params=request.POST,
                now=request.twilio_received_at,
            )
        return twiml_response(VoiceResponse())
    token = configcache.request_config_token(request)
    slug = selectors.queue_slug(current.queue_id, token)
    if slug is None:
        raise Queue.DoesNotExist(f"no queue {current.queue_id}")
    queue = queue_selectors.queue_by_slug(slug, token)
    visit = queue_services.visit_record_exit(
        queue=queue, call=request.twilio_call, params=request.POST, now=request.twilio_received_at
    )
    if visit.result not in CONTINUE_AFTER_QUEUE or visit.answered:
        # Answered: bridged, or (push routing) redirected to join the agent who answered.
        return twiml_response(VoiceResponse())
    if visit.callback_requested_at is not None:
        # Left for a callback (virtual hold): the confirmation, then the call ends; the flow's
        # overflow step is not for this caller.
        response = VoiceResponse()
        queue_twiml.add_callback_confirmed(response, queue=queue, number=visit.callback_number)
        return _respond(request, renderer, response)
    queue_twiml.add_exit_message(renderer.response, queue=queue, result=visit.result)
    return _respond(request, renderer, renderer.run(current.next_id))


@twilio_webhook
def voicemail(request, flow_id, step_id):
    """The Record action (and the fall-through when nothing was recorded)."""
    renderer = _renderer(request, flow_id)
    current = _step_of(renderer, step_id, Step.Kind.VOICEMAIL)
    if current is None:
        return twiml_response(apology())
    if request.POST.get("RecordingUrl"):
        services.voicemail_record(
            call=request.twilio_call,
            flow_id=renderer.flow.id,
            step_id=current.id,
            params=request.POST,
            now=request.twilio_received_at,
        )
    if request.POST.get("Digits") == "hangup":
        return twiml_response(VoiceResponse())
    return _respond(request, renderer, renderer.run(current.next_id))


@twilio_webhook
def dial_action(request, flow_id, step_id):
    """The Dial action of a dial step: after a conversation the call ends; otherwise (busy, no
    answer, failed) the flow goes on."""
    renderer = _renderer(request, flow_id)
    current = _step_of(renderer, step_id, Step.Kind.DIAL)
    if current is None:
        return twiml_response(apology())
    if request.POST.get("DialCallStatus", "") in DIAL_CONNECTED:
        renderer.response.hangup()
        return twiml_response(renderer.response)
    return _respond(request, renderer, renderer.run(current.next_id))
