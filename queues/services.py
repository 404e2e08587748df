"""Writes about queues and visits: the three collection points and the Twilio Queue sync.

A visit is one call's stay in one queue: (call, queue, entry) is unique, and every callback
finds its row through the call leg it names, so duplicated or reordered callbacks land on the
same row and change nothing the second time.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, connections, router, transaction
from django.db.models import IntegerField
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext
from twilio.base.exceptions import TwilioException, TwilioRestException

from telephony import rows
from telephony.client import get_client, twilio_is_configured
from telephony.models import Call
from telephony.prepared import Param, Prepared
from telephony.services import MalformedWebhook, parse_int_field

from . import signals
from .models import OPEN_RESULTS, Queue, QueueResult, QueueVisit
from .selectors import estimated_wait_minutes, latest_visit

logger = logging.getLogger("queues")

# QueueResult values an Enqueue action may carry (everything Twilio sends; not our "waiting").
EXIT_RESULTS = frozenset(QueueResult.values) - {QueueResult.WAITING}


def _latest_visit(*, queue: Queue, call: Call) -> QueueVisit | None:
    # Locked (PostgreSQL) so that two copies of one callback apply once, one after the other.
    return _LATEST_VISIT_LOCKED.first(queue_id=queue.pk, call_id=call.pk)


_LATEST_VISIT_LOCKED = Prepared(
    lambda: (
        QueueVisit.objects.select_for_update()
        .filter(
            queue_id=Param("queue_id", IntegerField()), call_id=Param("call_id", IntegerField())
        )
        .order_by("-entry")[:1]
    )
)


def _visit_create(
    *,
    queue: Queue,
    call: Call,
    latest: QueueVisit | None,
    entered_at: datetime,
    queue_sid: str,
    **fields,
) -> tuple[QueueVisit, bool]:
    """Open the next entry of this call in this queue; if a concurrent request opened it a
    moment ago, return theirs (created False)."""
    entry = latest.entry + 1 if latest else 1
    visit = QueueVisit(
        queue=queue, call=call, entry=entry, entered_at=entered_at, queue_sid=queue_sid, **fields
    )
    if not _visit_insert(visit):
        return QueueVisit.objects.get(queue=queue, call=call, entry=entry), False
    return visit, True


_ANNOUNCED = QueueVisit._meta.get_field("announced_at_queue_time").column
_ANNOUNCE_SQL = (
    f"UPDATE {QueueVisit._meta.db_table} SET {_ANNOUNCED} = %s WHERE id = %s AND {_ANNOUNCED}"
)


def _announce(visit: QueueVisit, *, last: int | None, queue_time: int) -> bool:
    """Compare and set the visit's last announcement: a copy of this request that announced a
    moment ago wins. A hand-written statement: most passes of the wait loop announce, and the
    ORM would build the same UPDATE again at each."""
    db = router.db_for_write(QueueVisit, instance=visit)
    with connections[db].cursor() as cursor:
        if last is None:
            cursor.execute(f"{_ANNOUNCE_SQL} IS NULL", [queue_time, visit.pk])
        else:
            cursor.execute(f"{_ANNOUNCE_SQL} = %s", [queue_time, visit.pk, last])
        return cursor.rowcount == 1


_INSERT_FIELDS = [field for field in QueueVisit._meta.concrete_fields if not field.primary_key]
_VISIT_INSERT_SQL = (
    f"INSERT INTO {QueueVisit._meta.db_table}"
    f" ({', '.join(field.column for field in _INSERT_FIELDS)})"
    f" VALUES ({', '.join(['%s'] * len(_INSERT_FIELDS))})"
    # visit_call_queue_entry_uniq: a concurrent copy of the request opened this entry first.
    " ON CONFLICT (call_id, queue_id, entry) DO NOTHING RETURNING id"
)


def _visit_insert(visit: QueueVisit) -> bool:
    """Insert a new visit in one statement (no savepoint around it, as an INSERT that may fail
    on the unique entry would need); False, and nothing written, when the entry exists. Its
    receivers hear of it as of a created visit's save."""
    db = router.db_for_write(QueueVisit, instance=visit)
    values = rows.prepare(
        _INSERT_FIELDS,
        [field.pre_save(visit, add=True) for field in _INSERT_FIELDS],
        connections[db],
    )
    with connections[db].cursor() as cursor:
        cursor.execute(_VISIT_INSERT_SQL, values)
        row = cursor.fetchone()
    if row is None:
        return False
    visit.pk = row[0]
    visit._state.adding, visit._state.db = False, db
    post_save.send(
        sender=QueueVisit, instance=visit, created=True, update_fields=None, raw=False, using=db
    )
    return True


