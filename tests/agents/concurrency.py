"""Another web process's transaction, for the agents' tests of concurrent requests (PostgreSQL)."""

import threading
import time

import pytest
from django.db import close_old_connections, connection, transaction


def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions: run with DATABASE_URL=postgres://…")


def in_another_transaction(work, started: threading.Event, errors: list) -> threading.Thread:
    """Another web process: run ``work()`` in a transaction, set ``started``, and commit a moment
    later (while the request under test waits for the rows ``work`` locked). An exception is
    put in ``errors`` for the test to report."""

    def run():
        try:
            with transaction.atomic():
                work()
                started.set()
                time.sleep(1.0)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
            started.set()
        finally:
            close_old_connections()
            connection.close()

    return threading.Thread(target=run)
