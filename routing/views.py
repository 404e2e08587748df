"""Routing's Twilio webhooks (the agent's leg of an offer, the bridge) and the desk's offer
details. Written into TwiML and REST requests by the app itself (docs/api.md §1)."""

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from twilio.twiml.voice_response import VoiceResponse

from agents.views import agent_api
from queues.selectors import queue_by_slug
from queues.services import TWILIO_UNREACHABLE, visit_record_talk
from queues.twiml import connect_response
from telephony import configcache
from telephony.models import FINAL_STATUSES
from telephony.twiml import twiml_response
from telephony.webhooks import twilio_webhook

from . import callbacks, recordings, selectors, services
from .models import Bridge, Callback


def _join_conference(
    response, *, request, name: str, action: str | None, events: str, event_url: str
):
    """<Dial action><Conference>: the first to enter starts it, either leaving ends it for the
    other (nobody stays in a silent conference), no beep, no wait music; ``events`` (with
    ``event_url``) are the conference events reported, none when empty. Without an ``action``
    the call hangs up when it leaves the conference (the verb after the Dial), with no request."""
    then = (
        {} if action is None else {"action": request.build_absolute_uri(action), "method": "POST"}
    )
    dial = response.dial(**then)
    attrs = {}
    if events:
        attrs = {
            "status_callback": request.build_absolute_uri(event_url),
            "status_callback_event": events,
            "status_callback_method": "POST",
        }
    dial.conference(
        name,
        start_conference_on_enter=True,
        end_conference_on_exit=True,
        beep=False,
        wait_url="",
        **attrs,
    )
    if action is None:
        response.hangup()


def _conference(response: VoiceResponse, *, request, bridge: Bridge, action: str | None) -> None:
    """Both sides join the bridge's conference. The conference reports the caller's holds and
    leaving (hold times are Twilio's, routing/control.py), and for a recording queue the joins
    (recording starts by REST once the caller joined, routing/recordings.py); both sides' nouns
    name the callback, as the conference takes it from whoever joins first."""
    record = bridge.visit.queue.record_answered_calls
    _join_conference(
        response,
        request=request,
        name=bridge.friendly_name,
        action=action,
        events="join hold leave" if record else "hold leave",
        event_url=reverse("routing:bridge-conference-event", kwargs={"bridge_id": bridge.pk}),
    )


def _say_language() -> str:
    return "ja-JP" if get_language().startswith("ja") else "en-US"


def _agent_into_bridge(request, bridge: Bridge | None):
    """An agent's leg that answered: into the bridge's conference; or, when the caller is
    gone, told so and hung up."""
    response = VoiceResponse()
    if bridge is None:
        response.say(_("The caller has hung up."), language=_say_language())
        response.hangup()
        return twiml_response(response)
    _conference(
        response,
        request=request,
        bridge=bridge,
        action=reverse("routing:bridge-agent-done", kwargs={"bridge_id": bridge.pk}),
    )
    return twiml_response(response)


@twilio_webhook
def offer_answer(request, offer_id):
    """The agent answered the offer's ring (Twilio fetches the ring's url on the agent's leg):
    into the bridge; or, when the caller is gone, told so and hung up. For a callback: the
    agent waits in its conference while the customer is called."""
    if selectors.offer_is_for_callback(offer_id):
        return _callback_offer_answer(request, offer_id)
    bridge = services.offer_answered(
        offer_id=offer_id, agent_call=request.twilio_call, now=request.twilio_received_at
    )
    return _agent_into_bridge(request, bridge)


@twilio_webhook(atomic=False, answers=204, status_callback=True)
def offer_status(request, offer_id):
    """Status callback of the agent's leg: a ring that ended unanswered ends its offer.

    Three of a ring's four callbacks (initiated, ringing, answered) change nothing but the leg:
    they run in autocommit, one statement on PostgreSQL. A final status gets its transaction
    from the decorator, and only a final status writes here."""
    status = request.POST["CallStatus"]
    offer = None
    if status in services.RING_END_OUTCOMES:
        offer = services.offer_ring_ended(
            offer_id=offer_id, status=status, now=request.twilio_received_at
        )
    if status in FINAL_STATUSES and (offer is None or offer.callback_id is not None):
        callbacks.callback_agent_leg_ended(
            offer_id=offer_id, call=request.twilio_call, now=request.twilio_received_at
        )
    return HttpResponse(status=204)


