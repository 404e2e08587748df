"""Test-only TwiML views the emulator's tests call (signed, through @twilio_webhook)."""

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from telephony import views as telephony_views
from telephony.services import MalformedWebhook
from telephony.twiml import twiml_response
from telephony.webhooks import public_url, signature_is_valid, twilio_webhook

# Every request each view received, in order: (view name, POST fields).
RECEIVED: list[tuple[str, dict]] = []


def _seen(name, request):
    RECEIVED.append((name, request.POST.dict()))


def _abs(request, name, *args):
    return request.build_absolute_uri(reverse(name, args=args))


@twilio_webhook
def menu(request):
    _seen("menu", request)
    response = VoiceResponse()
    gather = Gather(num_digits=1, timeout=5, action=_abs(request, "t-choice"))
    gather.say("Press 1 for support.", language="en-US")
    response.append(gather)
    response.say("We did not get your choice.")
    response.redirect(_abs(request, "t-queue-me"))
    return twiml_response(response)


@twilio_webhook
def menu_no_fallthrough(request):
    _seen("menu_no_fallthrough", request)
    response = VoiceResponse()
    gather = Gather(timeout=3, action_on_empty_result=True)  # action: this same URL
    gather.say("Enter your number then the hash key.")
    response.append(gather)
    response.say("Never heard: actionOnEmptyResult requests the action.")
    return twiml_response(response)


@twilio_webhook
def choice(request):
    _seen("choice", request)
    if request.POST.get("Digits") is None:
        raise MalformedWebhook("missing Digits")
    response = VoiceResponse()
    response.say(f"You pressed {request.POST['Digits']}.")
    return twiml_response(response)


@twilio_webhook
def queue_me(request):
    _seen("queue_me", request)
    response = VoiceResponse()
    response.say("Please hold.")
    response.enqueue(
        "support",
        action=_abs(request, "t-exit"),
        wait_url=_abs(request, "t-wait"),
        wait_url_method="POST",
    )
    return twiml_response(response)


@twilio_webhook
def wait(request):
    _seen("wait", request)
    response = VoiceResponse()
    if int(request.POST["QueueTime"]) >= 120:
        response.leave()
        return twiml_response(response)
    response.say(f"You are number {request.POST['QueuePosition']}.")
    response.play("/static/hold.mp3")
    return twiml_response(response)


@twilio_webhook
def exit_(request):
    _seen("exit", request)
    response = VoiceResponse()
    if request.POST.get("QueueResult") in ("leave", "queue-full"):
        response.say("Sorry, nobody can take your call.")
    return twiml_response(response)


@twilio_webhook
def connect(request):
    _seen("connect", request)
    response = VoiceResponse()
    response.say("Connecting you to an agent.")
    return twiml_response(response)


@twilio_webhook
def agent(request):
    _seen("agent", request)
    response = VoiceResponse()
    slug = request.POST["To"].removeprefix("queue:")
    dial = Dial(
        action=_abs(request, "t-dial-action"),
        timeout=20,
        record=request.GET.get("record"),
        recording_status_callback=_abs(request, "t-recording-status"),
    )
    dial.queue(slug, url=_abs(request, "t-connect"))
    response.append(dial)
    return twiml_response(response)


@twilio_webhook
def dial_action(request):
    _seen("dial_action", request)
    return twiml_response(VoiceResponse())


@twilio_webhook(required=("CallSid", "CallStatus"))
def status(request):
    _seen("status", request)
    return HttpResponse(status=204)


@twilio_webhook
def bad_root(request):
    _seen("bad_root", request)
    return HttpResponse("<Reply><Say>hi</Say></Reply>", content_type="text/xml")


@twilio_webhook
def bad_verb(request):
    _seen("bad_verb", request)
    return HttpResponse("<Response><Speak>hi</Speak></Response>", content_type="text/xml")


@twilio_webhook
def bad_nesting(request):
    _seen("bad_nesting", request)
    return HttpResponse(
        "<Response><Gather><Dial>+15550001111</Dial></Gather></Response>",
        content_type="text/xml",
    )


@twilio_webhook
def bad_noun(request):
    _seen("bad_noun", request)
    return HttpResponse(
        "<Response><Dial><Sip>sip:agent@example.com</Sip></Dial></Response>",
        content_type="application/xml",
    )


@twilio_webhook
def bad_type(request):
    _seen("bad_type", request)
    return HttpResponse('{"say": "hi"}', content_type="application/json")


@twilio_webhook
def server_error(request):
    _seen("server_error", request)
    return HttpResponse("boom", status=500, content_type="text/plain")


