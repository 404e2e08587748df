import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from telephony.models import Call


def _simulate(*args):
    out = io.StringIO()
    call_command("simulate_call", *args, stdout=out)
    return out.getvalue()


def test_the_demo_call_reaches_an_agent_and_is_printed_in_order(demo):
    # The "done when": greeting, connect announcement, positions, connection, end.
    out = _simulate(
        "--to", "+815012345678", "--digits", "1",
        "--agent", "agent1", "--answer-after", "30", "--talk", "60", "--keep",
    )  # fmt: skip

    expected_in_order = [
        "[00:00] 発信: +819012345678 → +815012345678",
        "音声:「こちらは、サンプルコールセンタです。",
        "キー入力: 1",
        "音声:「オペレータにおつなぎします。しばらくお待ちください。」",
        "キュー「support」で待機開始（1 番目）",
        "音声:「お待たせしております。現在、1番目にお待ちです。」",
        "agent1 が発信: queue:support",
        "音声:「オペレータにおつなぎします。」",
        "agent1 と接続",
        "接続終了（通話 60 秒）",
        "キュー「support」を退出: bridged（待ち時間 30 秒）",
        "] 通話終了: completed",
    ]
    positions = [out.index(text) for text in expected_in_order]
    assert positions == sorted(positions), out
    # The app saw the call through its signed webhooks and, with --keep, stored it.
    call = Call.objects.get(to_number="+815012345678", direction="inbound")
    assert call.status == "completed"
    assert call.queue_visits.get().is_test_call


def test_the_product_information_choice_ends_the_call(demo):
    out = _simulate("--digits", "2")

    assert "新サービスリリース検討中です" in out
    assert "キュー" not in out
    assert "] 通話終了: completed" in out


def test_a_run_cut_short_fails_and_saves_nothing(demo):
    with pytest.raises(CommandError, match="stopped after 120 virtual seconds"):
        _simulate("--digits", "1", "--max-seconds", "120", "--keep")
    # Not an abandoned call with an absurd wait: the simulation stopped it, nothing is kept.
    from queues.models import QueueVisit

    assert not QueueVisit.objects.exists()
    assert not Call.objects.exists()


@pytest.mark.urls("tests.emulator.urls_app")
def test_an_agent_takes_the_queued_caller_and_the_transcript_is_in_order(demo):
    out = _simulate(
        "--voice-url", "/t/enqueue/support",
        "--agent", "agent1", "--answer-after", "30", "--talk", "60",
    )  # fmt: skip

    expected_in_order = [
        "音声:「オペレータにおつなぎします。しばらくお待ちください。」",
        "キュー「support」で待機開始（1 番目）",
        "番目にお待ちです。",
        "agent1 が発信: queue:support",
        "音声:「オペレータにおつなぎします。」",
        "agent1 と接続",
        "接続終了（通話 60 秒）",
        "キュー「support」を退出: bridged",
        "] 通話終了: completed（通話時間 98 秒）",
    ]
    positions = [out.index(text) for text in expected_in_order]
    assert positions == sorted(positions), (positions, out)
    assert "キュー「support」: bridged、待ち 30 秒、通話 60 秒、担当 agent1" in out


def test_it_refuses_a_server_off_this_machine(demo):
    with pytest.raises(CommandError, match="only talks to this machine"):
        _simulate("--url", "http://example.com", "--auth-token", "x")
