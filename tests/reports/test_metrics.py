"""docs/api.md §7's metrics, one crafted visit at a time (run on SQLite and PostgreSQL)."""

from datetime import date, timedelta

import pytest

from queues.models import QueueResult, QueueVisit
from reports import metrics
from reports.metrics import DateRange, Interval
from reports.models import QueueHourStats
from tests.factories import make_visit, tokyo

pytestmark = pytest.mark.django_db

DAY = DateRange(date(2026, 11, 2), date(2026, 11, 2))


def total(queue, date_range=DAY):
    [row] = metrics.queue_report(date_range=date_range, interval=Interval.TOTAL, queues=[queue])
    return row


@pytest.fixture
def mixed_day(support):
    at = tokyo(2026, 11, 2, 10, 0, 0)
    make_visit(support, at, QueueResult.BRIDGED, 10, answered=True, agent="a1", talk=100)
    # A wait exactly at the 20 s threshold is within the service level.
    make_visit(
        support, at, QueueResult.BRIDGED, 20, answered=True, agent="a1", talk=200, wrap_up=10
    )
    make_visit(support, at, QueueResult.BRIDGED, 21, answered=True, agent="a2", talk=300)
    make_visit(support, at, QueueResult.HANGUP, 3)  # short abandon: 3 < 5
    make_visit(support, at, QueueResult.HANGUP, 5)  # not short: 5 is not < 5
    make_visit(support, at, QueueResult.LEAVE, 60)
    make_visit(support, at, QueueResult.QUEUE_FULL, 0)
    make_visit(support, at, QueueResult.WAITING)
    # Connect URL reached, then the caller hung up: answered, still talking (no talk time yet).
    make_visit(support, at, QueueResult.HANGUP, 8, answered=True, agent="a2")
    return support


def test_it_counts_each_outcome_by_the_contract(mixed_day):
    row = total(mixed_day)
    assert row["offered"] == 8  # the queue-full refusal is not offered
    assert row["rejected"] == 1
    assert row["answered"] == 4
    assert row["abandoned"] == 2
    assert row["short_abandoned"] == 1
    assert row["overflowed"] == 1


def test_it_computes_the_ratios_and_means(mixed_day):
    row = total(mixed_day)
    assert row["abandon_rate"] == round(1 / 7, 4) == 0.1429
    assert row["asa_seconds"] == 14.75  # (10 + 20 + 21 + 8) / 4
    assert row["service_level"] == round(3 / 7, 4)  # waits 10, 20 (at the threshold) and 8
    assert row["service_level_seconds"] == 20
    assert row["aht_seconds"] == round((100 + 210 + 300) / 3, 4)  # the one still talking is out
    assert row["longest_wait_seconds"] == 60


def test_it_uses_each_queues_own_thresholds(support, sales):
    at = tokyo(2026, 11, 2, 9)
    for queue in (support, sales):
        make_visit(queue, at, QueueResult.BRIDGED, 25, answered=True, agent="a1", talk=60)
        make_visit(queue, at, QueueResult.HANGUP, 7)
    support_row, sales_row = total(support), total(sales)
    assert (support_row["service_level"], support_row["short_abandoned"]) == (0.0, 0)
    assert (sales_row["service_level"], sales_row["short_abandoned"]) == (1.0, 1)
    assert sales_row["service_level_seconds"] == 30


def test_zero_denominators_and_means_over_nothing_are_null(support):
    row = total(support)
    assert row["offered"] == 0
    assert row["abandon_rate"] is None
    assert row["service_level"] is None
    assert row["asa_seconds"] is None
    assert row["aht_seconds"] is None
    assert row["longest_wait_seconds"] is None


def test_only_short_abandons_leave_the_ratios_null(support):
    make_visit(support, tokyo(2026, 11, 2, 12), QueueResult.HANGUP, 1)
    row = total(support)
    assert (row["offered"], row["abandoned"], row["short_abandoned"]) == (1, 1, 1)
    assert row["abandon_rate"] is None
    assert row["service_level"] is None
    assert row["longest_wait_seconds"] == 1


def test_a_visit_belongs_to_the_local_day_it_entered(support):
    make_visit(support, tokyo(2026, 11, 2, 23, 59, 59), QueueResult.HANGUP, 30)
    make_visit(
        support,
        tokyo(2026, 11, 3, 0, 0, 0),
        QueueResult.BRIDGED,
        4,
        answered=True,
        agent="a1",
        talk=50,
    )
    rows = metrics.queue_report(
        date_range=DateRange(date(2026, 11, 2), date(2026, 11, 3)),
        interval=Interval.DAY,
        queues=[support],
    )
    assert [(r["period_start"], r["offered"], r["abandoned"], r["answered"]) for r in rows] == [
        ("2026-11-02T00:00:00+09:00", 1, 1, 0),
        ("2026-11-03T00:00:00+09:00", 1, 0, 1),
    ]


