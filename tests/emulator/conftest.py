import pytest
from twilio.rest import Client

from tests.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.emulator import urls_flows
from tests.factories import DEMO_NUMBER, START, emulator

NUMBER = DEMO_NUMBER


@pytest.fixture
def received():
    urls_flows.RECEIVED.clear()
    yield urls_flows.RECEIVED
    urls_flows.RECEIVED.clear()


@pytest.fixture
def emu(db, received):
    """No number yet (each test adds its own); the softphones' TwiML App is tests' /t/agent."""
    return emulator(
        voice_url=None, agent_url="/t/agent", agent_status_callback="/t/status", start=START
    )


@pytest.fixture
def rest(emu):
    return Client(ACCOUNT_SID, AUTH_TOKEN, http_client=emu.rest_http_client())


def requests_to(call, path):
    """(virtual time, fields) of each request the emulator made for ``call`` to ``path``."""
    return [(at, fields) for at, _, url, fields in call.requests if url.endswith(path)]
