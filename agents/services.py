"""Writes about agents: presence and its history, customers and contact notes."""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.db.models.signals import post_save
from django.utils.translation import gettext as _

from queues.models import Queue, QueueVisit
from queues.services import visit_record_wrap_up, visit_wrap_up_written

from .models import (
    Agent,
    AgentStatus,
    AgentStatusInterval,
    ContactNote,
    Customer,
    Disposition,
)
from .phone import to_e164
from .selectors import CUSTOMER_CSV_COLUMNS, DEVICE_REFRESH_AFTER, agent_device_registered
from .signals import agent_became_available, agent_became_busy, agent_became_unreachable

# What an agent may choose on the softphone; on-call and wrap-up follow calls by themselves.
MANUAL_STATUSES = (AgentStatus.AVAILABLE, AgentStatus.BREAK, AgentStatus.OFFLINE)


# Statuses in which an agent cannot be reached by an offer at all.
UNREACHABLE_STATUSES = (AgentStatus.BREAK, AgentStatus.OFFLINE)


def agent_set_status(
    *,
    agent: Agent,
    status: str,
    now: datetime,
    wrap_up_until: datetime | None = None,
    missed_until: datetime | None = None,
    locked: bool = False,
    also: dict | None = None,
) -> Agent:
    """Move the agent to ``status`` at ``now``: close the open interval and open a new one.

    The agent row is locked so that two webhooks about the same agent cannot both open an
    interval. Setting the status the agent already has changes nothing. ``locked``: the
    caller read ``agent`` with its row locked in the running transaction, so it is not read
    again. ``also``: other fields of the agent, written in the same UPDATE (or on their own
    when the status does not move).
    """
    also = also or {}
    # No savepoint: a failure here fails the caller's transaction, which is rolled back whole.
    with transaction.atomic(savepoint=False):
        current = agent if locked else Agent.objects.select_for_update().get(pk=agent.pk)
        for name, value in also.items():
            setattr(current, name, value)
        if current.status == status:
            changed = list(also)
            if status == AgentStatus.WRAP_UP and current.wrap_up_until != wrap_up_until:
                current.wrap_up_until = wrap_up_until
                changed.append("wrap_up_until")
            if changed:
                current.save(update_fields=changed)
            _refresh(agent, current)
            return agent
        # The open interval began when the status last moved: it is closed in one UPDATE,
        # never before it began (clocks of two web processes may differ).
        at = now
        if current.status_changed_at is not None:
            at = max(now, current.status_changed_at)
        AgentStatusInterval.objects.filter(agent_id=current.pk, ended_at__isnull=True).update(
            ended_at=Greatest(Value(at), F("started_at"))
        )
        if current.status == AgentStatus.WRAP_UP and current.status_changed_at:
            visit_record_wrap_up(
                visit_id=current.current_visit_id,
                seconds=(at - current.status_changed_at).total_seconds(),
            )
        AgentStatusInterval.objects.create(agent=current, status=status, started_at=at)
        current.status = status
        current.status_changed_at = at
        current.wrap_up_until = wrap_up_until if status == AgentStatus.WRAP_UP else None
        current.missed_until = missed_until if status == AgentStatus.MISSED else None
        current.save(
            update_fields=["status", "status_changed_at", "wrap_up_until", "missed_until", *also]
        )
    _refresh(agent, current)
    _status_signal(current)
    return agent


def _status_signal(agent: Agent) -> None:
    """Tell routing that the agent's status moved where it cares."""
    if agent.status == AgentStatus.AVAILABLE:
        agent_became_available.send(sender=Agent, agent=agent)
    elif agent.status in UNREACHABLE_STATUSES:
        agent_became_unreachable.send(sender=Agent, agent=agent)
    elif agent.status == AgentStatus.ON_CALL:
        agent_became_busy.send(sender=Agent, agent=agent)


def _refresh(agent: Agent, source: Agent) -> None:
    for name in (
        "status",
        "status_changed_at",
        "wrap_up_until",
        "current_call_sid",
        "current_visit_id",
        "missed_until",
        "last_call_ended_at",
        "may_have_offer",
    ):
        setattr(agent, name, getattr(source, name))


def agent_choose_status(*, agent: Agent, status: str, now: datetime) -> Agent:
    """The agent picked a status on the softphone ("ready" ends wrap-up the same way)."""
    if status not in MANUAL_STATUSES:
        raise ValidationError(_("This status follows calls and cannot be chosen."))
    agent_expire_wrap_up(agent=agent, now=now)
    agent_expire_missed(agent=agent, now=now)
    return agent_set_status(agent=agent, status=status, now=now)