def test_the_range_ends_at_local_midnight_after_the_end_date(support):
    make_visit(support, tokyo(2026, 11, 2, 0, 0, 0), QueueResult.HANGUP, 30)
    make_visit(support, tokyo(2026, 11, 2, 23, 59, 59), QueueResult.HANGUP, 30)
    make_visit(support, tokyo(2026, 11, 3, 0, 0, 0), QueueResult.HANGUP, 30)
    make_visit(support, tokyo(2026, 11, 1, 23, 59, 59), QueueResult.HANGUP, 30)
    assert total(support)["offered"] == 2


def test_hour_buckets_are_local_hours_with_every_hour_listed(support):
    make_visit(support, tokyo(2026, 11, 2, 23, 59, 59), QueueResult.HANGUP, 30)
    make_visit(support, tokyo(2026, 11, 2, 0, 0, 0), QueueResult.HANGUP, 30)
    rows = metrics.queue_report(date_range=DAY, interval=Interval.HOUR, queues=[support])
    assert len(rows) == 24
    assert rows[0]["period_start"] == "2026-11-02T00:00:00+09:00"
    assert rows[23]["period_start"] == "2026-11-02T23:00:00+09:00"
    assert [row["offered"] for row in rows] == [1] + [0] * 22 + [1]


def test_week_buckets_start_on_monday_and_month_buckets_on_the_first(support):
    make_visit(support, tokyo(2026, 11, 1, 8), QueueResult.HANGUP, 30)  # a Sunday
    make_visit(support, tokyo(2026, 11, 2, 8), QueueResult.HANGUP, 30)  # a Monday
    make_visit(support, tokyo(2026, 12, 1, 0), QueueResult.HANGUP, 30)
    date_range = DateRange(date(2026, 11, 1), date(2026, 12, 1))
    weeks = metrics.queue_report(date_range=date_range, interval=Interval.WEEK, queues=[support])
    assert [(r["period_start"][:10], r["offered"]) for r in weeks] == [
        ("2026-10-26", 1),
        ("2026-11-02", 1),
        ("2026-11-09", 0),
        ("2026-11-16", 0),
        ("2026-11-23", 0),
        ("2026-11-30", 1),
    ]
    months = metrics.queue_report(date_range=date_range, interval=Interval.MONTH, queues=[support])
    assert [(r["period_start"], r["offered"]) for r in months] == [
        ("2026-11-01T00:00:00+09:00", 2),
        ("2026-12-01T00:00:00+09:00", 1),
    ]


def test_the_total_is_dated_by_the_start_of_the_range(support):
    assert total(support)["period_start"] == "2026-11-02T00:00:00+09:00"


def test_it_follows_the_configured_time_zone(settings, support):
    settings.TIME_ZONE = "UTC"
    make_visit(support, tokyo(2026, 11, 2, 8, 59, 59), QueueResult.HANGUP, 30)  # 1 Nov in UTC
    make_visit(support, tokyo(2026, 11, 2, 9, 0, 0), QueueResult.HANGUP, 30)
    row = total(support)
    assert (row["period_start"], row["offered"]) == ("2026-11-02T00:00:00+00:00", 1)


