"""Reports read from the replica alias (`REPORTS_DATABASE_URL`, reports/routers.py); writes and
every other read stay on default.

The `reports` alias is added for the test, pointing at the same test database through its own
connection (as a streaming replica would hold the same rows); the test data is committed
(transactional tests) so that second connection sees it."""

import re

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from reports.models import QueueHourStats
from reports.routers import REPORTS_ALIAS, ReportsReplicaRouter, reading_from_replica
from tests.factories import Visit, tokyo

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER)\b", re.IGNORECASE)


@pytest.fixture
def replica(transactional_db):
    """A second alias `reports` on the test database, removed afterwards. It is connected here,
    before the test runs (Django's test case allows only the aliases it knew when it began), and
    kept open across the test's requests."""
    connections.settings[REPORTS_ALIAS] = {
        **connections["default"].settings_dict,
        "CONN_MAX_AGE": None,
    }
    connections[REPORTS_ALIAS].connect()
    try:
        yield connections[REPORTS_ALIAS]
    finally:
        connections[REPORTS_ALIAS].close()
        del connections[REPORTS_ALIAS]
        del connections.settings[REPORTS_ALIAS]


@pytest.fixture
def visits(support):
    # 1 November is long settled on 30 November: the report stores its hours. (The services
    # lock rows: in a transactional test they need a transaction of their own.)
    with transaction.atomic():
        Visit(support, tokyo(2026, 11, 1, 10, 0)).answered(12, 245, agent="a1")
        Visit(support, tokyo(2026, 11, 1, 11, 0)).abandoned(40)
    return support


def sql_of(context) -> list[str]:
    return [query["sql"] for query in context.captured_queries]


def test_the_queue_report_api_reads_through_the_replica_and_writes_nothing_there(
    client, analyst, visits, replica
):
    client.force_login(analyst)
    with (
        CaptureQueriesContext(replica) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_default,
    ):
        response = client.get(
            "/api/reports/queues/", {"start": "2026-11-01", "end": "2026-11-01", "interval": "day"}
        )
    assert response.status_code == 200, response.content
    row = next(row for row in response.json()["rows"] if row["queue"] == "support")
    assert (row["offered"], row["answered"], row["abandoned"]) == (2, 1, 1)

    read = sql_of(on_replica)
    assert any("queues_queuevisit" in sql for sql in read)
    assert not [sql for sql in read if WRITES.match(sql)]
    # The settled hours it added up were stored on default.
    assert any(WRITES.match(sql) and "reports_queuehourstats" in sql for sql in sql_of(on_default))
    assert QueueHourStats.objects.using("default").filter(queue=visits).exists()


def test_accounts_and_sessions_are_read_on_default_even_in_a_report(client, analyst, replica):
    client.force_login(analyst)
    with CaptureQueriesContext(replica) as on_replica:
        response = client.get("/api/wallboard/")
    assert response.status_code == 200
    read = sql_of(on_replica)
    assert read, "the wallboard read nothing on the replica"
    # Report queries may join the users (active agents); the login's own lookups stay on default.
    assert not [sql for sql in read if 'FROM "auth_user"' in sql or "django_session" in sql]


@pytest.mark.parametrize(
    "url",
    [
        "/reports/?start=2026-11-01&end=2026-11-01",
        "/reports/agents/?start=2026-11-01&end=2026-11-01",
        "/reports/wallboard/today/",
        "/api/reports/agents/?start=2026-11-01&end=2026-11-01",
    ],
)
def test_report_pages_read_through_the_replica(client, analyst, visits, replica, url):
    client.force_login(analyst)
    with CaptureQueriesContext(replica) as on_replica:
        response = client.get(url)
    assert response.status_code == 200
    read = sql_of(on_replica)
    assert read
    assert not [sql for sql in read if WRITES.match(sql)]


def test_pages_other_than_reports_never_touch_the_replica(client, supervisor, visits, replica):
    client.force_login(supervisor)
    with CaptureQueriesContext(replica) as on_replica:
        assert client.get("/admin/queues/queuevisit/").status_code == 200
        assert client.get("/healthz").status_code == 200
    assert sql_of(on_replica) == []


def test_without_a_replica_alias_everything_stays_on_default(db):
    router = ReportsReplicaRouter()
    with reading_from_replica():
        assert router.db_for_read(QueueHourStats) is None
    assert router.db_for_write(QueueHourStats) == "default"
    assert router.allow_migrate(REPORTS_ALIAS, "reports") is False
