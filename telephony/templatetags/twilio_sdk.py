"""{% voice_sdk_src %}: where the agent desk loads ``Twilio.Device`` from."""

from django import template
from django.conf import settings
from django.templatetags.static import static

register = template.Library()


@register.simple_tag
def voice_sdk_src() -> str:
    """Twilio's Voice SDK; with TWILIO_API_URL, the local Twilio's emulated device, which has
    the same interface (the desk's code is the same for both)."""
    if settings.TWILIO_API_URL:
        return settings.TWILIO_API_URL.rstrip("/") + "/emulator/device.js"
    return static("vendor/twilio-voice-sdk/twilio.min.js")
