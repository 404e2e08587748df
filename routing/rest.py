"""Twilio REST for routing: every call it creates is paced across all workers, and a request
Twilio refuses for rate (HTTP 429, error 20429) is tried again with backoff (docs/twilio.md §8).
"""

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.utils import timezone
from twilio.base.exceptions import TwilioRestException

from .clocks import REST_PACER, clock_next_slot

logger = logging.getLogger("routing.rest")
T = TypeVar("T")

# Waits before the 2nd, 3rd… attempt of a request refused for rate.
BACKOFF_SECONDS = (1, 2, 4, 8, 16)


def _is_rate_limited(exc: TwilioRestException) -> bool:
    return exc.status == 429 or exc.code == 20429


def with_retry(request: Callable[[], T], *, sleep=time.sleep) -> T:
    """Run ``request``; on a 429 wait and run it again (BACKOFF_SECONDS), then give up."""
    for delay in (*BACKOFF_SECONDS, None):
        try:
            return request()
        except TwilioRestException as exc:
            if not _is_rate_limited(exc) or delay is None:
                raise
            logger.warning("Twilio refused for rate (429); again in %s s", delay)
            sleep(delay)
    raise AssertionError("unreachable")


def wait_for_call_slot(*, sleep=time.sleep) -> None:
    """Block until this process may create the next call (TWILIO_REST_CALLS_PER_SECOND over
    every worker, coordinated by one clock row)."""
    rate = max(settings.TWILIO_REST_CALLS_PER_SECOND, 0.001)
    now = timezone.now()
    slot = clock_next_slot(name=REST_PACER, now=now, spacing=timedelta(seconds=1 / rate))
    delay = (slot - now).total_seconds()
    if delay > 0:
        sleep(delay)


def create_call_paced(client, **kwargs):
    """``client.calls.create(**kwargs)`` in the next free slot, retried on 429."""
    wait_for_call_slot()

    def create():
        return client.calls.create(**kwargs)

    return with_retry(create)
