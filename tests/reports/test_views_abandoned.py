"""The abandoned calls list: who to call back."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse

from queues.models import QueueResult
from telephony.models import Call, CallStatus
from tests.factories import make_visit, tokyo

pytestmark = pytest.mark.django_db
URL = reverse("reports:abandoned")
PARAMS = {"start": "2026-11-02", "end": "2026-11-02"}


@pytest.fixture
def abandons(support, sales):
    at = tokyo(2026, 11, 2, 10)
    make_visit(support, at, QueueResult.HANGUP, 40, number="+819000000001")
    make_visit(support, at + timedelta(minutes=1), QueueResult.HANGUP, 2, number="+819000000002")
    make_visit(sales, at + timedelta(minutes=2), QueueResult.HANGUP, 50, number="+819000000003")
    make_visit(
        support,
        at,
        QueueResult.BRIDGED,
        5,
        answered=True,
        agent="a1",
        talk=30,
        number="+819000000004",
    )
    # The first caller called again an hour later and was answered.
    make_visit(
        support,
        at + timedelta(hours=1),
        QueueResult.BRIDGED,
        5,
        answered=True,
        agent="a1",
        talk=30,
        number="+819000000001",
    )
    # The center called the third caller back.
    Call.objects.create(
        sid="CA" + "9" * 32,
        from_number="+815012345678",
        to_number="+819000000003",
        direction="outbound-api",
        status=CallStatus.COMPLETED,
        started_at=at + timedelta(hours=2),
    )


def test_it_lists_abandoned_callers_newest_first_with_callbacks(client, analyst, abandons):
    client.force_login(analyst)
    response = client.get(URL, PARAMS)
    assert response.status_code == 200
    page = response.context["page"]
    assert [(v.call.from_number, v.called_back) for v in page] == [
        ("+819000000003", True),
        ("+819000000002", False),
        ("+819000000001", True),
    ]


def test_it_filters_by_queue_number_and_short_abandons(client, analyst, abandons):
    client.force_login(analyst)

    def numbers(**params):
        response = client.get(URL, {**PARAMS, **params})
        return [visit.call.from_number for visit in response.context["page"]]

    assert numbers(queue="sales") == ["+819000000003"]
    assert numbers(number="0002") == ["+819000000002"]
    assert numbers(exclude_short="on") == ["+819000000003", "+819000000001"]
    assert numbers() == ["+819000000003", "+819000000002", "+819000000001"]


def test_it_exports_csv(client, analyst, abandons):
    client.force_login(analyst)
    response = client.get(URL, {**PARAMS, "export": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row["from"] for row in rows] == ["+819000000003", "+819000000002", "+819000000001"]
    assert rows[0]["entered_at"] == "2026-11-02T10:02:00+09:00"
    assert rows[0]["called_back"] == "True"


@pytest.mark.parametrize("persona", ["agent_user", "outsider"])
def test_it_refuses_people_without_a_report_role(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403


def test_it_runs_a_fixed_number_of_queries(client, analyst, abandons, django_assert_num_queries):
    client.force_login(analyst)
    # session, user, groups; queues of the filter; count; the page of visits with their queue,
    # call and callback flag; the filter form's queue list
    with django_assert_num_queries(7):
        client.get(URL, PARAMS)
