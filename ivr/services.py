"""Writes of the ivr app: the call path, voicemails, and flow versions (cache invalidation)."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import F
from django.utils import timezone

from telephony.configcache import config_changed
from telephony.models import Call
from telephony.recordings import https_url
from telephony.services import AttachedRows, MalformedWebhook, parse_int_field

from .models import BusinessHours, CallPathEntry, Flow, Step, Voicemail


@dataclass(frozen=True)
class PathMark:
    """One entry of the path to record: a step entered, or an answer at a menu."""

    flow_id: int
    step_id: int
    step_name: str
    kind: str
    outcome: str
    digits: str = ""


# The columns of a call path entry besides the call, in the order of path_rows' tuples.
PATH_FIELDS = ("at", "flow", "step", "step_name", "kind", "digits", "outcome")


def path_rows(marks, now: datetime) -> tuple[tuple, ...]:
    """The call path entries of ``marks`` at ``now``, as values of PATH_FIELDS."""
    return tuple(
        (
            now,
            mark.flow_id,
            mark.step_id,
            mark.step_name[:64],
            mark.kind,
            mark.digits[:40],
            mark.outcome,
        )
        for mark in marks
    )


def path_attached(*, marks, now: datetime, token: str) -> AttachedRows:
    """The call path entries of ``marks``, to be stored with the leg's upsert when the
    configuration token it reads is ``token`` (telephony.services.AttachedRows)."""
    return AttachedRows(
        model=CallPathEntry,
        call_field="call",
        fields=PATH_FIELDS,
        rows=path_rows(marks, now),
        token=token,
    )


def path_record(*, call: Call, marks: list[PathMark], now: datetime) -> None:
    """Record, in order, what one webhook's TwiML made the call go through: one INSERT of all
    the rows, and no transaction of its own (bulk_create would wrap it in BEGIN … COMMIT, two
    more round trips for a webhook that runs in autocommit)."""
    if not marks:
        return
    meta = CallPathEntry._meta
    fields = [meta.get_field(name) for name in ("call", *PATH_FIELDS)]
    rows, params = [], []
    for row in path_rows(marks, now):
        params += [
            field.get_db_prep_save(value, connection)
            for field, value in zip(fields, (call.pk, *row), strict=True)
        ]
        rows.append("(" + ", ".join(["%s"] * len(fields)) + ")")
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES "
            + ", ".join(rows),
            params,
        )


def flow_touch(*, flow: Flow) -> None:
    """Mark a flow changed: the next webhook of every process renders the new version."""
    Flow.objects.filter(pk=flow.pk).update(version=F("version") + 1, updated_at=timezone.now())
    config_changed()
    flow.refresh_from_db(fields=["version", "updated_at"])


def schedule_touch(*, schedule: BusinessHours) -> None:
    """A schedule is part of the snapshot of every flow whose steps use it."""
    flow_ids = Step.objects.filter(schedule=schedule).values("flow_id")
    Flow.objects.filter(pk__in=flow_ids).update(version=F("version") + 1, updated_at=timezone.now())
    config_changed()


def voicemail_record(*, call: Call, flow_id: int, step_id: int, params, now: datetime) -> Voicemail:
    """Keep a recorded message with the caller's number; a repeated Record action changes
    nothing."""
    url = params.get("RecordingUrl", "")
    if not url:
        raise MalformedWebhook("missing field RecordingUrl")
    if not https_url(url) or len(url) > 500:
        raise MalformedWebhook(f"RecordingUrl is not an https URL: {url[:100]!r}")
    voicemail, _ = Voicemail.objects.get_or_create(
        recording_url=url,
        defaults={
            "call": call,
            "flow_id": flow_id,
            "step_id": step_id,
            "caller": params.get("From", "")[:64] or call.from_number[:64],
            "recording_sid": params.get("RecordingSid", "")[:34],
            "duration_seconds": parse_int_field(params, "RecordingDuration"),
            "received_at": now,
        },
    )
    return voicemail


def voicemail_assign(*, voicemail: Voicemail, user) -> Voicemail:
    """Give a voicemail to someone to call back (None: to nobody)."""
    voicemail.assigned_to = user
    voicemail.save(update_fields=["assigned_to"])
    return voicemail


def voicemail_mark_handled(*, voicemail: Voicemail, user, now: datetime) -> Voicemail:
    """The caller was called back (or needs nothing more): who did it and when. Marking it
    again changes nothing."""
    if voicemail.handled_at is None:
        voicemail.handled_at = now
        voicemail.handled_by = user
        voicemail.save(update_fields=["handled_at", "handled_by"])
    return voicemail


def voicemail_reopen(*, voicemail: Voicemail) -> Voicemail:
    voicemail.handled_at = None
    voicemail.handled_by = None
    voicemail.save(update_fields=["handled_at", "handled_by"])
    return voicemail
