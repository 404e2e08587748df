"""Writes about call legs. Every webhook goes through call_upsert_from_webhook."""

import functools
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from . import rows
from .configcache import CONFIG_TOKEN_SQL
from .models import (
    FINAL_STATUSES,
    STATUS_RANK,
    Call,
    CallStatus,
    CallStatusEvent,
    WebhookEvent,
)
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


_STATUSES = frozenset(CallStatus.values)


def _status_from(params) -> str:
    status = params.get("CallStatus", "")
    if status and status not in _STATUSES:
        raise MalformedWebhook(f"unknown CallStatus {status!r}")
    return status


# The upsert of a leg is one statement (INSERT … ON CONFLICT (sid) DO UPDATE … RETURNING, on
# SQLite and PostgreSQL alike) that also reads the configuration token. The UPDATE applies the
# ladder to the row as it is when the statement locks it, so concurrent copies of one callback
# move the status once. RETURNING gives only the new row; what the statement did (inserted,
# moved the status and from where, changed other fields, nothing) is told by the updated_at it
# wrote: this request's moment plus an offset of a few microseconds, one per case (_MARKS).
_STATUS_ORDER = ["", *CallStatus.values]  # a leg's possible previous statuses
_OTHER_CHANGE = len(_STATUS_ORDER) + 1  # offsets 1..len: moved from _STATUS_ORDER[offset - 1]
_UPSERT_COLUMNS = [field for field in Call._meta.concrete_fields if not field.primary_key]


# The stored row is named by a short alias (c): the statement then stays under the length up to
# which psycopg keeps its parsed form (4,096 characters), so it is not parsed again per request.
_ROW = "c"


def _statuses_sql(statuses) -> str:
    return ", ".join(f"'{status}'" for status in statuses)


@functools.cache
def _below(rank: int) -> tuple[str, ...]:
    """The statuses a request whose status has ``rank`` moves a leg from (-1: none). A stored
    status is always '' or one of CallStatus; '' is below every status."""
    return tuple(s for s in _STATUS_ORDER if rank >= 0 and STATUS_RANK.get(s, -1) < rank)


@functools.cache
def _moved_from_offsets(rank: int) -> tuple[int, ...]:
    """The updated_at offsets the statement for ``rank`` may write: one per status it moves
    from."""
    below = _below(rank)
    return tuple(offset for offset, status in enumerate(_STATUS_ORDER, start=1) if status in below)


@functools.cache
def _upsert_sql(rank: int, duration: bool) -> str:
    """The upsert for a request whose status has ``rank`` (-1: it has none), carrying a
    CallDuration or not. Both are known before the statement is sent, so the ladder is written
    out for them: the status moves when the stored one is below it (a list of literals), and
    only a request with a duration may write one. That keeps the statement short (one text
    per case, each parsed once by psycopg and cheaper for the server to parse), and every
    parameter's type is told by the column it goes to."""
    table = Call._meta.db_table
    old = f"{_ROW}.%s"
    columns = ", ".join(field.column for field in _UPSERT_COLUMNS)
    # Short placeholder names (v0, v1, …): the statement with the attached rows must stay under
    # psycopg's 4,096 characters too.
    values = ", ".join(f"%(v{index})s" for index in range(len(_UPSERT_COLUMNS)))
    below = _below(rank)
    moves = f"({old % 'status'} IN ({_statuses_sql(below)}))" if below else None
    final = rank == max(STATUS_RANK.values())
    # Whether the leg's status is final once the statement ran: always, for a final status (it
    # moves there, or the stored one is final too); else only when the stored one was.
    final_after = (
        None if final else f"({old % 'status'} IN ({_statuses_sql(sorted(FINAL_STATUSES))}))"
    )
    takes_duration = None
    if duration:
        takes_duration = (
            " AND ".join([f"({old % 'duration_seconds'} IS NULL", *filter(None, [final_after])])
            + ")"
        )
    set_once = {
        field: f"({old % field} = '' AND excluded.{field} <> '')"
        for field in ("parent_sid", "recording_sid", "recording_url")
    }
    takes_recording_duration = (
        f"({old % 'recording_duration_seconds'} IS NULL"
        " AND excluded.recording_duration_seconds IS NOT NULL)"
    )
    other_change = " OR ".join(
        filter(None, [takes_duration, *set_once.values(), takes_recording_duration])
    )
    moved_from = " ".join(
        f"WHEN '{_STATUS_ORDER[offset - 1]}' THEN %(mark_{offset})s"
        for offset in _moved_from_offsets(rank)
    )
    assignments = []
    if moves:
        assignments.append(f"status = CASE WHEN {moves} THEN %(status)s ELSE {old % 'status'} END")
        if final:
            assignments.append(
                f"ended_at = CASE WHEN {moves} THEN %(param_ended_at)s ELSE {old % 'ended_at'} END"
            )
    if takes_duration:
        assignments.append(
            f"duration_seconds = CASE WHEN {takes_duration} THEN %(param_duration)s"
            f" ELSE {old % 'duration_seconds'} END"
        )
    assignments += [
        *(
            f"{field} = CASE WHEN {condition} THEN excluded.{field} ELSE {old % field} END"
            for field, condition in set_once.items()
        ),
        f"recording_duration_seconds = CASE WHEN {takes_recording_duration}"
        f" THEN excluded.recording_duration_seconds ELSE {old % 'recording_duration_seconds'} END",
        "updated_at = CASE"
        + (f" WHEN {moves} THEN (CASE {old % 'status'} {moved_from} END)" if moves else "")
        + f" WHEN {other_change} THEN %(mark_other)s ELSE {old % 'updated_at'} END",
    ]
    returning = rows.column_list(Call)
    return (
        f"INSERT INTO {table} AS {_ROW} ({columns}) VALUES ({values})"
        " ON CONFLICT (sid) DO UPDATE SET "
        + ", ".join(assignments)
        + f" RETURNING {returning}, {CONFIG_TOKEN_SQL} AS config_token"
    )


