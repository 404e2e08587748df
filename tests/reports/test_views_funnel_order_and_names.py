"""The IVR funnel lists steps in the order callers meet them (start step, then breadth first along
keys, silence, next, open and closed), and CSV files name queues for people beside the slug."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse

from ivr.models import CallPathEntry
from queues.models import QueueResult
from reports.selectors import flow_step_order
from telephony.models import Call
from tests.factories import import_flow

from .conftest import make_visit, tokyo

pytestmark = pytest.mark.django_db


@pytest.fixture
def flow(db):
    return import_flow(
        [
            {"name": "zz-goodbye", "kind": "hangup", "text": "Bye."},
            {
                "name": "b-sub-menu",
                "kind": "menu",
                "text": "Sub.",
                "options": [{"key": "1", "target": "zz-goodbye"}],
            },  # fmt: skip
            {
                "name": "a-hours",
                "kind": "hours",
                "schedule": "Office",
                "open_step": "m-main",
                "closed_step": "c-closed",
            },  # fmt: skip
            {"name": "c-closed", "kind": "say", "text": "Closed.", "next_step": "zz-goodbye"},
            {
                "name": "m-main",
                "kind": "menu",
                "text": "Main.",
                "no_input_step": "x-operator",
                "options": [
                    {"key": "#", "target": "zz-goodbye"},
                    {"key": "2", "target": "b-sub-menu"},
                    {"key": "0", "target": "x-operator"},
                ],
            },  # fmt: skip
            {"name": "x-operator", "kind": "say", "text": "Operator."},
            {"name": "orphan", "kind": "say", "text": "Nobody comes here."},
        ],
        start="a-hours",
        schedules=[{"name": "Office", "time_zone": "Asia/Tokyo", "ranges": []}],
    )


def test_steps_come_in_the_order_a_caller_meets_them(flow):
    assert flow_step_order(flow) == [
        "a-hours",
        "m-main",
        "c-closed",
        "b-sub-menu",  # key 2
        "x-operator",  # key 0 (after 1-9 on the keypad), then silence
        "zz-goodbye",  # key #
        "orphan",  # no call reaches it: last
    ]


def test_the_funnel_page_and_csv_follow_the_flow_order(client, analyst, flow):
    at = tokyo(2026, 11, 2, 10)
    call = Call.objects.create(sid="CA" + "1" * 32, started_at=at)
    for offset, name in enumerate(["a-hours", "m-main", "b-sub-menu", "zz-goodbye"]):
        CallPathEntry.objects.create(
            call=call,
            flow=flow,
            at=at + timedelta(seconds=offset),
            step_name=name,
            kind="say",
            outcome=CallPathEntry.Outcome.ENTERED,
        )
    client.force_login(analyst)
    params = {"start": "2026-11-02", "end": "2026-11-02", "flow": flow.pk}

    page = client.get(reverse("reports:ivr"), params)
    csv_steps = client.get(reverse("reports:ivr"), {**params, "export": "csv"})

    assert [s["step_name"] for s in page.context["funnel"]["steps"]] == [
        "a-hours",
        "m-main",
        "b-sub-menu",
        "zz-goodbye",
    ]
    rows = list(csv.DictReader(io.StringIO(csv_steps.content.decode("utf-8-sig"))))
    assert [row["step"] for row in rows] == ["a-hours", "m-main", "b-sub-menu", "zz-goodbye"]


def test_report_csv_files_add_the_queue_name_last_keeping_the_slug(client, analyst, support):
    support.name = "Customer support 窓口"
    support.save()
    make_visit(support, tokyo(2026, 11, 2, 10), QueueResult.HANGUP, 30)
    client.force_login(analyst)
    params = {"start": "2026-11-02", "end": "2026-11-02", "export": "csv"}

    queues = client.get(reverse("reports:index"), {**params, "interval": "day"})
    abandoned = client.get(reverse("reports:abandoned"), params)

    for response in (queues, abandoned):
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0]["queue"] == "support"
        assert rows[0]["queue_name"] == "Customer support 窓口"
    header = queues.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[0] == "queue" and header[-1] == "queue_name"  # the other columns keep places
