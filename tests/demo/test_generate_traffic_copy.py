"""generate_traffic on PostgreSQL: the COPY text holds exactly the rows the row builders make
(bulk_create), and a large run that sets the tables' plain indexes aside puts them back exactly
as they were, also when it fails half-way."""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection

from demo.traffic import BULK_TABLES, traffic_generate
from queues.models import QueueVisit
from reports.models import QueueHourStats
from telephony.models import Call
from tests.reports.test_generate_traffic import snapshot, wipe

pytestmark = pytest.mark.django_db
RUN = {"days": 3, "calls_per_day": 400, "seed": 7}


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("COPY and index definitions: run with DATABASE_URL=postgres://…")


def indexes():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = ANY(%s::regclass[])",
            [[model._meta.db_table for model in BULK_TABLES]],
        )
        return sorted(cursor.fetchall())


def ids():
    """The keys too: the visits point at the caller legs' ids taken from the sequence."""
    calls = Call.objects.order_by("sid").values_list("sid", "id")
    first = calls[0][1]
    return (
        [(sid, pk - first) for sid, pk in calls],
        sorted(
            (sid, pk - first) for sid, pk in QueueVisit.objects.values_list("call__sid", "call_id")
        ),
    )


@pytest.mark.parametrize(
    ("zone", "end"),
    [("Asia/Tokyo", "2026-11-10"), ("America/New_York", "2026-11-02")],
    ids=["tokyo", "dst-ends"],
)
def test_copy_writes_the_rows_the_builders_make(settings, zone, end):
    settings.TIME_ZONE = zone
    run = {**RUN, "end": date.fromisoformat(end)}
    traffic_generate(**run, copy=False)
    built = snapshot(), ids()
    assert all(built[0])
    for rebuild in (False, True):
        wipe()
        totals = traffic_generate(**run, copy=True, rebuild_indexes=rebuild)
        assert totals.indexes_rebuilt is rebuild
        assert (snapshot(), ids()) == built, rebuild


def test_the_indexes_are_set_aside_and_put_back_exactly():
    before = indexes()
    assert len([name for name, definition in before if "UNIQUE" not in definition]) > 10
    seen = []

    def progress(done, day, totals):
        # During the run only the primary keys and unique indexes are there.
        seen.append(indexes())

    traffic_generate(**RUN, end=date(2026, 11, 10), rebuild_indexes=True, progress=progress)
    assert indexes() == before
    assert {definition for _name, definition in seen[0]} == {
        definition for _name, definition in before if "UNIQUE" in definition
    }
    assert QueueVisit.objects.count() > 500
    assert QueueHourStats.objects.exists()


def test_a_run_that_fails_half_way_leaves_the_indexes_and_no_rows():
    before = indexes()

    def progress(done, day, totals):
        if done == 2:
            raise RuntimeError("stopped")

    with pytest.raises(RuntimeError, match="stopped"):
        traffic_generate(**RUN, end=date(2026, 11, 10), rebuild_indexes=True, progress=progress)
    assert indexes() == before
    assert not Call.objects.exists()


def test_the_command_says_when_it_built_the_indexes_again():
    args = ["--days", "2", "--calls-per-day", "200", "--end", "2026-11-10"]
    out = io.StringIO()
    call_command("generate_traffic", *args, "--seed", "1", stdout=out)
    assert "built again at its end" in out.getvalue()
    out = io.StringIO()
    # Fewer visits than the table holds: a transaction a day, the indexes in place.
    smaller = [*args[:2], "--calls-per-day", "20", *args[4:], "--seed", "2"]
    call_command("generate_traffic", *smaller, stdout=out)
    assert "built again" not in out.getvalue()