# The raw request of a webhook (telephony.WebhookEvent), stored by the same statement as the leg
# where the database allows it: PostgreSQL runs an INSERT in a WITH clause (a data-modifying
# CTE) whatever the main statement does, so the upsert and the event are one round trip and one
# commit. SQLite has no such WITH: there the event is its own INSERT, just after the upsert.
_EVENT_COLUMNS = [field for field in WebhookEvent._meta.concrete_fields if not field.primary_key]
_EVENT_INSERT_SQL = (
    f"INSERT INTO {WebhookEvent._meta.db_table}"
    f" ({', '.join(field.column for field in _EVENT_COLUMNS)})"
    f" VALUES ({', '.join(f'%(e{index})s' for index in range(len(_EVENT_COLUMNS)))})"
    " RETURNING id"
)


@functools.cache
def _upsert_with_event_sql(shape: tuple[int, bool]) -> str:
    return (
        f"WITH webhook_event AS ({_EVENT_INSERT_SQL}) {_upsert_sql(*shape)},"
        " (SELECT id FROM webhook_event) AS webhook_event_id"
    )


# A status callback kept once per (leg, SequenceNumber) (CallStatusEvent): on PostgreSQL by the
# leg's statement too, one more data-modifying WITH that reads the leg's id; SQLite has none, so
# there it is its own INSERT after the upsert and the event. ON CONFLICT DO NOTHING: a copy of a
# callback adds nothing.
_STATUS_EVENT_FIELDS = [
    CallStatusEvent._meta.get_field(name)
    for name in ("sequence_number", "status", "timestamp", "duration_seconds")
]
_STATUS_EVENT_INSERT = (
    f"INSERT INTO {CallStatusEvent._meta.db_table}"
    f" ({CallStatusEvent._meta.get_field('call').column},"
    f" {', '.join(field.column for field in _STATUS_EVENT_FIELDS)})"
)
_STATUS_EVENT_CONFLICT = " ON CONFLICT (call_id, sequence_number) DO NOTHING"


def _status_event_with() -> str:
    """The status callback's row, a data-modifying WITH that reads the leg's id."""
    values = ", ".join(
        f"CAST(%(s{index})s AS {field.cast_db_type(connection)})"
        for index, field in enumerate(_STATUS_EVENT_FIELDS)
    )
    return (
        f", status_event AS ({_STATUS_EVENT_INSERT} SELECT leg.id, {values} FROM leg"
        f"{_STATUS_EVENT_CONFLICT})"
    )


@functools.cache
def _upsert_status_sql(shape: tuple[int, bool]) -> str:
    """The upsert, the raw event and the status callback's row in one statement (PostgreSQL)."""
    return (
        f"WITH webhook_event AS ({_EVENT_INSERT_SQL}), leg AS ({_upsert_sql(*shape)})"
        f"{_status_event_with()} SELECT leg.*, (SELECT id FROM webhook_event) FROM leg"
    )


_STATUS_EVENT_SQLITE = (
    f"{_STATUS_EVENT_INSERT} VALUES (%(call_id)s,"
    f" {', '.join(f'%(s{index})s' for index in range(len(_STATUS_EVENT_FIELDS)))})"
    f"{_STATUS_EVENT_CONFLICT}"
)