def _sid(params, name: str) -> str:
    """A SID field (QueueSid, DequeingCallSid); longer than its 34-character column is
    malformed on every database, not only where PostgreSQL refuses it."""
    value = params.get(name, "")
    if len(value) > 34:
        raise MalformedWebhook(f"field {name} is longer than 34 characters")
    return value


def _entered_at(now: datetime, queue_time: int | None) -> datetime:
    return now - timedelta(seconds=queue_time or 0)


def _is_late(*, latest: QueueVisit | None, entered_at: datetime) -> bool:
    """Whether a request that would open a visit is a late or replayed copy about the last one,
    which ended: a caller who hung up never enters again, and no stay that began before the
    last one ended is a new entry."""
    if latest is None or latest.result in OPEN_RESULTS:
        return False
    if latest.result == QueueResult.HANGUP:
        return True
    return latest.left_at is not None and entered_at < latest.left_at


@dataclass(frozen=True)
class WaitStep:
    """What one wait-URL request decided: announce the position now or not."""

    visit: QueueVisit | None  # None: a late request about a call that has no visit here
    queue_time: int
    position: int | None
    announce: bool
    last_announced: int | None
    minutes: int | None
    offer_callback: bool = False


def wait_fields_check(params) -> None:
    """Raises MalformedWebhook for any field of a wait-URL request visit_record_wait refuses
    (checked before anything is written: the wait loop runs outside a transaction)."""
    parse_int_field(params, "QueueTime", required=True)
    parse_int_field(params, "QueuePosition")
    _sid(params, "QueueSid")


_UNREAD = object()


def visit_record_wait(
    *,
    queue: Queue,
    call: Call,
    params,
    now: datetime,
    caller_priority: int = 0,
    latest=_UNREAD,
) -> WaitStep:
    """The wait URL: open the visit on the first request; decide whether the position is due
    (at most every ``announce_every_seconds`` of QueueTime). A late request, after the call or
    its visit ended, opens nothing and announces nothing.

    The loop itself (the visit already open) reads the visit without a lock and outside a
    transaction; an announcement is written with a compare-and-set UPDATE, so of two copies of
    one request only one announces. Opening a visit takes the lock, in a transaction.
    ``latest``: the call's latest visit of the queue (or None) when the caller read it already
    (with the leg's upsert: ``latest_visit_read``)."""
    queue_time = parse_int_field(params, "QueueTime", required=True)
    position = parse_int_field(params, "QueuePosition")
    entered_at = _entered_at(now, queue_time)
    if latest is _UNREAD:
        latest = latest_visit(queue=queue, call=call)
    leaving = queue.max_wait_seconds is not None and queue_time >= queue.max_wait_seconds
    created = False
    if _opens_a_visit(latest=latest, call=call, entered_at=entered_at):
        with transaction.atomic():
            if latest is not None:
                # A stay after one that ended: decided again under that visit's lock. With no
                # visit at all there is no row to lock; two copies of the first request open
                # one visit all the same (the unique entry: the second gets the first's).
                latest = _latest_visit(queue=queue, call=call)
            if _opens_a_visit(latest=latest, call=call, entered_at=entered_at):
                latest, created = _visit_create(
                    queue=queue,
                    call=call,
                    latest=latest,
                    entered_at=entered_at,
                    queue_sid=_sid(params, "QueueSid"),
                    caller_priority=caller_priority,
                    # Nothing was announced on a visit not yet open: the first pass announces,
                    # written with the row (a copy that finds it open sees it announced).
                    announced_at_queue_time=None if leaving or position is None else queue_time,
                )
                if created:
                    signals.caller_enqueued.send(sender=QueueVisit, visit=latest)
    visit = latest
    waiting = visit is not None and visit.result == QueueResult.WAITING
    last = visit.announced_at_queue_time if visit is not None else None
    due = last is None or queue_time - last >= queue.announce_every_seconds or queue_time < last
    announce = not leaving and position is not None and due and waiting
    if created:
        announce = last is not None
    elif announce:
        announce = _announce(visit, last=last, queue_time=queue_time)
        if announce:
            visit.announced_at_queue_time = queue_time
    minutes = None
    if announce and queue.announce_estimated_wait:
        minutes = estimated_wait_minutes(queue=queue, queue_time=queue_time)
    return WaitStep(
        visit=visit,
        queue_time=queue_time,
        position=position,
        announce=announce,
        last_announced=last,
        minutes=minutes,
        offer_callback=announce and callback_offer_due(queue=queue, queue_time=queue_time, now=now),
    )


