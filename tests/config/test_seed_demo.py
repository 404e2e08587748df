from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

pytestmark = pytest.mark.django_db

DEMO = ["supervisor", "analyst", "agent1", "agent2"]


def test_seed_demo_creates_the_demo_people_and_is_idempotent(django_user_model, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "secret-demo-pw")

    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())

    assert django_user_model.objects.filter(username__in=DEMO).count() == 4
    for username in DEMO:
        assert authenticate(username=username, password="secret-demo-pw") is not None
    groups = {
        u.username: [g.name for g in u.groups.all()]
        for u in django_user_model.objects.filter(username__in=DEMO)
    }
    # a softphone to listen to calls with (tests/routing/test_demo_supervisor_softphone.py)
    assert sorted(groups["supervisor"]) == ["Agents", "Supervisors"]
    assert groups["analyst"] == ["Analysts"]
    assert groups["agent1"] == ["Agents"]


def test_seed_demo_prints_the_passwords(capsys):
    call_command("seed_demo")

    assert "tsunagu-demo" in capsys.readouterr().out
