"""Shared personas and a signed-webhook client for every test module."""

import pytest
from django.contrib.auth.models import Group
from twilio.request_validator import RequestValidator

from agents.roles import AGENTS, ANALYSTS, SUPERVISORS

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "0" * 32


@pytest.fixture(autouse=True)
def _twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_VALIDATE_SIGNATURES = True
    settings.TRUSTED_PROXY = False
    settings.SECURE_SSL_REDIRECT = False
    settings.LANGUAGE_CODE = "en"


def _user(django_user_model, username, group=None, **extra):
    user = django_user_model.objects.create_user(username=username, password="pw-" + username,
                                                 **extra)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def supervisor(django_user_model):
    return _user(django_user_model, "sup", SUPERVISORS, is_staff=True)


@pytest.fixture
def analyst(django_user_model):
    return _user(django_user_model, "ana", ANALYSTS)


@pytest.fixture
def agent_user(django_user_model):
    return _user(django_user_model, "agt", AGENTS)


@pytest.fixture
def outsider(django_user_model):
    return _user(django_user_model, "outsider")


class TwilioClient:
    """Posts form fields to a webhook signed exactly as Twilio signs them."""

    def __init__(self, client, token=AUTH_TOKEN):
        self.client = client
        self.validator = RequestValidator(token)

    def post(self, path, data=None, *, host="testserver", secure=False, signature=None, **extra):
        data = dict(data or {})
        url = f"{'https' if secure else 'http'}://{host}{path}"
        if signature is None:
            signature = self.validator.compute_signature(url, data)
        return self.client.post(path, data, secure=secure, HTTP_HOST=host,
                                HTTP_X_TWILIO_SIGNATURE=signature, **extra)


@pytest.fixture
def twilio(client):
    return TwilioClient(client)


def call_fields(call_sid="CA" + "1" * 32, **extra):
    fields = {
        "CallSid": call_sid,
        "AccountSid": ACCOUNT_SID,
        "From": "+819012345678",
        "To": "+815012345678",
        "CallStatus": "ringing",
        "ApiVersion": "2010-04-01",
        "Direction": "inbound",
    }
    fields.update(extra)
    return fields