def agent_report_device(*, agent: Agent, registered: bool, now: datetime) -> Agent:
    """Record what the agent's softphone said: registered with Twilio (calls can reach the
    agent) or not. Only a registered agent counts as available on the wallboard."""
    seen = now if registered else None
    was_registered = agent_device_registered(agent, now=now)
    Agent.objects.filter(pk=agent.pk).update(device_seen_at=seen)
    agent.device_seen_at = seen
    if registered and not was_registered and agent.status == AgentStatus.AVAILABLE:
        agent_became_available.send(sender=Agent, agent=agent)
    elif not registered:
        agent_became_unreachable.send(sender=Agent, agent=agent)
    return agent


def agent_keep_device_seen(*, agent: Agent, now: datetime) -> Agent:
    """While the desk polls, a registered softphone stays registered (one write a while)."""
    if agent.device_seen_at is not None and agent.device_seen_at <= now - DEVICE_REFRESH_AFTER:
        Agent.objects.filter(pk=agent.pk, device_seen_at__isnull=False).update(device_seen_at=now)
        agent.device_seen_at = now
    return agent


def agent_expire_wrap_up(*, agent: Agent, now: datetime) -> Agent:
    """End an automatic wrap-up whose time is over, dated when it was over."""
    if (
        agent.status == AgentStatus.WRAP_UP
        and agent.wrap_up_until is not None
        and agent.wrap_up_until <= now
    ):
        agent_set_status(agent=agent, status=AgentStatus.AVAILABLE, now=agent.wrap_up_until)
    return agent


def agent_expire_missed(*, agent: Agent, now: datetime) -> Agent:
    """End a missed state the queue clears by itself, dated when it was over."""
    if (
        agent.status == AgentStatus.MISSED
        and agent.missed_until is not None
        and agent.missed_until <= now
    ):
        agent_set_status(agent=agent, status=AgentStatus.AVAILABLE, now=agent.missed_until)
    return agent


def agent_set_missed(*, agent: Agent, now: datetime, ready_after: int | None) -> Agent:
    """The agent let an offered call ring out: not offered calls until ready again (by
    themselves, or after ``ready_after`` seconds). Only an available agent goes there."""
    if agent.status != AgentStatus.AVAILABLE:
        return agent
    until = now + timedelta(seconds=ready_after) if ready_after is not None else None
    return agent_set_status(agent=agent, status=AgentStatus.MISSED, now=now, missed_until=until)


def agent_call_started(
    *,
    agent: Agent,
    agent_call_sid: str,
    visit: QueueVisit | None,
    now: datetime,
    locked: bool = False,
) -> Agent:
    """The agent is talking: remember which call, then go on-call (one UPDATE of the agent).
    ``locked``: as for agent_set_status."""
    also = {"current_call_sid": agent_call_sid[:34]}
    if visit is not None:
        also["current_visit"] = visit
    return agent_set_status(
        agent=agent, status=AgentStatus.ON_CALL, now=now, locked=locked, also=also
    )


def _agent_locked_by_identity(identity: str) -> tuple[Agent | None, bool]:
    """The agent named ``identity``, read with its row locked when a transaction runs (then
    agent_set_status need not read it again), and whether it was."""
    agents = Agent.objects.filter(identity=identity)
    in_transaction = transaction.get_connection().in_atomic_block
    if in_transaction:
        agents = agents.select_for_update()
    return agents.first(), in_transaction


def _moves_in_one_statement() -> bool:
    """Whether a move of an agent found by identity is one statement here: PostgreSQL (a
    data-modifying WITH, which SQLite lacks), inside the caller's transaction."""
    connection = transaction.get_connection()
    return connection.vendor == "postgresql" and connection.in_atomic_block


_AGENT_TABLE = Agent._meta.db_table
_INTERVAL_TABLE = AgentStatusInterval._meta.db_table
_AGENT_COLUMNS = ", ".join(field.column for field in Agent._meta.concrete_fields)


