"""Login, logout and where each role lands."""

import pytest
from django.urls import NoReverseMatch, reverse

pytestmark = pytest.mark.django_db


def _url_or_none(name):
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def test_the_login_page_is_served(client):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_wrong_password_is_shown_next_to_the_form(client, agent_user):
    response = client.post("/accounts/login/", {"username": "agt", "password": "nope"})

    assert response.status_code == 200
    assert b"alert-danger" in response.content


def test_login_then_home_sends_a_supervisor_to_the_admin(client, supervisor):
    response = client.post(
        "/accounts/login/", {"username": "sup", "password": "pw-sup"}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("admin:index")


@pytest.mark.parametrize(
    ("persona", "url_name"), [("agent_user", "agents:desk"), ("analyst", "reports:index")]
)
def test_each_role_lands_where_it_works(client, request, persona, url_name):
    client.force_login(request.getfixturevalue(persona))

    response = client.get("/")

    place = _url_or_none(url_name)
    if place:
        assert response.status_code == 302
        assert response["Location"] == place
    else:  # that role's pages have not been installed: the home page says where to go
        assert response.status_code == 200


def test_an_outsider_is_told_they_have_no_role(client, outsider):
    client.force_login(outsider)

    response = client.get("/")

    assert response.status_code == 200
    assert b"no role" in response.content


def test_an_outsider_cannot_open_the_admin(client, outsider):
    client.force_login(outsider)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_logout_is_a_post(client, agent_user):
    client.force_login(agent_user)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_password_change_page_for_a_logged_in_user(client, analyst):
    client.force_login(analyst)

    response = client.post(
        "/accounts/password/",
        {"old_password": "pw-ana", "new_password1": "x", "new_password2": "y"},
    )

    assert response.status_code == 200
    assert b"invalid-feedback" in response.content  # errors next to the field


def test_the_ui_is_japanese_by_default(client, settings):
    settings.LANGUAGE_CODE = "ja"

    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ja")

    assert response.headers["Content-Language"] == "ja"


def test_healthz_checks_the_database(client):
    assert client.get("/healthz").json() == {"status": "ok"}
