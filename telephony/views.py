import logging

from django.http import HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from .twiml import apology, twiml_response
from .webhooks import public_url, signature_is_valid, twilio_webhook

logger = logging.getLogger("telephony.webhooks")


@twilio_webhook
def voice_incoming(request):
    # Replaced in config/urls.py by the call-flow router once numbers have flows; until then
    # every number gets the apology.
    return twiml_response(apology())


@twilio_webhook(atomic=False, answers=204, status_callback=True)
def voice_status(request):
    # The leg's upsert moved its status and kept the callback (status_callback=True).
    return HttpResponse(status=204)


@csrf_exempt
def voice_fallback(request):
    """Twilio's last resort when the Voice URL failed. Must answer with the database down."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    url = public_url(request)
    if not signature_is_valid(request, url):
        logger.warning("rejected Twilio fallback %s: bad or missing signature", url)
        return HttpResponse("Forbidden", status=403, content_type="text/plain")
    logger.error(
        "Twilio fell back for call %s: ErrorCode=%s ErrorUrl=%s",
        request.POST.get("CallSid", "?"),
        request.POST.get("ErrorCode", ""),
        request.POST.get("ErrorUrl", ""),
    )
    return twiml_response(apology())
