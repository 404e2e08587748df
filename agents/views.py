import functools
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from twilio.twiml.voice_response import VoiceResponse

from ivr.models import Voicemail
from ivr.selectors import VOICEMAIL_FILTERS, voicemail_page
from ivr.services import voicemail_assign, voicemail_mark_handled, voicemail_reopen
from queues.models import Queue
from queues.twiml import add_dial_queue
from telephony.client import local_twilio_origin
from telephony.recordings import recording_audio_response
from telephony.twiml import twiml_response
from telephony.webhooks import twilio_webhook

from .forms import ContactNoteForm, CustomerForm, CustomerPageForm, NotePageForm, StatusForm
from .models import AgentStatus, Customer, Disposition
from .outgoing import REFUSAL_EN, REFUSAL_JA, outgoing_decide
from .phone import to_e164
from .roles import SUPERVISORS, user_has_role
from .selectors import (
    active_agent_users,
    agent_device_registered,
    agent_effective_status,
    agent_for_client,
    agent_for_user,
    agent_queue,
    agent_queue_stats,
    contact_notes_for,
    customer_as_dict,
    customer_search,
    dial_prefix_allows,
    note_as_dict,
    screen_pop_for,
)
from .services import (
    MANUAL_STATUSES,
    agent_call_ended,
    agent_call_started,
    agent_choose_status,
    agent_expire_missed,
    agent_expire_wrap_up,
    agent_keep_device_seen,
    agent_report_device,
    contact_note_create,
    customer_create,
)
from .signals import customer_history_sections
from .softphone import TOKEN_TTL_SECONDS, SoftphoneNotConfigured, access_token_for

logger = logging.getLogger("agents.outgoing")
softphone_logger = logging.getLogger("agents.softphone")


def agent_page(view):
    """Pages for agents: log in first; anyone without an active agent profile gets 403."""

    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        request.agent = agent_for_user(request.user)
        if request.agent is None:
            raise PermissionDenied(_("Only agents can use the softphone."))
        return view(request, *args, **kwargs)

    return wrapper


