"""Black-box checks of the Twilio-facing surface against docs/api.md and docs/twilio.md."""

import io
from xml.etree import ElementTree

import pytest
from django.core.management import call_command

from tests.conftest import call_fields

DEMO_NUMBER = "+815012345678"
CALLER = "+819011112222"
CALLER_SID = "CA" + "c" * 32
AGENT_SID = "CA" + "a" * 32
QUEUE_SID = "QU" + "0" * 32


def twiml(response) -> ElementTree.Element:
    """The TwiML document of a 200 answer, checked for Content-Type and root."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"].split(";")[0].strip() in ("text/xml", "application/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "Response"
    return root


def verbs(root) -> list[str]:
    return [child.tag for child in root]


@pytest.fixture
def demo(db):
    """The demo data exactly as `manage.py seed_demo` writes it."""
    call_command("seed_demo", stdout=io.StringIO())


def incoming(twilio, *, to=DEMO_NUMBER, call_sid=CALLER_SID, **extra):
    return twilio.post("/twilio/voice/incoming", call_fields(call_sid, To=to, From=CALLER, **extra))


def softphone_fields(identity="agent1", *, to, call_sid=AGENT_SID, **custom):
    """What @twilio/voice-sdk's device.connect({params}) makes Twilio send (docs/twilio.md §6)."""
    return {
        "CallSid": call_sid,
        "AccountSid": "AC" + "0" * 32,
        "ApplicationSid": "AP" + "1" * 32,
        "ApiVersion": "2010-04-01",
        "Caller": f"client:{identity}",
        "From": f"client:{identity}",
        "To": to,
        "CallStatus": "ringing",
        "Direction": "inbound",
        **custom,
    }