def _status_event_values(params, now: datetime, db) -> dict | None:
    """The status callback's CallStatusEvent values; None without a SequenceNumber (nothing to
    tell copies apart by: the status ladder alone keeps it safe)."""
    sequence = parse_int_field(params, "SequenceNumber")
    if sequence is None:
        return None
    values = (
        sequence,
        params.get("CallStatus", ""),
        parse_timestamp(params, default=now),
        parse_int_field(params, "CallDuration"),
    )
    return {
        f"s{index}": value
        for index, value in enumerate(rows.prepare(_STATUS_EVENT_FIELDS, values, db))
    }


@dataclass(frozen=True)
class AttachedRows:
    """Rows of a higher app that belong to the leg a webhook names, stored with the leg's upsert
    only when the configuration token that statement reads is ``token``: what a view rendered
    from the configuration this process keeps, before the request read the token (the call
    path of a flow step; docs/architecture.md §7). On PostgreSQL they are one more
    data-modifying ``WITH`` of the upsert's statement; SQLite has none, so there they are one
    ``INSERT`` after the upsert, made when the token read matches.

    ``call_field`` is the model's ForeignKey to Call (it gets the leg's id); each row gives the
    values of ``fields`` (attnames), in that order."""

    model: type
    call_field: str
    fields: tuple[str, ...]
    rows: tuple[tuple, ...]
    token: str


def _attached_columns(attached: AttachedRows) -> tuple[str, list]:
    meta = attached.model._meta
    call_column = meta.get_field(attached.call_field).column
    fields = [meta.get_field(name) for name in attached.fields]
    return call_column, fields


@functools.cache
def _upsert_attached_sql(
    shape: tuple[int, bool], model, call_field: str, fields: tuple[str, ...], with_event: bool
) -> str:
    """The upsert (and the raw event) with the attached rows, PostgreSQL: the leg's upsert
    becomes a WITH of its own (``leg``), whose RETURNING row the rows' INSERT reads for the
    leg's id and the token; the rows come as one JSON parameter, so the text is the same
    whatever their number (and short enough for psycopg to keep its parsed form)."""
    call_column, columns = _attached_columns(AttachedRows(model, call_field, fields, (), ""))
    record = ", ".join(
        f"{field.column} {field.db_type(connection)}".replace(
            "timestamp with time zone", "timestamptz"
        )
        for field in columns
    )
    names = ", ".join(field.column for field in columns)
    event = f"webhook_event AS ({_EVENT_INSERT_SQL}), " if with_event else ""
    event_id = "(SELECT id FROM webhook_event)" if with_event else "NULL"
    return (
        f"WITH {event}leg AS ({_upsert_sql(*shape)}),"
        f" attached AS (INSERT INTO {model._meta.db_table} ({call_column}, {names})"
        f" SELECT leg.id, r.* FROM leg, jsonb_to_recordset(%(attached)s::jsonb) AS r({record})"
        " WHERE leg.config_token = %(attached_token)s RETURNING 1)"
        f" SELECT leg.*, {event_id}, (SELECT count(*) FROM attached) FROM leg"
    )


@dataclass(frozen=True)
class AttachedRead:
    """A row of a higher app read by the leg's upsert statement (PostgreSQL; on SQLite nothing
    is read): the first row of ``model`` whose ``filters`` (attname, value) match and, with a
    ``call_field``, whose ``call_field`` is the leg; latest ``order_by`` first when given (the
    wait loop's visit; the agent a softphone leg is, when it ends). The leg's
    ``attached_read`` is then (this AttachedRead, the instance or None); a read whose filters
    were chosen from configuration holds for a view that reads the configuration token
    ``token`` ("" when they come from the request alone).

    A plain read sees the database as the statement began. With ``lock`` (in a transaction
    only), the row is read FOR UPDATE once the leg's upsert took the leg's row: its latest
    committed version, locked until the transaction ends (the order every writer of such a
    row keeps: the leg, then the row)."""

    model: type
    call_field: str | None
    filters: tuple[tuple[str, object], ...]
    order_by: str | None
    token: str
    lock: bool = False


