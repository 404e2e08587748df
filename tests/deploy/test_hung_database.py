"""A database that accepts connections and never answers must not hang the app: gunicorn started
the README's way, DATABASE_URL pointed at a listener that never says a word."""

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from twilio.request_validator import RequestValidator

from telephony.twiml import APOLOGY_EN
from tests.conftest import AUTH_TOKEN, call_fields

from .servers import gunicorn, production_env, silent_listener

pytestmark = pytest.mark.deploy

TWILIO_WEBHOOK_TIMEOUT = 15  # seconds Twilio waits for a webhook before it gives up
WORKERS = 2


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def fetch(url, *, data=None, headers=None, timeout=TWILIO_WEBHOOK_TIMEOUT):
    """(status, body, seconds) of one request; raises if there is no answer within `timeout`."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})
    started = time.monotonic()
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read(), time.monotonic() - started


def signed_post(url, fields, timeout=TWILIO_WEBHOOK_TIMEOUT):
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, fields)
    return fetch(url, data=fields, headers={"X-Twilio-Signature": signature}, timeout=timeout)


@pytest.fixture(scope="module")
def app_with_a_hung_database():
    with silent_listener() as db_port:
        env = production_env(
            DATABASE_URL=f"postgres://tsunagu:secret@127.0.0.1:{db_port}/tsunagu",
            ALLOWED_HOSTS="127.0.0.1",
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            # Production defaults: HTTPS redirect on; /healthz and webhooks are exempt.
            SECURE_SSL_REDIRECT="True",
        )
        with gunicorn(env, workers=WORKERS) as port:
            yield f"http://127.0.0.1:{port}"


def test_healthz_answers_503_json_without_redirect(app_with_a_hung_database):
    status, body, seconds = fetch(f"{app_with_a_hung_database}/healthz", timeout=10)

    assert status == 503
    assert json.loads(body)["status"] == "unavailable"
    assert seconds < 10  # the connect timeout (3 s), with room for a busy machine


def test_the_fallback_answers_at_once(app_with_a_hung_database):
    url = f"{app_with_a_hung_database}/twilio/voice/fallback"

    status, body, seconds = signed_post(url, call_fields(ErrorCode="11200"), timeout=10)

    assert status == 200
    assert APOLOGY_EN in body.decode()
    assert seconds < 5  # no database involved, with room for a busy machine


def test_an_incoming_call_gets_an_answer_before_twilio_gives_up(app_with_a_hung_database):
    url = f"{app_with_a_hung_database}/twilio/voice/incoming"

    status, _body, seconds = signed_post(url, call_fields())

    # No database, no TwiML: the error lets Twilio move on to the fallback URL in time.
    assert status >= 500
    assert seconds < TWILIO_WEBHOOK_TIMEOUT


def test_the_fallback_answers_while_every_worker_waits_for_the_database(
    app_with_a_hung_database,
):
    incoming = f"{app_with_a_hung_database}/twilio/voice/incoming"
    fallback = f"{app_with_a_hung_database}/twilio/voice/fallback"
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        calls = [
            pool.submit(signed_post, incoming, call_fields("CA" + str(n) * 32))
            for n in range(WORKERS)
        ]
        time.sleep(0.5)  # every worker is now inside an incoming call, waiting for the database
        status, body, seconds = signed_post(fallback, call_fields(ErrorCode="11200"))
        assert all(call.result()[0] >= 500 for call in calls)

    assert status == 200
    assert APOLOGY_EN in body.decode()
    assert seconds < TWILIO_WEBHOOK_TIMEOUT
