"""Copies of a caller's first wait request at the same moment (Twilio retrying, two web
processes): one visit is opened, its position announced once (threads with their own
database connections, on PostgreSQL)."""

import threading

import pytest
from django.db import close_old_connections, connection
from django.test import Client

from queues.models import QueueVisit
from tests.conftest import TwilioClient
from tests.factories import twiml, verbs

from .conftest import post_wait

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

COPIES = 6


def test_copies_of_the_first_wait_request_open_one_visit_and_announce_once(queue, settings):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions: run with DATABASE_URL=postgres://…")
    settings.PUBLIC_URL = "http://testserver"
    start = threading.Barrier(COPIES)
    answers, errors = [], []

    def send():
        try:
            twilio = TwilioClient(Client())
            start.wait()
            answers.append(verbs(twiml(post_wait(twilio, queue, queue_time=0, position=2))))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(COPIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert len(answers) == COPIES
    visit = QueueVisit.objects.get()
    assert (visit.entry, visit.result, visit.announced_at_queue_time) == (1, "waiting", 0)
    assert sum("Say" in answer for answer in answers) == 1
