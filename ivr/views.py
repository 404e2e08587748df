"""Twilio webhooks of call flows, and the voicemail list (mounted at /voicemails/)."""

from dataclasses import dataclass

from django.http import HttpResponse
from twilio.twiml.voice_response import VoiceResponse

from queues import selectors as queue_selectors
from queues import services as queue_services
from queues import twiml as queue_twiml
from queues.models import Queue, QueueResult
from telephony import configcache
from telephony.twiml import apology, twiml_response
from telephony.webhooks import PreparedAnswer, twilio_webhook

from . import selectors, services
from .models import Step
from .services import PathMark
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


# --- Answers kept per configuration -------------------------------------------------------------
# A step's document and the path it records depend on the flow (its configuration token), the
# request's origin (the URLs in it) and the caller's input, unless a step read the clock
# (business hours). Such an answer is kept in the process under the token it was rendered for;
# a later request for the same answer takes it from there, and before its upsert: the path rows
# go with the leg's upsert, conditioned on that token (telephony PreparedAnswer; one round trip
# on PostgreSQL). When the token read differs, the view renders again as usual.


@dataclass(frozen=True)
class Answer:
    body: str  # the TwiML document
    marks: tuple[PathMark, ...]


def _answer_key(request, name: str, *parts):
    # The origin (scheme and host) is in every URL of the document.
    return ("ivr:answer", name, request.build_absolute_uri("/"), *parts)


def _answered(request, key, render) -> HttpResponse:
    """The answer kept under ``key`` for the token this request read, else ``render()``'s: a
    FlowRenderer that ran (or None for the apology) and whether its answer may be kept, which it
    is when it is also the same for every request with this key; its path is recorded."""
    token = configcache.request_config_token(request)
    kept = configcache.kept(key)
    if kept is not None and kept[0] == token:
        answer = kept[1]
    else:
        renderer, keep = render()
        if renderer is None:
            return twiml_response(apology())
        answer = Answer(str(renderer.response), tuple(renderer.marks))
        if keep and renderer.timeless:
            configcache.keep(key, token, answer)
    services.path_record(
        call=request.twilio_call, marks=answer.marks, now=request.twilio_received_at
    )
    return _text_response(answer.body)


def _text_response(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/xml; charset=utf-8")


def _prepared(key_of):
    """``prepare=`` of a step's webhook: the answer kept for ``key_of(request)``, if any."""

    def prepare(request) -> PreparedAnswer | None:
        kept = configcache.kept(key_of(request))
        if kept is None:
            return None
        token, answer = kept
        rows = services.path_attached(
            marks=answer.marks, now=request.twilio_received_at, token=token
        )
        return PreparedAnswer(rows=rows, respond=lambda: _text_response(answer.body))

    return prepare


def _incoming_key(request):
    return _answer_key(request, "incoming", request.POST.get("To", ""))


def _start_key(request):
    return _answer_key(request, "start", request.resolver_match.kwargs["flow_id"])


def _step_key(request):
    kwargs = request.resolver_match.kwargs
    return _answer_key(request, "step", kwargs["flow_id"], kwargs["step_id"])


def _gather_key(request):
    kwargs = request.resolver_match.kwargs
    digits = request.POST.get("Digits", "")
    return _answer_key(
        request, "gather", kwargs["flow_id"], kwargs["step_id"], digits, _attempt(request)
    )


def _no_input_key(request):
    kwargs = request.resolver_match.kwargs
    return _answer_key(request, "no-input", kwargs["flow_id"], kwargs["step_id"], _attempt(request))


# Keys a caller's input can multiply are kept only for the menu's own keys and attempts.
def _keeps(menu, digits: str, attempt: int) -> bool:
    return attempt <= menu.max_retries and (not digits or digits in menu.options)


@twilio_webhook(required=("CallSid", "To"), atomic=False, prepare=_prepared(_incoming_key))
def voice_incoming(request):
    """Each number's Voice URL: the flow bound to the called number, else the apology."""

    def render():
        token = configcache.request_config_token(request)
        flow = selectors.flow_for_number(request.POST.get("To", ""), token)
        if flow is None or flow.step(flow.start_id) is None:
            return None, False
        renderer = FlowRenderer(request=request, flow=flow, now=request.twilio_received_at)
        renderer.run(flow.start_id)
        return renderer, True

    return _answered(request, _incoming_key(request), render)


@twilio_webhook(atomic=False, prepare=_prepared(_start_key))
def flow_start(request, flow_id):
    """A flow's start step (goto from another flow, "Try this flow")."""

    def render():
        renderer = _renderer(request, flow_id)
        if renderer is None or renderer.flow.step(renderer.flow.start_id) is None:
            return None, False
        renderer.run(renderer.flow.start_id)
        return renderer, True

    return _answered(request, _start_key(request), render)


@twilio_webhook(atomic=False, prepare=_prepared(_step_key))
def step(request, flow_id, step_id):
    def render():
        renderer = _renderer(request, flow_id)
        current = _step_of(renderer, step_id)
        if current is None:
            return None, False
        renderer.run(current.id)
        return renderer, True

    return _answered(request, _step_key(request), render)


@twilio_webhook(atomic=False, prepare=_prepared(_gather_key))
def gather(request, flow_id, step_id):
    """A menu's Gather action: the keys pressed."""
    digits, attempt = request.POST.get("Digits", ""), _attempt(request)

    def render():
        renderer = _renderer(request, flow_id)
        menu = _step_of(renderer, step_id, Step.Kind.MENU)
        if menu is None:
            return None, False
        renderer.menu_answer(menu, digits, attempt)
        return renderer, _keeps(menu, digits, attempt)

    return _answered(request, _gather_key(request), render)


@twilio_webhook(atomic=False, prepare=_prepared(_no_input_key))
def no_input(request, flow_id, step_id):
    """Reached by the <Redirect> after a menu's Gather: the caller pressed nothing."""
    attempt = _attempt(request)

    def render():
        renderer = _renderer(request, flow_id)
        menu = _step_of(renderer, step_id, Step.Kind.MENU)
        if menu is None:
            return None, False
        renderer.menu_silence(menu, attempt)
        return renderer, _keeps(menu, "", attempt)

    return _answered(request, _no_input_key(request), render)


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
