"""The one door every Twilio request comes through: @twilio_webhook.

A request is screened (method 405, signature 403, malformed or missing fields 400), then its
view runs in one transaction with the upsert of the call leg it names. Whatever happens, the
request is stored once as a WebhookEvent: with the view's effect when it succeeded, on its own
when it was refused or the view failed (the effect rolled back). A request naming a call has its
event written by the leg's upsert itself, before the view runs, and updated only when the answer
is not the usual one (docs/architecture.md §7).
"""

import functools
import hmac
import logging
import traceback
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotAllowed
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from twilio.request_validator import RequestValidator

from .middleware import public_url
from .models import FINAL_STATUSES, Call, WebhookEvent
from .services import (
    AttachedRead,
    AttachedRows,
    MalformedWebhook,
    call_upsert_from_webhook,
    status_fields_check,
)
from .signals import leg_ending
from .twiml import apology, twiml_response

__all__ = ["PreparedAnswer", "public_url", "signature_is_valid", "twilio_webhook"]

logger = logging.getLogger("telephony.webhooks")

# A request nobody signed is kept as a bounded summary, not raw: anyone can send one, up to
# Django's 2.5 MB body limit, and each would otherwise be stored in full.
SUMMARY_MAX_FIELDS = 30
SUMMARY_MAX_NAME = 64
SUMMARY_MAX_VALUE = 200
SUMMARY_MAX_VALUES = 5
_UNSIGNED = frozenset({WebhookEvent.Outcome.FORGED, WebhookEvent.Outcome.METHOD})

NUL = "\x00"
SIGNATURE_META = "HTTP_X_TWILIO_SIGNATURE"


# A WSGI environ entry (never a header: no client can set it) carrying the auth token a request
# was signed with, for in-process calls the app places itself ("Try this flow").
SIGNING_TOKEN_ENVIRON = "tsunagu.twilio_auth_token"
# Likewise the aware datetime an emulated in-process call lives at: the emulator's virtual clock,
# so a try "as if" at another date and time, or an hour of queueing run in a second, is recorded
# and decided (business hours) at the time the call would really be at.
VIRTUAL_NOW_ENVIRON = "tsunagu.virtual_now"


def _other_port_form(url: str) -> str:
    """The same URL with the default port written out when it has none, or without its port
    when it has one: Twilio's signatures are accepted in either form (as twilio's
    RequestValidator.validate does)."""
    parts = urlsplit(url)
    if parts.port:
        return parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]).geturl()
    port = 443 if parts.scheme == "https" else 80
    return parts._replace(netloc=f"{parts.netloc}:{port}").geturl()


def signature_is_valid(request, url: str) -> bool:
    """Whether X-Twilio-Signature signs this request at ``url``, with or without the port, as
    twilio's ``RequestValidator.validate`` decides, with its ``compute_signature``; but the URL
    as rebuilt is tried first and the other form only on a mismatch, so a request Twilio signed
    costs one HMAC instead of validate's two."""
    if not settings.TWILIO_VALIDATE_SIGNATURES:
        return True
    signature = request.META.get(SIGNATURE_META, "")
    token = request.META.get(SIGNING_TOKEN_ENVIRON) or settings.TWILIO_AUTH_TOKEN
    if not signature or not token:
        return False
    validator, given = RequestValidator(token), signature.encode()
    expected = validator.compute_signature(url, request.POST)
    if hmac.compare_digest(expected.encode(), given):
        return True
    # The other form is built only on a mismatch.
    expected = validator.compute_signature(_other_port_form(url), request.POST)
    return hmac.compare_digest(expected.encode(), given)


@dataclass(frozen=True)
class PreparedAnswer:
    """A view's answer made before the request read the configuration token, from what this
    process keeps for token ``rows.token`` (``prepare=``): it stands when the leg's upsert reads
    that same token, which then also stored ``rows`` with the leg (on PostgreSQL in the same
    statement); otherwise the view runs as usual."""

    rows: AttachedRows
    respond: Callable[[], HttpResponse]