def _opens_a_visit(*, latest: QueueVisit | None, call: Call, entered_at: datetime) -> bool:
    is_open = latest is not None and latest.result in OPEN_RESULTS
    return not (is_open or call.is_final or _is_late(latest=latest, entered_at=entered_at))


def callback_offer_due(*, queue: Queue, queue_time: int, now: datetime) -> bool:
    """Whether a waiting caller is offered a callback now (with the position announcement):
    after the queue's N seconds of waiting, or while the estimated wait passes M minutes; never
    when a receiver of ``callback_offer_allowed`` says no (routing: outside callback hours)."""
    if not queue.offers_callbacks:
        return False
    due = queue.callback_after_seconds is not None and queue_time >= queue.callback_after_seconds
    if not due and queue.callback_estimated_wait_minutes is not None:
        minutes = estimated_wait_minutes(queue=queue, queue_time=queue_time)
        due = minutes is not None and minutes > queue.callback_estimated_wait_minutes
    if not due:
        return False
    answers = signals.callback_offer_allowed.send(sender=Queue, queue=queue, now=now)
    return all(answer is not False for _, answer in answers)


def visit_request_callback(
    *, queue: Queue, call: Call, number: str, now: datetime
) -> QueueVisit | None:
    """The waiting caller accepted a callback to ``number`` (E.164): the visit remembers it
    (it is about to leave with <Leave/>, and the flow must not go on after it) and
    ``callback_requested`` lets routing create the callback in this transaction. None when the
    caller no longer waits here; a repeat returns the visit unchanged."""
    visit = _latest_visit(queue=queue, call=call)
    if visit is None or visit.result != QueueResult.WAITING or visit.answered_at is not None:
        return None
    if visit.callback_requested_at is not None:
        return visit
    visit.callback_number = number
    visit.callback_requested_at = now
    visit.save(update_fields=["callback_number", "callback_requested_at"])
    signals.callback_requested.send(sender=QueueVisit, visit=visit)
    return visit


def _exit_result(params) -> str:
    result = params.get("QueueResult", "")
    if not result:
        raise MalformedWebhook("missing field QueueResult")
    if result not in EXIT_RESULTS:
        raise MalformedWebhook(f"unknown QueueResult {result!r}")
    return result


def exit_fields_check(params) -> None:
    """Raises MalformedWebhook for any field of an Enqueue action visit_record_exit refuses
    (checked before anything is written: the exit may run outside a transaction)."""
    _exit_result(params)
    parse_int_field(params, "QueueTime")
    _sid(params, "QueueSid")


