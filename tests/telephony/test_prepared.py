"""telephony.prepared: a queryset built and compiled once, run again with new values, gives
what the ORM gives for the same values."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.db.models import (
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Value,
)
from django.db.models.functions import Coalesce
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from telephony.models import Call, CallStatusEvent
from telephony.prepared import Family, Param, Prepared

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _call(sid: str, *, minutes: int, status: str = "in-progress", **fields) -> Call:
    return Call.objects.create(
        sid=sid, started_at=T0 + timedelta(minutes=minutes), status=status, **fields
    )


def _events(call: Call, *statuses: str) -> None:
    for number, status in enumerate(statuses, start=1):
        CallStatusEvent.objects.create(
            call=call, sequence_number=number, status=status, timestamp=T0
        )


def _recent(since, status):
    """Calls started after ``since`` with ``status``, with an annotation and a subquery."""
    has_events = CallStatusEvent.objects.filter(call=OuterRef("pk"), status=status)
    return (
        Call.objects.filter(started_at__gt=since)
        .annotate(
            ended_or_epoch=Coalesce(
                "ended_at", Value(datetime(2000, 1, 1, tzinfo=UTC)), output_field=DateTimeField()
            ),
            reported=Exists(has_events),
            twice=F("duration_seconds") * 2,
        )
        .order_by("started_at", "pk")
    )


def _as_tuples(calls) -> list[tuple]:
    return [
        (
            call.pk,
            call.sid,
            call.started_at,
            call.ended_at,
            call.bridged,
            call.ended_or_epoch,
            call.reported,
            call.twice,
        )
        for call in calls
    ]


@pytest.fixture
def calls():
    first = _call("CA1", minutes=1, duration_seconds=10, bridged=True)
    second = _call("CA2", minutes=2, ended_at=T0 + timedelta(minutes=3))
    third = _call("CA3", minutes=3, status="completed", duration_seconds=7)
    _events(first, "ringing", "in-progress")
    _events(third, "completed")
    return first, second, third


def test_each_run_binds_its_values_and_gives_what_the_orm_gives(calls):
    recent = Prepared(
        lambda: _recent(Param("since", DateTimeField()), Param("status", CharField()))
    )

    for since, status in [(T0, "ringing"), (T0 + timedelta(minutes=1), "completed"), (T0, "busy")]:
        assert _as_tuples(recent.rows(since=since, status=status)) == _as_tuples(
            _recent(since, status)
        )


def test_the_queryset_is_built_once_per_database(calls):
    built = []

    def build():
        built.append(1)
        return Call.objects.filter(started_at__gt=Param("since", DateTimeField())).order_by("pk")

    recent = Prepared(build)
    for minutes in range(4):
        recent.rows(since=T0 + timedelta(minutes=minutes))

    assert len(built) == 1


def test_select_related_rows_carry_the_related_instance(calls):
    first, *_ = calls
    events = Prepared(
        lambda: (
            CallStatusEvent.objects.select_related("call")
            .filter(call_id=Param("call", IntegerField()))
            .order_by("sequence_number")
        )
    )

    found = events.rows(call=first.pk)

    assert [(e.status, e.call.sid, e.call.started_at) for e in found] == [
        ("ringing", "CA1", first.started_at),
        ("in-progress", "CA1", first.started_at),
    ]
    with CaptureQueriesContext(connection) as queries:
        assert found[0].call.bridged is True
    assert len(queries) == 0


def test_first_exists_and_count(calls):
    later = Prepared(
        lambda: Call.objects.filter(started_at__gt=Param("since", DateTimeField())).order_by(
            "-started_at"
        )[:1]
    )
    of_status = Prepared(lambda: Call.objects.filter(status=Param("status", CharField())))

    assert later.first(since=T0).sid == "CA3"
    assert later.first(since=T0 + timedelta(hours=1)) is None
    assert of_status.exists(status="completed") is True
    assert of_status.exists(status="busy") is False
    assert of_status.count(status="in-progress") == 2
    assert of_status.count(status="busy") == 0


def test_get_gives_the_row_or_raises_the_models_does_not_exist(calls):
    by_sid = Prepared(lambda: Call.objects.filter(sid=Param("sid", CharField())).order_by("pk")[:1])

    assert by_sid.get(sid="CA2").pk == calls[1].pk
    with pytest.raises(Call.DoesNotExist):
        by_sid.get(sid="CA404")


def test_count_counts_rows_not_joined_duplicates(calls):
    with_events = Prepared(
        lambda: Call.objects.filter(
            status_events__timestamp__gte=Param("at", DateTimeField())
        ).annotate(events=Count("status_events"))
    )

    assert (
        with_events.count(at=T0)
        == Call.objects.filter(status_events__timestamp__gte=T0)
        .annotate(events=Count("status_events"))
        .count()
    )


def test_update_changes_the_rows_its_values_name_and_says_how_many(calls):
    first, second, third = calls
    mark = Prepared(
        lambda: (
            Call.objects.filter(pk=Param("pk", IntegerField()), bridged=False),
            {"bridged": True, "duration_seconds": Param("seconds", IntegerField())},
        )
    )

    assert mark.update(pk=second.pk, seconds=5) == 1
    assert mark.update(pk=second.pk, seconds=6) == 0  # already marked
    assert mark.update(pk=first.pk, seconds=6) == 0

    second.refresh_from_db()
    first.refresh_from_db()
    assert (second.bridged, second.duration_seconds) == (True, 5)
    assert (first.bridged, first.duration_seconds) == (True, 10)


@pytest.mark.django_db(transaction=True)
def test_a_locking_read_outside_a_transaction_is_refused_as_the_orm_refuses_it():
    if not connection.features.has_select_for_update:
        pytest.skip("this database locks no rows (SQLite): nothing to refuse")
    call = _call("CA1", minutes=1)
    locked = Prepared(
        lambda: Call.objects.select_for_update().filter(pk=Param("pk", IntegerField()))
    )
    with transaction.atomic():
        assert locked.first(pk=call.pk).sid == "CA1"

    with pytest.raises(TransactionManagementError):
        locked.first(pk=call.pk)
    with pytest.raises(TransactionManagementError):
        Call.objects.select_for_update().filter(pk=call.pk).first()


@pytest.mark.django_db(transaction=True)
def test_another_thread_runs_it_on_its_own_connection():
    _call("CA9", minutes=1)
    recent = Prepared(
        lambda: Call.objects.filter(started_at__gt=Param("since", DateTimeField())).order_by("pk")
    )
    assert [c.sid for c in recent.rows(since=T0)] == ["CA9"]
    found, failed = [], []

    def run():
        try:
            found.extend(c.sid for c in recent.rows(since=T0))
        except Exception as exc:  # reported below, in the test's thread
            failed.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()

    assert failed == []
    assert found == ["CA9"]


def test_a_family_makes_a_statement_once_per_key_and_keeps_a_bounded_number():
    made = []

    def make(statuses):
        made.append(statuses)
        return Prepared(lambda: Call.objects.filter(status__in=statuses).order_by("pk"))

    family = Family(make, size=2)
    _call("CA1", minutes=1, status="ringing")
    _call("CA2", minutes=2, status="completed")

    assert [c.sid for c in family[("ringing",)].rows()] == ["CA1"]
    assert [c.sid for c in family[("ringing", "completed")].rows()] == ["CA1", "CA2"]
    assert [c.sid for c in family[("ringing",)].rows()] == ["CA1"]
    assert made == [("ringing",), ("ringing", "completed")]

    family[("busy",)]  # a third key: the two kept are let go
    family[("ringing",)]
    assert made == [("ringing",), ("ringing", "completed"), ("busy",), ("ringing",)]


@pytest.mark.parametrize(
    "build",
    [
        lambda: Call.objects.filter(pk=Param("pk", IntegerField())).values("sid"),
        lambda: Call.objects.filter(pk=Param("pk", IntegerField())).prefetch_related(
            "status_events"
        ),
    ],
    ids=["values", "prefetch_related"],
)
def test_what_a_prepared_read_cannot_replay_is_refused(build, calls):
    with pytest.raises(ValueError, match="prepared read gives instances"):
        Prepared(build).rows(pk=calls[0].pk)
