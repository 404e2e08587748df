from datetime import UTC, datetime

import pytest
from twilio.rest import Client

from emulator import DjangoTransport, Emulator
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.emulator import urls_flows

START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
NUMBER = "+815012345678"


@pytest.fixture
def received():
    urls_flows.RECEIVED.clear()
    yield urls_flows.RECEIVED
    urls_flows.RECEIVED.clear()


@pytest.fixture
def emu(db, received):
    emulator = Emulator(
        transport=DjangoTransport(),
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        base_url="http://testserver",
        start=START,
    )
    emulator.configure_client_app(voice_url="/t/agent", status_callback="/t/status")
    return emulator


@pytest.fixture
def rest(emu):
    return Client(ACCOUNT_SID, AUTH_TOKEN, http_client=emu.rest_http_client())


def requests_to(call, path):
    """(virtual time, fields) of each request the emulator made for ``call`` to ``path``."""
    return [(at, fields) for at, _, url, fields in call.requests if url.endswith(path)]
