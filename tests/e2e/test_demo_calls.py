"""Whole demo calls through the Twilio emulator against the real webhooks (the number's Voice
URL, the TwiML App's /twilio/agent/outgoing, the status callback), directly and behind a
TLS-terminating proxy."""

from urllib.parse import urlsplit

import pytest

from emulator import Caller, DjangoTransport
from queues.models import QueueVisit
from telephony.models import WebhookEvent
from tests.e2e.queue_urls import sorted_truth, visits_as_ground_truth
from tests.factories import emulator
from tests.ivr.test_demo_flow import CONNECT, GREETING, NO_INPUT, POSITION, TO_OPERATOR

pytestmark = pytest.mark.django_db

NUMBER = "+815012345678"


class ProxiedTransport(DjangoTransport):
    """The app behind a proxy: Twilio requests the public URL, the app receives plain HTTP on
    an internal address with the public origin in X-Forwarded-* headers."""

    def send(self, method, url, *, body, headers):
        parts = urlsplit(url)
        forwarded = {
            **headers,
            "X-Forwarded-Proto": parts.scheme,
            "X-Forwarded-Host": parts.hostname,
            "X-Forwarded-Port": str(parts.port or (443 if parts.scheme == "https" else 80)),
        }
        internal = parts._replace(scheme="http", netloc="10.0.0.5:8000").geturl()
        return super().send(method, internal, body=body, headers=forwarded)


def a_demo_call(emu, digits):
    call = emu.place_call(to=NUMBER, from_="+819011112222", caller=Caller(digits=digits))
    emu.add_agent("agent1")
    emu.agent_dial("agent1", to="queue:support", at=45, talk_seconds=50)
    emu.run()
    return call


@pytest.mark.parametrize(("digits", "first"), [(["1"], TO_OPERATOR), (["-"], NO_INPUT)])
def test_a_demo_caller_is_taken_by_agent1_from_the_softphone(settings, demo, digits, first):
    emu = emulator(number=NUMBER)
    call = a_demo_call(emu, digits)

    heard = call.heard()
    assert heard[:2] == [GREETING, first]
    assert heard[2] == "[pause 3s]"
    assert heard[3] == POSITION.format(n=1)
    assert heard[4].startswith("[play http")
    assert heard[-1] == CONNECT
    visit = QueueVisit.objects.get()
    assert (visit.result, visit.agent_identity, visit.talk_seconds) == ("bridged", "agent1", 50)
    assert visits_as_ground_truth() == sorted_truth(emu.ground_truth())
    assert not WebhookEvent.objects.exclude(outcome="processed").exists()
    assert not emu.errors


@pytest.mark.parametrize(
    "base_url", ["https://tsunagu.example.com", "https://tsunagu.example.com:8443"]
)
def test_the_same_call_behind_a_tls_proxy_validates_every_request(settings, demo, base_url):
    settings.TRUSTED_PROXY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    settings.USE_X_FORWARDED_PORT = True
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["tsunagu.example.com"]
    emu = emulator(number=NUMBER, transport=ProxiedTransport(), base_url=base_url)
    call = a_demo_call(emu, ["1"])

    assert call.heard()[-1] == CONNECT
    assert not emu.errors
    events = WebhookEvent.objects.all()
    assert events and not events.exclude(outcome="processed").exists()
    assert {urlsplit(url).netloc for url in events.values_list("url", flat=True)} == {
        urlsplit(base_url).netloc
    }
    assert visits_as_ground_truth() == sorted_truth(emu.ground_truth())
