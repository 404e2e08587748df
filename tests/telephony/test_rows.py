"""telephony.rows.prepare hands a hot statement the parameters Django would."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from telephony import rows
from telephony.models import Call, WebhookEvent

pytestmark = pytest.mark.django_db

AWARE = datetime(2026, 11, 30, 14, 5, 6, 789, tzinfo=UTC)
TOKYO = AWARE.astimezone(timezone(timedelta(hours=9)))


@pytest.mark.parametrize(
    ("model", "name", "value"),
    [
        (Call, "sid", "CA" + "1" * 32),
        (Call, "from_number", ""),
        (Call, "caller_name", None),
        (Call, "started_at", AWARE),
        (Call, "started_at", TOKYO),
        (Call, "ended_at", None),
        (Call, "duration_seconds", 42),
        (Call, "duration_seconds", None),
        (Call, "bridged", True),
        (Call, "status", "completed"),
        (WebhookEvent, "fields", {"CallSid": "CA1", "Digits": ["1", "2"]}),
        (WebhookEvent, "response_status", 204),
        (WebhookEvent, "received_at", AWARE),
    ],
)
def test_it_prepares_what_get_db_prep_save_prepares(model, name, value):
    field = model._meta.get_field(name)

    [prepared] = rows.prepare([field], [value], connection)

    expected = field.get_db_prep_save(value, connection)
    assert type(prepared) is type(expected)
    assert str(prepared) == str(expected)


def test_a_value_it_does_not_know_goes_through_get_db_prep_save():
    field = Call._meta.get_field("to_number")

    # Not a str: CharField's own conversion applies.
    assert rows.prepare([field], [12345], connection) == ["12345"]
