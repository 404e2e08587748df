"""TwiML responses. Always built with VoiceResponse, never by string templates."""

from django.http import HttpResponse
from twilio.twiml.voice_response import VoiceResponse

APOLOGY_JA = (
    "申し訳ございません。ただいまお電話をおつなぎできません。しばらくしてからおかけ直しください。"
)
APOLOGY_EN = "We are sorry, we cannot take your call right now. Please call again later."


def twiml_response(response: VoiceResponse, *, status: int = 200) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml; charset=utf-8", status=status)


def apology() -> VoiceResponse:
    """The fixed apology in Japanese and English, then hang up. Touches no database."""
    response = VoiceResponse()
    response.say(APOLOGY_JA, language="ja-JP")
    response.say(APOLOGY_EN, language="en-US")
    response.hangup()
    return response
