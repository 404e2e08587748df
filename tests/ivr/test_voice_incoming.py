import pytest

from ivr.models import CallPathEntry
from tests.conftest import call_fields
from tests.factories import twiml, verbs

from .conftest import NUMBER

pytestmark = pytest.mark.django_db

URL = "/twilio/voice/incoming"


def test_it_answers_the_demo_number_with_the_greeting_menu(twilio, demo_flow):
    root = twiml(twilio.post(URL, call_fields(To=NUMBER)))

    assert verbs(root) == ["Gather", "Say", "Redirect"]
    gather = root.find("Gather")
    assert gather.get("numDigits") == "1"
    assert gather.get("timeout") == "10"
    assert gather.get("action").startswith("http://testserver/twilio/ivr/flows/")
    say = gather.find("Say")
    assert say.text.startswith("こちらは、サンプルコールセンタです。")
    assert say.get("language") == "ja-JP"
    assert say.get("voice") == "Polly.Mizuki"
    assert root.find("Say").text.startswith("入力が確認できませんでした。")
    assert root.find("Redirect").text.endswith("/no-input?attempt=0")


def test_it_records_the_menu_as_the_first_step_of_the_path(twilio, demo_flow):
    twilio.post(URL, call_fields(To=NUMBER))

    entry = CallPathEntry.objects.get()
    assert (entry.step_name, entry.kind, entry.outcome) == ("main-menu", "menu", "entered")


def test_it_apologises_and_hangs_up_for_an_unknown_number(twilio, demo_flow):
    root = twiml(twilio.post(URL, call_fields(To="+81300000000")))

    assert verbs(root)[-1] == "Hangup"
    assert not CallPathEntry.objects.exists()


def test_it_rejects_an_unsigned_request(twilio, demo_flow):
    response = twilio.post(URL, call_fields(To=NUMBER), signature="forged")

    assert response.status_code == 403
