"""Shared personas and a signed-webhook client for every test module."""

import io
import os
import tempfile
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from twilio.request_validator import RequestValidator

from agents.models import DialPrefix
from agents.roles import AGENTS, ANALYSTS, ROLES, SUPERVISORS, sync_role_permissions

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "0" * 32


@pytest.fixture(autouse=True)
def _twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_VALIDATE_SIGNATURES = True
    settings.TRUSTED_PROXY = False
    settings.SECURE_SSL_REDIRECT = False
    settings.LANGUAGE_CODE = "en"


def _transactional(item) -> bool:
    """Whether pytest-django runs ``item`` as a TransactionTestCase (tables flushed after it)."""
    marker = item.get_closest_marker("django_db")
    if marker is not None and (
        marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
    ):
        return True
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool({"transactional_db", "live_server", "django_db_reset_sequences"} & fixtures)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a transactional test (live server, browser), put the migrated rows back.

    Its end flushes every table. With serialized rollback the flush skips post_migrate and
    leaves the tables empty; without, post_migrate creates the content types, permissions and
    role groups again under new primary keys (and not the migrations' other rows, such as the
    dialling prefix +81). Either way the next test did not start from the migrated database:
    a test that relies on the roles' permissions got 403s after a serialized-rollback test, and
    a serialized-rollback test, which reloads Django's snapshot of the migrated database row by
    row by primary key, broke auth_group.name's uniqueness after a test without (as in
    ``make screenshots``). So the tables are emptied and the snapshot loaded, and every test
    starts from the migrated state whatever ran before it in this process. Runs after the
    test's fixtures are torn down; there is a snapshot only when a test of the session asked
    for serialized rollback (pytest-django decides), and then it is the test database."""
    result = yield
    if nextitem is None or not _transactional(item):
        # After the last test the test databases are gone (and the connections point at the
        # real ones again): nothing to put back, nothing to touch.
        return result
    from django.core.management import call_command
    from django.db import connections
    from pytest_django.plugin import blocking_manager_key

    with item.config.stash[blocking_manager_key].unblock():
        for alias in connections:
            snapshot = getattr(connections[alias], "_test_serialized_contents", None)
            if snapshot is None or "test" not in str(connections[alias].settings_dict["NAME"]):
                continue  # no snapshot, or (belt and braces) not a test database
            call_command(
                "flush",
                verbosity=0,
                interactive=False,
                database=alias,
                reset_sequences=False,
                inhibit_post_migrate=True,
            )
            connections[alias].creation.deserialize_db_from_string(snapshot)
    return result


@pytest.fixture(autouse=True)
def _migrated_data_present(request):
    """A transactional test (live server, browser) empties every table when it ends, including
    the rows the data migrations wrote (the role groups, the default dialling prefix +81).
    pytest_runtest_teardown above loads them back from Django's snapshot; when no test of the
    session asked for serialized rollback there is no snapshot, and this puts back what the
    flush's post_migrate did not."""
    uses_db = request.node.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db", "live_server", "django_user_model"} & set(request.fixturenames)
    )
    if not uses_db:
        return
    request.getfixturevalue("db")  # transactional when the test is (pytest-django decides)
    if Group.objects.filter(name__in=ROLES).count() < len(ROLES):
        sync_role_permissions()
    if not DialPrefix.objects.exists():  # agents migration 0004
        DialPrefix.objects.create(prefix="+81", description="Japan")


@pytest.fixture
def support(db):
    """The demo queue `support`, as `manage.py seed_demo` writes it (service level 20 s,
    short abandon 5 s, Japanese announcements)."""
    from queues.demo import seed
    from queues.models import Queue
    from tests.factories import Quiet

    seed(Quiet())
    return Queue.objects.get(slug="support")


@pytest.fixture
def demo(db):
    """The demo data exactly as `manage.py seed_demo` writes it."""
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture
def sup_client(client, supervisor):
    """The test client, logged in as the supervisor."""
    client.force_login(supervisor)
    return client


