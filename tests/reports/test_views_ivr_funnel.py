"""The IVR funnel page: callers per step, keys pressed, where paths ended."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse

from ivr.models import CallPathEntry, Flow
from telephony.models import Call
from tests.factories import tokyo

pytestmark = pytest.mark.django_db
URL = reverse("reports:ivr")
PARAMS = {"start": "2026-11-02", "end": "2026-11-02"}
ENTERED, VALID, INVALID, NO_INPUT = (
    CallPathEntry.Outcome.ENTERED,
    CallPathEntry.Outcome.VALID,
    CallPathEntry.Outcome.INVALID,
    CallPathEntry.Outcome.NO_INPUT,
)


@pytest.fixture
def paths(db):
    flow = Flow.objects.create(name="main")
    at = tokyo(2026, 11, 2, 10)

    def path(n, *entries):
        call = Call.objects.create(sid=f"CA{n:032d}", started_at=at)
        for offset, (step, kind, digits, outcome) in enumerate(entries):
            CallPathEntry.objects.create(
                call=call,
                flow=flow,
                at=at + timedelta(seconds=offset),
                step_name=step,
                kind=kind,
                digits=digits,
                outcome=outcome,
            )

    menu = ("menu", "menu", "", ENTERED)
    path(1, menu, ("menu", "menu", "1", VALID), ("queue", "queue", "", ENTERED))
    path(
        2,
        menu,
        ("menu", "menu", "7", INVALID),
        ("menu", "menu", "1", VALID),
        ("queue", "queue", "", ENTERED),
    )
    path(3, menu)  # hung up in the menu
    path(4, menu, ("menu", "menu", "", NO_INPUT), ("queue", "queue", "", ENTERED))
    return flow


def test_it_counts_callers_keys_and_where_they_ended(client, analyst, paths):
    client.force_login(analyst)
    response = client.get(URL, {**PARAMS, "flow": paths.pk})
    assert response.status_code == 200
    funnel = response.context["funnel"]
    steps = {step["step_name"]: step for step in funnel["steps"]}
    assert funnel["calls"] == 4
    assert (steps["menu"]["reached"], steps["menu"]["ended_here"]) == (4, 1)
    assert (steps["menu"]["invalid"], steps["menu"]["no_input"]) == (1, 1)
    assert (steps["queue"]["reached"], steps["queue"]["share"]) == (3, 0.75)
    assert [(k["digits"], k["outcome"], k["times"]) for k in funnel["keys"]] == [
        ("1", "valid", 2),
        ("7", "invalid", 1),
    ]


def test_both_tables_export_as_csv(client, analyst, paths):
    client.force_login(analyst)
    steps = client.get(URL, {**PARAMS, "export": "csv"})
    rows = list(csv.DictReader(io.StringIO(steps.content.decode("utf-8-sig"))))
    assert [(row["step"], row["reached"]) for row in rows] == [("menu", "4"), ("queue", "3")]
    keys = client.get(URL, {**PARAMS, "export": "csv", "table": "keys"})
    rows = list(csv.DictReader(io.StringIO(keys.content.decode("utf-8-sig"))))
    assert [(row["key"], row["times"]) for row in rows] == [("1", "2"), ("7", "1")]


@pytest.mark.parametrize("persona", ["agent_user", "outsider"])
def test_it_refuses_people_without_a_report_role(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403


def test_it_runs_a_fixed_number_of_queries(client, analyst, paths, django_assert_num_queries):
    client.force_login(analyst)
    # session, user, groups; flows (the choice and the filter's list); steps; last entry per
    # call; keys; the flow's steps and menu options (flow order)
    with django_assert_num_queries(9):
        client.get(URL, {**PARAMS, "flow": paths.pk})