@twilio_webhook
def bridge_join(request, bridge_id):
    """The caller, just taken out of the queue: the queue's connect message, then the bridge."""
    bridge = selectors.bridge_of_call(bridge_id)
    if bridge is None:
        response = VoiceResponse()
        response.hangup()
        return twiml_response(response)
    services.bridge_customer_joined(
        bridge=bridge, call=request.twilio_call, now=request.twilio_received_at
    )
    # The queue's messages as this process keeps them for the configuration the leg's upsert
    # read (no query when the wait loop already read them).
    queue = queue_by_slug(bridge.visit.queue.slug, configcache.request_config_token(request))
    response = connect_response(queue=queue)
    # The caller's leaving tells the app nothing the agent's Dial action and the legs' status
    # callbacks do not: no action, the call hangs up when the conversation is over.
    _conference(response, request=request, bridge=bridge, action=None)
    return twiml_response(response)


@twilio_webhook(required=("ConferenceSid", "StatusCallbackEvent"), answers=204)
def bridge_conference_event(request, bridge_id):
    """The bridge's conference events: the caller joined (recording queues: caller and agent
    are bridged, recording starts); the caller was put on hold, taken off it, or left (the
    hold's start and end are the events' Timestamps)."""
    from .control import hold_event_changes, hold_event_record

    joined = request.POST["StatusCallbackEvent"] == "participant-join"
    if not joined and not hold_event_changes(request.POST):
        return HttpResponse(status=204)  # most events: a participant left, off hold
    bridge = selectors.bridge_of_call(bridge_id)
    if bridge is None:
        return HttpResponse(status=204)
    if joined:
        recordings.recording_caller_joined(bridge=bridge, call_sid=request.POST.get("CallSid", ""))
    else:
        hold_event_record(bridge=bridge, params=request.POST, now=request.twilio_received_at)
    return HttpResponse(status=204)


@twilio_webhook(required=("RecordingSid", "RecordingStatus"), answers=204)
def recording_status(request):
    """A recording's status callback: its duration and final status."""
    recordings.recording_status_record(params=request.POST, now=request.twilio_received_at)
    return HttpResponse(status=204)


@twilio_webhook
def bridge_agent_done(request, bridge_id):
    """The agent's conference Dial action: talk seconds (DialCallDuration) onto the visit; the
    agent's call ends as after any queued call (wrap-up or available)."""
    bridge = selectors.bridge_of_call(bridge_id)
    if bridge is not None:
        visit_record_talk(
            queue=bridge.visit.queue,
            agent_call=request.twilio_call,
            params=request.POST,
            now=request.twilio_received_at,
        )
    response = VoiceResponse()
    response.hangup()
    return twiml_response(response)


@twilio_webhook
def bridge_caller_done(request, bridge_id):
    """The caller's conference Dial action, which the join's TwiML no longer asks for (the call
    hangs up after the Dial): kept for calls that joined before, so that theirs is answered."""
    response = VoiceResponse()
    response.hangup()
    return twiml_response(response)


@require_GET
@agent_api
def desk_offer(request):
    """The desk's question when its softphone rings: which caller is this? (by the ring's
    CallSid). ``{"offer": {...} | null}``."""
    call_sid = request.GET.get("call_sid", "")[:34]
    offer = selectors.offer_for_desk(agent=request.agent, call_sid=call_sid, now=timezone.now())
    return JsonResponse({"offer": offer})


# --- Call control (routing/control.py) ---------------------------------------------------------


@twilio_webhook
def bridge_hold_music(request, bridge_id):
    """What a caller on hold hears (the participant's hold_url): the queue's hold music, else
    silence, looped by Twilio for as long as the hold lasts."""
    bridge = selectors.bridge_of_call(bridge_id)
    response = VoiceResponse()
    music = bridge.visit.queue.hold_music_url if bridge is not None else ""
    if music:
        response.play(music)
    else:
        response.pause(length=30)
    return twiml_response(response)