def _user(django_user_model, username, group=None, **extra):
    user = django_user_model.objects.create_user(
        username=username, password="pw-" + username, **extra
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def supervisor(django_user_model):
    return _user(django_user_model, "sup", SUPERVISORS, is_staff=True)


@pytest.fixture
def analyst(django_user_model):
    return _user(django_user_model, "ana", ANALYSTS)


@pytest.fixture
def agent_user(django_user_model):
    return _user(django_user_model, "agt", AGENTS)


@pytest.fixture
def outsider(django_user_model):
    return _user(django_user_model, "outsider")


class TwilioClient:
    """Posts form fields to a webhook signed exactly as Twilio signs them."""

    def __init__(self, client, token=AUTH_TOKEN):
        self.client = client
        self.validator = RequestValidator(token)

    def post(self, path, data=None, *, host="testserver", secure=False, signature=None, **extra):
        data = dict(data or {})
        url = f"{'https' if secure else 'http'}://{host}{path}"
        if signature is None:
            signature = self.validator.compute_signature(url, data)
        return self.client.post(
            path, data, secure=secure, HTTP_HOST=host, HTTP_X_TWILIO_SIGNATURE=signature, **extra
        )


@pytest.fixture
def twilio(client):
    return TwilioClient(client)


def call_fields(call_sid="CA" + "1" * 32, **extra):
    fields = {
        "CallSid": call_sid,
        "AccountSid": ACCOUNT_SID,
        "From": "+819012345678",
        "To": "+815012345678",
        "CallStatus": "ringing",
        "ApiVersion": "2010-04-01",
        "Direction": "inbound",
    }
    fields.update(extra)
    return fields


# --- Browser tests: Debian's headless Chromium driven by Playwright (never a browser download).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    import os

    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous, so Django's async-safety guard is lifted for browser tests only.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, settings):
    settings.DEBUG = False
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
    _wait_for_requests_in_flight()


def _wait_for_requests_in_flight(timeout: float = 5.0, quiet: float = 0.3) -> None:
    """Closing the browser does not stop a request the live server is still handling; on
    PostgreSQL its open transaction would deadlock the flush that ends a transactional test.
    Wait (briefly) until no other connection to the test database has been busy for ``quiet``
    seconds: a request the server accepted just before the browser closed may begin its
    transaction a moment after a first quiet look."""
    import time

    from django.db import connection

    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + timeout
    quiet_since = None
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
            )
            now = time.monotonic()
            if cursor.fetchone()[0]:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= quiet:
                return
            time.sleep(0.05)


def browser_login(page, live_server, username, password):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def wait_for_js(page, expression, timeout=10):
    """Wait until `expression` is truthy in the page. Not page.wait_for_function: it evaluates its
    predicate with eval(), which the pages' Content-Security-Policy forbids (page.evaluate goes
    through the browser's debugging protocol instead)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        page.wait_for_timeout(50)


SCREENSHOT_DIR = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def save_screenshot(page, name, *, japanese=True, **kwargs):
    """Take a picture of the page. `make screenshots` (TSUNAGU_SCREENSHOTS=1) writes it into
    docs/screenshots/, and beside it the same page in Japanese (``<name>-ja.png``, see
    _japanese_copy; ``japanese=False`` when the page's state is not its address, e.g. a form
    being filled in); ordinary test runs write a scratch copy so the tree stays clean."""
    if os.environ.get("TSUNAGU_SCREENSHOTS") == "1":
        folder = SCREENSHOT_DIR
    else:
        folder = Path(tempfile.gettempdir()) / "tsunagu-screenshots"
        folder.mkdir(exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), **kwargs)
    if japanese and os.environ.get("TSUNAGU_SCREENSHOTS") == "1":
        _japanese_copy(page, folder / name.replace(".png", "-ja.png"), **kwargs)
    return path


def _japanese_copy(page, path, **kwargs):
    """The page's address opened again in Japanese (a browser asking for ja-JP) with the same
    session, in a context of its own so the test's page is left as it was. Not for the agent's
    desk (its state is the softphone's, played by the test's fake device)."""
    if page.evaluate("Boolean(window.__fake)"):
        return
    state = page.context.storage_state()
    state["cookies"] = [c for c in state["cookies"] if c["name"] != "django_language"]
    context = page.context.browser.new_context(
        locale="ja-JP", viewport=page.viewport_size, storage_state=state
    )
    try:
        other = context.new_page()
        other.set_default_timeout(10_000)
        other.goto(page.url)
        other.wait_for_load_state("load")
        other.wait_for_timeout(300)  # charts and polled figures settle
        other.screenshot(path=str(path), **kwargs)
    finally:
        context.close()