def _prepared_stands(call, prepared: PreparedAnswer) -> bool:
    if call is None or call.config_token != prepared.rows.token:
        return False
    return call.attached_stored or not prepared.rows.rows


@dataclass(frozen=True)
class _Verdict:
    outcome: str
    response: HttpResponse
    error: str = ""


def _bad_request(reason: str) -> _Verdict:
    response = HttpResponse(reason, status=400, content_type="text/plain; charset=utf-8")
    return _Verdict(WebhookEvent.Outcome.INVALID, response, reason)


def _nul_reason(request) -> str:
    # PostgreSQL refuses NUL in text: such a request could be neither handled nor stored.
    if NUL in request.path:
        return "the path contains a NUL byte"
    for name, values in request.POST.lists():
        if NUL in name:
            return "a field name contains a NUL byte"
        if any(NUL in value for value in values):
            return f"field {name} contains a NUL byte"
    return ""


def _screen(request, url: str, required) -> _Verdict | None:
    """Why the request is refused before its view runs; None when it may run."""
    if request.method != "POST":
        error = f"method {request.method} not allowed"
        return _Verdict(WebhookEvent.Outcome.METHOD, HttpResponseNotAllowed(["POST"]), error)
    if not signature_is_valid(request, url):
        reason = (
            "missing X-Twilio-Signature"
            if SIGNATURE_META not in request.META
            else "X-Twilio-Signature does not match"
        )
        logger.warning("rejected Twilio webhook %s: %s", url, reason)
        forbidden = HttpResponse("Forbidden", status=403, content_type="text/plain")
        return _Verdict(WebhookEvent.Outcome.FORGED, forbidden, reason)
    reason = _nul_reason(request)
    if reason:
        return _bad_request(reason)
    missing = [name for name in required if not request.POST.get(name)]
    if missing:
        return _bad_request("missing required field(s): " + ", ".join(missing))
    return None


def _clean(value):
    """Storable on every database: NUL becomes U+FFFD."""
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value.replace(NUL, "\ufffd")


def _fields(request, *, summary: bool) -> tuple[dict, bool]:
    """The request's fields (a list where a name repeats), and whether a summary cut them."""
    source = request.POST if request.method == "POST" else request.GET
    fields, cut = {}, False
    for name, values in source.lists():
        if summary:
            if len(fields) == SUMMARY_MAX_FIELDS:
                return fields, True
            kept = [value[:SUMMARY_MAX_VALUE] for value in values[:SUMMARY_MAX_VALUES]]
            cut = cut or len(name) > SUMMARY_MAX_NAME or kept != values
            name, values = name[:SUMMARY_MAX_NAME], kept
        fields[_clean(name)] = _clean(values[0] if len(values) == 1 else values)
    return fields, cut


def _event(request, url: str, received_at, verdict: _Verdict) -> dict:
    """The WebhookEvent's fields for this request and verdict."""
    fields, cut = _fields(request, summary=verdict.outcome in _UNSIGNED)
    error = verdict.error
    if cut:
        size = request.META.get("CONTENT_LENGTH") or len(request.META.get("QUERY_STRING", ""))
        error += f" (fields cut to a summary; {size} bytes received)"
    call_sid = fields.get("CallSid", "")
    return {
        "received_at": received_at,
        "path": _clean(request.path[:500]),
        "url": _clean(url[:2000]),
        "method": _clean(request.method[:10]),
        "call_sid": call_sid[:34] if isinstance(call_sid, str) else "",
        "fields": fields,
        "signature": _clean(request.META.get(SIGNATURE_META, "")[:200]),
        "outcome": verdict.outcome,
        "error": _clean(error),
        "response_status": verdict.response.status_code,
    }


