"""Named clocks (routing.Clock rows) that coordinate every web process and worker through the
database: a lock, a pacer and "is this periodic job due?". Each is one UPDATE of one row, which
PostgreSQL and SQLite both make wait for (and exclude) any other writer of that row."""

from datetime import datetime, timedelta

from django.db import IntegrityError, connections, transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Greatest

from .models import Clock

ROUTING_LOCK = "routing"
REST_PACER = "twilio-rest"


def _ensure(name: str, at: datetime) -> None:
    if not Clock.objects.filter(name=name).exists():
        try:
            with transaction.atomic():
                Clock.objects.create(name=name, at=at)
        except IntegrityError:
            pass  # another process created it a moment ago


def clock_lock(*, name: str, now: datetime) -> None:
    """Hold the clock ``name`` until the current transaction ends (every routing decision runs
    under the routing lock: decisions are taken one at a time, in whatever process)."""
    if not Clock.objects.filter(name=name).update(at=now):
        _ensure(name, now)
        Clock.objects.filter(name=name).update(at=now)


def clock_take_if_due(*, name: str, now: datetime, every: timedelta) -> bool:
    """True for exactly one caller per period: the one whose UPDATE moved the clock on."""
    _ensure(name, now)
    return bool(Clock.objects.filter(name=name, at__lte=now).update(at=now + every))


def clock_mark(*, name: str, now: datetime) -> bool:
    """Record that something was begun: True for the one caller that created the clock
    ``name``, False when it already existed (begun before, perhaps by a worker that died)."""
    try:
        with transaction.atomic():
            Clock.objects.create(name=name, at=now)
    except IntegrityError:
        return False
    return True


def clock_unmark(*, name: str) -> None:
    Clock.objects.filter(name=name).delete()


def clock_next_slot(*, name: str, now: datetime, spacing: timedelta) -> datetime:
    """The next free moment of a pacer: slots are ``spacing`` apart across all processes. The
    caller waits until the returned moment before acting. One UPDATE moves the clock to the
    later of ``now`` and its last slot plus ``spacing`` (it waits for any other writer of the
    row), so no two callers get the same slot."""
    slot = _advance(name, now, spacing)
    if slot is None:
        _ensure(name, now - spacing)
        slot = _advance(name, now, spacing)
    return slot


def _advance(name: str, now: datetime, spacing: timedelta) -> datetime | None:
    database = connections[Clock.objects.db]
    if database.vendor == "postgresql":  # the new moment comes back with the UPDATE itself
        with database.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Clock._meta.db_table} SET at = GREATEST(%s, at + %s)"
                " WHERE name = %s RETURNING at",
                [now, spacing, name],
            )
            row = cursor.fetchone()
        return row[0] if row else None
    with transaction.atomic():
        if not Clock.objects.filter(name=name).update(
            at=Greatest(Value(now, output_field=DateTimeField()), F("at") + spacing)
        ):
            return None
        return Clock.objects.values_list("at", flat=True).get(name=name)
