"""Repeated wrong passwords lock the account and the address; a supervisor unlocks."""

import pytest
from axes.models import AccessAttempt

pytestmark = pytest.mark.django_db


def login(client, username, password, *, path="/accounts/login/", address="10.0.0.1"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_fifty_wrong_passwords_then_the_right_one_does_not_log_in(client, agent_user):
    for _ in range(50):
        login(client, "agt", "wrong")

    response = login(client, "agt", "pw-agt")

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert b"Too many failed logins" in response.content


def test_the_admin_login_is_throttled_the_same(client, supervisor):
    for _ in range(10):
        login(client, "sup", "wrong", path="/admin/login/")

    response = login(client, "sup", "pw-sup", path="/admin/login/")

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_account_is_locked_from_another_address_too(client, agent_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "agt", "wrong", address="10.0.0.1")
    # One short of the limit the right password still works, and clears the count.
    assert login(client, "agt", "pw-agt", address="10.0.0.1").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "agt", "wrong", address="10.0.0.1")

    assert login(client, "agt", "pw-agt", address="10.9.9.9").status_code == 429


def test_the_address_is_locked_for_other_accounts_too(client, agent_user, analyst, settings):
    for number in range(settings.AXES_FAILURE_LIMIT):
        login(client, f"guess{number}", "wrong", address="10.0.0.7")

    assert login(client, "ana", "pw-ana", address="10.0.0.7").status_code == 429
    assert login(client, "ana", "pw-ana", address="10.0.0.8").status_code == 302


def test_a_supervisor_unlocks_a_locked_agent_in_the_admin(client, agent_user, supervisor):
    other = client.__class__()
    for _ in range(10):
        login(other, "agt", "wrong")
    attempt = AccessAttempt.objects.get(username="agt")
    client.force_login(supervisor)

    assert client.get("/admin/axes/accessattempt/").status_code == 200
    response = client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert login(other, "agt", "pw-agt").status_code == 302


def test_an_agent_cannot_unlock_in_the_admin(client, agent_user):
    client.force_login(agent_user)

    assert client.get("/admin/axes/accessattempt/").status_code == 302