def _agent_move_by_identity(
    *,
    identity: str,
    status: str,
    now: datetime,
    wrap_up_until: datetime | None = None,
    also: dict | None = None,
    on_call_sid: str | None = None,
    wrap_up_zero_visit_id: int | None = None,
) -> tuple[Agent | None, bool]:
    """PostgreSQL: agent_set_status for the agent named ``identity`` in one statement — the
    agent read with its row locked, and, when the move applies, its open interval closed, the
    new one opened and the agent's status and ``also`` fields written.

    The move applies when the agent is not already in ``status`` nor in wrap-up (whose end
    writes the wrap-up time on a visit: agent_set_status does that) and, with
    ``on_call_sid``, is on that call (agent_call_ended's rule). The statement's writes see
    the database as it was when the statement began; so they are made only if the row the
    lock returned is the version that snapshot holds (its ``xmin``): a move another
    transaction committed while this one waited for the lock makes the writes skip, and the
    caller goes on with the locked row the old way (agent_set_status, ``locked=True``), no
    read again. Returns the agent as locked (None: no such agent), moved or not: moved, it
    holds the new values; not moved, the values it had.

    ``wrap_up_zero_visit_id``: when the agent moves and that visit is the agent's current one,
    a wrap-up of 0 is written on it (if none yet) in the same statement; ``agent.wrap_up_zeroed``
    says whether it was."""
    also = also or {}
    connection = transaction.get_connection()
    fields = {name: Agent._meta.get_field(name) for name in also}

    def prep(field, value):
        return field.get_db_prep_save(value, connection)

    moment_field = Agent._meta.get_field("status_changed_at")
    values = {
        "identity": identity,
        "status": status,
        "wrap_up": AgentStatus.WRAP_UP.value,
        "on_call": AgentStatus.ON_CALL.value,
        "now": prep(moment_field, now),
        "wrap_up_until": prep(
            moment_field, wrap_up_until if status == AgentStatus.WRAP_UP else None
        ),
        "call_sid": on_call_sid or "",
        "visit_id": wrap_up_zero_visit_id,
        **{f"also_{name}": prep(field, also[name]) for name, field in fields.items()},
    }
    condition = "cur.status <> %(status)s AND cur.status <> %(wrap_up)s"
    if on_call_sid is not None:
        condition += (
            " AND cur.status = %(on_call)s AND (cur.current_call_sid = ''"
            " OR %(call_sid)s = '' OR cur.current_call_sid = %(call_sid)s)"
        )
    zero_sql, zeroed_column = "", "FALSE"
    if wrap_up_zero_visit_id is not None:
        visits = QueueVisit._meta.db_table
        zero_sql = (
            f", zeroed AS (UPDATE {visits} SET wrap_up_seconds = 0 FROM ok"
            f" WHERE {visits}.id = %(visit_id)s AND ok.current_visit_id = %(visit_id)s"
            f" AND {visits}.wrap_up_seconds IS NULL RETURNING {visits}.id)"
        )
        zeroed_column = "EXISTS (SELECT 1 FROM zeroed)"
    also_sql = "".join(f", {field.column} = %(also_{name})s" for name, field in fields.items())
    sql = (
        f"WITH cur AS (SELECT {_AGENT_COLUMNS}, xmin::text AS version FROM {_AGENT_TABLE}"
        " WHERE identity = %(identity)s FOR UPDATE),"
        f" snap AS (SELECT xmin::text AS version FROM {_AGENT_TABLE}"
        " WHERE identity = %(identity)s),"
        " ok AS (SELECT cur.id, cur.current_visit_id,"
        " GREATEST(%(now)s, COALESCE(cur.status_changed_at, %(now)s)) AS at"
        f" FROM cur JOIN snap ON snap.version = cur.version WHERE {condition}),"
        f" closed AS (UPDATE {_INTERVAL_TABLE} SET ended_at = GREATEST(ok.at, started_at)"
        f" FROM ok WHERE agent_id = ok.id AND ended_at IS NULL RETURNING agent_id),"
        # Reading `closed` (in a join the planner cannot drop) makes the old interval closed
        # before the new one is opened: one open interval per agent, a unique constraint.
        f" opened AS (INSERT INTO {_INTERVAL_TABLE} (agent_id, status, started_at, ended_at)"
        " SELECT ok.id, %(status)s, ok.at, NULL FROM ok"
        " JOIN (SELECT COUNT(*) AS n FROM closed) AS c ON c.n >= 0 RETURNING id, started_at),"
        f" moved AS (UPDATE {_AGENT_TABLE} SET status = %(status)s, status_changed_at = ok.at,"
        f" wrap_up_until = %(wrap_up_until)s, missed_until = NULL{also_sql}"
        f" FROM ok WHERE {_AGENT_TABLE}.id = ok.id RETURNING {_AGENT_TABLE}.id){zero_sql}"
        " SELECT cur.*, opened.id AS opened_id, opened.started_at AS opened_at,"
        f" {zeroed_column} AS wrap_up_zeroed"
        " FROM cur LEFT JOIN moved ON moved.id = cur.id LEFT JOIN opened ON moved.id IS NOT NULL"
    )
    rows = list(Agent.objects.raw(sql, values))
    if not rows:
        return None, False
    agent = rows[0]
    if agent.opened_id is None:
        return agent, False
    at = agent.opened_at
    interval = AgentStatusInterval(id=agent.opened_id, agent=agent, status=status, started_at=at)
    # The receivers of a new interval (reports: a stored hour to forget) hear of it as of a save.
    post_save.send(
        sender=AgentStatusInterval,
        instance=interval,
        created=True,
        update_fields=None,
        raw=False,
        using=agent._state.db,
    )
    for name, value in also.items():
        setattr(agent, name, value)
    agent.status = status
    agent.status_changed_at = at
    agent.wrap_up_until = wrap_up_until if status == AgentStatus.WRAP_UP else None
    agent.missed_until = None
    _status_signal(agent)
    return agent, True


