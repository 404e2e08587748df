"""Reports read from a replica: the `reports` database alias, when `REPORTS_DATABASE_URL` is set.

Only the report pages and the report API read there, and only while they answer
(`replica_reads`); every write, and every other read (webhooks, the desk, the admin, the
worker), stays on `default`. The reports app's own writes — the stored settled hours
(`QueueHourStats`) — go to `default` like any other, and reach the replica by replication.

A streaming replica is behind the primary by the time it takes to ship and replay the WAL
(milliseconds on a healthy local network). That is acceptable for every report, including the
wallboard: its "now" is a poll every few seconds anyway. Accounts, sessions, permissions and API
tokens are always read on `default`, so a user who just logged in or a token just created is
never refused because the replica has not seen it yet. docs/deploy.md, *A read replica for
reports*.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings

REPORTS_ALIAS = "reports"
# The apps whose rows the reports read. Django's own (auth, sessions, contenttypes, axes,
# authtoken) are left on default, for the reason above.
REPLICATED_APPS = frozenset({"telephony", "queues", "ivr", "agents", "routing", "reports"})

_reading_reports: ContextVar[bool] = ContextVar("reading_reports", default=False)


def replica_configured() -> bool:
    return REPORTS_ALIAS in settings.DATABASES


@contextmanager
def reading_from_replica():
    """Within this block, reads of the reports' models use the `reports` alias (if any)."""
    token = _reading_reports.set(True)
    try:
        yield
    finally:
        _reading_reports.reset(token)


def replica_reads(view):
    """A view whose reads of report data go to the replica (its writes still go to default)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        with reading_from_replica():
            return view(*args, **kwargs)

    return wrapped


class ReportsReplicaRouter:
    """`DATABASE_ROUTERS` entry. Without a `reports` alias it routes nothing (all on default)."""

    def db_for_read(self, model, **hints):
        if (
            _reading_reports.get()
            and model._meta.app_label in REPLICATED_APPS
            and replica_configured()
        ):
            return REPORTS_ALIAS
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the same rows as default: objects read from either may be related.
        if {obj1._state.db, obj2._state.db} <= {"default", REPORTS_ALIAS}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica is read-only: it gets its schema from the primary by replication.
        if db == REPORTS_ALIAS:
            return False
        return None
