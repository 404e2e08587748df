"""The report tests read queue visits played through the real services (tests.factories.Visit,
or make_visit to tell one by its outcome), dated in Tokyo unless a test says otherwise."""

import pytest

from queues.models import Queue
from tests.factories import Visit, local, make_agent, make_visit, tokyo

__all__ = ["Visit", "local", "make_agent", "make_visit", "tokyo"]


@pytest.fixture(autouse=True)
def _tokyo(settings):
    settings.TIME_ZONE = "Asia/Tokyo"


@pytest.fixture
def sales(db):
    # Its own thresholds: 30 s service level, 10 s short abandon.
    return Queue.objects.create(
        slug="sales", name="Sales", service_level_seconds=30, short_abandon_seconds=10
    )