@twilio_webhook
def fallback(request):
    _seen("fallback", request)
    response = VoiceResponse()
    response.say("Fallback speaking.")
    return twiml_response(response)


@twilio_webhook
def dial_client(request):
    _seen("dial_client", request)
    response = VoiceResponse()
    dial = Dial(action=_abs(request, "t-dial-action"), timeout=10)
    dial.client("agent1")
    response.append(dial)
    return twiml_response(response)


@twilio_webhook
def dial_number(request):
    _seen("dial_number", request)
    response = VoiceResponse()
    dial = Dial(action="dial-action", caller_id="+815012345678", timeout=20)  # relative
    dial.number(
        "+819099990000",
        url="whisper",
        status_callback="status",
        status_callback_event="initiated ringing answered completed",
    )
    response.append(dial)
    return twiml_response(response)


@twilio_webhook
def whisper(request):
    _seen("whisper", request)
    response = VoiceResponse()
    response.say("A customer is calling.")
    return twiml_response(response)


@twilio_webhook
def voicemail(request):
    _seen("voicemail", request)
    response = VoiceResponse()
    response.say("Leave a message.")
    response.record(
        action=_abs(request, "t-recorded"),
        max_length=30,
        timeout=3,
        recording_status_callback=_abs(request, "t-recording-status"),
    )
    response.say("No message recorded.")
    return twiml_response(response)


@twilio_webhook
def recorded(request):
    _seen("recorded", request)
    response = VoiceResponse()
    response.say("Thank you.")
    return twiml_response(response)


@twilio_webhook
def recording_status(request):
    _seen("recording_status", request)
    return HttpResponse(status=204)


@twilio_webhook
def reject(request):
    _seen("reject", request)
    response = VoiceResponse()
    response.reject(reason=request.GET.get("reason", "busy"))
    return twiml_response(response)


def get_menu(request):
    """A GET document (fields in the query string), signed over the full URL."""
    if request.method != "GET" or not signature_is_valid(request, public_url(request)):
        return HttpResponse(status=403)
    _seen("get_menu", request)
    RECEIVED[-1] = ("get_menu", request.GET.dict())
    response = VoiceResponse()
    response.play(digits="1w2")
    response.redirect("../t/fallback?from=get", method="POST")  # relative to this document
    return twiml_response(response)


@twilio_webhook
def cookie(request):
    """Counts the requests of one call in a cookie."""
    _seen("cookie", request)
    count = int(request.COOKIES.get("seen", "0")) + 1
    response = VoiceResponse()
    response.say(f"Request {count}.")
    if count < 3:
        response.redirect(_abs(request, "t-cookie"))
    answer = twiml_response(response)
    answer.set_cookie("seen", str(count))
    return answer


@twilio_webhook
def moved(request):
    _seen("moved", request)
    return HttpResponseRedirect(_abs(request, "t-fallback"), status=307)


urlpatterns = [
    path("t/menu", menu, name="t-menu"),
    path("t/menu-empty", menu_no_fallthrough, name="t-menu-empty"),
    path("t/choice", choice, name="t-choice"),
    path("t/queue-me", queue_me, name="t-queue-me"),
    path("t/wait", wait, name="t-wait"),
    path("t/exit", exit_, name="t-exit"),
    path("t/connect", connect, name="t-connect"),
    path("t/agent", agent, name="t-agent"),
    path("t/dial-action", dial_action, name="t-dial-action"),
    path("t/status", status, name="t-status"),
    path("t/bad-root", bad_root, name="t-bad-root"),
    path("t/bad-verb", bad_verb, name="t-bad-verb"),
    path("t/bad-nesting", bad_nesting, name="t-bad-nesting"),
    path("t/bad-type", bad_type, name="t-bad-type"),
    path("t/bad-noun", bad_noun, name="t-bad-noun"),
    path("t/server-error", server_error, name="t-server-error"),
    path("t/fallback", fallback, name="t-fallback"),
    path("t/dial-client", dial_client, name="t-dial-client"),
    path("t/dial-number", dial_number, name="t-dial-number"),
    path("t/whisper", whisper, name="t-whisper"),
    path("t/voicemail", voicemail, name="t-voicemail"),
    path("t/recorded", recorded, name="t-recorded"),
    path("t/recording-status", recording_status, name="t-recording-status"),
    path("t/reject", reject, name="t-reject"),
    path("t/get-menu", get_menu, name="t-get-menu"),
    path("t/moved", moved, name="t-moved"),
    path("t/cookie", cookie, name="t-cookie"),
    # The app's own status callback, to check the emulator's callbacks against it.
    path("twilio/voice/status", telephony_views.voice_status, name="voice-status"),
]
