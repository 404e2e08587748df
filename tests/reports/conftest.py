"""Crafted queue visits for the report tests: every field set by hand, nothing inferred."""

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from queues.models import Queue, QueueResult, QueueVisit
from telephony.models import Call, CallStatus

TOKYO = ZoneInfo("Asia/Tokyo")
_sids = itertools.count(1)


@pytest.fixture(autouse=True)
def _tokyo(settings):
    settings.TIME_ZONE = "Asia/Tokyo"


@pytest.fixture
def support(db):
    return Queue.objects.create(
        slug="support", name="Support", service_level_seconds=20, short_abandon_seconds=5
    )


@pytest.fixture
def sales(db):
    return Queue.objects.create(
        slug="sales", name="Sales", service_level_seconds=30, short_abandon_seconds=10
    )


def tokyo(*args) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


def make_visit(
    queue,
    entered_at,
    result,
    wait=None,
    *,
    answered=None,
    agent="",
    talk=None,
    wrap_up=None,
    number="+819011112222",
    call_status=None,
) -> QueueVisit:
    """answered=True marks the connect URL reached `wait` seconds after entering."""
    sid = f"CA{next(_sids):032d}"
    if call_status is None:
        still_on = result == QueueResult.WAITING or (answered and talk is None)
        call_status = CallStatus.IN_PROGRESS if still_on else CallStatus.COMPLETED
    call = Call.objects.create(
        sid=sid,
        from_number=number,
        to_number="+815012345678",
        direction="inbound",
        status=call_status,
        started_at=entered_at - timedelta(seconds=15),
    )
    answered_at = None
    if answered:
        answered_at = entered_at + timedelta(seconds=wait or 0)
    left_at = None if result == QueueResult.WAITING else entered_at + timedelta(seconds=wait or 0)
    return QueueVisit.objects.create(
        queue=queue,
        call=call,
        entered_at=entered_at,
        left_at=left_at,
        result=result,
        wait_seconds=wait,
        answered_at=answered_at,
        agent_identity=agent,
        agent_call_sid=f"CA{next(_sids):032d}" if agent else "",
        talk_seconds=talk,
        wrap_up_seconds=wrap_up,
    )
