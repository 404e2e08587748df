"""Recording URLs come from webhooks, so from anyone who can forge one: only an https URL is
stored. Pages never link them: the app fetches the audio with the account's credentials (only
from Twilio's media host or the local Twilio) and serves it behind its own permission checks."""

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

_https_only = URLValidator(schemes=["https"])


def https_url(value) -> str:
    """The value if it is an https URL, else the empty string."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        _https_only(value)
    except ValidationError:
        return ""
    return value


def recording_audio_response(media_url: str, *, filename: str):
    """A recording's audio for a page's player: fetched from Twilio with the account's
    credentials and passed on (pages link the app, never Twilio). 404 when Twilio has no audio
    (or the address is not Twilio's), 502 when Twilio cannot be reached or refuses. The
    caller checks who may listen first."""
    from django.http import Http404, HttpResponse, StreamingHttpResponse
    from django.utils.translation import gettext as _
    from twilio.base.exceptions import TwilioException

    from .client import RecordingNotFetchable, TwilioNotConfigured, recording_audio

    if not media_url:
        raise Http404(_("No such recording."))
    try:
        status, content_type, chunks = recording_audio(media_url)
    except RecordingNotFetchable as exc:
        raise Http404(_("No such recording.")) from exc
    except (TwilioException, TwilioNotConfigured, OSError):
        return HttpResponse(_("Twilio could not be reached."), status=502)
    if status == 404:
        raise Http404(_("Twilio has no audio for this recording."))
    if status != 200:
        # Refused (wrong credentials, throttled): the page's player shows an error, not "gone".
        return HttpResponse(_("Twilio refused to give the recording."), status=502)
    response = StreamingHttpResponse(chunks, content_type=content_type or "audio/x-wav")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = f'inline; filename="{filename}.wav"'
    return response