def visit_record_exit(*, queue: Queue, call: Call, params, now: datetime) -> QueueVisit:
    """Collection point 1, the Enqueue action: the visit's QueueResult and QueueTime.

    A repeat of the exit already recorded on the latest visit, or a late exit about it, changes
    nothing; an exit with no visit yet (queue-full, or a hang-up before the wait URL ran)
    creates it.

    The common case, a caller bridged to the agent who answered, is one conditional UPDATE …
    RETURNING of the latest visit (``_exit_bridged``); everything else takes the visit's lock in
    a transaction.
    """
    if _exit_result(params) == QueueResult.BRIDGED:
        visit = _exit_bridged(queue=queue, call=call, params=params, now=now)
        if visit is not None:
            signals.caller_left.send(sender=QueueVisit, visit=visit)
            return visit
    with transaction.atomic():
        return _visit_record_exit_locked(queue=queue, call=call, params=params, now=now)


_EXIT_COLUMNS = [field.column for field in QueueVisit._meta.concrete_fields]


def _exit_bridged(*, queue: Queue, call: Call, params, now: datetime) -> QueueVisit | None:
    """``bridged`` onto the latest visit when it is still open and was answered (the connect
    URL came): result, left_at if not yet, QueueSid if not yet; the wait stays the connect's.
    One statement, no lock needed: the row is changed only if it is still open when the UPDATE
    holds it, so a copy of the request changes nothing. None when the visit is not in that
    state (no visit, not answered, already ended): the general path decides."""
    table = QueueVisit._meta.db_table
    left_at = QueueVisit._meta.get_field("left_at").get_db_prep_save(now, connection)
    open_results = ", ".join(f"'{result}'" for result in OPEN_RESULTS)
    sql = (
        f"UPDATE {table} SET result = %s, left_at = COALESCE(left_at, %s),"
        " queue_sid = CASE WHEN queue_sid = '' THEN %s ELSE queue_sid END"
        f" WHERE id = (SELECT id FROM {table} WHERE queue_id = %s AND call_id = %s"
        " ORDER BY entry DESC LIMIT 1)"
        f" AND result IN ({open_results}) AND answered_at IS NOT NULL"
        f" RETURNING {', '.join(_EXIT_COLUMNS)}"
    )
    params_sql = [QueueResult.BRIDGED.value, left_at, _sid(params, "QueueSid"), queue.pk, call.pk]
    return _visit_updated(sql, params_sql, fields={"result", "left_at", "queue_sid"})


def _visit_record_exit_locked(*, queue: Queue, call: Call, params, now: datetime) -> QueueVisit:
    result = _exit_result(params)
    queue_time = parse_int_field(params, "QueueTime")
    latest = _latest_visit(queue=queue, call=call)
    entered_at = _entered_at(now, queue_time)
    if latest is not None and latest.result not in OPEN_RESULTS:
        repeated = latest.result == result and (
            queue_time is None
            or latest.wait_seconds in (None, queue_time)
            or latest.answered_at is not None
        )
        if repeated or _is_late(latest=latest, entered_at=entered_at):
            return latest
    if latest is None or latest.result not in OPEN_RESULTS:
        visit, created = _visit_create(
            queue=queue,
            call=call,
            latest=latest,
            entered_at=entered_at,
            queue_sid=_sid(params, "QueueSid"),
        )
        if created and result != QueueResult.QUEUE_FULL:
            signals.caller_enqueued.send(sender=QueueVisit, visit=visit)
        if not created and visit.result not in OPEN_RESULTS:
            return visit
    else:
        visit = latest
    changed = ["result"]
    if (
        result == QueueResult.HANGUP
        and visit.result == QueueResult.BRIDGING
        and visit.left_at is None
    ):
        # Push routing: the agent accepted, but the caller hung up still in the queue, before
        # being taken out of it to meet them (a pulled caller has left the queue by the
        # connect URL). They reached nobody: an abandon, not an answered call.
        visit.answered_at = None
        changed.append("answered_at")
    visit.result = result
    handed_off = result == QueueResult.REDIRECTED and visit.answered_at is not None
    if (visit.answered_at is None or handed_off) and queue_time is not None:
        # Answered visits keep the QueueTime of the connect URL: the wait ended there. A caller
        # taken out of the queue to meet the agent who answered (push routing) stopped waiting
        # at that redirect, whose QueueTime this is.
        visit.wait_seconds = queue_time
        changed.append("wait_seconds")
    if visit.left_at is None:
        visit.left_at = now
        changed.append("left_at")
    if not visit.queue_sid and params.get("QueueSid"):
        visit.queue_sid = _sid(params, "QueueSid")
        changed.append("queue_sid")
    visit.save(update_fields=changed)
    signals.caller_left.send(sender=QueueVisit, visit=visit)
    return visit


