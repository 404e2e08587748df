"""Behind a TLS-terminating proxy (TRUSTED_PROXY): the URL the signature is checked against and
every URL the app writes into its TwiML are the public ones, and Twilio's follow-up request
to a generated URL validates."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import call_fields
from tests.factories import twiml

pytestmark = pytest.mark.django_db

PUBLIC_HOST = "tsunagu.example.com"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def behind_proxy(settings):
    """The settings TRUSTED_PROXY=True produces (checked against config/settings.py below)."""
    settings.TRUSTED_PROXY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    settings.USE_X_FORWARDED_PORT = True
    settings.ALLOWED_HOSTS = [PUBLIC_HOST]


def test_trusted_proxy_turns_on_djangos_forwarded_headers():
    env = {**os.environ, "TRUSTED_PROXY": "True", "DEBUG": "True", "DJANGO_SETTINGS_MODULE": ""}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    script = (
        "from django.conf import settings as s;"
        "print(s.SECURE_PROXY_SSL_HEADER, s.USE_X_FORWARDED_HOST, s.USE_X_FORWARDED_PORT)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https') True True", out.stderr


def proxied_post(twilio, public_url, fields, *, forwarded_host, forwarded_port=None):
    """What the app receives when Twilio requested ``public_url`` through the proxy: plain
    HTTP on an internal address, the public origin in X-Forwarded-* headers."""
    parts = urlsplit(public_url)
    headers = {
        "HTTP_X_FORWARDED_PROTO": parts.scheme,
        "HTTP_X_FORWARDED_HOST": forwarded_host,
    }
    if forwarded_port:
        headers["HTTP_X_FORWARDED_PORT"] = forwarded_port
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    signature = twilio.validator.compute_signature(public_url, fields)
    return twilio.client.post(
        path, fields, HTTP_HOST="10.0.0.5:8000", HTTP_X_TWILIO_SIGNATURE=signature, **headers
    )


def generated_urls(root):
    urls = []
    for element in root.iter():
        urls += [element.get(name) for name in ("action", "url", "waitUrl") if element.get(name)]
        if element.tag == "Redirect":
            urls.append(element.text)
    return urls


@pytest.mark.parametrize(
    ("forwarded_host", "forwarded_port", "origin"),
    [
        (PUBLIC_HOST, None, f"https://{PUBLIC_HOST}"),
        (PUBLIC_HOST, "443", f"https://{PUBLIC_HOST}"),
        (f"{PUBLIC_HOST}, 10.0.0.1", None, f"https://{PUBLIC_HOST}"),
        (PUBLIC_HOST, "8443", f"https://{PUBLIC_HOST}:8443"),
    ],
)
def test_generated_urls_are_public_and_their_follow_ups_validate(
    twilio, demo, behind_proxy, forwarded_host, forwarded_port, origin
):
    fields = call_fields(To="+815012345678")
    response = proxied_post(
        twilio,
        f"{origin}/twilio/voice/incoming",
        fields,
        forwarded_host=forwarded_host,
        forwarded_port=forwarded_port,
    )
    root = twiml(response)

    urls = generated_urls(root)
    assert urls
    assert all(url.startswith(f"{origin}/") for url in urls), urls
    # Twilio follows the Gather action: the app must accept the signature for that URL.
    gather_action = root.find("Gather").get("action")
    follow = proxied_post(
        twilio,
        gather_action,
        call_fields(To="+815012345678", Digits="1"),
        forwarded_host=forwarded_host,
        forwarded_port=forwarded_port,
    )
    enqueue = twiml(follow).find("Enqueue")
    assert enqueue.get("waitUrl").startswith(f"{origin}/")
    assert enqueue.get("action").startswith(f"{origin}/")


def test_a_signature_for_the_internal_url_is_refused_behind_the_proxy(twilio, demo, behind_proxy):
    fields = call_fields(To="+815012345678")
    signature = twilio.validator.compute_signature(
        "http://10.0.0.5:8000/twilio/voice/incoming", fields
    )
    response = twilio.client.post(
        "/twilio/voice/incoming",
        fields,
        HTTP_HOST="10.0.0.5:8000",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST=PUBLIC_HOST,
        HTTP_X_TWILIO_SIGNATURE=signature,
    )

    assert response.status_code == 403


def test_without_trusted_proxy_forwarded_headers_are_ignored(twilio, demo, settings):
    settings.ALLOWED_HOSTS = ["testserver", PUBLIC_HOST]
    fields = call_fields(To="+815012345678")
    response = twilio.post(
        "/twilio/voice/incoming",
        fields,
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST=PUBLIC_HOST,
    )

    assert all(url.startswith("http://testserver/") for url in generated_urls(twiml(response)))


def test_generated_webhooks_outside_twilio_prefix_are_not_redirected_to_https(
    twilio, settings, agent_user
):
    """With SECURE_SSL_REDIRECT on (the production default), a webhook URL the app generated
    from a plain-HTTP request must still answer, not 301 (Twilio would re-request with GET)."""
    settings.SECURE_SSL_REDIRECT = True
    from django.urls import reverse

    for name in ("agents:dial-action", "twilio-agent-outgoing", "twilio-voice-incoming"):
        response = twilio.post(
            reverse(name), call_fields(From="client:nobody", DialCallStatus="completed")
        )
        assert response.status_code == 200, (name, response.status_code)
