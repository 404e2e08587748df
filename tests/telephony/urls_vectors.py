"""Test-only routes: a signed webhook at the path of the signature vectors of docs/twilio.md §2."""

from django.http import HttpResponse
from django.urls import path
from twilio.twiml.voice_response import VoiceResponse

from telephony.services import MalformedWebhook
from telephony.twiml import twiml_response
from telephony.webhooks import twilio_webhook


@twilio_webhook
def echo(request):
    response = VoiceResponse()
    response.say(request.POST.get("Digits", ""))
    return twiml_response(response)


@twilio_webhook
def explode(request):
    from telephony.models import Call

    # The leg was upserted before this view ran; its rollback must not lose the raw event.
    Call.objects.filter(sid=request.POST["CallSid"]).update(caller_name="changed")
    raise RuntimeError("handler bug")


@twilio_webhook
def strict(request):
    if request.POST.get("Digits", "").isdigit() is False:
        raise MalformedWebhook("field Digits must be digits")
    return HttpResponse(status=204)


def _digits_check(params):
    if not params.get("Digits", "").isdigit():
        raise MalformedWebhook("field Digits must be digits")


@twilio_webhook(atomic=False, check=_digits_check)
def autocommit_echo(request):
    response = VoiceResponse()
    response.say(request.POST["Digits"])
    return twiml_response(response)


@twilio_webhook(atomic=False)
def autocommit_explode(request):
    from telephony.models import Call

    # Autocommit: what the view wrote before it raised stays, as the raw event does.
    Call.objects.filter(sid=request.POST["CallSid"]).update(caller_name="changed")
    raise RuntimeError("handler bug")


@twilio_webhook(atomic=False)
def autocommit_no_content(request):
    return HttpResponse(status=204)


urlpatterns = [
    path("myapp.php", echo),
    path("explode", explode),
    path("strict", strict),
    path("autocommit/echo", autocommit_echo),
    path("autocommit/explode", autocommit_explode),
    path("autocommit/no-content", autocommit_no_content),
]
