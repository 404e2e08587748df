"""The queue report names queues as supervisors named them, in its tables and chart legends."""

import json
import re

import pytest
from django.urls import reverse

from queues.models import QueueResult

from .conftest import make_visit, tokyo

pytestmark = pytest.mark.django_db


def test_the_queue_report_shows_queue_names_not_slugs(client, analyst, support):
    support.name = "Customer support 窓口"
    support.save()
    make_visit(support, tokyo(2026, 11, 2, 10), QueueResult.HANGUP, 30)
    client.force_login(analyst)

    response = client.get(
        reverse("reports:index"), {"start": "2026-11-02", "end": "2026-11-02", "interval": "day"}
    )

    html = response.content.decode()
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    assert "Customer support 窓口" in cells  # totals and per-period rows
    assert "support" not in cells
    labels = json.loads(re.search(r'id="chart-labels"[^>]*>(.*?)</script>', html).group(1))
    assert labels["queue_names"]["support"] == "Customer support 窓口"