@require_POST
@agent_api
def desk_hold(request):
    """The desk's hold button: ``{"on_hold": true}`` once Twilio holds the caller; 409 with an
    ``error`` for the agent when it cannot (no call, caller not joined, Twilio refused)."""
    from .control import CallControlError, call_hold

    try:
        call_hold(agent=request.agent, now=timezone.now())
    except CallControlError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse({"on_hold": True})


@require_POST
@agent_api
def desk_resume(request):
    """The desk's resume button: ``{"on_hold": false}`` once the caller hears the agent again."""
    from .control import CallControlError, call_resume

    try:
        call_resume(agent=request.agent, now=timezone.now())
    except CallControlError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse({"on_hold": False})


@require_GET
@agent_api
def desk_recording(request):
    """The desk's recording line: ``{"recording": "" | "recording" | "paused"}``."""
    return JsonResponse({"recording": recordings.recording_state(agent=request.agent)})


@require_POST
@agent_api
def desk_recording_control(request, action):
    """Pause (``pause``) or resume (``resume``) the recording of the agent's call, e.g. while the
    caller gives payment details; the pause is left out of the audio. 409 when nothing is being
    recorded or Twilio refused."""
    from .control import CallControlError

    if action not in ("pause", "resume"):
        return JsonResponse({"error": _("Unknown action.")}, status=404)
    try:
        recordings.recording_pause(
            agent=request.agent, now=timezone.now(), paused=action == "pause"
        )
    except CallControlError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    except TWILIO_UNREACHABLE:
        return JsonResponse({"error": _("Twilio refused the request.")}, status=409)
    return JsonResponse({"recording": recordings.recording_state(agent=request.agent)})


@twilio_webhook
def transfer_caller(request, transfer_id):
    """The transferred caller, out of the conference. To a queue: its Enqueue (the wait URL
    opens the new visit, first in line), ending like any caller of that queue. To a number:
    a Dial of it with the company caller ID, then the end of the call."""
    from django.conf import settings

    from queues.twiml import add_enqueue

    from .control import TRANSFER_PRIORITY

    transfer = selectors.transfer_for_webhook(transfer_id)
    response = VoiceResponse()
    if transfer is not None and transfer.to_queue is not None:
        queue = transfer.to_queue
        add_enqueue(
            response,
            request=request,
            queue=queue,
            action_url=request.build_absolute_uri(
                reverse("queues:exit", kwargs={"slug": queue.slug})
            ),
            caller_priority=TRANSFER_PRIORITY,
        )
        return twiml_response(response)
    if transfer is not None and transfer.to_number:
        response.dial(transfer.to_number, caller_id=settings.TWILIO_CALLER_ID)
    response.hangup()
    return twiml_response(response)


@twilio_webhook
def transfer_agent_answer(request, transfer_id):
    """The colleague answered a transfer's ring: into the bridge's conference (their leaving
    ends it); or, when the caller is gone, told so and hung up."""
    from .control import transfer_agent_answered

    bridge = transfer_agent_answered(
        transfer_id=transfer_id, agent_call=request.twilio_call, now=request.twilio_received_at
    )
    return _agent_into_bridge(request, bridge)


@twilio_webhook(answers=204, status_callback=True)
def transfer_agent_status(request, transfer_id):
    """Status callback of a transfer's ring, a consulted colleague's leg or an outside number
    added to the call (a colleague's presence follows their leg; a third party who answered is
    in the bridge; a ring that ended unanswered ends its attempt and its offer)."""
    from .control import third_party_status

    third_party_status(
        transfer_id=transfer_id,
        call_sid=request.POST["CallSid"],
        status=request.POST["CallStatus"],
        now=request.twilio_received_at,
    )
    return HttpResponse(status=204)