def _store(request, url: str, received_at, verdict: _Verdict) -> HttpResponse:
    WebhookEvent.objects.create(**_event(request, url, received_at, verdict))
    return verdict.response


def _settle(event_id: int, verdict: _Verdict, usual: int) -> HttpResponse:
    """The event stored with the leg before the view ran (as processed, answered ``usual``),
    told what really happened when it was something else (one UPDATE; the usual answer costs
    nothing)."""
    if (verdict.outcome, verdict.response.status_code, verdict.error) != (
        WebhookEvent.Outcome.PROCESSED,
        usual,
        "",
    ):
        WebhookEvent.objects.filter(pk=event_id).update(
            outcome=verdict.outcome,
            error=_clean(verdict.error),
            response_status=verdict.response.status_code,
        )
    return verdict.response


def _upsert(
    request,
    received_at,
    *,
    event: dict | None = None,
    attached: AttachedRows | None = None,
    read: AttachedRead | None = None,
    status_event: bool = False,
) -> int | None:
    """Upsert the leg the request names; with ``event``, its raw request is stored with it (and
    ``attached`` rows when the configuration token is theirs; ``read`` read with it). Returns
    the stored event's id (None when none was stored)."""
    if "CallSid" in request.POST:
        call = call_upsert_from_webhook(
            params=request.POST,
            now=received_at,
            event=event,
            attached=attached,
            read=read,
            status_event=status_event,
        )
        request.twilio_call = call
        request.twilio_config_token = call.config_token
        return call.webhook_event_id
    return None


def _needs_transaction(request) -> bool:
    """A final CallStatus can end a leg: the receivers of call_status_changed then write (the
    agent freed, the bridge ended), and that must stay one with the move, or a failure could
    not be replayed."""
    return request.POST.get("CallStatus", "") in FINAL_STATUSES


def _read(request, read, in_transaction: bool, status_callback: bool) -> AttachedRead | None:
    """What the leg's upsert reads with it: the view's ``read`` in autocommit; when a status
    callback ends the leg, the row a receiver of its end asks for (signals.leg_ending)."""
    if not in_transaction:
        return read(request) if read is not None else None
    if status_callback and request.POST.get("CallStatus", "") in FINAL_STATUSES:
        for _, asked in leg_ending.send(sender=Call, params=request.POST):
            if asked is not None:
                return asked
    return None


