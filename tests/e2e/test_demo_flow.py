"""The seven behaviours of the demo flow (docs/api.md §8), called through the Twilio emulator
against the real views: the demo number's Voice URL is /twilio/voice/incoming."""

import pytest

from emulator import Caller
from ivr.models import CallPathEntry
from queues.models import QueueVisit
from tests.factories import Quiet, emulator

from .queue_urls import NUMBER

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.e2e.queue_urls")]

GREETING = (
    "こちらは、サンプルコールセンタです。"
    "お問い合わせは1を、最新の製品情報をお聞きになりたい場合は2を押してください。"
)
TO_OPERATOR = "オペレータにおつなぎします。しばらくお待ちください。"
PRODUCT_INFO = (
    "お電話ありがとうございました。ただいま、新サービスリリース検討中です。"
    "もうしばらくお待ちくださいね。"
)
NO_INPUT = "入力が確認できませんでした。オペレータにおつなぎします。しばらくお待ちください。"
CALLER = "+819011112222"


@pytest.fixture
def emu(support):
    from ivr.demo import seed as seed_flow

    seed_flow(Quiet())
    # The softphone's TwiML App of the queue tests: To=queue:<slug> takes the front caller.
    return emulator(number=NUMBER, agent_url="/e2e/agent/outgoing", agent_status_callback=None)


def says(call):
    return [entry for entry in call.transcript if entry.kind == "say"]


def test_the_greeting_is_a_one_digit_ten_second_gather_in_japanese(emu):
    call = emu.place_call(to=NUMBER, from_=CALLER, caller=Caller(digits=["2"]))
    emu.run()

    gather = next(entry for entry in call.transcript if entry.kind == "gather")
    assert (gather.attrs["numDigits"], gather.attrs["timeout"]) == (1, 10)
    greeting = says(call)[0]
    assert greeting.text == GREETING
    assert greeting.attrs["language"] == "ja-JP"


def test_key_1_announces_the_operator_and_enqueues_in_support(emu):
    call = emu.place_call(to=NUMBER, from_=CALLER, caller=Caller(digits=["1"], patience=5))
    emu.run()

    assert call.heard()[:2] == [GREETING, TO_OPERATOR]
    visit = QueueVisit.objects.get()
    assert (visit.queue.slug, visit.call.sid, visit.result) == ("support", call.sid, "hangup")


def test_key_2_says_the_product_information_and_the_call_ends(emu):
    call = emu.place_call(to=NUMBER, from_=CALLER, caller=Caller(digits=["2"]))
    emu.run()

    assert call.heard() == [GREETING, PRODUCT_INFO]
    kinds = [entry.kind for entry in call.transcript]
    assert kinds.index("hangup") > [e.text for e in call.transcript].index(PRODUCT_INFO)
    assert call.status == "completed"
    assert not QueueVisit.objects.exists()


def test_an_invalid_key_asks_again_and_the_menu_still_works(emu):
    call = emu.place_call(to=NUMBER, from_=CALLER, caller=Caller(digits=["9", "2"]))
    emu.run()

    heard = call.heard()
    assert heard[0] == GREETING
    assert heard[1].startswith("再度入力をお願いします。")
    assert heard[2] == PRODUCT_INFO
    path = list(CallPathEntry.objects.values_list("step_name", "outcome", "digits"))
    assert path == [
        ("main-menu", "entered", ""),
        ("main-menu", "invalid", "9"),
        ("main-menu", "valid", "2"),
        ("product-info", "entered", ""),
    ]


def test_silence_falls_through_to_the_support_queue(emu):
    call = emu.place_call(to=NUMBER, from_=CALLER, caller=Caller(digits=["-"], patience=5))
    emu.run()

    assert call.heard()[:2] == [GREETING, NO_INPUT]
    assert QueueVisit.objects.get().queue.slug == "support"
    outcomes = list(CallPathEntry.objects.values_list("outcome", flat=True))
    assert outcomes == ["entered", "no-input", "entered"]


def test_a_waiting_caller_hears_a_pause_then_the_position(emu):
    first = emu.place_call(to=NUMBER, from_=CALLER, caller=Caller(digits=["1"], patience=70))
    second = emu.place_call(
        to=NUMBER, from_="+819033334444", caller=Caller(digits=["1"], patience=70), at=1
    )
    emu.run()

    waiting = first.heard()[2:]
    assert waiting[0] == "[pause 3s]"
    assert waiting[1] == "お待たせしております。現在、1番目にお待ちです。"
    assert "お待たせしております。現在、2番目にお待ちです。" in second.heard()
    # Repeated while the caller waits.
    assert waiting.count("お待たせしております。現在、1番目にお待ちです。") >= 2


def test_the_caller_hears_the_connect_announcement_when_an_agent_takes_the_call(emu):
    call = emu.place_call(to=NUMBER, from_=CALLER, caller=Caller(digits=["1"], talk_seconds=20))
    emu.add_agent("agent1")
    emu.agent_dial("agent1", to="queue:support", at=40, talk_seconds=60)
    emu.run()

    assert call.heard()[-1] == "オペレータにおつなぎします。"
    visit = QueueVisit.objects.get()
    assert (visit.result, visit.agent_identity) == ("bridged", "agent1")
