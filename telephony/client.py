"""The one place a Twilio REST client is made."""

from django.conf import settings
from twilio.http import HttpClient
from twilio.rest import Client

# Tests and the emulator set this to a twilio.http.HttpClient of their own; the app's REST code
# then runs unmodified against it.
_http_client_override: HttpClient | None = None


class TwilioNotConfigured(Exception):
    """No account credentials are set (development): REST calls are skipped."""


def twilio_is_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN)


def set_http_client(http_client: HttpClient | None) -> None:
    global _http_client_override
    _http_client_override = http_client


def get_client(*, http_client: HttpClient | None = None) -> Client:
    if not twilio_is_configured():
        raise TwilioNotConfigured("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set")
    return Client(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        http_client=http_client or _http_client_override,
    )
