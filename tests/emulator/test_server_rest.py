"""The local Twilio's REST API, driven with the real twilio.rest.Client over HTTP."""

import threading
import time

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from emulator.server import LocalTwilio
from telephony.client import RebasedHttpClient, get_client
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN

API_KEY_SID = "SK" + "5" * 32
API_KEY_SECRET = "api-key-secret"
NOBODY = "http://127.0.0.1:9"  # no app: these calls run inline TwiML and request nothing


@pytest.fixture
def twilio():
    local = LocalTwilio(
        app_url=NOBODY,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        api_key_sid=API_KEY_SID,
        api_key_secret=API_KEY_SECRET,
        numbers=("+815012345678",),
    ).serve("127.0.0.1", 0)
    yield local
    local.stop()


def client_for(twilio, username=ACCOUNT_SID, password=AUTH_TOKEN):
    return Client(
        username, password, ACCOUNT_SID, http_client=RebasedHttpClient(twilio.url, timeout=10)
    )


def test_paging_follows_next_page_uri_so_each_queue_is_listed_once(twilio):
    rest = client_for(twilio)
    for n in range(5):
        rest.queues.create(friendly_name=f"q{n}")

    names = [queue.friendly_name for queue in rest.queues.list(page_size=2)]

    assert names == ["q0", "q1", "q2", "q3", "q4"]


def test_wrong_credentials_get_twilios_401(twilio):
    with pytest.raises(TwilioRestException) as raised:
        client_for(twilio, password="wrong").queues.create(friendly_name="q")

    assert (raised.value.status, raised.value.code) == (401, 20003)
    with pytest.raises(TwilioException, match="20003"):
        client_for(twilio, username=API_KEY_SID, password="wrong").queues.list()


def test_an_api_key_authenticates_too(twilio):
    rest = client_for(twilio, username=API_KEY_SID, password=API_KEY_SECRET)

    queue = rest.queues.create(friendly_name="support", max_size=20)

    assert (rest.queues(queue.sid).fetch().max_size, queue.sid[:2]) == (20, "QU")


def test_queues_update_delete_and_twilio_errors(twilio):
    rest = client_for(twilio)
    queue = rest.queues.create(friendly_name="support")

    rest.queues(queue.sid).update(friendly_name="sales", max_size=50)
    fetched = rest.queues(queue.sid).fetch()
    with pytest.raises(TwilioRestException) as duplicate:
        rest.queues.create(friendly_name="sales")
    rest.queues(queue.sid).delete()

    assert (fetched.friendly_name, fetched.max_size) == ("sales", 50)
    assert duplicate.value.status == 400
    with pytest.raises(TwilioRestException) as gone:
        rest.queues(queue.sid).fetch()
    assert (gone.value.status, gone.value.code) == (404, 20404)
    with pytest.raises(TwilioRestException) as missing:
        rest.queues(queue.sid).members("Front").fetch()
    assert missing.value.status == 404


def test_calls_are_placed_one_per_second_and_run_on_the_real_clock(twilio):
    rest = client_for(twilio)
    twiml = "<Response><Pause length='1'/></Response>"

    first = rest.calls.create(to="+819011112222", from_="+815012345678", twiml=twiml)
    second = rest.calls.create(to="+819011113333", from_="+815012345678", twiml=twiml)
    right_after = rest.calls(second.sid).fetch().status
    ringing = rest.calls(first.sid).fetch().status
    deadline = time.monotonic() + 20  # 5 s of ringing (a callee's default), 1 s of TwiML
    while rest.calls(second.sid).fetch().status != "completed" and time.monotonic() < deadline:
        time.sleep(0.5)

    assert (ringing, right_after) == ("ringing", "queued")
    done = rest.calls(first.sid).fetch(), rest.calls(second.sid).fetch()
    assert [call.status for call in done] == ["completed", "completed"]
    assert [call.duration for call in done] == ["1", "1"]
    assert (done[1].start_time - done[0].start_time).total_seconds() >= 1


def test_numbers_are_listed_and_updated(twilio):
    rest = client_for(twilio)

    (number,) = rest.incoming_phone_numbers.list(phone_number="+815012345678")
    rest.incoming_phone_numbers(number.sid).update(voice_url="https://app.example/voice")

    assert rest.incoming_phone_numbers(number.sid).fetch().voice_url == "https://app.example/voice"


def test_with_twilio_api_url_the_apps_client_talks_to_the_local_twilio(twilio, settings):
    settings.TWILIO_API_URL = twilio.url

    queue = get_client().queues.create(friendly_name="from-the-app")

    assert twilio.emulator.queue_by_sid(queue.sid).name == "from-the-app"


def test_the_apps_client_is_kept_per_thread_while_its_settings_stay(twilio, settings):
    settings.TWILIO_API_URL = twilio.url
    first = get_client()
    assert get_client() is first  # its session keeps the connection to Twilio
    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append(get_client()))
    thread.start()
    thread.join()
    assert elsewhere[0] is not first  # a requests Session is not shared between threads

    settings.TWILIO_API_URL = twilio.url + "/"
    rebased = get_client()
    assert rebased is not first
    assert rebased.queues.create(friendly_name="after-the-change").sid.startswith("QU")

    settings.TWILIO_API_URL = ""
    direct = get_client()
    assert direct.http_client.timeout == 10  # a hung request to Twilio fails, never blocks
    assert not isinstance(direct.http_client, RebasedHttpClient)
