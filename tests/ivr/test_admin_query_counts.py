"""The flow admin's change page costs the same queries for a flow of 5 steps or of 60."""

import pytest
from django.urls import reverse

from .conftest import import_flow

pytestmark = pytest.mark.django_db


def chain(size):
    return [
        {
            "name": f"s{i}",
            "kind": "say",
            "text": f"Message {i}.",
            "next_step": f"s{i + 1}" if i + 1 < size else None,
        }
        for i in range(size)
    ]


@pytest.mark.parametrize("size", [5, 60])
def test_the_change_page_does_not_grow_with_the_flow(
    client, supervisor, size, django_assert_num_queries
):
    flow = import_flow(chain(size), name=f"Flow of {size}")
    client.force_login(supervisor)
    url = reverse("admin:ivr_flow_change", args=[flow.pk])
    client.get(url)  # warm the content-type cache

    # session, user; the warnings' snapshot: flow, steps, options; the flow and its numbers
    # (get_object); user and group permissions; each select's choices once, shared by every
    # inline form: steps, queues, business hours, flows, menus; the inline formsets: steps,
    # options, numbers; the user's roles (navigation)
    with django_assert_num_queries(18):
        response = client.get(url)

    assert response.status_code == 200
    assert len(response.context["inline_admin_formsets"][0].formset.forms) == size


@pytest.mark.parametrize("flows", [1, 12])
def test_the_flow_list_does_not_grow_with_the_number_of_flows(
    client, supervisor, flows, django_assert_num_queries
):
    for n in range(flows):
        import_flow(chain(3), name=f"Flow {n}", number=f"+8150000000{n:02d}")
    client.force_login(supervisor)
    url = reverse("admin:ivr_flow_changelist")
    client.get(url)  # warm the content-type cache

    # session, user; user and group permissions; the count and the unfiltered count; the page
    # of flows with their start steps; their numbers; the user's roles (navigation)
    with django_assert_num_queries(9):
        response = client.get(url)

    assert response.status_code == 200
    assert response.context["cl"].result_count == flows
