"""The admin's queue list shows today's offered / answered / abandoned: the same figures as the
wallboard, by the definitions of docs/api.md §7 (an answered caller is never also abandoned)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import Visit

pytestmark = pytest.mark.django_db


def test_the_queue_list_counts_today_like_the_wallboard(client, supervisor, support):
    at = timezone.now() - timedelta(minutes=5)
    Visit(support, at).answered(10, 60)
    # The connect URL was reached, then the caller hung up during the connect message: answered.
    Visit(support, at).connect(12).exit("hangup", 13)
    Visit(support, at).abandoned(40)
    Visit(support, at)  # still waiting
    client.force_login(supervisor)
    [board] = client.get("/api/wallboard/").json()["rows"]
    assert (board["offered"], board["answered"], board["abandoned"]) == (4, 2, 1)
    response = client.get("/admin/queues/queue/")
    [row] = response.context["cl"].result_list
    assert (row.waiting, row.offered_today, row.answered_today, row.abandoned_today) == (
        board["waiting"],
        board["offered"],
        board["answered"],
        board["abandoned"],
    )
