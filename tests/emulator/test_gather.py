import pytest

from emulator import Caller
from tests.emulator.conftest import NUMBER, requests_to

pytestmark = pytest.mark.urls("tests.emulator.urls_flows")


def test_it_falls_through_to_the_next_verb_when_the_caller_stays_silent(emu, received):
    emu.add_number(NUMBER, voice_url="/t/menu")
    call = emu.place_call(to=NUMBER, from_="+819011112222", caller=Caller(digits=["-"], patience=5))
    emu.run()

    # The action is never requested; the verbs after <Gather> run after its 5 s timeout.
    assert requests_to(call, "/t/choice") == []
    heard = call.heard()
    assert heard[:3] == ["Press 1 for support.", "We did not get your choice.", "Please hold."]
    say_times = [entry.at for entry in call.entries("say")]
    assert say_times[1] == say_times[0] + 2 + 5  # 2 s of prompt, then the 5 s timeout
    assert not call.errors


def test_it_posts_the_digits_to_the_action_when_a_key_is_pressed(emu, received):
    emu.add_number(NUMBER, voice_url="/t/menu")
    call = emu.place_call(to=NUMBER, from_="+819011112222", caller=Caller(digits=["1"]))
    emu.run()

    [(at, fields)] = requests_to(call, "/t/choice")
    assert fields["Digits"] == "1"
    assert at == 3  # 2 s prompt + 1 s to press
    assert call.heard() == ["Press 1 for support.", "You pressed 1."]
    assert call.status == "completed"


def test_it_requests_the_action_with_empty_digits_when_action_on_empty_result(emu, received):
    emu.add_number(NUMBER, voice_url="/t/menu-empty")
    call = emu.place_call(
        to=NUMBER, from_="+819011112222", caller=Caller(digits=["-", "42#"], hangup_after=60)
    )
    emu.run(until=30)

    requests = requests_to(call, "/t/menu-empty")
    # The action defaults to the document's own URL.
    assert [fields.get("Digits") for _, fields in requests[:3]] == [None, "", "42"]
    assert requests[2][1]["FinishedOnKey"] == "#"
    assert "Never heard" not in " ".join(call.heard())


def test_it_submits_partial_digits_after_the_timeout_without_a_finish_key(emu, received):
    emu.add_number(NUMBER, voice_url="/t/menu-empty")
    call = emu.place_call(to=NUMBER, from_="+819011112222", caller=Caller(digits=["12"]))
    emu.run(until=20)

    [first, second] = requests_to(call, "/t/menu-empty")[:2]
    assert second[1]["Digits"] == "12"
    assert second[1]["FinishedOnKey"] == ""
    # prompt 2 s, think 1 s, key gap 1 s, then the 3 s inter-digit timeout
    assert second[0] - first[0] == 2 + 1 + 1 + 3


def test_a_caller_who_barges_in_stops_the_prompt_at_the_first_key(emu, received):
    emu.add_number(NUMBER, voice_url="/t/menu-empty")
    call = emu.place_call(
        to=NUMBER,
        from_="+819011112222",
        caller=Caller(digits=["42#"], barge_in=True, think_seconds=1, hangup_after=10),
    )
    emu.run()

    [first, second] = requests_to(call, "/t/menu-empty")[:2]
    assert second[1]["Digits"] == "42"
    # the 2 s prompt stops at 1 s with the first key, then 1 s per further key
    assert second[0] - first[0] == 1 + 1 + 1
    assert [entry.at for entry in call.entries("keys")] == [1, 2, 3]