@require_POST
@agent_api
def desk_transfer(request):
    """The desk's transfer: ``queue=<slug>`` → ``{"transferred": "queue"}`` (or ``number=…``
    → ``{"transferred": "number"}``, under the outgoing rules) once Twilio took
    the caller out of the call (the agent's leg then ends); 400 / 409 with an ``error``."""
    from queues.models import Queue

    from .control import (
        CallControlError,
        call_transfer_to_agent,
        call_transfer_to_number,
        call_transfer_to_queue,
    )

    identity = request.POST.get("agent", "").strip()[:64]
    if identity:
        from agents.models import Agent

        target = Agent.objects.filter(identity=identity).first()
        if target is None:
            return JsonResponse({"error": _("Choose where to transfer the caller.")}, status=400)
        try:
            call_transfer_to_agent(agent=request.agent, target=target, now=timezone.now())
        except CallControlError as exc:
            return JsonResponse({"error": str(exc)}, status=409)
        return JsonResponse({"transferred": "agent", "agent": target.identity, "ringing": True})
    number = request.POST.get("number", "").strip()[:64]
    if number:
        try:
            transfer = call_transfer_to_number(
                agent=request.agent, number=number, now=timezone.now()
            )
        except CallControlError as exc:
            return JsonResponse({"error": str(exc)}, status=409)
        return JsonResponse({"transferred": "number", "number": transfer.to_number})
    queue = Queue.objects.filter(slug=request.POST.get("queue", "")[:64]).first()
    if queue is None:
        return JsonResponse({"error": _("Choose where to transfer the caller.")}, status=400)
    try:
        call_transfer_to_queue(agent=request.agent, queue=queue, now=timezone.now())
    except CallControlError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse({"transferred": "queue", "queue": queue.slug})


@require_POST
@agent_api
def desk_consult(request, action="start"):
    """The desk's consultation: ``start`` (``agent=<identity>``: the caller on hold, the
    colleague rung into the call), ``complete`` (the caller stays with the colleague, this
    agent's call ends), ``join`` (all three), ``cancel`` (back to the caller). ``{"consult":
    <action>}``; 400 / 409 with an ``error``."""
    from agents.models import Agent

    from . import control

    now = timezone.now()
    try:
        if action == "start":
            target = Agent.objects.filter(identity=request.POST.get("agent", "")[:64]).first()
            if target is None:
                return JsonResponse({"error": _("Choose a colleague to consult.")}, status=400)
            control.consult_start(agent=request.agent, target=target, now=now)
        elif action == "complete":
            control.consult_complete(agent=request.agent, now=now)
        elif action == "join":
            control.consult_join(agent=request.agent, now=now)
        else:
            control.consult_cancel(agent=request.agent, now=now)
    except control.CallControlError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse({"consult": action})


@require_POST
@agent_api
def desk_add_number(request):
    """The desk's *Add a number*: ``number=…`` (under the outgoing rules) is rung into the call,
    the caller staying in → ``{"adding": "<E.164>"}``; 400 / 409 with an ``error``."""
    from .control import CallControlError, call_add_number

    number = request.POST.get("number", "").strip()[:64]
    if not number:
        return JsonResponse({"error": _("Enter a number to add to the call.")}, status=400)
    try:
        transfer = call_add_number(agent=request.agent, number=number, now=timezone.now())
    except CallControlError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse({"adding": transfer.to_number})


@require_POST
@agent_api
def desk_drop(request):
    """The desk's *Drop* next to a party of a call of three (``call_sid=…``): the other two
    stay → the parties left (as ``GET /agent/call/parties``); 409 with an ``error``."""
    from .control import CallControlError, call_drop

    try:
        call_drop(
            agent=request.agent, call_sid=request.POST.get("call_sid", "")[:34], now=timezone.now()
        )
    except CallControlError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse(selectors.call_parties(agent=request.agent))


@require_GET
@agent_api
def desk_parties(request):
    """Who is in the agent's call: ``{"parties": [...], "ended": {...} | null}``."""
    return JsonResponse(selectors.call_parties(agent=request.agent))


# --- Callbacks ---------------------------------------------------------------------------------


def _callback_conference(response: VoiceResponse, *, request, callback: Callback, action: str):
    """Agent and customer join the callback's conference. For a recording queue it reports the
    joins: recording starts by REST once the customer joined (routing/recordings.py), as for a
    queued caller; never by the conference's record attribute."""
    _join_conference(
        response,
        request=request,
        name=callback.conference_name,
        action=action,
        events="join" if callback.queue.record_answered_calls else "",
        event_url=reverse("routing:callback-conference-event", kwargs={"callback_id": callback.pk}),
    )