_CALL_TABLE = Call._meta.db_table
_CLIENT_PREFIX = "client:"
# The agent's identity as one expression over the agent leg's stored From: "client:<identity>"
# loses its prefix, anything else stays as it is (str.removeprefix), '' without the leg. A
# sub-select of the statement that writes the visit: no round trip of its own.
_IDENTITY_OF_LEG_SQL = (
    f"COALESCE((SELECT CASE WHEN SUBSTR(from_number, 1, {len(_CLIENT_PREFIX)}) ="
    f" '{_CLIENT_PREFIX}' THEN SUBSTR(from_number, {len(_CLIENT_PREFIX) + 1})"
    f" ELSE from_number END FROM {_CALL_TABLE} WHERE sid = %s), '')"
)


def _connect_open_visit(
    *, queue: Queue, call: Call, now: datetime, queue_time: int, agent_call_sid: str
) -> QueueVisit | None:
    """The common connect: the call's latest visit here is open (or bridged) and not yet
    answered. One UPDATE … RETURNING writes the answer, wait, agent leg and the agent's
    identity (read from the agent's leg inside the same statement) on it; no lock taken
    first, because the row is changed only if it is still unanswered when the UPDATE holds it,
    so of two copies of one request only one writes. None when the visit is in no such state
    (none, answered, ended): the general path under the lock decides."""
    table = QueueVisit._meta.db_table
    moment = QueueVisit._meta.get_field("answered_at").get_db_prep_save(now, connection)
    reusable = ", ".join(f"'{result}'" for result in (*OPEN_RESULTS, QueueResult.BRIDGED.value))
    sql = (
        f"UPDATE {table} SET answered_at = %s, wait_seconds = %s, agent_call_sid = %s,"
        f" agent_identity = {_IDENTITY_OF_LEG_SQL},"
        f" result = CASE WHEN result = %s THEN %s ELSE result END,"
        " left_at = COALESCE(left_at, %s)"
        f" WHERE id = (SELECT id FROM {table} WHERE queue_id = %s AND call_id = %s"
        " ORDER BY entry DESC LIMIT 1)"
        f" AND answered_at IS NULL AND result IN ({reusable})"
        f" RETURNING {', '.join(_EXIT_COLUMNS)}"
    )
    values = [
        moment,
        queue_time,
        agent_call_sid,
        agent_call_sid,
        QueueResult.WAITING.value,
        QueueResult.BRIDGING.value,
        moment,
        queue.pk,
        call.pk,
    ]
    answered = {
        "answered_at",
        "wait_seconds",
        "agent_call_sid",
        "agent_identity",
        "result",
        "left_at",
    }
    return _visit_updated(sql, values, queue=queue, fields=answered)


def _agent_identity(agent_call_sid: str) -> str:
    if not agent_call_sid:
        return ""
    from_number = (
        Call.objects.filter(sid=agent_call_sid).values_list("from_number", flat=True).first()
    )
    return (from_number or "").removeprefix("client:")