def agent_call_connected(*, visit: QueueVisit, now: datetime) -> Agent | None:
    """A queued caller was bridged to the agent the visit names (queues' connect URL)."""
    if _moves_in_one_statement():
        agent, moved = _agent_move_by_identity(
            identity=visit.agent_identity,
            status=AgentStatus.ON_CALL,
            now=now,
            also={"current_call_sid": visit.agent_call_sid[:34], "current_visit_id": visit.pk},
        )
        if agent is None or moved:
            return agent
        locked = True
    else:
        agent, locked = _agent_locked_by_identity(visit.agent_identity)
    if agent is None:
        return None
    return agent_call_started(
        agent=agent, agent_call_sid=visit.agent_call_sid, visit=visit, now=now, locked=locked
    )


def agent_talk_ended(*, visit: QueueVisit, now: datetime) -> Agent | None:
    """The agent's Dial action recorded the talk of ``visit``: the agent's call ended."""
    if _moves_in_one_statement():
        seconds = visit.queue.wrap_up_seconds
        status = AgentStatus.WRAP_UP if seconds else AgentStatus.AVAILABLE
        agent, moved = _agent_move_by_identity(
            identity=visit.agent_identity,
            status=status,
            now=now,
            wrap_up_until=now + timedelta(seconds=seconds) if seconds else None,
            also={"last_call_ended_at": now},
            on_call_sid=visit.agent_call_sid,
            wrap_up_zero_visit_id=None if seconds else visit.pk,
        )
        if agent is None:
            return None
        if moved:
            if agent.wrap_up_zeroed:
                visit_wrap_up_written(visit=visit, seconds=0)
            elif not seconds:
                _wrap_up_zero(visit=visit, current_visit_id=agent.current_visit_id)
            return agent
        locked = True
    else:
        agent, locked = _agent_locked_by_identity(visit.agent_identity)
    if agent is None:
        return None
    return agent_call_ended(
        agent=agent,
        agent_call_sid=visit.agent_call_sid,
        queue=visit.queue,
        now=now,
        locked=locked,
        visit=visit,
    )


def agent_call_ended(
    *,
    agent: Agent,
    agent_call_sid: str,
    queue: Queue | None,
    now: datetime,
    locked: bool = False,
    visit: QueueVisit | None = None,
) -> Agent:
    """The agent's call ended: wrap-up for the queue's wrap-up time, else available.

    Only the call the agent is on ends it: a late or repeated report about an earlier call,
    or one arriving after the agent moved on, changes nothing. ``locked``: as for
    agent_set_status; ``visit``: the visit whose talk queues' talk_recorded reports (a
    wrap-up of 0 is written on it without reading it again; another visit is read first).
    """
    if agent.status != AgentStatus.ON_CALL:
        return agent
    if agent.current_call_sid and agent_call_sid and agent.current_call_sid != agent_call_sid:
        return agent
    seconds = queue.wrap_up_seconds if queue is not None else 0
    if seconds:
        return agent_set_status(
            agent=agent,
            status=AgentStatus.WRAP_UP,
            now=now,
            wrap_up_until=now + timedelta(seconds=seconds),
            locked=locked,
            also={"last_call_ended_at": now},
        )
    if queue is not None:
        _wrap_up_zero(visit=visit, current_visit_id=agent.current_visit_id)
    return agent_set_status(
        agent=agent,
        status=AgentStatus.AVAILABLE,
        now=now,
        locked=locked,
        also={"last_call_ended_at": now},
    )