def _callback_offer_answer(request, offer_id):
    callback = callbacks.callback_offer_answered(
        offer_id=offer_id, agent_call=request.twilio_call, now=request.twilio_received_at
    )
    response = VoiceResponse()
    if callback is None:
        response.say(_("This callback was taken by someone else."), language=_say_language())
        response.hangup()
        return twiml_response(response)
    response.say(_("Calling the customer back."), language=_say_language())
    _callback_conference(
        response,
        request=request,
        callback=callback,
        action=reverse("routing:callback-agent-done", kwargs={"callback_id": callback.pk}),
    )
    return twiml_response(response)


@twilio_webhook
def callback_answer(request, callback_id):
    """The customer picked up the callback: connected; the queue's connect message (and the
    recording notice), then the agent's conference."""
    callback = callbacks.callback_customer_answered(
        callback_id=callback_id, call=request.twilio_call, now=request.twilio_received_at
    )
    if callback is None:
        response = VoiceResponse()
        response.hangup()
        return twiml_response(response)
    queue = callback.queue.__class__.objects.prefetch_related("messages").get(pk=callback.queue_id)
    response = connect_response(queue=queue)
    _callback_conference(
        response,
        request=request,
        callback=callback,
        action=reverse("routing:callback-customer-done", kwargs={"callback_id": callback.pk}),
    )
    return twiml_response(response)


@twilio_webhook(required=("ConferenceSid", "StatusCallbackEvent"), answers=204)
def callback_conference_event(request, callback_id):
    """The callback conference's events (recording queues only): the customer joined the agent;
    recording starts."""
    callback = Callback.objects.select_related("queue").filter(pk=callback_id).first()
    if callback is not None and request.POST["StatusCallbackEvent"] == "participant-join":
        recordings.recording_callback_customer_joined(
            callback=callback, call_sid=request.POST.get("CallSid", "")
        )
    return HttpResponse(status=204)


@twilio_webhook(answers=204, status_callback=True)
def callback_status(request, callback_id):
    """Status callback of the customer's leg: not reached → retried later, or failed."""
    callbacks.callback_customer_status(
        callback_id=callback_id,
        status=request.POST["CallStatus"],
        now=request.twilio_received_at,
    )
    return HttpResponse(status=204)


@twilio_webhook
def callback_agent_done(request, callback_id):
    callbacks.callback_agent_done(
        callback_id=callback_id,
        agent_call=request.twilio_call,
        params=request.POST,
        now=request.twilio_received_at,
    )
    response = VoiceResponse()
    response.hangup()
    return twiml_response(response)


@twilio_webhook
def callback_customer_done(request, callback_id):
    response = VoiceResponse()
    response.hangup()
    return twiml_response(response)


@twilio_webhook
def callback_not_reached(request):
    """The agent's leg, moved here when the customer did not answer: told, then hung up."""
    response = VoiceResponse()
    response.say(
        _("The customer did not answer. The callback will be tried again later."),
        language=_say_language(),
    )
    response.hangup()
    return twiml_response(response)


def supervisor_only(view):
    """Logged-in supervisors and superusers; anyone else logged in gets 403."""
    from functools import wraps

    from django.contrib.auth.decorators import login_required
    from django.core.exceptions import PermissionDenied

    from agents.roles import SUPERVISORS, user_has_role

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not user_has_role(request.user, SUPERVISORS):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
@supervisor_only
def team(request):
    """The supervisors' live team view: agents, their calls, the queues; refreshed by itself."""
    from django.shortcuts import render

    from .supervision import open_monitoring, supervisor_softphone
    from .supervision_selectors import team_view

    context = team_view(now=timezone.now())
    context["monitoring"] = open_monitoring(request.user)
    context["softphone"] = supervisor_softphone(request.user)
    return render(request, "routing/team.html", context)


@require_GET
@supervisor_only
def team_live(request):
    """The team view's figures as JSON, polled by the page every few seconds."""
    from .supervision import open_monitoring, supervisor_softphone
    from .supervision_selectors import team_view

    data = team_view(now=timezone.now())
    data["monitoring"] = _monitoring_json(open_monitoring(request.user))
    softphone = supervisor_softphone(request.user)
    data["softphone"] = softphone is not None
    data["softphone_agent_id"] = softphone.pk if softphone is not None else None
    return JsonResponse(data)


def _monitoring_json(monitoring) -> dict | None:
    if monitoring is None:
        return None
    return {
        "id": monitoring.pk,
        "agent": monitoring.agent.identity,
        "mode": monitoring.mode,
        "answered": monitoring.answered_at is not None,
    }