def agent_api(view):
    """JSON endpoints of the softphone: 401 / 403 as JSON, never a login page."""

    @never_cache
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse({"error": _("Your session has ended. Log in again.")}, status=401)
        request.agent = agent_for_user(request.user)
        if request.agent is None:
            return JsonResponse({"error": _("Only agents can use the softphone.")}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _form_error(form) -> JsonResponse:
    messages = [str(error) for errors in form.errors.values() for error in errors]
    return JsonResponse({"error": " ".join(messages), "errors": form.errors}, status=400)


@require_GET
@agent_page
def desk(request):
    agent = request.agent
    response = render(
        request,
        "agents/desk.html",
        {
            "agent": agent,
            "status_choices": AgentStatus.choices,
            "manual_statuses": MANUAL_STATUSES,
            "dispositions": Disposition.objects.filter(is_active=True),
            # Where the desk may transfer a caller (call control, docs/agents.md).
            "transfer_queues": Queue.objects.order_by("name").only("slug", "name"),
            "texts": _softphone_texts(),
            # "Call back" from a voicemail or a customer's page: the number waits in the dial
            # box, and the agent's own Call goes through the usual checks.
            "dial_prefill": to_e164(request.GET.get("dial", "")[:64]) or "",
        },
    )
    if origin := local_twilio_origin():
        # The emulated softphone is served by the local Twilio and long-polls it (django-csp's
        # per-response update, as its csp_update decorator sets it).
        response._csp_update = {"script-src": [origin], "connect-src": [origin]}
    return response


def _softphone_texts() -> dict:
    """Every sentence the softphone script shows, translated here (the script has no gettext)."""
    return {
        "deviceStarting": _("starting…"),
        "deviceRegistered": _("ready"),
        "deviceUnregistered": _("offline"),
        "deviceError": _("error"),
        "deviceUnreachable": _("not connected"),
        "deviceNotConfigured": _("not configured"),
        "deviceStillStarting": _(
            "The softphone is still connecting to Twilio: wait until the device shows “ready”."
        ),
        "twilioUnreachable": _(
            "The softphone cannot reach Twilio (no internet connection, or a firewall or proxy "
            "blocks it). Calls cannot reach you and you are not counted available. Check the "
            "connection, then reload the page."
        ),
        "sdkMissing": _(
            "The softphone cannot start: its Twilio script did not load. Reload the page; if "
            "this stays, ask your administrator."
        ),
        "noMicrophone": _(
            "No microphone: allow this page to use the microphone and check that one is connected."
        ),
        "tokenExpired": _(
            "Your softphone session has expired. Reload the page (log in again if asked)."
        ),
        "deviceOffline": _(
            "The softphone is offline: calls cannot reach you and you are not counted "
            "available. Check the network; it reconnects by itself."
        ),
        "refused": _("This destination is refused."),
        "takeNext": _("Take next caller"),
        "mute": _("Mute"),
        "unmute": _("Unmute"),
        "callFrom": _("Call from %(from)s"),
        "outbound": _("Call to %(to)s"),
        "queueCall": _("Queue %(queue)s"),
        "noQueues": _("You are not a member of any queue yet."),
        "customerCreated": _("Customer created."),
        "requestFailed": _("The server did not answer. Try again."),
        "callFailed": _("The call failed: %(message)s"),
        "seconds": _("%(seconds)s s"),
        "noNotes": _("No earlier contacts."),
        "noNumber": _("Type a number first."),
        "busy": _("Finish the current call first."),
        "wrapUp": _("Wrap-up: write your note, then press “Ready”."),
        "withdrawn": _("The caller hung up before you answered."),
        "missed": _("You missed a call: no calls are offered to you until you press “Ready”."),
        "unknownCustomer": _("unknown"),
    }


@require_GET
@agent_api
def token(request):
    try:
        jwt = access_token_for(request.agent)
    except SoftphoneNotConfigured as exc:
        softphone_logger.error("no softphone token: missing settings %s", exc)
        return JsonResponse(
            {
                "error": _(
                    "The softphone is not configured yet (Twilio API key or TwiML App "
                    "missing). Ask your administrator."
                )
            },
            status=503,
        )
    return JsonResponse(
        {"token": jwt, "identity": request.agent.identity, "ttl": TOKEN_TTL_SECONDS}
    )


def _state(agent, *, now) -> dict:
    status = agent_effective_status(agent, now=now)
    return {
        "identity": agent.identity,
        "status": status,
        "status_label": str(AgentStatus(status).label),
        "status_since": agent.status_changed_at.isoformat() if agent.status_changed_at else None,
        "wrap_up_until": agent.wrap_up_until.isoformat() if agent.wrap_up_until else None,
        "missed_until": agent.missed_until.isoformat() if agent.missed_until else None,
        "auto_answer": agent.auto_answer,
        "queues": agent_queue_stats(agent),
    }


@require_GET
@agent_api
def state(request):
    now = timezone.now()
    agent_expire_wrap_up(agent=request.agent, now=now)
    agent_expire_missed(agent=request.agent, now=now)
    agent_keep_device_seen(agent=request.agent, now=now)
    return JsonResponse(_state(request.agent, now=now))


DEVICE_STATES = ("registered", "unregistered")


@require_POST
@agent_api
def device(request):
    """The softphone reports its Twilio.Device's ``registered`` / ``unregistered`` events."""
    state = request.POST.get("state", "")
    if state not in DEVICE_STATES:
        return JsonResponse(
            {"error": _("state must be “registered” or “unregistered”.")}, status=400
        )
    now = timezone.now()
    agent = agent_report_device(agent=request.agent, registered=state == "registered", now=now)
    return JsonResponse(
        {
            "device": state,
            "counted_available": agent_device_registered(agent, now=now)
            and agent_effective_status(agent, now=now) == AgentStatus.AVAILABLE,
        }
    )


@require_POST
@agent_api
def set_status(request):
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _form_error(form)
    now = timezone.now()
    try:
        agent_choose_status(agent=request.agent, status=form.cleaned_data["status"], now=now)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    return JsonResponse(_state(request.agent, now=now))


@require_GET
@agent_api
def current_call(request):
    call = screen_pop_for(
        agent=request.agent,
        call_sid=request.GET.get("call_sid", "")[:34],
        from_hint=request.GET.get("from", "")[:128],
    )
    return JsonResponse({"call": call})


@require_GET
@agent_api
def dial_check(request):
    """Whether the outbound dial box may call a number, and its E.164 form."""
    raw = request.GET.get("to", "")
    e164 = to_e164(raw)
    if e164 is None:
        return JsonResponse(
            {
                "allowed": False,
                "to": "",
                "error": _("“%(number)s” is not a phone number.") % {"number": raw},
            }
        )
    if not dial_prefix_allows(e164):
        return JsonResponse(
            {
                "allowed": False,
                "to": e164,
                "error": _("Calls to %(number)s are not allowed from the softphone.")
                % {"number": e164},
            }
        )
    return JsonResponse({"allowed": True, "to": e164})


@require_POST
@agent_api
def customer_new(request):
    form = CustomerForm(request.POST)
    if not form.is_valid():
        return _form_error(form)
    try:
        customer = customer_create(**form.cleaned_data)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    return JsonResponse({"customer": customer_as_dict(customer)}, status=201)


@require_POST
@agent_api
def note_new(request):
    form = ContactNoteForm(request.POST)
    if not form.is_valid():
        return _form_error(form)
    data = form.cleaned_data
    queue = agent_queue(request.agent, data["queue"]) if data["queue"] else None
    try:
        note = contact_note_create(
            agent=request.agent,
            now=timezone.now(),
            text=data["text"],
            disposition=data["disposition"],
            customer=data["customer"],
            phone_number=to_e164(data["phone_number"]) or data["phone_number"],
            call_sid=data["call_sid"],
            queue=queue,
        )
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    return JsonResponse({"note": note_as_dict(note)}, status=201)


@require_GET
@agent_page
def customers(request):
    query = request.GET.get("q", "")
    page = Paginator(customer_search(query), 25).get_page(request.GET.get("page"))
    return render(request, "agents/customers.html", {"query": query, "page": page})


@agent_page
def customer_add(request):
    """A customer created from the customers page (no call needed)."""
    form = CustomerPageForm(
        request.POST or None, initial={"phone_number": request.GET.get("number", "")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            record = customer_create(**form.cleaned_data)
        except ValidationError as exc:
            field = "email" if "email" in " ".join(exc.messages).lower() else "phone_number"
            form.add_error(field, exc)
        else:
            messages.success(request, _("Customer saved."))
            return redirect("agents:customer", pk=record.pk)
    return render(request, "agents/customer_add.html", {"form": form})


@agent_page
def customer(request, pk):
    """A customer and every contact with them; a note can be written here, outside a call."""
    record = get_object_or_404(Customer, pk=pk)
    form = NotePageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact_note_create(
                agent=request.agent,
                now=timezone.now(),
                text=form.cleaned_data["text"],
                disposition=form.cleaned_data["disposition"],
                customer=record,
            )
        except ValidationError as exc:
            form.add_error("text", exc)
        else:
            messages.success(request, _("Note saved."))
            return redirect("agents:customer", pk=record.pk)
    notes = contact_notes_for(customer=record, phone_e164=record.phone_number, limit=100)
    # The apps above add their part of the history (routing: recordings and reviews).
    answers = customer_history_sections.send(sender=Customer, customer=record, request=request)
    sections = [html for _receiver, html in answers if html]
    return render(
        request,
        "agents/customer.html",
        {"customer": record, "notes": notes, "form": form, "history_sections": sections},
    )


# --- Twilio webhooks of the softphone's TwiML App


@twilio_webhook
def agent_outgoing(request):
    params = request.POST
    decision = outgoing_decide(from_=params.get("From", ""), to=params.get("To", ""))
    response = VoiceResponse()
    if decision.refused:
        logger.warning(
            "refused softphone call %s from %r to %r: %s",
            params.get("CallSid"),
            params.get("From", ""),
            params.get("To", ""),
            decision.reason,
        )
        response.say(REFUSAL_JA, language="ja-JP")
        response.say(REFUSAL_EN, language="en-US")
        response.hangup()
        return twiml_response(response)
    if decision.kind == "queue":
        # The queues app's Dial action records talk time; recording follows the queue.
        add_dial_queue(response, request=request, queue=decision.queue)
        return twiml_response(response)
    if not request.twilio_call.is_final:
        # A late or replayed request about a call that already ended leaves presence alone.
        agent_call_started(
            agent=decision.agent,
            agent_call_sid=params["CallSid"],
            visit=None,
            now=request.twilio_received_at,
        )
    action = request.build_absolute_uri(reverse("agents:dial-action"))
    # The leg the app creates reports its end to the status callback (docs/api.md §1).
    leg_status = {
        "status_callback": request.build_absolute_uri(reverse("telephony:voice-status")),
        "status_callback_method": "POST",
    }
    if decision.kind == "number":
        dial = response.dial(caller_id=settings.TWILIO_CALLER_ID, action=action, method="POST")
        dial.number(decision.number, **leg_status)
    else:
        dial = response.dial(action=action, method="POST")
        dial.client(decision.client.identity, **leg_status)
    return twiml_response(response)


@twilio_webhook
def agent_dial_action(request):
    """The softphone's Dial to a number or another agent ended: the agent is free again."""
    agent = agent_for_client(request.POST.get("From", ""))
    if agent is not None:
        agent_call_ended(
            agent=agent,
            agent_call_sid=request.POST["CallSid"],
            queue=None,
            now=request.twilio_received_at,
        )
    response = VoiceResponse()
    response.hangup()
    return twiml_response(response)


def _voicemail_reader(request):
    """Supervisors and active agents may read voicemails (and act on them); a disabled agent
    (or a user in the Agents group who is no agent at all) is refused like anyone else.
    Answers (whether the user is a supervisor, their active agent or None)."""
    user = request.user
    if not user.has_perm("ivr.view_voicemail"):
        raise PermissionDenied
    supervisor = user_has_role(user, SUPERVISORS)
    agent = agent_for_user(user)
    if not supervisor and agent is None:
        raise PermissionDenied
    return supervisor, agent


def _voicemail_filter(value) -> str:
    return value if value in VOICEMAIL_FILTERS else "open"


@login_required
def voicemails(request):
    """The voicemail list: open (not handled yet, the default), mine (assigned to me), handled,
    all. Supervisors assign; anyone here marks handled or calls back."""
    supervisor, agent = _voicemail_reader(request)
    show = _voicemail_filter(request.GET.get("show"))
    page = voicemail_page(request.GET.get("page"), show=show, user=request.user)
    filters = [
        ("open", pgettext("voicemails not handled yet", "Open")),
        ("mine", pgettext("voicemails assigned to me", "Mine")),
        ("handled", pgettext("voicemails", "Handled")),
        ("all", pgettext("voicemails", "All")),
    ]
    return render(
        request,
        "ivr/voicemail_list.html",
        {
            "page": page,
            "show": show,
            "filters": filters,
            "supervisor": supervisor,
            "assignees": list(active_agent_users()) if supervisor else [],
            "is_agent": agent is not None,
        },
    )


@require_GET
@login_required
def voicemail_audio_view(request, pk):
    """A voicemail's audio, fetched from Twilio by the app (pages never link Twilio); for those
    who may read voicemails."""
    _voicemail_reader(request)
    voicemail = get_object_or_404(Voicemail, pk=pk)
    return recording_audio_response(
        voicemail.recording_url, filename=voicemail.recording_sid or f"voicemail-{voicemail.pk}"
    )


def _back_to_voicemails(request):
    show = _voicemail_filter(request.POST.get("show"))
    page = request.POST.get("page", "")
    query = f"?show={show}" + (f"&page={int(page)}" if page.isdigit() else "")
    return redirect(reverse("voicemails") + query)


@require_POST
@login_required
def voicemail_assign_view(request, pk):
    """A supervisor gives a voicemail to an agent to call back (or to nobody)."""
    if not _voicemail_reader(request)[0]:
        raise PermissionDenied
    voicemail = get_object_or_404(Voicemail, pk=pk)
    user_id = request.POST.get("assigned_to", "")
    user = None
    if user_id:
        user = active_agent_users().filter(pk=user_id if user_id.isdigit() else 0).first()
        if user is None:
            messages.error(request, _("Choose an active agent."))
            return _back_to_voicemails(request)
    voicemail_assign(voicemail=voicemail, user=user)
    if user is None:
        messages.success(request, _("The voicemail is assigned to nobody."))
    else:
        messages.success(
            request,
            _("The voicemail from %(caller)s is assigned to %(user)s.")
            % {"caller": voicemail.caller, "user": user.get_username()},
        )
    return _back_to_voicemails(request)


@require_POST
@login_required
def voicemail_handled_view(request, pk):
    """Mark a voicemail handled (``action=handled``) or open again (``action=reopen``)."""
    _voicemail_reader(request)
    voicemail = get_object_or_404(Voicemail, pk=pk)
    if request.POST.get("action") == "reopen":
        voicemail_reopen(voicemail=voicemail)
        messages.success(request, _("The voicemail is open again."))
    else:
        voicemail_mark_handled(voicemail=voicemail, user=request.user, now=timezone.now())
        messages.success(
            request, _("The voicemail from %(caller)s is handled.") % {"caller": voicemail.caller}
        )
    return _back_to_voicemails(request)