def _wrap_up_zero(*, visit: QueueVisit | None, current_visit_id: int | None) -> None:
    """The agent is free at once after the call of ``current_visit_id``: a wrap-up of 0 on it
    (written on ``visit`` without reading it again when that is the one)."""
    if visit is not None and visit.pk == current_visit_id:
        visit_record_wrap_up(visit_id=visit.pk, seconds=0, visit=visit)
    else:
        visit_record_wrap_up(visit_id=current_visit_id, seconds=0)


# --- Customers and contact notes


def customer_create(
    *, phone_number: str, name: str = "", company: str = "", email: str = "", notes: str = ""
) -> Customer:
    e164 = to_e164(phone_number)
    if e164 is None:
        raise ValidationError(_("“%(number)s” is not a phone number.") % {"number": phone_number})
    if email:
        validate_email(email)
    try:
        with transaction.atomic():
            return Customer.objects.create(
                phone_number=e164,
                name=name.strip(),
                company=company.strip(),
                email=email.strip(),
                notes=notes,
            )
    except IntegrityError:
        raise ValidationError(
            _("A customer with the number %(number)s already exists.") % {"number": e164}
        ) from None


def contact_note_create(
    *,
    agent: Agent,
    now: datetime,
    text: str = "",
    disposition: Disposition | None = None,
    customer: Customer | None = None,
    phone_number: str = "",
    call_sid: str = "",
    queue: Queue | None = None,
) -> ContactNote:
    text = text.strip()
    if disposition is None and not text:
        raise ValidationError(_("Choose a disposition or write a note."))
    if disposition is not None and not disposition.is_active:
        raise ValidationError(_("This disposition is no longer in use."))
    if customer is not None:
        phone_number = customer.phone_number
    return ContactNote.objects.create(
        agent=agent,
        customer=customer,
        phone_number=phone_number[:128],
        call_sid=call_sid[:34],
        queue=queue,
        disposition=disposition,
        text=text,
        created_at=now,
    )


@dataclass
class CustomerImport:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def customers_import_csv(*, data: bytes) -> CustomerImport:
    """Create or update customers from CSV (UTF-8, BOM allowed; header row of column names).

    Rows are matched on the phone number in E.164; a row with a bad number or email is
    reported and skipped, the others are kept.
    """
    result = CustomerImport()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.errors.append(_("The file is not UTF-8 text."))
        return result
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "phone_number" not in reader.fieldnames:
        result.errors.append(_("The first row must name the columns, including phone_number."))
        return result
    with transaction.atomic():
        for line, row in enumerate(reader, start=2):
            raw = (row.get("phone_number") or "").strip()
            e164 = to_e164(raw)
            if e164 is None:
                result.errors.append(
                    _("Line %(line)d: “%(number)s” is not a phone number.")
                    % {"line": line, "number": raw}
                )
                continue
            values = {
                name: (row.get(name) or "").strip()
                for name in CUSTOMER_CSV_COLUMNS[1:]
                if row.get(name) is not None
            }
            too_long = [
                name
                for name, value in values.items()
                if len(value) > Customer._meta.get_field(name).max_length
            ]
            if too_long:
                result.errors.append(
                    _("Line %(line)d: %(column)s is too long.")
                    % {"line": line, "column": too_long[0]}
                )
                continue
            if values.get("email"):
                try:
                    validate_email(values["email"])
                except ValidationError:
                    result.errors.append(
                        _("Line %(line)d: “%(email)s” is not an email address.")
                        % {"line": line, "email": values["email"]}
                    )
                    continue
            customer = Customer.objects.filter(phone_number=e164).first()
            if customer is None:
                Customer.objects.create(phone_number=e164, **values)
                result.created += 1
                continue
            changed = [name for name, value in values.items() if getattr(customer, name) != value]
            if changed:
                for name in changed:
                    setattr(customer, name, values[name])
                customer.save(update_fields=[*changed, "updated_at"])
                result.updated += 1
    return result
