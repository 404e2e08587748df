"""ivr.selectors.call_path_for: the agreed shape, in order, for one call only."""

import pytest
from django.urls import reverse

from ivr.selectors import call_path_for
from tests.conftest import call_fields

from .conftest import NUMBER, step_of

pytestmark = pytest.mark.django_db

SID = "CA" + "7" * 32


def test_it_lists_steps_and_keys_in_order_with_their_outcomes(
    twilio, demo_flow, django_assert_num_queries
):
    menu = step_of(demo_flow, "main-menu")
    gather = reverse("ivr:gather", kwargs={"flow_id": demo_flow.id, "step_id": menu.id})
    twilio.post("/twilio/voice/incoming", call_fields(SID, To=NUMBER))
    twilio.post(f"{gather}?attempt=0", call_fields(SID, Digits="8"))
    twilio.post(f"{gather}?attempt=1", call_fields(SID, Digits="2"))
    twilio.post("/twilio/voice/incoming", call_fields("CA" + "8" * 32, To=NUMBER))

    # one query: the call's entries in order
    with django_assert_num_queries(1):
        path = call_path_for(SID)

    assert [(p["step"], p["kind"], p["digits"], p["outcome"]) for p in path] == [
        ("main-menu", "menu", "", "entered"),
        ("main-menu", "menu", "8", "invalid"),
        ("main-menu", "menu", "2", "valid"),
        ("product-info", "say", "", "entered"),
    ]
    assert all(p["at"].tzinfo is not None for p in path)
    assert [p["at"] for p in path] == sorted(p["at"] for p in path)


def test_an_unknown_call_has_an_empty_path(db):
    assert call_path_for("CA" + "0" * 32) == []