@functools.cache
def _upsert_read_sql(
    shape: tuple[int, bool],
    model,
    call_field: str | None,
    filters: tuple[str, ...],
    order_by: str | None,
    lock: bool,
    status: bool,
) -> str:
    """The upsert and the raw event with the attached read, PostgreSQL: the leg's upsert
    becomes a WITH of its own (``leg``), and the row is read for its row (LEFT JOIN LATERAL);
    with ``status``, the status callback's row is kept too (as ``_upsert_status_sql``)."""
    meta = model._meta
    # The read names the leg even when it is not tied to it (leg.id IS NOT NULL): it is then
    # evaluated for the leg's row, once the upsert has run, never before it.
    leg = f"{meta.get_field(call_field).column} = leg.id" if call_field else None
    where = " AND ".join(
        [
            leg or "leg.id IS NOT NULL",
            *(f"{meta.get_field(name).column} = %(r{i})s" for i, name in enumerate(filters)),
        ]
    )
    order = f" ORDER BY {meta.get_field(order_by).column} DESC" if order_by else ""
    locking = f" FOR UPDATE OF {meta.db_table}" if lock else ""
    return (
        f"WITH webhook_event AS ({_EVENT_INSERT_SQL}), leg AS ({_upsert_sql(*shape)})"
        f"{_status_event_with() if status else ''}"
        " SELECT leg.*, (SELECT id FROM webhook_event), v.* FROM leg LEFT JOIN LATERAL"
        f" (SELECT {rows.column_list(model)} FROM {meta.db_table} WHERE {where}"
        f"{order} LIMIT 1{locking}) v ON true"
    )


