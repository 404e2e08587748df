"""The demo flow (docs/api.md §8), step by step through signed requests, with the
wording copied character for character from docs/api.md §8."""

import pytest

from queues.models import QueueVisit
from telephony.models import WebhookEvent
from tests.conftest import call_fields
from tests.factories import CALLER_SID, QUEUE_SID, incoming, twiml, verbs

pytestmark = pytest.mark.django_db

# docs/api.md §8, verbatim.
GREETING = "こちらは、サンプルコールセンタです。お問い合わせは1を、最新の製品情報をお聞きになりたい場合は2を押してください。"  # noqa: E501
TO_OPERATOR = "オペレータにおつなぎします。しばらくお待ちください。"
PRODUCT_INFO = "お電話ありがとうございました。ただいま、新サービスリリース検討中です。もうしばらくお待ちくださいね。"  # noqa: E501
RETRY_START = "再度入力をお願いします。"
NO_INPUT = "入力が確認できませんでした。オペレータにおつなぎします。しばらくお待ちください。"
POSITION = "お待たせしております。現在、{n}番目にお待ちです。"
CONNECT = "オペレータにおつなぎします。"


def says(element):
    return [(say.text, say.get("language")) for say in element.iter("Say")]


def follow(twilio, url, **fields):
    """Post to a URL the app generated, signed for exactly that URL."""
    assert url.startswith("http://testserver/"), url
    path = url.removeprefix("http://testserver")
    data = call_fields(CALLER_SID, CallStatus="in-progress", **fields)
    signature = twilio.validator.compute_signature(url, data)
    return twilio.client.post(path, data, HTTP_X_TWILIO_SIGNATURE=signature)


def test_1_the_greeting_is_inside_a_one_digit_ten_second_gather_in_japanese(twilio, demo):
    root = twiml(incoming(twilio))

    gather = root[0]
    assert gather.tag == "Gather"
    assert (gather.get("numDigits"), gather.get("timeout")) == ("1", "10")
    assert says(gather) == [(GREETING, "ja-JP")]
    assert gather.get("action").startswith("http://testserver/")


def test_2_key_1_announces_the_operator_then_enqueues_in_support(twilio, demo):
    gather = twiml(incoming(twilio))[0]
    root = twiml(follow(twilio, gather.get("action"), Digits="1"))

    assert verbs(root) == ["Say", "Enqueue"]
    assert says(root) == [(TO_OPERATOR, "ja-JP")]
    assert root.find("Enqueue").text == "support"


def test_3_key_2_says_the_product_information_and_the_call_ends(twilio, demo):
    gather = twiml(incoming(twilio))[0]
    root = twiml(follow(twilio, gather.get("action"), Digits="2"))

    assert says(root) == [(PRODUCT_INFO, "ja-JP")]
    assert verbs(root) == ["Say", "Hangup"]


@pytest.mark.parametrize("key", ["3", "9", "0", "*"])
def test_4_any_other_key_asks_again_and_offers_the_menu_again(twilio, demo, key):
    gather = twiml(incoming(twilio))[0]
    root = twiml(follow(twilio, gather.get("action"), Digits=key))

    again = root[0]
    assert again.tag == "Gather"
    assert (again.get("numDigits"), again.get("timeout")) == ("1", "10")
    (text, language), *_ = says(again)
    assert text.startswith(RETRY_START)
    assert language == "ja-JP"
    # The menu again: its choices are offered, and 1 still works from there.
    assert "お問い合わせは1を、最新の製品情報をお聞きになりたい場合は2を押してください。" in text
    root = twiml(follow(twilio, again.get("action"), Digits="1"))
    assert root.find("Enqueue").text == "support"


def test_5_silence_says_no_input_then_enqueues_in_support(twilio, demo):
    root = twiml(incoming(twilio))

    # Twilio falls through the Gather on timeout: what follows it is what the caller hears.
    after = root[1:]
    assert [el.tag for el in after][0] == "Say"
    assert (after[0].text, after[0].get("language")) == (NO_INPUT, "ja-JP")
    redirect = after[-1]
    if redirect.tag == "Redirect":
        root = twiml(follow(twilio, redirect.text))
        assert says(root) == []
        enqueue = root.find("Enqueue")
    else:
        enqueue = redirect
    assert enqueue.tag == "Enqueue"
    assert enqueue.text == "support"


def _enqueued(twilio):
    gather = twiml(incoming(twilio))[0]
    return twiml(follow(twilio, gather.get("action"), Digits="1")).find("Enqueue")


def test_6_a_waiting_caller_hears_a_3s_pause_the_position_then_hold_music(twilio, demo):
    enqueue = _enqueued(twilio)
    root = twiml(
        follow(
            twilio,
            enqueue.get("waitUrl"),
            QueuePosition="2",
            QueueSid=QUEUE_SID,
            QueueTime="0",
            AvgQueueTime="0",
            CurrentQueueSize="2",
            MaxQueueSize="100",
        )
    )

    assert verbs(root) == ["Pause", "Say", "Play"]
    assert root[0].get("length") == "3"
    assert (root[1].text, root[1].get("language")) == (POSITION.format(n=2), "ja-JP")
    assert root[2].text.startswith(("http://", "https://"))


def test_6_the_position_is_announced_again_while_the_caller_waits(twilio, demo):
    wait_url = _enqueued(twilio).get("waitUrl")
    fields = {"QueueSid": QUEUE_SID, "CurrentQueueSize": "1", "MaxQueueSize": "100"}
    follow(twilio, wait_url, QueuePosition="1", QueueTime="0", **fields)
    # The hold music ran out: Twilio asks the wait URL again, later.
    root = twiml(follow(twilio, wait_url, QueuePosition="1", QueueTime="45", **fields))

    assert verbs(root) == ["Pause", "Say", "Play"]
    assert root[1].text == POSITION.format(n=1)


def test_7_the_caller_hears_the_connect_announcement_when_an_agent_takes_the_call(twilio, demo):
    enqueue = _enqueued(twilio)
    wait_url = enqueue.get("waitUrl")
    follow(twilio, wait_url, QueuePosition="1", QueueSid=QUEUE_SID, QueueTime="0")
    connect_url = wait_url.removesuffix("wait") + "connect"
    root = twiml(
        follow(
            twilio,
            connect_url,
            QueueSid=QUEUE_SID,
            QueueTime="12",
            DequeingCallSid="CA" + "a" * 32,
        )
    )

    assert says(root) == [(CONNECT, "ja-JP")]
    assert set(verbs(root)) <= {"Say", "Play", "Pause", "Redirect"}
    visit = QueueVisit.objects.get()
    assert (visit.wait_seconds, visit.queue.slug) == (12, "support")
    assert not WebhookEvent.objects.exclude(outcome="processed").exists()