class TestAgentReport:
    def test_it_counts_answered_calls_and_handle_time_per_agent(self, mixed_day):
        now = tokyo(2026, 11, 3, 12)
        rows = {row["agent"]: row for row in metrics.agent_report(date_range=DAY, now=now)}
        assert rows["a1"] == {
            "agent": "a1",
            "answered": 2,
            "talk_seconds": 300,
            "aht_seconds": 155.0,
            "available_seconds": 0,
            "occupancy": None,
            "offers": 0,
            "missed": 0,
            "rejected": 0,
            "ring_seconds_avg": None,
            "hold_seconds": 0,
            "transfers_out": 0,
        }
        assert rows["a2"]["answered"] == 2
        assert rows["a2"]["talk_seconds"] == 300
        assert rows["a2"]["aht_seconds"] == 300.0

    def test_it_clips_status_intervals_to_the_range(self, db, django_user_model):
        from agents.models import Agent, AgentStatus, AgentStatusInterval

        user = django_user_model.objects.create_user("a9")
        agent = Agent.objects.create(user=user, identity="a9")
        start = tokyo(2026, 11, 2, 0, 0, 0)

        def interval(status, begins, ends):
            AgentStatusInterval.objects.create(
                agent=agent, status=status, started_at=begins, ended_at=ends
            )

        # One hour available, of which 30 minutes fall on the day before the range.
        minutes = [start + timedelta(minutes=n) for n in range(61)]
        interval(AgentStatus.AVAILABLE, start - timedelta(minutes=30), minutes[30])
        interval(AgentStatus.ON_CALL, start + timedelta(minutes=30), start + timedelta(minutes=40))
        interval(AgentStatus.WRAP_UP, start + timedelta(minutes=40), start + timedelta(minutes=50))
        interval(AgentStatus.BREAK, start + timedelta(minutes=50), start + timedelta(minutes=60))
        # Still available now (no end), 10 minutes before "now".
        now = start + timedelta(hours=2)
        interval(AgentStatus.AVAILABLE, now - timedelta(minutes=10), None)
        [row] = metrics.agent_report(date_range=DAY, now=now)
        assert row["available_seconds"] == 40 * 60
        assert row["occupancy"] == round(20 / 60, 4)
        # An interval ending after the range counts only up to its end.
        [later] = metrics.agent_report(
            date_range=DateRange(date(2026, 11, 1), date(2026, 11, 1)), now=now
        )
        assert later["available_seconds"] == 30 * 60
        assert later["occupancy"] == 0.0


class TestSettledHours:
    """Settled hours are added up once and kept; the figures never depend on it."""

    def report(self, queue, now, interval=Interval.HOUR):
        return metrics.queue_report(
            date_range=DateRange(date(2026, 11, 1), date(2026, 11, 3)),
            interval=interval,
            queues=[queue],
            now=now,
        )

    @pytest.fixture
    def busy(self, mixed_day):
        make_visit(mixed_day, tokyo(2026, 11, 1, 23, 59, 59), QueueResult.HANGUP, 30)
        make_visit(
            mixed_day,
            tokyo(2026, 11, 3, 0, 0, 0),
            QueueResult.BRIDGED,
            9,
            answered=True,
            agent="a1",
            talk=20,
        )
        return mixed_day

    @pytest.mark.parametrize("interval", [Interval.HOUR, Interval.DAY, Interval.TOTAL])
    def test_stored_live_and_mixed_give_the_same_rows(self, busy, interval):
        live = self.report(busy, tokyo(2026, 11, 1, 0), interval)
        assert QueueHourStats.objects.count() == 0
        # Two hours after 10:30 on the 2nd: hours up to 10:00 on the 2nd are settled.
        mixed = self.report(busy, tokyo(2026, 11, 2, 12, 30), interval)
        assert QueueHourStats.objects.count() == 24 + 10
        settled = self.report(busy, tokyo(2027, 1, 1), interval)
        assert QueueHourStats.objects.count() == 72
        again = self.report(busy, tokyo(2027, 1, 1), interval)
        assert live == mixed == settled == again
        assert sum(row["offered"] for row in settled) == 10

    def test_an_old_visit_saved_again_is_counted_anew(self, busy):
        later = tokyo(2027, 1, 1)
        assert sum(row["abandoned"] for row in self.report(busy, later)) == 3
        visit = QueueVisit.objects.get(entered_at=tokyo(2026, 11, 1, 23, 59, 59))
        visit.result = QueueResult.BRIDGED
        visit.answered_at = visit.entered_at + timedelta(seconds=30)
        visit.save(update_fields=["result", "answered_at"])
        rows = self.report(busy, later)
        assert sum(row["abandoned"] for row in rows) == 2
        assert sum(row["answered"] for row in rows) == 6

    def test_new_thresholds_are_applied_to_stored_hours(self, busy):
        later = tokyo(2027, 1, 1)
        [before] = self.report(busy, later, Interval.TOTAL)
        busy.service_level_seconds = 10
        busy.save(update_fields=["service_level_seconds"])
        [after] = self.report(busy, later, Interval.TOTAL)
        # Waits 10, 20, 8 and 9 within 20 s, then 10, 8 and 9 within 10 s; 10 offered, 1 short.
        assert (before["service_level"], after["service_level"]) == (
            round(4 / 9, 4),
            round(3 / 9, 4),
        )
        assert after["service_level_seconds"] == 10
