"""Settings for the test suite: production settings with test-only secrets and plain HTTP."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("SECURE_SSL_REDIRECT", "False")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")

from config.settings import *  # noqa: E402,F403
from config.settings import STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast test users
# No collectstatic in tests: serve from the finders, without a manifest.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Live-server threads must not keep connections open past a test, or PostgreSQL refuses to drop
# the test database at the end of the run.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory. With an in-memory test database Django hands the test thread's one
    # connection to the live server's threads, so a browser test's webhooks (posted from the test
    # thread) and the page's polling (a server thread) ran statements and transactions on one
    # connection at once: "database table is locked", then rows of one thread's transaction
    # committed or rolled back by the other (a follow-on UNIQUE error). With a file every thread
    # has its own connection, SQLite's lock (busy timeout, IMMEDIATE transactions) takes turns,
    # and a transaction is what it says. pytest-django adds the xdist worker's suffix.
    import tempfile
    from pathlib import Path

    _run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or str(os.getpid())
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.gettempdir()) / f"tsunagu-test-{_run}.sqlite3")
    }
    # Durability is worthless for a test database that is deleted at the end of the run.
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA synchronous=OFF"  # noqa: F405
