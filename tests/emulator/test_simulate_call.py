import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from telephony.models import Call


@pytest.fixture
def demo(db, settings):
    call_command("seed_demo", stdout=io.StringIO())


def _simulate(*args):
    out = io.StringIO()
    call_command("simulate_call", *args, stdout=out)
    return out.getvalue()


def test_it_runs_a_call_in_process_and_prints_its_end(demo):
    out = _simulate("--to", "+815012345678", "--digits", "1")

    lines = out.splitlines()
    assert lines[0] == "[00:00] 発信: +819012345678 → +815012345678"
    assert "] 通話終了: completed" in out
    # The app saw the call through its signed webhooks and stored it.
    assert Call.objects.filter(to_number="+815012345678", status="completed").count() == 1


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


def test_it_fails_when_the_call_does_not_complete(demo):
    with pytest.raises(CommandError):
        _simulate("--to", "+815012345678", "--max-seconds", "1")


def test_it_refuses_a_server_off_this_machine(demo):
    with pytest.raises(CommandError, match="only talks to this machine"):
        _simulate("--url", "http://example.com", "--auth-token", "x")
