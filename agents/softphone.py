"""Access tokens for the browser softphone (Voice JavaScript SDK 2.x)."""

from django.conf import settings
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from .models import Agent

TOKEN_TTL_SECONDS = 3600


class SoftphoneNotConfigured(Exception):
    """The Twilio API key or TwiML App is not set, so no token can be made."""


def access_token_for(agent: Agent) -> str:
    """A one-hour token: calls out through the TwiML App, calls in to client:<identity>."""
    needed = (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_API_KEY_SID",
        "TWILIO_API_KEY_SECRET",
        "TWILIO_TWIML_APP_SID",
    )
    missing = [name for name in needed if not getattr(settings, name)]
    if missing:
        raise SoftphoneNotConfigured(", ".join(missing))
    token = AccessToken(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_API_KEY_SID,
        settings.TWILIO_API_KEY_SECRET,
        identity=agent.identity,
        ttl=TOKEN_TTL_SECONDS,
    )
    token.add_grant(
        VoiceGrant(outgoing_application_sid=settings.TWILIO_TWIML_APP_SID, incoming_allow=True)
    )
    jwt = token.to_jwt()
    return jwt.decode() if isinstance(jwt, bytes) else jwt
