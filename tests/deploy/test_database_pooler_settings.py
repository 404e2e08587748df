"""DATABASE_POOLER and REPORTS_DATABASE_URL: what the settings make of them (docs/deploy.md)."""

import subprocess
import sys

import pytest

from .servers import ROOT, production_env

pytestmark = pytest.mark.deploy


def databases(**env) -> dict:
    code = (
        "from django.conf import settings; "
        "print(repr({alias: {key: db.get(key) for key in "
        "('NAME', 'PORT', 'OPTIONS', 'DISABLE_SERVER_SIDE_CURSORS', 'CONN_MAX_AGE')} "
        "for alias, db in settings.DATABASES.items()}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=production_env(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL="postgres://tsunagu@db.internal:6432/tsunagu",
            **env,
        ),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return eval(done.stdout)  # noqa: S307 - our own repr of a dict of str, int, bool, None


def test_behind_pgbouncer_in_transaction_mode_nothing_outlives_a_transaction():
    default = databases(DATABASE_POOLER="pgbouncer-transaction")["default"]

    assert default["DISABLE_SERVER_SIDE_CURSORS"] is True
    # No prepared statements, and no startup `options` (PgBouncer refuses unknown startup
    # parameters): the statement timeout is the database's own setting then.
    assert default["OPTIONS"] == {"connect_timeout": 3, "prepare_threshold": None}


def test_without_a_pooler_the_statement_timeout_is_sent_at_connection():
    default = databases()["default"]

    assert not default["DISABLE_SERVER_SIDE_CURSORS"]
    # Parameters bound by the server: psycopg prepares the statements a connection runs often.
    assert default["OPTIONS"] == {
        "connect_timeout": 3,
        "server_side_binding": True,
        "prepare_threshold": 5,
        "options": "-c statement_timeout=8000",
    }


def test_an_unknown_pooler_is_refused():
    with pytest.raises(AssertionError, match="DATABASE_POOLER"):
        databases(DATABASE_POOLER="pgpool")


def test_a_replica_url_adds_the_reports_alias_with_its_own_timeouts():
    aliases = databases(
        DATABASE_POOLER="pgbouncer-transaction",
        REPORTS_DATABASE_URL="postgres://tsunagu@replica.internal:5432/tsunagu",
    )

    assert set(aliases) == {"default", "reports"}
    replica = aliases["reports"]
    assert (replica["NAME"], replica["PORT"]) == ("tsunagu", 5432)
    # The replica is reached directly, not through the pooler in front of the primary.
    assert replica["OPTIONS"] == {
        "connect_timeout": 3,
        "server_side_binding": True,
        "prepare_threshold": 5,
        "options": "-c statement_timeout=8000",
    }
    assert replica["CONN_MAX_AGE"] == aliases["default"]["CONN_MAX_AGE"]


def test_without_a_replica_url_there_is_one_alias():
    assert set(databases()) == {"default"}
