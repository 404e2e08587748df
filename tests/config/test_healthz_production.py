"""/healthz under the production switches: probed over plain HTTP inside the network."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_is_never_redirected_to_https_while_pages_are(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert client.get("/accounts/login/").status_code == 301