def visit_record_connect(*, queue: Queue, call: Call, params, now: datetime) -> QueueVisit | None:
    """Collection point 2, the connect URL of <Dial><Queue>: the caller was answered after
    QueueTime seconds by the agent leg DequeingCallSid. A late connect, after the call or its
    visit ended, answers nobody (None when the call has no visit here)."""
    queue_time = parse_int_field(params, "QueueTime", required=True)
    agent_call_sid = _sid(params, "DequeingCallSid")
    visit = _connect_open_visit(
        queue=queue,
        call=call,
        now=now,
        queue_time=queue_time,
        agent_call_sid=agent_call_sid,
    )
    if visit is not None:
        signals.caller_connected.send(sender=QueueVisit, visit=visit)
        return visit
    latest = _latest_visit(queue=queue, call=call)
    if latest is not None and latest.answered_at is not None:
        return latest  # a repeat
    reusable = latest is not None and (
        latest.result in OPEN_RESULTS or latest.result == QueueResult.BRIDGED
    )
    entered_at = _entered_at(now, queue_time)
    if not reusable and (call.is_final or _is_late(latest=latest, entered_at=entered_at)):
        return latest
    identity = _agent_identity(agent_call_sid)
    if reusable:
        visit = latest
    else:
        visit, created = _visit_create(
            queue=queue,
            call=call,
            latest=latest,
            entered_at=entered_at,
            queue_sid=_sid(params, "QueueSid"),
        )
        if not created:
            return visit
        signals.caller_enqueued.send(sender=QueueVisit, visit=visit)
    visit.answered_at = now
    visit.wait_seconds = queue_time
    visit.agent_call_sid = agent_call_sid
    visit.agent_identity = identity
    changed = ["answered_at", "wait_seconds", "agent_call_sid", "agent_identity"]
    if visit.result == QueueResult.WAITING:
        visit.result = QueueResult.BRIDGING
        changed.append("result")
    if visit.left_at is None:
        visit.left_at = now
        changed.append("left_at")
    visit.save(update_fields=changed)
    signals.caller_connected.send(sender=QueueVisit, visit=visit)
    return visit


_VISIT_WITH_CALL_LOCKED = Prepared(
    lambda: (
        QueueVisit.objects.select_for_update()
        .select_related("call")
        .filter(pk=Param("visit_id", IntegerField()))
        .order_by("pk")[:1]
    )
)


def visit_record_handoff(
    *, visit_id: int, agent_call_sid: str, agent_identity: str, now: datetime
) -> QueueVisit | None:
    """Push routing: the agent answered the offer for this waiting caller, who is about to be
    taken out of the queue to join them. The visit is answered now (the connect point of push
    routing); its wait becomes the QueueTime of the redirect when the Enqueue action brings it
    (until then, now − entered). None when the caller no longer waits."""
    visit = _VISIT_WITH_CALL_LOCKED.get(visit_id=visit_id)
    if visit.result != QueueResult.WAITING or visit.answered_at is not None or visit.call.is_final:
        return None
    visit.answered_at = now
    visit.wait_seconds = max(0, round((now - visit.entered_at).total_seconds()))
    visit.agent_call_sid = agent_call_sid
    visit.agent_identity = agent_identity
    visit.result = QueueResult.BRIDGING
    visit.save(
        update_fields=[
            "answered_at",
            "wait_seconds",
            "agent_call_sid",
            "agent_identity",
            "result",
        ]
    )
    signals.caller_connected.send(sender=QueueVisit, visit=visit)
    return visit


