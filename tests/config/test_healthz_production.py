"""/healthz under the production switches: probed over plain HTTP inside the network."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_is_never_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_other_pages_still_are(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/accounts/login/").status_code == 301
