"""The abandoned-calls CSV shows a forged caller number as text, not as a formula."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse

from queues.models import QueueResult

from .conftest import make_visit, tokyo

pytestmark = pytest.mark.django_db


def test_the_abandoned_calls_csv_neutralises_a_forged_caller_number(client, analyst, support):
    at = tokyo(2026, 11, 2, 10)
    make_visit(support, at, QueueResult.HANGUP, 40, number="=cmd|'/C calc'!A0")
    make_visit(support, at + timedelta(minutes=1), QueueResult.HANGUP, 40, number="+819000000001")
    client.force_login(analyst)

    response = client.get(
        reverse("reports:abandoned"), {"start": "2026-11-02", "end": "2026-11-02", "export": "csv"}
    )

    assert [
        row["from"]
        for row in list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    ] == ["+819000000001", "'=cmd|'/C calc'!A0"]