def visit_record_talk(
    *, queue: Queue, agent_call: Call, params, now: datetime
) -> QueueVisit | None:
    """The agent's Dial action: talk seconds (DialCallDuration) onto the visit the agent leg
    took. None when the agent took nobody (the queue stayed empty until the Dial timeout).

    The common case, the talk of the visit this agent leg took at the connect URL, is one
    conditional UPDATE … RETURNING (``_talk_onto_taken_visit``); everything else reads the visit
    under its lock first. Either way the talk is saved before ``talk_recorded`` is sent, and
    its receivers write what they change (the wrap-up of 0 of an agent free at once)."""
    talk_seconds = parse_int_field(params, "DialCallDuration")
    if talk_seconds is not None:
        visit = _talk_onto_taken_visit(queue=queue, agent_call=agent_call, seconds=talk_seconds)
        if visit is not None:
            signals.talk_recorded.send(sender=QueueVisit, visit=visit)
            return visit
    visit = (
        QueueVisit.objects.select_for_update()
        .filter(queue=queue, agent_call_sid=agent_call.sid)
        .order_by("-entry")
        .first()
    )
    if visit is None and params.get("DialCallSid"):
        # The connect URL never reached us; the dequeued caller's leg still names the visit.
        visit = (
            QueueVisit.objects.select_for_update(of=("self",))
            .filter(queue=queue, call__sid=params["DialCallSid"])
            .order_by("-entry")
            .first()
        )
    if visit is None or talk_seconds is None or visit.talk_seconds is not None:
        return visit
    visit.talk_seconds = talk_seconds
    changed = ["talk_seconds"]
    if not visit.agent_call_sid:
        visit.agent_call_sid = agent_call.sid
        visit.agent_identity = agent_call.from_number.removeprefix("client:")
        changed += ["agent_call_sid", "agent_identity"]
    visit.save(update_fields=changed)
    visit.queue = queue  # the visit was found in this queue: its receivers need not read it
    signals.talk_recorded.send(sender=QueueVisit, visit=visit)
    return visit


def _talk_onto_taken_visit(*, queue: Queue, agent_call: Call, seconds: int) -> QueueVisit | None:
    """The talk onto the latest visit of this queue the agent leg took, when it has none yet:
    one statement, no lock taken first (a copy of the request finds the talk set and changes
    nothing). None otherwise; the general path decides."""
    table = QueueVisit._meta.db_table
    sql = (
        f"UPDATE {table} SET talk_seconds = %s"
        f" WHERE id = (SELECT id FROM {table} WHERE queue_id = %s AND agent_call_sid = %s"
        " ORDER BY entry DESC LIMIT 1) AND talk_seconds IS NULL"
        f" RETURNING {', '.join(_EXIT_COLUMNS)}"
    )
    return _visit_updated(
        sql, [seconds, queue.pk, agent_call.sid], queue=queue, fields={"talk_seconds"}
    )


def visit_record_wrap_up(
    *, visit_id: int | None, seconds: float, visit: QueueVisit | None = None
) -> None:
    """The wrap-up the agent actually spent after a queued call, counted in that visit's AHT;
    the first one recorded stays. ``visit``: that visit as the caller holds it (talk_recorded's
    sender), not read again: one conditional UPDATE, and the instance follows."""
    # Receivers of a saved visit hear of it (post_save): the reports drop a stored hour whose
    # visit changes, and a wrap-up may end days later.
    if visit_id is None:
        return
    if visit is not None:
        if visit.wrap_up_seconds is not None:
            return
        value = max(0, round(seconds))
        if QueueVisit.objects.filter(pk=visit.pk, wrap_up_seconds__isnull=True).update(
            wrap_up_seconds=value
        ):
            visit_wrap_up_written(visit=visit, seconds=value)
        return
    visit = QueueVisit.objects.filter(pk=visit_id, wrap_up_seconds__isnull=True).first()
    if visit is not None:
        visit.wrap_up_seconds = max(0, round(seconds))
        visit.save(update_fields=["wrap_up_seconds"])


def visit_wrap_up_written(*, visit: QueueVisit, seconds: int) -> None:
    """``visit``'s wrap-up was written by a statement of the caller's own (agents' move of the
    agent on PostgreSQL): the instance follows, and the receivers of a saved visit hear of it."""
    visit.wrap_up_seconds = seconds
    _saved(visit, {"wrap_up_seconds"})


# --- Twilio Queue sync -------------------------------------------------------------------------


