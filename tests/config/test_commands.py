"""seed_demo and simulate_call as docs/api.md §5 describes them: seed_demo in-process, and
simulate_call as an operator runs it, on a freshly migrated and seeded SQLite database."""

import io
import os

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from agents.models import Agent, QueueMembership
from ivr.models import PhoneNumber
from queues.models import Queue
from tests.factories import manage_py


def _row_counts():
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in ("auth", "telephony", "queues", "ivr", "agents")
    }


@pytest.mark.django_db
def test_seed_demo_creates_what_the_contract_lists_and_is_idempotent(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "a-demo-password")
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = _row_counts()
    call_command("seed_demo", stdout=io.StringIO())

    assert _row_counts() == first
    support = Queue.objects.get(slug="support")
    number = PhoneNumber.objects.select_related("flow").get(number="+815012345678")
    assert number.flow.language == "ja-JP"
    assert {"Supervisors", "Agents", "Analysts"} <= set(
        Group.objects.values_list("name", flat=True)
    )
    for name in ("Supervisors", "Agents", "Analysts"):
        assert Group.objects.get(name=name).permissions.exists(), name
    users = get_user_model().objects.in_bulk(
        ["supervisor", "analyst", "agent1", "agent2"], field_name="username"
    )
    assert len(users) == 4
    for username, user in users.items():
        assert user.check_password("a-demo-password"), username
    assert users["supervisor"].groups.filter(name="Supervisors").exists()
    assert users["analyst"].groups.filter(name="Analysts").exists()
    for username in ("agent1", "agent2"):
        agent = Agent.objects.get(user=users[username])
        assert agent.identity == username
        assert QueueMembership.objects.filter(agent=agent, queue=support).exists()
        assert users[username].groups.filter(name="Agents").exists()
    assert "a-demo-password" in out.getvalue()


@pytest.mark.django_db
def test_seed_demo_default_password_is_printed(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    assert "tsunagu-demo" in out.getvalue()
    assert get_user_model().objects.get(username="agent1").check_password("tsunagu-demo")


@pytest.fixture(scope="module")
def fresh_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("audit") / "audit.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path}",
        "DEBUG": "True",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("TWILIO_AUTH_TOKEN", None)
    for command in (["migrate", "-v0"], ["seed_demo"], ["seed_demo"]):
        done = manage(env, *command)
        assert done.returncode == 0, done.stderr
    return env


def manage(env, *args):
    return manage_py(*args, env=env)


GREETING = "こちらは、サンプルコールセンタです。"
PRODUCT_INFO = "ただいま、新サービスリリース検討中です。"
RETRY = "再度入力をお願いします。"
NO_INPUT = "入力が確認できませんでした。"
POSITION = "現在、1番目にお待ちです。"
CONNECT = "「オペレータにおつなぎします。」"


@pytest.mark.parametrize(
    ("args", "heard", "not_heard"),
    [
        (["--digits", "2"], [GREETING, PRODUCT_INFO], [POSITION]),
        (["--digits", "9,2"], [GREETING, RETRY, PRODUCT_INFO], [POSITION]),
        (["--digits", "9 2", "--from", "+819055556666"], [RETRY, "+819055556666"], []),
        (
            ["--digits", "-", "--agent", "agent1", "--answer-after", "20", "--talk", "30"],
            [NO_INPUT, POSITION, CONNECT, "agent1"],
            [],
        ),
        (
            ["--digits", "1", "--agent", "agent2", "--answer-after", "15", "--talk", "5"],
            [GREETING, POSITION, CONNECT, "agent2"],
            [PRODUCT_INFO],
        ),
        (["--digits", "1", "--hangup-after", "25"], [GREETING, "hangup"], [CONNECT]),
        (["--to", "+815099999999"], ["申し訳ございません。"], [GREETING]),
    ],
)
def test_simulate_call_options_print_what_the_caller_hears(fresh_db, args, heard, not_heard):
    done = manage(fresh_db, "simulate_call", *args)

    assert done.returncode == 0, done.stdout + done.stderr
    for text in heard:
        assert text in done.stdout, (text, done.stdout)
    for text in not_heard:
        assert text not in done.stdout, (text, done.stdout)
    # In order: the greeting before anything the menu led to.
    if GREETING in heard and len(heard) > 1:
        assert done.stdout.index(GREETING) < done.stdout.index(heard[1])


def test_simulate_call_talk_and_answer_after_are_the_recorded_durations(fresh_db):
    done = manage(
        fresh_db,
        "simulate_call",
        "--digits", "1", "--agent", "agent1", "--answer-after", "20", "--talk", "30",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    summary = done.stdout.strip().splitlines()[-1]
    assert "bridged" in summary and "30" in summary and "agent1" in summary, summary


def test_simulate_call_fails_when_the_caller_is_left_waiting(fresh_db):
    done = manage(fresh_db, "simulate_call", "--digits", "1", "--max-seconds", "60")

    assert done.returncode != 0
    assert "60" in done.stderr