def twilio_webhook(
    view=None,
    *,
    required=("CallSid",),
    on_error=apology,
    atomic=True,
    check=None,
    shed=None,
    answers=200,
    prepare=None,
    read=None,
    status_callback=False,
):
    """Guard a Twilio webhook view.

    POST only (405), signature checked against the public URL (403), no NUL byte and the
    required fields present (400). The call leg is upserted first (``request.twilio_call``).
    If the view raises, its effect is rolled back, the event is kept marked failed (or
    invalid, 400, for MalformedWebhook), and Twilio hears ``on_error()`` (the apology;
    documents with fewer allowed verbs pass their own).

    ``atomic=True``: the upsert, the view and the stored WebhookEvent are one transaction; the
    event is written by the upsert's statement (PostgreSQL), and stored again on its own when
    the view fails and the transaction is rolled back.
    ``atomic=False`` is for the hot webhooks whose view writes at most one statement, or
    statements each of which stands on its own (docs/architecture.md §7):
    the upsert, the view's statements and the event insert each commit on their own, with no
    BEGIN or COMMIT round trip. A request with a final CallStatus still gets a transaction
    (``_needs_transaction``). If such a view raises after it wrote, what it wrote stays; the
    event is kept as failed all the same. So that a malformed request (400) still changes
    nothing, such a view passes ``check(params)``: it raises MalformedWebhook for any field
    the view would refuse, and runs before the upsert.

    In autocommit the raw event is stored by the leg's upsert statement, before the view runs,
    as processed and answered ``answers`` (the status the view answers with when it succeeds:
    200, 204 for the status callback); an answer with another status, or a failure, updates it.

    ``shed(request)``, when given, runs once the request is screened and before anything
    touches the database: a response it returns is the answer, and nothing is stored (the
    queue wait loop when the app is behind; docs/architecture.md §7).

    ``prepare(request)``, when given, runs in autocommit once the request is screened and
    checked, before the upsert, and must send no query: a PreparedAnswer made from what this
    process keeps, or None. When the upsert reads the token it was made for, its rows are
    stored with the leg and it is the answer, without the view (the flows' steps: one round
    trip on PostgreSQL); else the view runs as usual. ``read(request)``, likewise before the
    upsert and without a query, names a row the upsert's statement reads too in autocommit (an
    AttachedRead, or None): the view finds it as ``request.twilio_call.attached_read`` (PostgreSQL).

    ``status_callback=True``: the request is a call's status callback (CallStatus required),
    kept once per (CallSid, SequenceNumber) as a CallStatusEvent by the leg's upsert (the same
    statement on PostgreSQL); its fields are checked before anything is written
    (``status_fields_check``, unless ``check`` is given). When its status is final, the row a
    receiver of the leg's end asks for (``signals.leg_ending``: the agent a softphone leg is)
    is read by that statement too, instead of by a query of its own.
    """
    if status_callback:
        required = tuple(dict.fromkeys((*required, "CallStatus")))
        check = check or status_fields_check

    # What the event stored with the leg says until the view's answer says otherwise.
    usual = _Verdict(WebhookEvent.Outcome.PROCESSED, HttpResponse(status=answers))

    def decorator(view_func):
        @csrf_exempt
        @functools.wraps(view_func)
        def wrapper(request, *args, **kwargs):
            received_at = request.META.get(VIRTUAL_NOW_ENVIRON) or timezone.now()
            url = public_url(request)
            verdict = _screen(request, url, required)
            if verdict is None and shed is not None:
                shed_response = shed(request)
                if shed_response is not None:
                    return shed_response
            if verdict is None:
                request.twilio_received_at = received_at
                in_transaction = atomic or _needs_transaction(request)
                # The raw event is written by the upsert's statement, before the view runs, as
                # processed with the usual answer; a different answer or a failure updates it
                # (in a transaction, a failure rolls it back: it is stored again below).
                event_id = None
                try:
                    if check is not None:
                        check(request.POST)
                    prepared = None
                    if prepare is not None and not in_transaction:
                        prepared = prepare(request)
                    with transaction.atomic() if in_transaction else nullcontext():
                        event_id = _upsert(
                            request,
                            received_at,
                            event=_event(request, url, received_at, usual),
                            attached=prepared.rows if prepared is not None else None,
                            read=_read(request, read, in_transaction, status_callback),
                            status_event=status_callback,
                        )
                        if prepared is not None and _prepared_stands(
                            getattr(request, "twilio_call", None), prepared
                        ):
                            response = prepared.respond()
                        else:
                            response = view_func(request, *args, **kwargs)
                        processed = _Verdict(WebhookEvent.Outcome.PROCESSED, response)
                        if event_id is not None:
                            return _settle(event_id, processed, answers)
                        return _store(request, url, received_at, processed)
                except MalformedWebhook as exc:
                    verdict = _bad_request(str(exc))
                except Exception:
                    logger.exception("Twilio webhook %s failed", request.path)
                    verdict = _Verdict(
                        WebhookEvent.Outcome.FAILED,
                        twiml_response(on_error()),
                        traceback.format_exc(),
                    )
                if event_id is not None and not in_transaction:
                    # Autocommit: the event stored with the leg stays, and says what happened.
                    return _settle(event_id, verdict, answers)
            # Refused, or the view's effect was rolled back: the request is kept on its own.
            return _store(request, url, received_at, verdict)

        wrapper.twilio_webhook = True
        return wrapper

    if view is not None:
        return decorator(view)
    return decorator
