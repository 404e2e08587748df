"""Error pages look like the rest of the site, speak the user's language and lead back."""

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


def test_a_forbidden_page_explains_the_role_and_links_home(client, agent_user):
    client.force_login(agent_user)

    response = client.get("/reports/")

    assert response.status_code == 403
    body = response.content.decode()
    assert "navbar" in body
    assert "whose role does not include this page" in body
    assert 'href="/"' in body


def test_a_forbidden_page_is_in_japanese_for_a_japanese_user(client, agent_user):
    client.force_login(agent_user)

    response = client.get("/reports/", HTTP_ACCEPT_LANGUAGE="ja")

    assert response.status_code == 403
    body = response.content.decode()
    assert '<html lang="ja">' in body
    with translation.override("ja"):
        japanese = translation.gettext("You do not have access to this page")
    assert japanese != "You do not have access to this page"
    assert japanese in body


def test_an_unknown_address_gets_the_site_s_404_page(client, supervisor):
    client.force_login(supervisor)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    body = response.content.decode()
    assert "There is no such page" in body
    assert 'href="/"' in body


def test_the_500_page_renders_without_a_request_context():
    request = RequestFactory().get("/")

    response = server_error(request)

    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content
    assert b'href="/"' in response.content
