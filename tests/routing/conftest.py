"""The Twilio REST stand-in for routing's tests (see helpers.py)."""

import pytest

from telephony.client import set_http_client

from .helpers import TwilioRest


@pytest.fixture
def rest(settings):
    settings.TWILIO_REST_CALLS_PER_SECOND = 1000.0  # the pacer has its own test
    settings.PUBLIC_URL = "http://testserver"
    stand_in = TwilioRest()
    set_http_client(stand_in)
    yield stand_in
    set_http_client(None)
