"""The one place a Twilio REST client is made."""

import threading
from urllib.parse import urlsplit

from django.conf import settings
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

# Tests and the emulator set this to a twilio.http.HttpClient of their own; the app's REST code
# then runs unmodified against it.
_http_client_override: HttpClient | None = None

# Seconds a REST request to Twilio may take (connecting, then each read) before it fails.
REST_TIMEOUT_SECONDS = 10

# Each thread's client, kept with the settings it was made for: its HTTP session keeps the
# connection to Twilio open between requests (one TLS handshake, not one per request). One per
# thread, as a requests Session is not meant to be shared between threads.
_per_thread = threading.local()


class TwilioNotConfigured(Exception):
    """No account credentials are set (development): REST calls are skipped."""


def twilio_is_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN)


def set_http_client(http_client: HttpClient | None) -> None:
    global _http_client_override
    _http_client_override = http_client


class RebasedHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, sending every request to ``base_url`` instead of Twilio's hosts
    (the path and query are kept)."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        rebased = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, rebased, *args, **kwargs)


def get_client(*, http_client: HttpClient | None = None) -> Client:
    """The app's one Twilio REST client. With ``TWILIO_API_URL`` set, it talks to that base URL
    (the local Twilio, ``manage.py twilio_emulator``) instead of api.twilio.com. Without an
    ``http_client`` of the caller's or the tests', the thread's client is reused while the
    settings it was made for stay the same."""
    if not twilio_is_configured():
        raise TwilioNotConfigured("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set")
    http_client = http_client or _http_client_override
    if http_client is not None:
        return Client(
            settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client
        )
    made_for = (settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_URL)
    kept = getattr(_per_thread, "client", None)
    if kept is not None and kept[0] == made_for:
        return kept[1]
    if settings.TWILIO_API_URL:
        http_client = RebasedHttpClient(settings.TWILIO_API_URL, timeout=REST_TIMEOUT_SECONDS)
    else:
        http_client = TwilioHttpClient(timeout=REST_TIMEOUT_SECONDS)
    client = Client(
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client
    )
    _per_thread.client = (made_for, client)
    return client


def local_twilio_origin() -> str | None:
    """``scheme://host:port`` of the local Twilio when ``TWILIO_API_URL`` points at one; pages
    that load its emulated softphone allow that origin in their Content-Security-Policy."""
    if not settings.TWILIO_API_URL:
        return None
    parts = urlsplit(settings.TWILIO_API_URL)
    return f"{parts.scheme}://{parts.netloc}"


# Twilio's media addresses; the account's credentials are never sent anywhere else.
TWILIO_MEDIA_HOSTS = ("api.twilio.com",)


class RecordingNotFetchable(Exception):
    """The address is not Twilio's (the credentials would go to someone else)."""


def recording_audio(media_url: str, *, chunk_size: int = 64 * 1024):
    """Fetch a recording's audio from Twilio as WAV with the account's credentials (Twilio's
    media is behind basic auth when the account requires it). Returns ``(status, content type,
    iterator of bytes)``; the local Twilio serves it at the same path under TWILIO_API_URL.

    The standard library's HTTP client, not an extra package. The credentials go only to
    Twilio's media host (or the local Twilio): another address raises RecordingNotFetchable,
    and a redirect is followed without them."""
    import base64
    import urllib.error
    import urllib.request

    if not twilio_is_configured():
        raise TwilioNotConfigured("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set")
    parts = urlsplit(media_url)
    if settings.TWILIO_API_URL:
        url = settings.TWILIO_API_URL.rstrip("/") + parts.path
    elif parts.scheme == "https" and parts.hostname in TWILIO_MEDIA_HOSTS:
        url = f"https://{parts.netloc}{parts.path}"
    else:
        raise RecordingNotFetchable(f"not a Twilio media address: {parts.netloc!r}")
    url = url.removesuffix(".wav") + ".wav"
    secret = f"{settings.TWILIO_ACCOUNT_SID}:{settings.TWILIO_AUTH_TOKEN}".encode()
    request = urllib.request.Request(url, method="GET")
    request.add_unredirected_header("Authorization", "Basic " + base64.b64encode(secret).decode())
    try:
        response = urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, exc.headers.get("Content-Type", ""), iter(())

    def chunks():
        with response:
            while chunk := response.read(chunk_size):
                yield chunk

    return response.status, response.headers.get("Content-Type", "audio/x-wav"), chunks()