def _json_value(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _attached_json(attached: AttachedRows, db) -> str:
    _, fields = _attached_columns(attached)
    return json.dumps(
        [
            {
                field.column: _json_value(value)
                for field, value in zip(fields, rows.prepare(fields, row, db), strict=True)
            }
            for row in attached.rows
        ]
    )


def _attached_insert(cursor, attached: AttachedRows, call_id: int, db) -> None:
    """The attached rows in one INSERT of their own (SQLite)."""
    call_column, fields = _attached_columns(attached)
    params, values = [], []
    for row in attached.rows:
        params += [call_id]
        params += rows.prepare(fields, row, db)
        values.append("(" + ", ".join(["%s"] * (len(fields) + 1)) + ")")
    columns = ", ".join([call_column, *(field.column for field in fields)])
    cursor.execute(
        f"INSERT INTO {attached.model._meta.db_table} ({columns}) VALUES " + ", ".join(values),
        params,
    )


def _event_values(event: dict, db) -> dict:
    values = [event.get(field.attname, field.get_default()) for field in _EVENT_COLUMNS]
    return {
        f"e{index}": value for index, value in enumerate(rows.prepare(_EVENT_COLUMNS, values, db))
    }


def _call_from_row(row) -> Call:
    """The leg from the upsert's RETURNING row (the columns of Call, then the token)."""
    call = rows.from_row(Call, row)
    call.config_token = row[len(Call._meta.concrete_fields)]
    return call


def call_upsert_from_webhook(
    *,
    params,
    now: datetime,
    event: dict | None = None,
    attached: AttachedRows | None = None,
    read: AttachedRead | None = None,
    status_event: bool = False,
) -> Call:
    """Create or update the leg named by CallSid; its status only ever moves forward. One
    statement; the configuration token read with it is kept on the leg as ``config_token``.

    ``event`` (WebhookEvent's field values) stores the webhook's raw request with the leg: in
    the same statement on PostgreSQL, in one just after it on SQLite. Its id is then
    ``webhook_event_id`` on the leg (else None). ``attached`` rows are stored with the leg
    when the token read is theirs; ``attached_stored`` on the leg says whether they were. With
    ``event``, ``read`` is read by the same statement on PostgreSQL (``attached_read`` on the
    leg; None where it was not read). ``status_event``: the request is a status callback, kept
    once per (leg, SequenceNumber) as a CallStatusEvent (by the same statement on PostgreSQL
    when ``event`` is given; a copy adds nothing).
    Nothing is written when the request is malformed (MalformedWebhook is raised before any
    statement)."""
    sid = params["CallSid"]
    if not CALL_SID.match(sid):
        raise MalformedWebhook(f"field CallSid is not a call SID: {sid[:40]!r}")
    _check_lengths(params)
    status = _status_from(params)
    # What this request says, applied to a new leg (the INSERT) — the same rules as before.
    fresh = Call(
        sid=sid,
        account_sid=params.get("AccountSid", ""),
        from_number=params.get("From", ""),
        to_number=params.get("To", ""),
        direction=params.get("Direction", ""),
        caller_name=params.get("CallerName", ""),
        forwarded_from=params.get("ForwardedFrom", ""),
        started_at=now,
    )
    _call_apply(call=fresh, params=params, now=now)
    mark = timezone.now()
    fresh.updated_at = mark
    # This thread's connection, looked up once (each use of the ``connection`` proxy looks it
    # up again).
    db = connections[DEFAULT_DB_ALIAS]
    adapt = db.ops.adapt_datetimefield_value  # what get_db_prep_save does to an aware datetime
    values = {
        f"v{index}": value
        for index, value in enumerate(
            rows.prepare(
                _UPSERT_COLUMNS, [getattr(fresh, field.attname) for field in _UPSERT_COLUMNS], db
            )
        )
    }
    ended_field = Call._meta.get_field("ended_at")
    duration = parse_int_field(params, "CallDuration")
    # What the statement's text is written for (_upsert_sql).
    shape = (STATUS_RANK[status] if status else -1, duration is not None)
    values.update(
        status=status,
        param_ended_at=ended_field.get_db_prep_save(
            parse_timestamp(params, default=now) if status in FINAL_STATUSES else None,
            db,
        ),
        param_duration=duration,
        mark_other=adapt(mark + timedelta(microseconds=_OTHER_CHANGE)),
        **{
            f"mark_{offset}": adapt(mark + timedelta(microseconds=offset))
            for offset in _moved_from_offsets(shape[0])
        },
    )
    status_values = _status_event_values(params, now, db) if status_event else None
    event_id, attached_stored, attached_read = None, False, None
    with db.cursor() as cursor:
        if read is not None and event is not None and db.vendor == "postgresql":
            values.update(_event_values(event, db))
            if status_values is not None:
                values.update(status_values)
            values.update(
                (f"r{i}", read.model._meta.get_field(name).get_db_prep_save(value, db))
                for i, (name, value) in enumerate(read.filters)
            )
            filters = tuple(name for name, _ in read.filters)
            sql = _upsert_read_sql(
                shape,
                read.model,
                read.call_field,
                filters,
                read.order_by,
                read.lock,
                status_values is not None,
            )
            cursor.execute(sql, values)
            row = cursor.fetchone()
            width = len(Call._meta.concrete_fields) + 1
            event_id, found, status_values = row[width], row[width + 1 :], None
            attached_read = (read, rows.from_row(read.model, found) if found[0] else None)
        elif status_values is not None and event is not None and db.vendor == "postgresql":
            values.update(_event_values(event, db), **status_values)
            cursor.execute(_upsert_status_sql(shape), values)
            row = cursor.fetchone()
            event_id, status_values = row[-1], None
        elif attached is not None and attached.rows and db.vendor == "postgresql":
            if event is not None:
                values.update(_event_values(event, db))
            values.update(attached=_attached_json(attached, db), attached_token=attached.token)
            sql = _upsert_attached_sql(
                shape, attached.model, attached.call_field, attached.fields, event is not None
            )
            cursor.execute(sql, values)
            row = cursor.fetchone()
            event_id, attached_stored = row[-2], row[-1] > 0
        elif event is not None and db.vendor == "postgresql":
            values.update(_event_values(event, db))
            cursor.execute(_upsert_with_event_sql(shape), values)
            row = cursor.fetchone()
            event_id = row[-1]
        else:
            cursor.execute(_upsert_sql(*shape), values)
            row = cursor.fetchone()
            if event is not None:
                # After the leg: a failed upsert leaves no event behind, for the decorator to
                # store as failed, once.
                cursor.execute(_EVENT_INSERT_SQL, _event_values(event, db))
                event_id = cursor.fetchone()[0]
            if attached is not None and attached.rows and row[-1] == attached.token:
                _attached_insert(cursor, attached, row[0], db)
                attached_stored = True
        if status_values is not None:
            cursor.execute(_STATUS_EVENT_SQLITE, {"call_id": row[0], **status_values})
    call = _call_from_row(row)
    call.webhook_event_id = event_id
    call.attached_stored = attached_stored
    call.attached_read = attached_read
    offset = round((call.updated_at - mark).total_seconds() * 1_000_000)
    if offset == 0 and call.updated_at == mark:
        # Inserted: a new leg, with its first status if the request had one.
        if call.status:
            call_status_changed.send(sender=Call, call=call, previous_status="")
    elif 1 <= offset <= len(_STATUS_ORDER):
        call_status_changed.send(sender=Call, call=call, previous_status=_STATUS_ORDER[offset - 1])
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


def status_fields_check(params) -> None:
    """Raises MalformedWebhook for any field of a status callback the leg's upsert would refuse
    (checked before anything is written)."""
    parse_int_field(params, "SequenceNumber")
    parse_int_field(params, "CallDuration")
    parse_timestamp(params, default=datetime.now(UTC))


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
