"""Writes about call legs. Every webhook goes through call_upsert_from_webhook."""

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from django.db import IntegrityError, transaction

from .models import STATUS_RANK, Call, CallStatus, CallStatusEvent, WebhookEvent
from .recordings import https_url
from .signals import call_status_changed


class MalformedWebhook(Exception):
    """A well-signed request whose fields are missing or malformed; answered 400 with the reason."""


# Twilio's are CA + 32 hex digits; shorter ones are tolerated (fixtures, other tools), longer
# ones would not fit the column on PostgreSQL.
CALL_SID = re.compile(r"^CA[0-9A-Za-z]{1,32}$")
# Fields stored on the leg, by their column's length: longer is malformed (PostgreSQL would
# refuse it, SQLite would keep it), so both databases answer the same 400.
_STORED_LENGTHS = {
    "AccountSid": 34,
    "ParentCallSid": 34,
    "From": 128,
    "To": 128,
    "Direction": 32,
    "CallerName": 128,
    "ForwardedFrom": 128,
    "RecordingSid": 34,
    "RecordingUrl": 500,
}


def _check_lengths(params) -> None:
    for name, limit in _STORED_LENGTHS.items():
        if len(params.get(name, "")) > limit:
            raise MalformedWebhook(f"field {name} is longer than {limit} characters")


# The largest value a PositiveIntegerField holds on every database (PostgreSQL's integer).
MAX_INT_FIELD = 2**31 - 1


def parse_int_field(
    params, name: str, *, required: bool = False, maximum: int = MAX_INT_FIELD
) -> int | None:
    """A whole number from 0 to ``maximum``; anything else is malformed (400)."""
    raw = params.get(name, "")
    if raw == "":
        if required:
            raise MalformedWebhook(f"missing field {name}")
        return None
    try:
        value = int(raw)
    except ValueError:
        raise MalformedWebhook(f"field {name} must be a whole number, got {raw!r}") from None
    if value < 0:
        raise MalformedWebhook(f"field {name} must not be negative, got {raw!r}")
    if value > maximum:
        raise MalformedWebhook(f"field {name} must be at most {maximum}, got {raw[:40]!r}")
    return value


def parse_timestamp(params, *, default: datetime) -> datetime:
    raw = params.get("Timestamp", "")
    if not raw:
        return default
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        raise MalformedWebhook(f"field Timestamp is not an RFC 2822 date: {raw!r}") from None
    # "-0000" or no zone parse naive; Twilio's timestamps are UTC (docs/twilio.md §4).
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _status_from(params) -> str:
    status = params.get("CallStatus", "")
    if status and status not in CallStatus.values:
        raise MalformedWebhook(f"unknown CallStatus {status!r}")
    return status


def call_upsert_from_webhook(*, params, now: datetime) -> Call:
    """Create or update the leg named by CallSid; its status only ever moves forward."""
    sid = params["CallSid"]
    if not CALL_SID.match(sid):
        raise MalformedWebhook(f"field CallSid is not a call SID: {sid[:40]!r}")
    _check_lengths(params)
    call = Call.objects.filter(sid=sid).first()
    if call is None:
        call = Call(
            sid=sid,
            account_sid=params.get("AccountSid", ""),
            from_number=params.get("From", ""),
            to_number=params.get("To", ""),
            direction=params.get("Direction", ""),
            caller_name=params.get("CallerName", ""),
            forwarded_from=params.get("ForwardedFrom", ""),
            started_at=now,
        )
        _call_apply(call=call, params=params, now=now)
        try:
            with transaction.atomic():
                call.save(force_insert=True)
        except IntegrityError:
            # Another process stored the same leg a moment ago: apply this request to theirs.
            call = Call.objects.get(sid=sid)
        else:
            if call.status:
                call_status_changed.send(sender=Call, call=call, previous_status="")
            return call
    previous = call.status
    changed = _call_apply(call=call, params=params, now=now)
    if changed:
        call.save(update_fields=[*changed, "updated_at"])
        if "status" in changed:
            call_status_changed.send(sender=Call, call=call, previous_status=previous)
    return call


def _call_apply(*, call: Call, params, now: datetime) -> list[str]:
    """Move the leg forward with what this request says; returns the fields that changed."""
    status = _status_from(params)
    changed = []
    if status and STATUS_RANK[status] > STATUS_RANK.get(call.status, -1):
        call.status = status
        changed.append("status")
        if call.is_final:
            call.ended_at = parse_timestamp(params, default=now)
            changed.append("ended_at")
    duration = parse_int_field(params, "CallDuration")
    if duration is not None and call.duration_seconds is None and call.is_final:
        call.duration_seconds = duration
        changed.append("duration_seconds")
    for field, param in (
        ("parent_sid", "ParentCallSid"),
        ("recording_sid", "RecordingSid"),
        ("recording_url", "RecordingUrl"),
    ):
        value = params.get(param, "")
        if param == "RecordingUrl":
            value = https_url(value)  # a forged javascript: link never reaches a page
        if value and not getattr(call, field):
            setattr(call, field, value)
            changed.append(field)
    recording_duration = parse_int_field(params, "RecordingDuration")
    if recording_duration is not None and call.recording_duration_seconds is None:
        call.recording_duration_seconds = recording_duration
        changed.append("recording_duration_seconds")
    return changed


def call_record_status_callback(*, call: Call, params, now: datetime) -> bool:
    """Keep one status callback per (CallSid, SequenceNumber). Returns False for a duplicate."""
    sequence = parse_int_field(params, "SequenceNumber")
    if sequence is None:
        # Without a SequenceNumber there is nothing to de-duplicate on; the ladder keeps it safe.
        return True
    _, created = CallStatusEvent.objects.get_or_create(
        call=call,
        sequence_number=sequence,
        defaults={
            "status": params.get("CallStatus", ""),
            "timestamp": parse_timestamp(params, default=now),
            "duration_seconds": parse_int_field(params, "CallDuration"),
        },
    )
    return created


def webhook_events_purge(*, before: datetime, batch_size: int = 5000) -> int:
    """Delete the webhook events received before ``before``; returns how many. Batches keep
    each transaction short, so webhooks keep being stored while a large backlog goes."""
    deleted = 0
    while True:
        batch = list(
            WebhookEvent.objects.filter(received_at__lt=before)
            .order_by("received_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            return deleted
        deleted += WebhookEvent.objects.filter(pk__in=batch).delete()[0]