# What a REST call to Twilio raises when it does not get an answer: the twilio library's own
# errors, and the network's (requests' ConnectionError and Timeout are OSErrors).
TWILIO_UNREACHABLE = (TwilioException, OSError)


class QueueSyncError(Exception):
    """Twilio refused the change, or could not be reached; the database change was rolled back."""

    def __init__(self, exc: Exception):
        self.twilio_error = exc
        if isinstance(exc, TwilioRestException):
            message = gettext("Twilio error %(code)s: %(message)s") % {
                "code": exc.code or exc.status,
                "message": exc.msg,
            }
        else:
            message = gettext("Twilio could not be reached (%(error)s).") % {
                "error": exc.__class__.__name__
            }
        super().__init__(message)


def queue_save(*, queue: Queue, now: datetime | None = None) -> Queue:
    """Save the queue and mirror its name (friendly_name = slug) and max size to Twilio in one
    transaction: a Twilio error rolls the save back (QueueSyncError). Without credentials the
    queue is saved and, if its name or size changed, marked not synced."""
    adding = queue._state.adding
    try:
        with transaction.atomic():
            before = None
            if not adding:
                before = (
                    Queue.objects.select_for_update().values("slug", "max_size").get(pk=queue.pk)
                )
            queue.save()
            twilio_fields_changed = before != {"slug": queue.slug, "max_size": queue.max_size}
            if not twilio_is_configured():
                if twilio_fields_changed and queue.twilio_synced_at is not None:
                    queue.twilio_synced_at = None
                    queue.save(update_fields=["twilio_synced_at"])
            elif twilio_fields_changed or not queue.is_synced:
                _queue_push(queue=queue, now=now or timezone.now())
    except QueueSyncError:
        if adding:
            queue.pk = None
            queue._state.adding = True
        raise
    return queue


def _queue_push(*, queue: Queue, now: datetime) -> None:
    client = get_client()
    try:
        if queue.twilio_sid:
            client.queues(queue.twilio_sid).update(
                friendly_name=queue.slug, max_size=queue.max_size
            )
        else:
            queue.twilio_sid = client.queues.create(
                friendly_name=queue.slug, max_size=queue.max_size
            ).sid
    except TWILIO_UNREACHABLE as exc:
        logger.warning("Twilio refused queue %s: %s", queue.slug, exc)
        raise QueueSyncError(exc) from exc
    queue.twilio_synced_at = now
    queue.save(update_fields=["twilio_sid", "twilio_synced_at"])


def queue_delete(*, queue: Queue) -> None:
    """Delete the queue here and at Twilio in one transaction (a Twilio error keeps both)."""
    with transaction.atomic():
        sid = queue.twilio_sid
        queue.delete()
        if sid and twilio_is_configured():
            try:
                get_client().queues(sid).delete()
            except TwilioRestException as exc:
                if exc.status != 404:  # already gone at Twilio: nothing to keep
                    raise QueueSyncError(exc) from exc
            except TWILIO_UNREACHABLE as exc:
                raise QueueSyncError(exc) from exc


def _saved(visit: QueueVisit, fields: set[str]) -> None:
    """A visit written by a statement of its own (not ``save``): the receivers of a saved visit
    (reports: a stored hour to forget) hear of it as of a save of ``fields``."""
    post_save.send(
        sender=QueueVisit,
        instance=visit,
        created=False,
        update_fields=frozenset(fields),
        raw=False,
        using=visit._state.db,
    )


def _visit_updated(sql: str, values, *, fields: set[str], queue: Queue | None = None):
    """The visit an ``UPDATE … RETURNING`` of ``_EXIT_COLUMNS`` wrote (None: no row matched),
    announced as saved. ``queue``: the queue it was found in, so its receivers need not read it."""
    visits = list(QueueVisit.objects.raw(sql, values))
    if not visits:
        return None
    visit = visits[0]
    if queue is not None:
        visit.queue = queue
    _saved(visit, fields)
    return visit
