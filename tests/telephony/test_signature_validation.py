"""The webhook decorator agrees with Twilio's signature, on the vectors of docs/twilio.md §2."""

import pytest

from telephony.models import WebhookEvent

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.telephony.urls_vectors")]

TOKEN = "12345"
FIELDS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
PATH = "/myapp.php?foo=1&bar=2"


@pytest.fixture(autouse=True)
def _vector_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.ALLOWED_HOSTS = ["*"]


def post(client, signature, *, host, secure, fields=FIELDS, **headers):
    return client.post(
        PATH, fields, HTTP_HOST=host, secure=secure, HTTP_X_TWILIO_SIGNATURE=signature, **headers
    )


@pytest.mark.parametrize(
    ("host", "secure", "signature"),
    [
        ("mycompany.com", True, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("mycompany.com", True, "kvajT1Ptam85bY51eRf/AJRuM3w="),  # signed with :443
        ("mycompany.com:443", True, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("mycompany.com:1234", False, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
    ],
)
def test_it_accepts_the_vectors_without_a_proxy(client, host, secure, signature):
    response = post(client, signature, host=host, secure=secure)

    assert response.status_code == 200
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.PROCESSED


def test_it_accepts_the_fourth_vector(client):
    fields = dict(FIELDS, Caller="+14158675310", From="+14158675310")

    response = post(
        client, "L/OH5YylLD5NRKLltdqwSvS0BnU=", host="example.com", secure=True, fields=fields
    )

    assert response.status_code == 200


def test_it_rejects_a_vector_signature_for_other_fields(client):
    fields = dict(FIELDS, Digits="9999")

    response = post(
        client, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", host="mycompany.com", secure=True, fields=fields
    )

    assert response.status_code == 403


def test_it_rejects_the_https_signature_on_plain_http(client):
    response = post(client, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", host="mycompany.com", secure=False)

    assert response.status_code == 403


def test_it_rebuilds_the_public_url_behind_a_trusted_proxy(client, settings):
    settings.TRUSTED_PROXY = True

    # The proxy terminated TLS for mycompany.com and forwarded plain HTTP to an internal address.
    response = post(
        client,
        "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
        host="10.0.0.5:8000",
        secure=False,
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="mycompany.com",
        HTTP_X_FORWARDED_PORT="443",
    )

    assert response.status_code == 200


def test_it_uses_the_forwarded_port_when_it_is_not_the_default(client, settings):
    settings.TRUSTED_PROXY = True

    response = post(
        client,
        "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
        host="10.0.0.5:8000",
        secure=False,
        HTTP_X_FORWARDED_PROTO="http",
        HTTP_X_FORWARDED_HOST="mycompany.com",
        HTTP_X_FORWARDED_PORT="1234",
    )

    assert response.status_code == 200


def test_it_takes_the_first_value_of_a_proxy_chain(client, settings):
    settings.TRUSTED_PROXY = True

    response = post(
        client,
        "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
        host="10.0.0.5:8000",
        secure=False,
        HTTP_X_FORWARDED_PROTO="https, http",
        HTTP_X_FORWARDED_HOST="mycompany.com, internal-lb",
    )

    assert response.status_code == 200


def test_it_ignores_forwarded_headers_without_a_trusted_proxy(client):
    # Anyone can send X-Forwarded-*; unless the operator says a proxy sets them, they are ignored.
    response = post(
        client,
        "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
        host="10.0.0.5:8000",
        secure=False,
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="mycompany.com",
    )

    assert response.status_code == 403
