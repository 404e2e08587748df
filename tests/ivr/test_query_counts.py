"""Rendering a step costs the same few queries whatever the flow's size."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import call_fields
from tests.factories import kept_queries

from .conftest import import_flow

pytestmark = pytest.mark.django_db

NUMBER = "+815022223333"


def big_flow(size):
    """A menu with nine keys, each leading to a chain of say steps; ``size`` steps in all."""
    steps = [
        {
            "name": "menu",
            "kind": "menu",
            "text": "Choose.",
            "options": [{"key": str(k), "target": f"say-{k}-0"} for k in range(1, 10)],
        }
    ]
    per_key = max(1, (size - 1) // 9)
    for k in range(1, 10):
        for i in range(per_key):
            nxt = f"say-{k}-{i + 1}" if i + 1 < per_key else None
            steps.append(
                {
                    "name": f"say-{k}-{i}",
                    "kind": "say",
                    "text": f"{k}.{i}",
                    "next_step": nxt if i < 2 else None,
                }
            )
    return import_flow(steps, number=NUMBER, name=f"Flow of {size}")


def count(fn):
    with CaptureQueriesContext(connection) as context:
        fn()
    return len(context.captured_queries)


@pytest.mark.parametrize("size", [10, 400])
def test_the_incoming_webhook_costs_a_fixed_number_of_queries(
    twilio, size, django_assert_num_queries
):
    big_flow(size)
    twilio.post("/twilio/voice/incoming", call_fields(To=NUMBER, CallSid="CA" + "9" * 32))

    # autocommit, no transaction: the call leg upsert (one statement, which also reads the
    # configuration token; on PostgreSQL it also stores the webhook event and the path entries
    # kept with the answer for that token, on SQLite those are an insert each).
    with django_assert_num_queries(kept_queries(3)):
        response = twilio.post("/twilio/voice/incoming", call_fields(To=NUMBER))

    assert response.status_code == 200


@pytest.mark.parametrize("size", [10, 400])
def test_the_gather_action_costs_a_fixed_number_of_queries(twilio, size, django_assert_num_queries):
    flow = big_flow(size)
    menu = flow.steps.get(name="menu")
    url = reverse("ivr:gather", kwargs={"flow_id": flow.id, "step_id": menu.id})
    twilio.post(url, call_fields(Digits="3", CallSid="CA" + "9" * 32))

    # autocommit: the call leg upsert (reading the configuration token); the path insert (the
    # answer and the steps chained after it, one statement); the webhook event (its own insert
    # on SQLite only). On PostgreSQL all in the upsert's statement (the answer is kept).
    with django_assert_num_queries(kept_queries(3)):
        response = twilio.post(url, call_fields(Digits="3"))

    assert response.status_code == 200


def test_a_cold_cache_adds_the_same_few_queries_whatever_the_size(twilio):
    small, big = big_flow(10), big_flow(400)
    cache.clear()

    def first_call(flow, sid):
        url = reverse("ivr:start", kwargs={"flow_id": flow.id})
        return lambda: twilio.post(url, call_fields(CallSid=sid))

    assert count(first_call(small, "CA" + "1" * 32)) == count(first_call(big, "CA" + "2" * 32))