@require_POST
@supervisor_only
def monitor_start(request, agent_id):
    """Listen to (whisper to, barge into) an agent's call from the supervisor's softphone:
    ``mode=listen|whisper|barge`` → ``{"monitoring": …}``; 409 with an ``error`` to show."""
    from django.shortcuts import get_object_or_404

    from agents.models import Agent

    from .supervision import SupervisionError, monitoring_start

    agent = get_object_or_404(Agent, pk=agent_id)
    try:
        monitoring = monitoring_start(
            supervisor=request.user,
            agent=agent,
            mode=request.POST.get("mode", "listen"),
            now=timezone.now(),
        )
    except SupervisionError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse({"monitoring": _monitoring_json(monitoring)})


@require_POST
@supervisor_only
def monitor_mode(request):
    """Switch the open session's mode: ``mode=listen|whisper|barge``."""
    from .supervision import SupervisionError, monitoring_change_mode, open_monitoring

    monitoring = open_monitoring(request.user)
    if monitoring is None:
        return JsonResponse({"error": _("You are not listening to a call.")}, status=409)
    try:
        monitoring = monitoring_change_mode(
            monitoring=monitoring, mode=request.POST.get("mode", ""), now=timezone.now()
        )
    except SupervisionError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse({"monitoring": _monitoring_json(monitoring)})


@require_POST
@supervisor_only
def monitor_leave(request):
    """Leave the call being monitored; the agent and caller go on."""
    from .supervision import monitoring_end, open_monitoring

    monitoring = open_monitoring(request.user)
    if monitoring is not None:
        monitoring_end(monitoring=monitoring, now=timezone.now())
    return JsonResponse({"monitoring": None})


@twilio_webhook(answers=204, status_callback=True)
def monitoring_status(request, monitoring_id):
    """Status callback of a supervisor's monitoring leg: answered, or gone."""
    from .supervision import monitoring_leg_status

    monitoring_leg_status(
        monitoring_id=monitoring_id,
        call_sid=request.POST["CallSid"],
        status=request.POST["CallStatus"],
        now=request.twilio_received_at,
    )
    return HttpResponse(status=204)


# --- Recordings --------------------------------------------------------------------------------


@require_GET
def recording_audio(request, recording_id):
    """A recording's audio, fetched from Twilio with the account's credentials and passed on:
    pages link this, never Twilio. Supervisors, superusers and analysts granted
    ``routing.play_recording``; anyone else 403."""
    from django.contrib.auth.views import redirect_to_login
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from telephony.recordings import recording_audio_response

    from .models import Recording

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not selectors.user_may_play_recordings(request.user):
        raise PermissionDenied
    recording = Recording.objects.filter(pk=recording_id).exclude(media_url="").first()
    if recording is None:
        raise Http404(_("No such recording."))
    return recording_audio_response(recording.media_url, filename=recording.sid)


@require_POST
def recording_review(request, recording_id):
    """A supervisor scores a recorded call (checklist + comment); back to the call's page."""
    from django.contrib.auth.views import redirect_to_login
    from django.core.exceptions import PermissionDenied
    from django.shortcuts import get_object_or_404, redirect

    from agents.roles import SUPERVISORS, user_has_role

    from .models import Recording

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not user_has_role(request.user, SUPERVISORS):
        raise PermissionDenied
    recording = get_object_or_404(
        Recording.objects.select_related("bridge__offer__agent", "callback__agent"),
        pk=recording_id,
    )
    recordings.quality_review_save(
        recording=recording,
        reviewer=request.user,
        checked=set(request.POST.getlist("checks")),
        comment=request.POST.get("comment", ""),
        now=timezone.now(),
    )
    return redirect(reverse("reports:call-detail", args=[recording.call_sid]) + "#call-recordings")


def my_reviews(request):
    """The agent's quality reviews: each recorded call's checklist and the comment."""
    from django.shortcuts import render

    from agents.views import agent_page

    @agent_page
    def page(request):
        reviews = request.agent.quality_reviews.select_related("recording", "reviewer")
        return render(request, "routing/my_reviews.html", {"reviews": reviews})

    return page(request)
