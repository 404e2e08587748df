"""The one door every Twilio request comes through: @twilio_webhook."""

import functools
import logging
import traceback

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotAllowed
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from twilio.request_validator import RequestValidator

from .middleware import DEFAULT_PORTS, first_value
from .models import WebhookEvent
from .services import MalformedWebhook, call_upsert_from_webhook
from .twiml import apology, twiml_response

logger = logging.getLogger("telephony.webhooks")


def public_url(request) -> str:
    """The URL Twilio requested, as it signed it.

    Without TRUSTED_PROXY the request is taken as Twilio sent it. Behind a trusted proxy the
    scheme, host and port come from X-Forwarded-Proto / -Host / -Port.
    """
    if not settings.TRUSTED_PROXY:
        return request.build_absolute_uri()
    meta = request.META
    scheme = first_value(meta.get("HTTP_X_FORWARDED_PROTO", "")) or request.scheme
    host = first_value(meta.get("HTTP_X_FORWARDED_HOST", "")) or meta.get("HTTP_HOST", "")
    port = first_value(meta.get("HTTP_X_FORWARDED_PORT", ""))
    if port and ":" not in host.rsplit("]", 1)[-1] and port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{request.get_full_path()}"


# A WSGI environ entry (never a header: no client can set it) carrying the auth token a request
# was signed with, for in-process calls the app places itself ("Try this flow").
SIGNING_TOKEN_ENVIRON = "tsunagu.twilio_auth_token"
# Likewise the aware datetime an emulated in-process call lives at: the emulator's virtual clock,
# so a try "as if" at another date and time, or an hour of queueing run in a second, is recorded
# and decided (business hours) at the time the call would really be at.
VIRTUAL_NOW_ENVIRON = "tsunagu.virtual_now"


def signature_is_valid(request, url: str) -> bool:
    if not settings.TWILIO_VALIDATE_SIGNATURES:
        return True
    signature = request.headers.get("X-Twilio-Signature", "")
    token = request.META.get(SIGNING_TOKEN_ENVIRON) or settings.TWILIO_AUTH_TOKEN
    if not signature or not token:
        return False
    return RequestValidator(token).validate(url, request.POST, signature)


def _raw_fields(request) -> dict:
    source = request.POST if request.method == "POST" else request.GET
    return {key: values[0] if len(values) == 1 else values for key, values in source.lists()}


def _store(request, url, *, outcome, received_at, error="", status=None) -> WebhookEvent:
    fields = _raw_fields(request)
    call_sid = fields.get("CallSid", "")
    return WebhookEvent.objects.create(
        received_at=received_at,
        path=request.path[:500],
        url=url[:2000],
        method=request.method[:10],
        call_sid=call_sid[:34] if isinstance(call_sid, str) else "",
        fields=fields,
        signature=request.headers.get("X-Twilio-Signature", "")[:200],
        outcome=outcome,
        error=error,
        response_status=status,
    )


def _bad_request(reason: str) -> HttpResponse:
    return HttpResponse(reason, status=400, content_type="text/plain; charset=utf-8")


def twilio_webhook(view=None, *, required=("CallSid",), on_error=apology):
    """Guard a Twilio webhook view.

    POST only (405), signature checked against the public URL (403), required fields present
    (400). The raw request is stored as a WebhookEvent in the same transaction as the view's
    effect and the call leg is upserted first (``request.twilio_call``). If the view raises, its
    effect is rolled back, the event is kept marked failed, and Twilio hears ``on_error()``
    (the apology; documents with fewer allowed verbs pass their own).
    """

    def decorator(view_func):
        @csrf_exempt
        @functools.wraps(view_func)
        def wrapper(request, *args, **kwargs):
            received_at = request.META.get(VIRTUAL_NOW_ENVIRON) or timezone.now()
            url = public_url(request)
            if request.method != "POST":
                _store(
                    request,
                    url,
                    outcome=WebhookEvent.Outcome.METHOD,
                    received_at=received_at,
                    status=405,
                    error=f"method {request.method} not allowed",
                )
                return HttpResponseNotAllowed(["POST"])
            if not signature_is_valid(request, url):
                reason = (
                    "missing X-Twilio-Signature"
                    if "X-Twilio-Signature" not in request.headers
                    else "X-Twilio-Signature does not match"
                )
                logger.warning("rejected Twilio webhook %s: %s", url, reason)
                _store(
                    request,
                    url,
                    outcome=WebhookEvent.Outcome.FORGED,
                    received_at=received_at,
                    status=403,
                    error=reason,
                )
                return HttpResponse("Forbidden", status=403, content_type="text/plain")
            missing = [name for name in required if not request.POST.get(name)]
            if missing:
                reason = "missing required field(s): " + ", ".join(missing)
                _store(
                    request,
                    url,
                    outcome=WebhookEvent.Outcome.INVALID,
                    received_at=received_at,
                    status=400,
                    error=reason,
                )
                return _bad_request(reason)
            request.twilio_received_at = received_at
            try:
                with transaction.atomic():
                    if "CallSid" in request.POST:
                        request.twilio_call = call_upsert_from_webhook(
                            params=request.POST, now=received_at
                        )
                    response = view_func(request, *args, **kwargs)
                    _store(
                        request,
                        url,
                        outcome=WebhookEvent.Outcome.PROCESSED,
                        received_at=received_at,
                        status=response.status_code,
                    )
            except MalformedWebhook as exc:
                _store(
                    request,
                    url,
                    outcome=WebhookEvent.Outcome.INVALID,
                    received_at=received_at,
                    status=400,
                    error=str(exc),
                )
                return _bad_request(str(exc))
            except Exception:
                logger.exception("Twilio webhook %s failed", request.path)
                _store(
                    request,
                    url,
                    outcome=WebhookEvent.Outcome.FAILED,
                    received_at=received_at,
                    status=200,
                    error=traceback.format_exc(),
                )
                return twiml_response(on_error())
            return response

        wrapper.twilio_webhook = True
        return wrapper

    if view is not None:
        return decorator(view)
    return decorator
