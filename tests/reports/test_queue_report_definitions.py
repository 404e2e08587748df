"""Every definition of docs/api.md §7 (metric definitions), checked on /api/reports/queues/ with
visits written by the real queue services (expected figures worked out by hand)."""

import pytest

from agents.models import AgentStatus
from agents.services import agent_choose_status, agent_set_status
from queues.models import Queue
from reports.models import QueueHourStats
from tests.factories import Visit, make_agent, tokyo

pytestmark = pytest.mark.django_db
URL = "/api/reports/queues/"
DAY = {"start": "2026-11-02", "end": "2026-11-02", "interval": "total"}


def total_row(client, queue="support", **params):
    response = client.get(URL, {**DAY, "queue": queue, **params})
    assert response.status_code == 200, response.content
    [row] = response.json()["rows"]
    return row


def figures(row, *names):
    return {name: row[name] for name in names}


@pytest.fixture
def mixed_day(support):
    at = tokyo(2026, 11, 2, 10, 0)
    Visit(support, at).answered(12, 100)  # in service level
    Visit(support, at).answered(20, 200)  # exactly at the threshold: in service level
    Visit(support, at).answered(21, 60)  # over the threshold
    Visit(support, at).abandoned(4)  # short abandon
    Visit(support, at).abandoned(5)  # exactly the short threshold: not short
    Visit(support, at).abandoned(30)
    Visit(support, at).exit("leave", 120)  # overflow at max wait
    Visit(support, at).exit("redirected", 50)
    # The connect URL was reached but the Enqueue action never arrived: still answered.
    Visit(support, at).connect(15).talk(90)
    return support


@pytest.fixture
def queue_full(support):
    # A queue-full refusal: Twilio calls the Enqueue action at once, no wait URL before.
    from queues import services
    from tests.factories import QUEUE_SID, leg, new_sid

    at = tokyo(2026, 11, 2, 11, 0)
    services.visit_record_exit(
        queue=support,
        call=leg(new_sid(), now=at),
        params={"QueueResult": "queue-full", "QueueSid": QUEUE_SID, "QueueTime": "0"},
        now=at,
    )


def test_it_counts_each_outcome(client, analyst, mixed_day, queue_full):
    client.force_login(analyst)
    row = total_row(client)
    assert figures(
        row, "offered", "answered", "abandoned", "short_abandoned", "overflowed", "rejected"
    ) == {
        "offered": 9,
        "answered": 4,
        "abandoned": 3,
        "short_abandoned": 1,
        "overflowed": 2,
        "rejected": 1,
    }


def test_it_computes_rates_and_means(client, analyst, mixed_day, queue_full):
    client.force_login(analyst)
    row = total_row(client)
    assert figures(
        row,
        "abandon_rate",
        "asa_seconds",
        "service_level",
        "service_level_seconds",
        "aht_seconds",
        "longest_wait_seconds",
    ) == {
        "abandon_rate": 0.25,  # (3 - 1) / (9 - 1)
        "asa_seconds": 17.0,  # (12 + 20 + 21 + 15) / 4
        "service_level": 0.375,  # 12, 20, 15 of (9 - 1)
        "service_level_seconds": 20,
        "aht_seconds": 112.5,  # (100 + 200 + 60 + 90) / 4, no wrap-up
        "longest_wait_seconds": 120,
    }


def test_ratios_and_means_are_rounded_to_four_places(client, analyst, support):
    at = tokyo(2026, 11, 2, 9, 0)
    Visit(support, at).answered(10, 100)
    Visit(support, at).answered(11, 100)
    Visit(support, at).answered(25, 101)
    client.force_login(analyst)
    row = total_row(client)
    assert figures(row, "asa_seconds", "service_level", "aht_seconds") == {
        "asa_seconds": 15.3333,
        "service_level": 0.6667,
        "aht_seconds": 100.3333,
    }


def test_each_queue_has_its_own_thresholds(client, analyst, support, sales):
    at = tokyo(2026, 11, 2, 9, 0)
    for queue in (support, sales):
        Visit(queue, at).answered(25, 60)
        Visit(queue, at).abandoned(9)
        Visit(queue, at).abandoned(40)
    client.force_login(analyst)
    expected = {
        # support: 20 s / 5 s
        "support": {"short_abandoned": 0, "abandon_rate": 0.6667, "service_level": 0.0},
        # sales: 30 s / 10 s
        "sales": {"short_abandoned": 1, "abandon_rate": 0.5, "service_level": 0.5},
    }
    for slug, figures_expected in expected.items():
        row = total_row(client, queue=slug)
        assert figures(row, *figures_expected) == figures_expected, slug
        assert row["service_level_seconds"] == Queue.objects.get(slug=slug).service_level_seconds


def test_zero_denominators_and_empty_means_are_null(client, analyst, support, sales):
    Visit(support, tokyo(2026, 11, 2, 9, 0)).abandoned(3)  # only a short abandon
    client.force_login(analyst)
    row = total_row(client)
    assert figures(
        row, "offered", "abandon_rate", "asa_seconds", "service_level", "aht_seconds"
    ) == {
        "offered": 1,
        "abandon_rate": None,
        "asa_seconds": None,
        "service_level": None,
        "aht_seconds": None,
    }
    assert row["longest_wait_seconds"] == 3
    empty = total_row(client, queue="sales")
    assert figures(
        empty,
        "offered",
        "abandon_rate",
        "asa_seconds",
        "service_level",
        "aht_seconds",
        "longest_wait_seconds",
    ) == {
        "offered": 0,
        "abandon_rate": None,
        "asa_seconds": None,
        "service_level": None,
        "aht_seconds": None,
        "longest_wait_seconds": None,
    }


def test_aht_adds_the_wrap_up_the_agent_actually_spent(client, analyst, django_user_model, support):
    support.wrap_up_seconds = 15
    support.save(update_fields=["wrap_up_seconds"])
    agent = make_agent(django_user_model, "agent1", support)
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE, now=tokyo(2026, 11, 2, 8, 0))
    visit = Visit(support, tokyo(2026, 11, 2, 9, 0)).answered(10, 100)
    agent.refresh_from_db()
    assert agent.status == AgentStatus.WRAP_UP
    agent_choose_status(agent=agent, status=AgentStatus.AVAILABLE, now=agent.wrap_up_until)
    assert visit.refresh().wrap_up_seconds == 15
    client.force_login(analyst)
    assert total_row(client)["aht_seconds"] == 115.0


def test_stored_hours_give_the_same_rows_as_the_visits(client, analyst, mixed_day, sales):
    Visit(sales, tokyo(2026, 11, 2, 23, 59, 59)).answered(31, 10)
    client.force_login(analyst)
    params = {"start": "2026-11-01", "end": "2026-11-03"}
    answers = {}
    for interval in ("hour", "day", "week", "month", "total"):
        QueueHourStats.objects.all().delete()
        first = client.get(URL, {**params, "interval": interval}).json()
        assert QueueHourStats.objects.exists()  # the hours were stored...
        second = client.get(URL, {**params, "interval": interval}).json()  # ...and read back
        assert first == second, interval
        answers[interval] = first["rows"]
    [support_total, sales_total] = sorted(answers["total"], key=lambda row: row["queue"])[::-1]
    for name in ("offered", "answered", "abandoned", "short_abandoned", "overflowed"):
        for interval in ("hour", "day"):
            assert (
                sum(row[name] for row in answers[interval] if row["queue"] == "support")
                == support_total[name]
            ), (interval, name)
